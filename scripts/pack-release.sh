#!/usr/bin/env bash
# Packs the MSBuild package (Sealights.Lambda.Containers) and the sl-images dotnet tool
# (src/Sealights.Images.Cli, package id sl-images) into a NuGet feed folder.
#
#   scripts/pack-release.sh [--out DIR]                          (./run pack) a local feed
#   scripts/pack-release.sh --version X.Y.Z [--push SOURCE]      a release (.github/workflows/release.yml)
#
# Local feed (default artifacts/feed): the version is <Version of Directory.Build.props>-dev.<unix
# time>.g<content key>. The key covers everything both packages are built from, so a changed
# package always gets a new version (NuGet's cache never serves a stale one) and an unchanged one
# is not packed again; the time makes the newest the highest (`dotnet add package --prerelease`
# and `dotnet tool install --prerelease` take it). Earlier versions stay in the feed.
#
# Release: artifacts/release is emptied and gets exactly X.Y.Z; with --push SOURCE (a feed URL or
# the name of a configured source) both are pushed. Credentials come from the NuGet configuration
# (e.g. `aws codeartifact login --tool dotnet`) or from $NUGET_API_KEY; never from an argument
# (arguments end up in logs).
#
# Prints one line per package ("<id> <version>") and "feed: <absolute folder>".
set -euo pipefail
cd "$(dirname "$0")/.."

version=""
source=""
out=""
usage() { echo "usage: scripts/pack-release.sh [--out DIR] | --version X.Y.Z [--push SOURCE]" >&2; exit 2; }
while [ $# -gt 0 ]; do
  case "$1" in
    --version) [ $# -ge 2 ] || usage; version="$2"; shift 2 ;;
    --push) [ $# -ge 2 ] || usage; source="$2"; shift 2 ;;
    --out) [ $# -ge 2 ] || usage; out="$2"; shift 2 ;;
    *) usage ;;
  esac
done
if [ -n "$version" ] && ! [[ "$version" =~ ^[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?$ ]]; then
  echo "pack-release: --version must be a SemVer version, not '$version'" >&2
  exit 2
fi
[ -n "$version" ] || [ -z "$source" ] || { echo "pack-release: --push needs --version (a local feed is not pushed)" >&2; exit 2; }

projects=(msbuild/Sealights.Lambda.Containers src/Sealights.Images.Cli)
ids=(Sealights.Lambda.Containers sl-images)

if [ -n "$version" ]; then
  out="${out:-artifacts/release}"
  rm -rf "$out"
  mkdir -p "$out"
else
  out="${out:-artifacts/feed}"
  mkdir -p "$out"
  # Everything the two packages are built from (the packed CLI carries the instrumenter and the
  # probes' library); uncommitted changes count too.
  sources=(msbuild/Sealights.Lambda.Containers src/Sealights.Images.Cli src/Sealights.Coverage
    src/Sealights.Coverage.Probes src/Sealights.Coverage.Instrumentation Directory.Build.props Directory.Packages.props)
  key="$( { git ls-files -s "${sources[@]}"; git diff HEAD -- "${sources[@]}" 2>/dev/null; } | sha256sum | cut -c1-12)"
  existing="$(find "$out" -maxdepth 1 -name "Sealights.Lambda.Containers.*-dev.*.g${key}.nupkg" | head -n 1)"
  if [ -n "$existing" ] && [ -f "$out/sl-images.$(basename "$existing" .nupkg | sed 's/^Sealights\.Lambda\.Containers\.//').nupkg" ]; then
    version="$(basename "$existing" .nupkg)"
    version="${version#Sealights.Lambda.Containers.}"
    for id in "${ids[@]}"; do echo "${id} ${version} (packed before, reused)"; done
    echo "feed: $(cd "$out" && pwd)"
    exit 0
  fi
  base="$(sed -n 's:.*<Version>\([^<]*\)</Version>.*:\1:p' Directory.Build.props | head -n 1)"
  version="${base}-dev.$(date -u +%s).g${key}"
fi

for project in "${projects[@]}"; do
  dotnet pack "$project" -c Release -o "$out" --nologo -v quiet "-p:Version=${version}" >/dev/null
done
for id in "${ids[@]}"; do
  [ -f "$out/${id}.${version}.nupkg" ] || { echo "pack-release: $out/${id}.${version}.nupkg was not written" >&2; exit 1; }
  echo "${id} ${version}"
done
echo "feed: $(cd "$out" && pwd)"

if [ -n "$source" ]; then
  key_args=()
  [ -z "${NUGET_API_KEY:-}" ] || key_args=(--api-key "$NUGET_API_KEY")
  for package in "$out"/*.nupkg; do
    dotnet nuget push "$package" --source "$source" "${key_args[@]}" --skip-duplicate
  done
fi
