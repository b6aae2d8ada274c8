#!/usr/bin/env bash
# Builds the Sealights coverage-ready Lambda base image from this repository's sources and pushes it.
#
#   images/lambda-dotnet/build.sh [--tag 10|8] [--base IMAGE] [--base-arm64 IMAGE] [--registry HOST]
#                                 [--repository NAME] [--arch x86_64|arm64|all] [--no-push]
#
# Defaults: --tag 10, --base public.ecr.aws/lambda/dotnet:<tag>, --registry $SL_REGISTRY
# (localhost:5000), --repository sealights/lambda-dotnet, --arch all for tag 10 (x86_64 for 8:
# the package mirror has no .NET 8 arm64 runtime, so no arm64 stand-in of :8 can exist here).
# SL_SOURCE_URL (https) sets the org.opencontainers.image.source label; else the clone's https
# remote does; else it is left out.
#
# One architecture (--arch x86_64 or arm64): one image, tagged <registry>/<repository>:<tag> and
# :<tag>-<agent version>. --arch all: each architecture's image is built on its own platform's
# base manifest (--base-arm64 names a separate arm64 base, e.g. the local stand-in's 10-arm64;
# by default the linux/arm64 manifest of --base) and pushed as :<tag>-x86_64 and :<tag>-arm64;
# :<tag> and :<tag>-<agent version> become a multi-platform index of the two (a base image:
# the SDK and docker pick their platform from it; a function image stays single-platform, as
# Lambda requires). Locally, :<tag> and :<tag>-<agent version> name the x86_64 image.
# arm64: the agent is cross-published for linux-arm64 NativeAOT (clang, lld, the aarch64 GNU
# toolchain: scripts/prereqs.sh), and the image's one RUN step runs through QEMU.
set -euo pipefail
cd "$(dirname "$0")/../.."

tag=10
base=""
base_arm64=""
registry="${SL_REGISTRY:-localhost:5000}"
repository="sealights/lambda-dotnet"
arch=""
push=1
while [ $# -gt 0 ]; do
  case "$1" in
    --tag) tag="$2"; shift 2 ;;
    --base) base="$2"; shift 2 ;;
    --base-arm64) base_arm64="$2"; shift 2 ;;
    --registry) registry="$2"; shift 2 ;;
    --repository) repository="$2"; shift 2 ;;
    --arch) arch="$2"; shift 2 ;;
    --no-push) push=0; shift ;;
    *) echo "build.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
base="${base:-public.ecr.aws/lambda/dotnet:${tag}}"
if [ -z "$arch" ]; then
  if [ "$tag" = 8 ]; then arch=x86_64; else arch=all; fi
fi
case "$arch" in
  x86_64 | arm64) arches=("$arch") ;;
  all) arches=(x86_64 arm64) ;;
  *) echo "build.sh: --arch must be x86_64, arm64 or all" >&2; exit 2 ;;
esac
if [ "$tag" = 8 ] && [ "$arch" != x86_64 ]; then
  echo "build.sh: no arm64 image of :8 (no .NET 8 arm64 runtime on this project's package mirror); use --arch x86_64" >&2
  exit 2
fi
image="${registry}/${repository}"

agent_version="$(sed -n 's:.*<Version>\(.*\)</Version>.*:\1:p' Directory.Build.props | head -n 1)"
revision="$(git rev-parse HEAD 2>/dev/null || echo unknown)"
# org.opencontainers.image.source only with a public URL (SL_SOURCE_URL or an https remote): a
# clone of a local checkout has a path as its remote, and a label must not name this machine.
source_url="$(bash images/lambda-dotnet/source-url.sh)"
source_label=()
[ -z "$source_url" ] || source_label=(--label "org.opencontainers.image.source=${source_url}")

dotnet build src/Sealights.Images.Cli -c Release --nologo -v quiet >/dev/null
sl_images=(dotnet src/Sealights.Images.Cli/bin/Release/net8.0/sl-images.dll)

