#!/usr/bin/env bash
# Packs the MSBuild package (Sealights.Lambda.Containers) and the sl-images tool
# (Sealights.Images.Cli) into artifacts/release, and pushes both when a feed is given. What
# .github/workflows/release.yml runs; runs the same locally (without --push it only packs).
#
#   scripts/pack-release.sh [--version X.Y.Z] [--push SOURCE]
#
# SOURCE: a feed URL or the name of a configured source. Its credentials come from the NuGet
# configuration (e.g. `aws codeartifact login --tool dotnet`, which stores a short-lived token) or
# from $NUGET_API_KEY when set; never from an argument (arguments end up in logs).
set -euo pipefail
cd "$(dirname "$0")/.."

version=""
source=""
usage() { echo "usage: scripts/pack-release.sh [--version X.Y.Z] [--push SOURCE]" >&2; exit 2; }
while [ $# -gt 0 ]; do
  case "$1" in
    --version) [ $# -ge 2 ] || usage; version="$2"; shift 2 ;;
    --push) [ $# -ge 2 ] || usage; source="$2"; shift 2 ;;
    *) usage ;;
  esac
done
if [ -n "$version" ] && ! [[ "$version" =~ ^[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?$ ]]; then
  echo "pack-release: --version must be a SemVer version, not '$version'" >&2
  exit 2
fi

out=artifacts/release
rm -rf "$out"
mkdir -p "$out"
version_args=()
[ -z "$version" ] || version_args=("-p:Version=$version")
for project in msbuild/Sealights.Lambda.Containers src/Sealights.Images.Cli; do
  dotnet pack "$project" -c Release -o "$out" --nologo "${version_args[@]}" | tail -n 1
done
ls -1 "$out"

if [ -n "$source" ]; then
  key_args=()
  [ -z "${NUGET_API_KEY:-}" ] || key_args=(--api-key "$NUGET_API_KEY")
  for package in "$out"/*.nupkg; do
    dotnet nuget push "$package" --source "$source" "${key_args[@]}" --skip-duplicate
  done
fi
