#!/usr/bin/env bash
# Keeps one coverage-ready image fresh: rebuilds and pushes it only when AWS's base moved on (or when
# forced), then proves the result with `sl-images check`. What .github/workflows/rebuild.yml runs per
# .NET line and architecture; runs the same against the local registry.
#
#   scripts/rebuild-image.sh --tag 10|8 [--arch x86_64|arm64] [--base IMAGE] [--registry HOST[/PREFIX]]
#                            [--repository NAME] [--force]
#
# Defaults: --arch x86_64, --base public.ecr.aws/lambda/dotnet:<tag>, --registry $SL_REGISTRY
# (localhost:5000), --repository sealights/lambda-dotnet.
#
# Tags (ecr.yaml makes all but the moving ones immutable):
#   moving   <tag>-<arch> (10-x86_64, 10-arm64, 8-x86_64): the newest build of that architecture,
#            the one compared and checked; scripts/publish-index.sh then points <tag> (a
#            multi-platform index, as AWS's own) at the moving tags of all architectures
#   release  <tag>-<agent version>-<arch>-<UTC stamp>: written once, never moved
#
# 1. the base's digest for the platform, now (sl-images inspect --digest);
# 2. the published moving tag's org.opencontainers.image.base.digest label (absent: build);
# 3. equal and not --force: nothing built, exit 0; else images/lambda-dotnet/build.sh --no-push,
#    then push the release tag and the moving tag;
# 4. the pushed image's label must equal the digest of step 1 (or what build.sh resolved, if the
#    base moved again meanwhile) and `sl-images check` must say fresh.
#
# Exit: 0 fresh (rebuilt or not), 1 check found it stale after the push, 2 bad input, 3 a registry
# could not be read or written. Under GitHub Actions the outcome also goes to $GITHUB_OUTPUT
# (rebuilt, image, digest, release_tag, base_digest). SL_IMAGES: the sl-images command to use
# (default: this repository's CLI, built here).
set -euo pipefail
cd "$(dirname "$0")/.."

tag=""
arch=x86_64
base=""
registry="${SL_REGISTRY:-localhost:5000}"
repository=sealights/lambda-dotnet
force=0

usage() {
  echo "usage: scripts/rebuild-image.sh --tag 10|8 [--arch x86_64|arm64] [--base IMAGE] [--registry HOST[/PREFIX]] [--repository NAME] [--force]" >&2
  exit 2
}
while [ $# -gt 0 ]; do
  case "$1" in
    --tag) tag="${2:-}"; shift 2 || usage ;;
    --arch) arch="${2:-}"; shift 2 || usage ;;
    --base) base="${2:-}"; shift 2 || usage ;;
    --registry) registry="${2:-}"; shift 2 || usage ;;
    --repository) repository="${2:-}"; shift 2 || usage ;;
    --force) force=1; shift ;;
    *) usage ;;
  esac
done
case "$tag" in 10 | 8) ;; *) echo "rebuild-image: --tag must be 10 or 8" >&2; exit 2 ;; esac
case "$arch" in
  x86_64) platform=linux/amd64 ;;
  arm64) platform=linux/arm64 ;;
  *) echo "rebuild-image: --arch must be x86_64 or arm64" >&2; exit 2 ;;
esac
if [ "$tag" = 8 ] && [ "$arch" = arm64 ]; then
  echo "rebuild-image: no arm64 image of :8 (see images/lambda-dotnet/build.sh: no .NET 8 arm64 runtime to build and test it with here)" >&2
  exit 2
fi
moving="${tag}-${arch}"
base="${base:-public.ecr.aws/lambda/dotnet:${tag}}"
image="${registry}/${repository}"

log() { printf '[rebuild-image] %s\n' "$*" >&2; }

# shellcheck source=scripts/lib/cli.sh
. scripts/lib/cli.sh
use_sl_images

# The value of one label in `sl-images inspect` JSON (empty when absent).
label_of() { # json label
  jq -r --arg name "$2" '.labels[$name] // ""' <<<"$1"
}


log "base ${base} (${platform})"
if ! base_digest="$("${sl_images[@]}" inspect "$base" --platform "$platform" --digest)"; then
  log "cannot resolve ${base} for ${platform}"
  exit 3
fi
log "  now ${base_digest}"

recorded=""
published_digest=""
if published="$("${sl_images[@]}" inspect "${image}:${moving}" --platform "$platform" 2>/dev/null)"; then
  recorded="$(label_of "$published" org.opencontainers.image.base.digest)"
  published_digest="$(jq -r '.digest' <<<"$published")"
  log "published ${image}:${moving} ${published_digest}, built on ${recorded:-(no base label)}"
else
  log "published ${image}:${moving}: none yet"
fi

if [ "$recorded" = "$base_digest" ] && [ "$force" -eq 0 ]; then
  log "up to date: ${image}:${moving} is built on the current base; nothing rebuilt"
  output rebuilt false
  output image "${image}:${moving}"
  output digest "$published_digest"
  output base_digest "$base_digest"
  exit 0
fi
if [ "$force" -eq 1 ]; then log "rebuild forced"; else log "the base moved on (or no image yet): rebuilding"; fi

agent_version="$(sed -n 's:.*<Version>\(.*\)</Version>.*:\1:p' Directory.Build.props | head -n 1)"
release="${tag}-${agent_version}-${arch}-$(date -u +%Y%m%dT%H%M%SZ)"
bash images/lambda-dotnet/build.sh --tag "$tag" --arch "$arch" --base "$base" \
  --registry "$registry" --repository "$repository" --no-push >&2

# build.sh tags <image>:<tag> (whatever the architecture); publish it under our two tags. The
# release tag first: a moving tag never points at something that has no release tag.
docker tag "${image}:${tag}" "${image}:${release}"
docker tag "${image}:${tag}" "${image}:${moving}"
for pushed_tag in "$release" "$moving"; do
  if ! docker push --quiet "${image}:${pushed_tag}" >/dev/null; then
    log "push of ${image}:${pushed_tag} failed"
    exit 3
  fi
done

if ! pushed="$("${sl_images[@]}" inspect "${image}:${moving}" --platform "$platform")"; then
  log "cannot read back ${image}:${moving}"
  exit 3
fi
new_digest="$(jq -r '.digest' <<<"$pushed")"
label="$(label_of "$pushed" org.opencontainers.image.base.digest)"
log "pushed ${image}:${release} and :${moving} ${new_digest}, built on ${label}"
if [ "$label" != "$base_digest" ]; then
  log "note: the base moved again during the build (${base_digest} then); the label names what was built on"
fi
output rebuilt true
output image "${image}:${moving}"
output digest "$new_digest"
output release_tag "$release"
output base_digest "$label"

# The proof: the published image against its base as it is now.
status=0
"${sl_images[@]}" check "${image}:${moving}" --platform "$platform" >&2 || status=$?
exit "$status"