# Builds one architecture's image and tags it with the given tags.
build_arch() { # arch tag...
  local arch=$1 rid platform arch_base publish_args=() work base_digest
  shift
  case "$arch" in
    x86_64) rid=linux-x64; platform=linux/amd64; arch_base=$base ;;
    arm64)
      rid=linux-arm64; platform=linux/arm64; arch_base=${base_arm64:-$base}
      # Cross-compiled; its own artifacts path keeps the project's obj/ (linux-x64) as it is.
      publish_args=(-p:CppCompilerAndLinker=clang -p:SysRoot=/ -p:LinkerFlavor=lld
        -p:ObjCopyName=aarch64-linux-gnu-objcopy --artifacts-path artifacts/lambda-dotnet/agent-build-arm64) ;;
  esac
  work="artifacts/lambda-dotnet/${tag}-${arch}"
  rm -rf "$work"
  mkdir -p "$work/layer"

  echo "== agent ${agent_version} (NativeAOT, ${rid})"
  dotnet publish src/Sealights.Lambda.Agent -c Release -r "$rid" "${publish_args[@]}" -o "$work/agent" --nologo | tail -n 1
  cp -R src/Sealights.Lambda.Agent/layer/. "$work/layer/"
  cp "$work/agent/sealights-lambda-agent" "$work/layer/sealights/bin/"
  cp images/lambda-dotnet/Dockerfile images/lambda-dotnet/lambda-entrypoint.sh "$work/"

  # Docker does not record the base digest: resolve the per-platform manifest first, so the label
  # says exactly which image this was built on (the staleness check compares like with like).
  echo "== base ${arch_base} (${platform})"
  base_digest="$("${sl_images[@]}" inspect "$arch_base" --platform "$platform" --digest)"
  echo "   ${base_digest}"

  local tags=()
  for t in "$@"; do tags+=(--tag "${image}:${t}"); done
  echo "== build ${image}:$1 (${platform})"
  docker build --network host --quiet --platform "$platform" \
    --build-arg "BASE_IMAGE=${arch_base}@${base_digest}" \
    --build-arg "BASE_NAME=${arch_base}" \
    --build-arg "BASE_DIGEST=${base_digest}" \
    --build-arg "AGENT_VERSION=${agent_version}" \
    --build-arg "REVISION=${revision}" \
    "${source_label[@]}" \
    "${tags[@]}" \
    "$work"
}

if [ "${#arches[@]}" -eq 1 ]; then
  build_arch "$arch" "$tag" "${tag}-${agent_version}"
  if [ "$push" -eq 1 ]; then
    case "$arch" in x86_64) platform=linux/amd64 ;; arm64) platform=linux/arm64 ;; esac
    docker push --quiet "${image}:${tag}" >/dev/null
    docker push --quiet "${image}:${tag}-${agent_version}" >/dev/null
    echo "== pushed ${image}:${tag} and :${tag}-${agent_version}: $("${sl_images[@]}" inspect "${image}:${tag}" --platform "$platform" --digest)"
  fi
  exit 0
fi

build_arch x86_64 "${tag}-x86_64" "$tag" "${tag}-${agent_version}"
build_arch arm64 "${tag}-arm64"
[ "$push" -eq 1 ] || exit 0

# The per-platform images first (an index may only name manifests the registry has), then the
# index under both names; docker manifest reads each image's platform from its config.
docker push --quiet "${image}:${tag}-x86_64" >/dev/null
docker push --quiet "${image}:${tag}-arm64" >/dev/null
# shellcheck source=scripts/lib/manifest-index.sh
source scripts/lib/manifest-index.sh
for index in "${image}:${tag}" "${image}:${tag}-${agent_version}"; do
  push_index "$index" "${image}:${tag}-x86_64" "${image}:${tag}-arm64"
done
for platform in linux/amd64 linux/arm64; do
  echo "== pushed ${image}:${tag} and :${tag}-${agent_version} (index), ${platform}: $("${sl_images[@]}" inspect "${image}:${tag}" --platform "$platform" --digest)"
done
