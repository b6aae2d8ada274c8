#!/usr/bin/env bash
# Builds the Sealights coverage-ready Lambda base image from this repository's sources and pushes it.
#
#   images/lambda-dotnet/build.sh [--tag 10|8] [--base IMAGE] [--registry HOST] [--repository NAME]
#                                 [--arch x86_64|arm64] [--no-push]
#
# Defaults: --tag 10, --base public.ecr.aws/lambda/dotnet:<tag>, --registry $SL_REGISTRY
# (localhost:5000), --repository sealights/lambda-dotnet, --arch x86_64.
# Tags <registry>/<repository>:<tag> and :<tag>-<agent version>. SL_SOURCE_URL (https) sets the
# org.opencontainers.image.source label; else the clone's https remote does; else it is left out.
#
# One architecture per image (Lambda rejects indexes). arm64 is selected with --arch arm64: the
# agent is then published for linux-arm64 (needs the arm64 NativeAOT toolchain) and the base
# digest is the base's linux/arm64 manifest; it cannot be built or run on this x86_64 machine.
set -euo pipefail
cd "$(dirname "$0")/../.."

tag=10
base=""
registry="${SL_REGISTRY:-localhost:5000}"
repository="sealights/lambda-dotnet"
arch="x86_64"
push=1
while [ $# -gt 0 ]; do
  case "$1" in
    --tag) tag="$2"; shift 2 ;;
    --base) base="$2"; shift 2 ;;
    --registry) registry="$2"; shift 2 ;;
    --repository) repository="$2"; shift 2 ;;
    --arch) arch="$2"; shift 2 ;;
    --no-push) push=0; shift ;;
    *) echo "build.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
base="${base:-public.ecr.aws/lambda/dotnet:${tag}}"
case "$arch" in
  x86_64) rid=linux-x64; platform=linux/amd64 ;;
  arm64) rid=linux-arm64; platform=linux/arm64 ;;
  *) echo "build.sh: --arch must be x86_64 or arm64" >&2; exit 2 ;;
esac

work="artifacts/lambda-dotnet/${tag}-${arch}"
rm -rf "$work"
mkdir -p "$work/layer"

agent_version="$(sed -n 's:.*<Version>\(.*\)</Version>.*:\1:p' Directory.Build.props | head -n 1)"
revision="$(git rev-parse HEAD 2>/dev/null || echo unknown)"
# org.opencontainers.image.source only with a public URL (SL_SOURCE_URL or an https remote): a
# clone of a local checkout has a path as its remote, and a label must not name this machine.
source_url="$(bash images/lambda-dotnet/source-url.sh)"
source_label=()
[ -z "$source_url" ] || source_label=(--label "org.opencontainers.image.source=${source_url}")

echo "== agent ${agent_version} (NativeAOT, ${rid})"
dotnet publish src/Sealights.Lambda.Agent -c Release -r "$rid" -o "$work/agent" --nologo | tail -n 1
cp -R src/Sealights.Lambda.Agent/layer/. "$work/layer/"
cp "$work/agent/sealights-lambda-agent" "$work/layer/sealights/bin/"
cp images/lambda-dotnet/Dockerfile images/lambda-dotnet/lambda-entrypoint.sh "$work/"

# Docker does not record the base digest: resolve the per-platform manifest first, so the label
# says exactly which image this was built on (the staleness check compares like with like).
echo "== base ${base} (${platform})"
dotnet build src/Sealights.Images.Cli -c Release --nologo -v quiet >/dev/null
base_digest="$(dotnet src/Sealights.Images.Cli/bin/Release/net8.0/sl-images.dll inspect "$base" --platform "$platform" --digest)"
echo "   ${base_digest}"

image="${registry}/${repository}"
echo "== build ${image}:${tag}"
docker build --network host --quiet \
  --build-arg "BASE_IMAGE=${base}@${base_digest}" \
  --build-arg "BASE_NAME=${base}" \
  --build-arg "BASE_DIGEST=${base_digest}" \
  --build-arg "AGENT_VERSION=${agent_version}" \
  --build-arg "REVISION=${revision}" \
  "${source_label[@]}" \
  --tag "${image}:${tag}" --tag "${image}:${tag}-${agent_version}" \
  "$work"

if [ "$push" -eq 1 ]; then
  docker push --quiet "${image}:${tag}" >/dev/null
  docker push --quiet "${image}:${tag}-${agent_version}" >/dev/null
  echo "== pushed ${image}:${tag} and :${tag}-${agent_version}: $(dotnet src/Sealights.Images.Cli/bin/Release/net8.0/sl-images.dll inspect "${image}:${tag}" --platform "$platform" --digest)"
fi
