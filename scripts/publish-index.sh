#!/usr/bin/env bash
# Points a .NET line's tag at the newest build of each architecture: <tag> becomes a multi-platform
# index of the moving per-architecture tags scripts/rebuild-image.sh pushes (<tag>-x86_64,
# <tag>-arm64), as AWS's own public.ecr.aws/lambda/dotnet:<tag> is. What the rebuild workflow runs
# after the per-architecture jobs; runs the same against the local registry.
#
#   scripts/publish-index.sh --tag 10|8 [--arch x86_64,arm64] [--registry HOST[/PREFIX]] [--repository NAME]
#
# Defaults: --arch x86_64,arm64 for 10 and x86_64 for 8 (rebuild.yml builds no :8 for arm64),
# --registry $SL_REGISTRY (localhost:5000), --repository sealights/lambda-dotnet.
#
# 1. each architecture's moving tag: its manifest digest (it must exist: the rebuild ran first);
# 2. the published <tag>, per platform: when it already names exactly those manifests, nothing is
#    pushed (exit 0);
# 3. else the index of those digests is pushed under <tag> (a function image built on it stays
#    single-platform: the SDK and docker pick their platform from an index);
# 4. read back: each platform of <tag> must be its architecture's digest, and `sl-images check`
#    must say fresh for each.
#
# Exit: 0 published or up to date, 1 check found a platform stale, 2 bad input, 3 a registry could
# not be read or written. Under GitHub Actions the outcome also goes to $GITHUB_OUTPUT (updated,
# image, index_digest, digest_<arch>). SL_IMAGES: the sl-images command to use (default: this repository's CLI).
set -euo pipefail
cd "$(dirname "$0")/.."

tag=""
arch_list=""
registry="${SL_REGISTRY:-localhost:5000}"
repository=sealights/lambda-dotnet

usage() {
  echo "usage: scripts/publish-index.sh --tag 10|8 [--arch x86_64,arm64] [--registry HOST[/PREFIX]] [--repository NAME]" >&2
  exit 2
}
while [ $# -gt 0 ]; do
  case "$1" in
    --tag) tag="${2:-}"; shift 2 || usage ;;
    --arch) arch_list="${2:-}"; shift 2 || usage ;;
    --registry) registry="${2:-}"; shift 2 || usage ;;
    --repository) repository="${2:-}"; shift 2 || usage ;;
    *) usage ;;
  esac
done
case "$tag" in
  10) arch_list="${arch_list:-x86_64,arm64}" ;;
  8) arch_list="${arch_list:-x86_64}" ;;
  *) echo "publish-index: --tag must be 10 or 8" >&2; exit 2 ;;
esac
IFS=, read -r -a arches <<<"$arch_list"
for arch in "${arches[@]}"; do
  case "$arch" in x86_64 | arm64) ;; *) echo "publish-index: --arch takes x86_64 and/or arm64, comma-separated" >&2; exit 2 ;; esac
done
image="${registry}/${repository}"

log() { printf '[publish-index] %s\n' "$*" >&2; }
platform_of() { case "$1" in x86_64) echo linux/amd64 ;; arm64) echo linux/arm64 ;; esac; }

# shellcheck source=scripts/lib/cli.sh
. scripts/lib/cli.sh
use_sl_images

children=()
declare -A wanted=()
up_to_date=1
for arch in "${arches[@]}"; do
  platform="$(platform_of "$arch")"
  if ! digest="$("${sl_images[@]}" inspect "${image}:${tag}-${arch}" --platform "$platform" --digest)"; then
    log "cannot read ${image}:${tag}-${arch} for ${platform}: run scripts/rebuild-image.sh --tag ${tag} --arch ${arch} first"
    exit 3
  fi
  wanted[$arch]=$digest
  children+=("${image}@${digest}")
  current="$("${sl_images[@]}" inspect "${image}:${tag}" --platform "$platform" --digest 2>/dev/null || true)"
  log "${platform}: newest ${image}:${tag}-${arch} ${digest}; ${image}:${tag} names ${current:-nothing for it}"
  [ "$current" = "$digest" ] || up_to_date=0
done

output image "${image}:${tag}"
for arch in "${arches[@]}"; do output "digest_${arch}" "${wanted[$arch]}"; done
if [ "$up_to_date" -eq 1 ]; then
  log "up to date: ${image}:${tag} already names the newest build of each platform; nothing pushed"
  output updated false
else
  # shellcheck source=scripts/lib/manifest-index.sh
  source scripts/lib/manifest-index.sh
  if ! push_index "${image}:${tag}" "${children[@]}"; then
    log "push of the index ${image}:${tag} failed"
    exit 3
  fi
  log "pushed the index ${image}:${tag} (${arch_list})"
  output updated true
fi

# The proof: each platform of the index is its newest build, built on its base as it is now.
status=0
for arch in "${arches[@]}"; do
  platform="$(platform_of "$arch")"
  if ! got="$("${sl_images[@]}" inspect "${image}:${tag}" --platform "$platform" --digest)"; then
    log "cannot read back ${image}:${tag} for ${platform}"
    exit 3
  fi
  if [ "$got" != "${wanted[$arch]}" ]; then
    log "${image}:${tag} names ${got} for ${platform}, not ${wanted[$arch]}"
    exit 3
  fi
  "${sl_images[@]}" check "${image}:${tag}" --platform "$platform" >&2 || { s=$?; [ "$status" -ne 0 ] || status=$s; }
done
output index_digest "$("${sl_images[@]}" inspect "${image}:${tag}" | jq -r '.indexDigest // ""')"
exit "$status"
