#!/usr/bin/env bash
# Removes what one test run made in the Docker engine, then asserts that nothing of it remains.
#
#   scripts/test-leftovers.sh RUN_ID
#
# What a run makes (tests/Sealights.Images.Testing/TestRun.cs): containers and images labelled
# sealights.test-run=RUN_ID (every docker build/run/create of the test helpers), and the images
# it pulled from the loopback registry or had images/lambda-dotnet/build.sh build, listed in
# artifacts/test-runs/RUN_ID.pulled. Only those are touched: other runs, checkouts and the bench
# share the engine (their labels differ; their pulls are under their own SL_REGISTRY).
# Kept on purpose: the stand-in base images ($SL_REGISTRY/lambda/dotnet:8|10), which
# images/lambda-dotnet-local/build.sh rebuilds in minutes and reuses by content key across runs.
# Everything a run builds on them is a COPY layer or two: rebuilt by the next run in seconds.
# Also dropped (not forced, not asserted): stand-in bases of $SL_REGISTRY a rebuild superseded.
#
# Prints what it removed; exit 1, listing them, when containers or images of the run remain.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ $# -ne 1 ] || [ -z "$1" ]; then
  echo "usage: scripts/test-leftovers.sh RUN_ID" >&2
  exit 2
fi
run_id="$1"
label="sealights.test-run=${run_id}"
ledger="artifacts/test-runs/${run_id}.pulled"

containers() { docker ps --all --quiet --filter "label=${label}"; }
labelled_images() { docker images --all --quiet --no-trunc --filter "label=${label}" | sort -u; }
# The recorded references that still name an image (one per line, each once).
pulled_images() {
  [ -f "$ledger" ] || return 0
  sort -u "$ledger" | while read -r reference; do
    [ -z "$reference" ] || ! docker image inspect "$reference" >/dev/null 2>&1 || printf '%s\n' "$reference"
  done
}

# Containers first: an image a container uses cannot go.
mapfile -t found < <(containers)
[ ${#found[@]} -eq 0 ] || docker rm --force --volumes "${found[@]}" >/dev/null 2>&1 || true
removed_containers=${#found[@]}

# Children before parents (an image built on another of the run's images): newest first.
mapfile -t found < <(labelled_images)
removed_images=0
if [ ${#found[@]} -gt 0 ]; then
  mapfile -t found < <(docker image inspect --format '{{.Created}} {{.Id}}' "${found[@]}" | sort -r | cut -d' ' -f2)
  for id in "${found[@]}"; do
    if docker rmi --force "$id" >/dev/null 2>&1; then removed_images=$((removed_images + 1)); fi
  done
fi
mapfile -t found < <(pulled_images)
for reference in "${found[@]}"; do
  if docker rmi "$reference" >/dev/null 2>&1; then removed_images=$((removed_images + 1)); fi
done
echo "test run ${run_id}: removed ${removed_containers} container(s) and ${removed_images} image(s) it made"

# Stand-in bases a rebuild replaced while the run's images still stood on them (build.sh then
# could not drop them): digest references without a tag. Never forced: one in use stays.
registry="${SL_REGISTRY:-localhost:5000}"
superseded=0
while read -r reference; do
  if docker rmi "$reference" >/dev/null 2>&1; then superseded=$((superseded + 1)); fi
done < <(docker images --digests --format '{{.Tag}} {{.Repository}}@{{.Digest}}' "${registry}/lambda/dotnet" |
  awk '$1 == "<none>" && $2 !~ /@<none>$/ { print $2 }')
[ "$superseded" -eq 0 ] || echo "dropped ${superseded} superseded stand-in base image(s) of ${registry}"

mapfile -t left_containers < <(containers)
mapfile -t left_images < <(labelled_images)
mapfile -t left_pulled < <(pulled_images)
if [ $(( ${#left_containers[@]} + ${#left_images[@]} + ${#left_pulled[@]} )) -eq 0 ]; then
  rm -f "$ledger"
  exit 0
fi
{
  echo "LEFTOVERS of test run ${run_id} (docker ps -a / docker images still show them):"
  [ ${#left_containers[@]} -eq 0 ] || docker ps --all --filter "label=${label}" --format '  container {{.Names}} {{.Image}} {{.Status}}'
  [ ${#left_images[@]} -eq 0 ] || docker image inspect --format '  image {{.Id}} {{.RepoTags}}' "${left_images[@]}"
  for reference in "${left_pulled[@]}"; do echo "  image ${reference} (pulled or built by build.sh)"; done
} >&2
exit 1
