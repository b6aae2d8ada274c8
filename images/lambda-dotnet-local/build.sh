#!/usr/bin/env bash
# Builds the offline stand-ins of public.ecr.aws/lambda/dotnet:<tag> (nothing can be pulled from
# public registries here) as ${SL_REGISTRY}/lambda/dotnet:<tag> and pushes them to that LOCAL
# registry. Idempotent and fast when nothing changed: every image carries a content key (label
# io.sealights.local.content-key) and is rebuilt only when the key differs.
#
# Usage: build.sh [10] [8] [10-arm64]  (default: all three)
#   10-arm64 is the linux/arm64 image of public.ecr.aws/lambda/dotnet:10 (AWS's per-architecture
#   tag has the same name): a Debian arm64 rootfs (debootstrap's second stage runs through QEMU,
#   scripts/prereqs.sh registers it), the .NET 10 linux-arm64 runtime packs, the emulator
#   cross-compiled NativeAOT for linux-arm64 and muxer/dotnet.c as /var/lang/bin/dotnet.
# Env:   SL_REGISTRY         registry to push to, optionally with a path (default localhost:5000;
#                            e.g. localhost:5000/team keeps one checkout's images apart); loopback only unless
#                            SL_ALLOW_NONLOCAL_REGISTRY=1: these images must never leave the machine)
#        SL_STATE_DIR        cache of heavy state (default /var/lib/sealights-images)
#        SL_DOTNET8_VERSION  .NET 8 runtime packs for tag 8 (default 8.0.31)
#        SL_DEBIAN_MIRROR    Debian mirror for debootstrap (default http://deb.debian.org/debian)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
registry=${SL_REGISTRY:-localhost:5000}
state_dir=${SL_STATE_DIR:-/var/lib/sealights-images}/lambda-dotnet-local
work_dir=$repo/artifacts/lambda-dotnet-local
repository=lambda/dotnet
# The registry's HTTP API: SL_REGISTRY may carry a path (localhost:5000/team), which belongs to
# the repository's name there, not to the host.
registry_host=${registry%%/*}
registry_api="http://${registry_host}/v2"
[ "$registry" = "${registry%%/*}" ] && api_repository=$repository || api_repository="${registry#*/}/$repository"
key_label=io.sealights.local.content-key

debian_suite=bookworm
debian_mirror=${SL_DEBIAN_MIRROR:-http://deb.debian.org/debian}
# What .NET needs (ICU, OpenSSL, zlib, the C++ runtime) plus what test extensions use (curl).
debian_packages=(ca-certificates curl libgcc-s1 libicu72 libssl3 libstdc++6 zlib1g)
# Bump when make_rootfs changes: the cached rootfs tarball and base image are keyed by it.
rootfs_recipe=2
dotnet8_version=${SL_DOTNET8_VERSION:-8.0.31}

log() { printf '[lambda-dotnet-local] %s\n' "$*" >&2; }
die() {
  log "error: $*"
  exit 1
}
as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}
sha() { sha256sum | cut -d' ' -f1; }

cleanup_dirs=()
cleanup() {
  local dir
  for dir in "${cleanup_dirs[@]}"; do
    as_root rm -rf "$dir"
  done
}
trap cleanup EXIT

# ---------------------------------------------------------------------------------------------
# Inputs and keys

tags=()
for arg in "$@"; do
  case "$arg" in
    10 | 8 | 10-arm64) tags+=("$arg") ;;
    *) die "unknown tag '$arg' (supported: 10, 8, 10-arm64)" ;;
  esac
done
[ "${#tags[@]}" -gt 0 ] || tags=(10 8 10-arm64)

case "${registry_host%:*}" in
  localhost | 127.* | "[::1]") ;;
  *) [ "${SL_ALLOW_NONLOCAL_REGISTRY:-}" = 1 ] ||
    die "$registry is not a loopback registry; these stand-ins must stay local (set SL_ALLOW_NONLOCAL_REGISTRY=1 to override)" ;;
esac
[[ "$dotnet8_version" == 8.0.* ]] || die "SL_DOTNET8_VERSION must be an 8.0.x version, not '$dotnet8_version'"

# The .NET 10 runtime of this machine's SDK install is the tag-10 runtime, and its muxer and
# hostfxr serve both tags.
runtimes=$(cd "$repo" && dotnet --list-runtimes)
sdk_version=$(cd "$repo" && dotnet --version)
dotnet10_version=$(awk '$1 == "Microsoft.NETCore.App" && $2 ~ /^10\.0\./ { print $2 }' <<<"$runtimes" | sort -V | tail -n 1)
[ -n "$dotnet10_version" ] || die "no Microsoft.NETCore.App 10.0.x in 'dotnet --list-runtimes'"
grep -q "^Microsoft.AspNetCore.App $dotnet10_version " <<<"$runtimes" ||
  die "Microsoft.AspNetCore.App $dotnet10_version is not installed next to Microsoft.NETCore.App $dotnet10_version"
netcore_dir=$(awk -v v="$dotnet10_version" '$1 == "Microsoft.NETCore.App" && $2 == v { print $3 }' <<<"$runtimes" | tr -d '[]')
host_dotnet_root=$(dirname "$(dirname "$netcore_dir")")
hostfxr_version=$(find "$host_dotnet_root/host/fxr" -mindepth 1 -maxdepth 1 -printf '%f\n' | sort -V | tail -n 1)
if [ ! -x "$host_dotnet_root/dotnet" ] || [ -z "$hostfxr_version" ]; then
  die "no dotnet muxer or hostfxr under $host_dotnet_root"
fi

runtime_version() { if [ "${1%-*}" = 10 ]; then echo "$dotnet10_version"; else echo "$dotnet8_version"; fi; }
# The tag's Debian/Docker architecture: 10-arm64 is arm64, the plain tags amd64.
tag_arch() { if [ "${1#*-}" = arm64 ]; then echo arm64; else echo amd64; fi; }

# Hash of the files that go into the images (paths relative to the repo, so the key does not
# depend on where the checkout lives). The Directory.* files and global.json change how the
# emulator and the runtime client compile.
hash_sources() {
  (
    cd "$repo"
    {
      find "$@" -type f -not -path '*/bin/*' -not -path '*/obj/*' -print0
      for f in Directory.Build.props Directory.Build.targets Directory.Packages.props global.json nuget.config; do
        if [ -f "$f" ]; then printf '%s\0' "$f"; fi
      done
    } | LC_ALL=C sort -z | xargs -0 sha256sum | sha
  )
}
sources_key=$(hash_sources images/lambda-dotnet-local src/Sealights.Lambda.Emulator standins)
emulator_key=$(printf 'sdk=%s\nsources=%s\n' "$sdk_version" "$(hash_sources src/Sealights.Lambda.Emulator)" | sha)
# amd64 keeps its key as it was (no arch line), so its cached rootfs and images stay valid.
rootfs_key_of() {
  { printf 'suite=%s\nvariant=minbase\npackages=%s\nrecipe=%s\n' "$debian_suite" "${debian_packages[*]}" "$rootfs_recipe"
    if [ "$1" != amd64 ]; then printf 'arch=%s\n' "$1"; fi; } | sha
}
base_image_of() { local key; key=$(rootfs_key_of "$1"); echo "sealights-local/rootfs:$debian_suite-${key:0:16}"; }

content_key() {
  printf 'tag=%s\nruntime=%s\nhostfxr=%s\nsdk=%s\nrootfs=%s\nsources=%s\n' \
    "$1" "$(runtime_version "$1")" "$hostfxr_version" "$sdk_version" "$(rootfs_key_of "$(tag_arch "$1")")" "$sources_key" | sha
}

# ---------------------------------------------------------------------------------------------
# Heavy steps (each cached)

# Debian minbase plus the runtime's libraries, as a tarball under the state dir.
make_rootfs() {
  local tarball=$1 arch=$2 tmp foreign=()
  tmp=$(as_root mktemp -d "$state_dir/rootfs/build.XXXXXX")
  cleanup_dirs+=("$tmp")
  # Another architecture: debootstrap unpacks (first stage), then its second stage runs inside the
  # rootfs, each arm64 binary through the qemu-aarch64 interpreter registered in binfmt_misc.
  [ "$arch" = amd64 ] || foreign=(--arch "$arch" --foreign)
  log "debootstrap $debian_suite $arch (minbase + ${debian_packages[*]}) from $debian_mirror"
  if ! as_root debootstrap "${foreign[@]}" --variant=minbase --include="$(
    IFS=,
    echo "${debian_packages[*]}"
  )" "$debian_suite" "$tmp/root" "$debian_mirror" >"$tmp/debootstrap.log" 2>&1; then
    tail -n 30 "$tmp/debootstrap.log" >&2
    die "debootstrap failed (log above)"
  fi
  if [ "$arch" != amd64 ]; then
    [ -e "/proc/sys/fs/binfmt_misc/qemu-aarch64" ] || die "no qemu-aarch64 in binfmt_misc: run scripts/prereqs.sh"
    log "debootstrap second stage ($arch, through QEMU)"
    if ! as_root chroot "$tmp/root" /debootstrap/debootstrap --second-stage >"$tmp/debootstrap2.log" 2>&1; then
      tail -n 30 "$tmp/debootstrap2.log" >&2
      die "debootstrap's second stage failed (log above)"
    fi
  fi
  as_root chroot "$tmp/root" apt-get clean
  # Caches, package lists and logs are dead weight in an image; docs go too (copyrights stay).
  as_root rm -rf "$tmp/root/var/lib/apt/lists/"* "$tmp/root/var/cache/apt/"* "$tmp/root/usr/share/man/"* "$tmp/root/usr/share/info/"*
  as_root find "$tmp/root/var/log" "$tmp/root/var/cache/debconf" -type f \( -name '*.log' -o -name '*-old' -o -path '*/var/log/*' \) -delete
  as_root find "$tmp/root/usr/share/doc" -type f -not -name copyright -delete
  # Message translations (33 MB); AWS's image has none either. locale.alias stays for glibc.
  as_root find "$tmp/root/usr/share/locale" -mindepth 1 -maxdepth 1 -not -name locale.alias -exec rm -rf {} +
  # Docker provides these at run time; keeping the build machine's copies would leak them.
  as_root rm -f "$tmp/root/etc/hostname" "$tmp/root/etc/resolv.conf"
  as_root tar --numeric-owner -C "$tmp/root" --exclude='./dev/*' --exclude='./proc/*' --exclude='./sys/*' -cf "$tarball.partial" .
  as_root mv "$tarball.partial" "$tarball"
}

ensure_base_image() {
  local arch=$1 base_image key
  base_image=$(base_image_of "$arch")
  docker image inspect "$base_image" >/dev/null 2>&1 && return
  key=$(rootfs_key_of "$arch")
  local tarball=$state_dir/rootfs/$debian_suite-${key:0:16}.tar
  as_root mkdir -p "$state_dir/rootfs"
  [ -s "$tarball" ] || make_rootfs "$tarball" "$arch"
  log "importing $tarball as $base_image"
  if [ "$arch" != amd64 ]; then
    load_foreign_rootfs "$tarball" "$base_image" "$arch" "$key"
    return
  fi
  docker import \
    --change "LABEL io.sealights.local.rootfs-key=$key" \
    --change "LABEL io.sealights.local.debian-suite=$debian_suite" \
    --change "LABEL io.sealights.local.debian-packages=\"${debian_packages[*]}\"" \
    "$tarball" "$base_image" >/dev/null
}

# docker import records the engine's own architecture (its --platform needs an experimental
# daemon), and the legacy builder gives every step the architecture of the image it starts from:
# another architecture's rootfs goes in through docker load instead, as a one-layer image whose
# config names its platform (the rootfs tarball is the layer, its sha256 the diff id).
load_foreign_rootfs() {
  local tarball=$1 image=$2 arch=$3 key=$4 dir diff_id config config_digest
  dir=$(mktemp -d "$work_dir/load.XXXXXX")
  cleanup_dirs+=("$dir")
  ln -s "$tarball" "$dir/layer.tar"
  diff_id=$(sha < "$tarball")
  config=$(jq -cn --arg arch "$arch" --arg diff "sha256:$diff_id" --arg key "$key" --arg suite "$debian_suite" --arg packages "${debian_packages[*]}" \
    '{architecture: $arch, os: "linux", variant: (if $arch == "arm64" then "v8" else null end),
      config: {Env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
               Labels: {"io.sealights.local.rootfs-key": $key, "io.sealights.local.debian-suite": $suite, "io.sealights.local.debian-packages": $packages}},
      rootfs: {type: "layers", diff_ids: [$diff]}, history: [{created_by: "lambda-dotnet-local/build.sh: debootstrap rootfs"}]} | del(..|nulls)')
  config_digest=$(printf '%s' "$config" | sha)
  printf '%s' "$config" >"$dir/$config_digest.json"
  jq -cn --arg config "$config_digest.json" --arg tag "$image" '[{Config: $config, RepoTags: [$tag], Layers: ["layer.tar"]}]' >"$dir/manifest.json"
  tar -C "$dir" -ch manifest.json "$config_digest.json" layer.tar | docker load -q >/dev/null ||
    die "docker load of the $arch rootfs ($tarball) failed"
  [ "$(docker image inspect --format '{{.Architecture}}' "$image")" = "$arch" ] || die "$image did not load as $arch"
}

# The project's emulator, NativeAOT, cached per source content. arm64: cross-compiled (clang, lld,
# the aarch64 GNU toolchain) and on net10.0, the NativeAOT toolchain with an arm64 runtime pack on
# the package mirror (there is no .NET 8 arm64 runtime pack there); its own artifacts path keeps
# the project's obj/ (net8.0, linux-x64) untouched for builds running next to it.
emulator_binary=""
ensure_emulator() {
  local arch=$1 out publish_args
  out=$work_dir/emulator/${emulator_key:0:16}
  publish_args=(-r linux-x64)
  if [ "$arch" = arm64 ]; then
    out=$work_dir/emulator/arm64-${emulator_key:0:16}
    publish_args=(-r linux-arm64 -p:NativeTargetFramework=net10.0 --artifacts-path "$work_dir/emulator/arm64-build"
      -p:CppCompilerAndLinker=clang -p:SysRoot=/ -p:LinkerFlavor=lld -p:ObjCopyName=aarch64-linux-gnu-objcopy)
  fi
  emulator_binary=$out/aws-lambda-rie
  if [ ! -x "$out/aws-lambda-rie" ]; then
    log "publishing src/Sealights.Lambda.Emulator (NativeAOT, $arch)"
    rm -rf "$out.tmp"
    mkdir -p "$work_dir/emulator"
    if ! dotnet publish "$repo/src/Sealights.Lambda.Emulator" -c Release "${publish_args[@]}" -o "$out.tmp" --nologo >"$work_dir/emulator/publish.log" 2>&1; then
      tail -n 40 "$work_dir/emulator/publish.log" >&2
      die "the emulator did not publish (src/Sealights.Lambda.Emulator; log above)"
    fi
    [ -x "$out.tmp/aws-lambda-rie" ] || die "the emulator publish produced no aws-lambda-rie"
    rm -rf "$out"
    mv "$out.tmp" "$out"
  fi
}

# arm64's /var/lang/bin/dotnet (muxer/dotnet.c: no arm64 muxer on the package mirror).
muxer_arm64() {
  local out=$work_dir/muxer-arm64/dotnet
  mkdir -p "$(dirname "$out")"
  aarch64-linux-gnu-gcc -O2 -Wall -Wextra -Werror -o "$out" "$here/muxer/dotnet.c" ||
    die "muxer/dotnet.c did not compile (aarch64-linux-gnu-gcc: scripts/prereqs.sh installs it)"
  aarch64-linux-gnu-strip "$out"
  echo "$out"
}

runtime_client_dir=""
ensure_runtime_client() {
  [ -z "$runtime_client_dir" ] || return 0
  runtime_client_dir=$work_dir/runtime-client
  rm -rf "$runtime_client_dir"
  log "publishing the runtime client (Amazon.Lambda.RuntimeSupport.dll stand-in)"
  if ! dotnet publish "$here/RuntimeClient" -c Release -p:UseAppHost=false -o "$runtime_client_dir" --nologo >"$work_dir/runtime-client.log" 2>&1; then
    tail -n 40 "$work_dir/runtime-client.log" >&2
    die "the runtime client did not publish (log above)"
  fi
}

# /var/lang/bin as in AWS's image: the muxer, host/fxr, shared/Microsoft.NETCore.App and
# shared/Microsoft.AspNetCore.App. Both tags use this machine's 10.0 muxer and hostfxr: a newer
# hostfxr runs older frameworks, while the frameworks (which decide behaviour) are the tag's own.
layout_dotnet() {
  local tag=$1 dest=$2 version
  version=$(runtime_version "$tag")
  mkdir -p "$dest/host/fxr" "$dest/shared/Microsoft.NETCore.App" "$dest/shared/Microsoft.AspNetCore.App"
  if [ "$(tag_arch "$tag")" = arm64 ]; then
    # Everything from the linux-arm64 runtime packs; hostfxr is the pack's own.
    layout_runtime_packs "$version" "$dest" linux-arm64
    mkdir -p "$dest/host/fxr/$version"
    cp "$(packages_dir)/microsoft.netcore.app.runtime.linux-arm64/$version/runtimes/linux-arm64/native/libhostfxr.so" "$dest/host/fxr/$version/"
    cp "$(muxer_arm64)" "$dest/dotnet"
    for f in LICENSE.txt ThirdPartyNotices.txt; do
      if [ -f "$host_dotnet_root/$f" ]; then cp -a "$host_dotnet_root/$f" "$dest/"; fi
    done
    chmod -R u+rwX,go+rX,go-w "$dest"
    return
  fi
  cp -a "$host_dotnet_root/dotnet" "$dest/"
  cp -a "$host_dotnet_root/host/fxr/$hostfxr_version" "$dest/host/fxr/"
  for f in LICENSE.txt ThirdPartyNotices.txt; do
    if [ -f "$host_dotnet_root/$f" ]; then cp -a "$host_dotnet_root/$f" "$dest/"; fi
  done
  if [ "$tag" = 10 ]; then
    cp -a "$host_dotnet_root/shared/Microsoft.NETCore.App/$version" "$dest/shared/Microsoft.NETCore.App/"
    cp -a "$host_dotnet_root/shared/Microsoft.AspNetCore.App/$version" "$dest/shared/Microsoft.AspNetCore.App/"
  else
    layout_runtime_packs "$version" "$dest"
  fi
  # NuGet extracts files owner-only (0744); the function may run as a non-root user.
  chmod -R u+rwX,go+rX,go-w "$dest"
}

# A shared framework directory is the runtime pack's lib/<tfm> (managed assemblies plus the
# framework's own .deps.json and .runtimeconfig.json, which hostfxr and hostpolicy read) merged
# with its native/ files, minus libhostfxr.so (that one lives in host/fxr).
packages_dir() { echo "$state_dir/nuget-packages"; }
layout_runtime_packs() {
  local version=$1 dest=$2 rid=${3:-linux-x64} packages tfm
  packages=$(packages_dir)
  tfm=net${version%%.*}.0
  mkdir -p "$packages"
  log "restoring the $version $rid runtime packs"
  if ! dotnet restore "$here/runtime-packs/runtime-packs.proj" -p:RuntimePackVersion="$version" -p:RuntimePackRid="$rid" \
    --packages "$packages" --nologo >"$work_dir/runtime-packs.log" 2>&1; then
    tail -n 20 "$work_dir/runtime-packs.log" >&2
    die "could not restore the $version $rid runtime packs (log above)"
  fi
  local netcore=$packages/microsoft.netcore.app.runtime.$rid/$version/runtimes/$rid
  local aspnet=$packages/microsoft.aspnetcore.app.runtime.$rid/$version/runtimes/$rid
  local fx=$dest/shared/Microsoft.NETCore.App/$version asp=$dest/shared/Microsoft.AspNetCore.App/$version
  mkdir -p "$fx" "$asp"
  cp -a "$netcore/lib/$tfm/." "$netcore/native/." "$fx/"
  rm -f "$fx/libhostfxr.so"
  cp -a "$aspnet/lib/$tfm/." "$asp/"
  for f in "$fx/Microsoft.NETCore.App.deps.json" "$fx/Microsoft.NETCore.App.runtimeconfig.json" \
    "$fx/System.Private.CoreLib.dll" "$fx/libcoreclr.so" "$fx/libhostpolicy.so" \
    "$asp/Microsoft.AspNetCore.App.deps.json" "$asp/Microsoft.AspNetCore.App.runtimeconfig.json"; do
    [ -f "$f" ] || die "runtime pack $version lacks ${f#"$dest/"}"
  done
}

build_image() {
  local tag=$1 image=$2 key=$3 arch major
  local ctx=$work_dir/context-$tag
  arch=$(tag_arch "$tag")
  major=${tag%-*}
  ensure_base_image "$arch"
  ensure_emulator "$arch"
  ensure_runtime_client
  rm -rf "$ctx"
  mkdir -p "$ctx/runtime" "$ctx/opt/extensions"
  layout_dotnet "$tag" "$ctx/dotnet"
  cp "$here/Dockerfile" "$here/lambda-entrypoint.sh" "$here/update-ca-trust" "$ctx/"
  cp "$here/bootstrap" "$ctx/runtime/"
  cp -a "$runtime_client_dir/." "$ctx/runtime/"
  # AWS's layout (VERSION is the .NET version plus a build stamp: here a fixed one, the image
  # being keyed by content). The .NET 8 bootstrap points SSL_CERT_FILE at the empty file.
  printf 'NAME=dotnet\nVERSION=%s-standin\nLOGGING=amzn-stdout-tlv\nLAMBDA_RUNTIME_NAME=dotnet%s\n' \
    "$(runtime_version "$tag")" "$major" >"$ctx/runtime/runtime-release"
  if [ "$tag" = 8 ]; then : >"$ctx/runtime/empty-certificates.crt"; fi
  cp "$emulator_binary" "$ctx/aws-lambda-rie"
  chmod 755 "$ctx/lambda-entrypoint.sh" "$ctx/update-ca-trust" "$ctx/runtime/bootstrap" "$ctx/aws-lambda-rie"
  chmod -R go+rX "$ctx/runtime" "$ctx/opt"

  # The legacy builder: this engine has no BuildKit client, and nothing here needs one.
  if ! DOCKER_BUILDKIT=0 docker build --network host --platform "linux/$arch" \
    --build-arg BASE="$(base_image_of "$arch")" \
    --build-arg TAG="$major" \
    --build-arg DOTNET_VERSION="$(runtime_version "$tag")" \
    --label "$key_label=$key" \
    --label "io.sealights.local.base-rootfs=$(base_image_of "$arch")" \
    -t "$image" "$ctx" >"$work_dir/docker-build-$tag.log" 2>&1; then
    tail -n 30 "$work_dir/docker-build-$tag.log" >&2
    die "docker build of $image failed (log above)"
  fi
}

# True when the registry's image for the tag carries this content key (read from its config
# blob), so a machine that lost its local image pulls instead of rebuilding.
registry_has_key() {
  local tag=$1 key=$2 manifest config_digest
  manifest=$(curl -fsS -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' \
    "$registry_api/$api_repository/manifests/$tag" 2>/dev/null) || return 1
  # The config descriptor comes before the layers, so the first digest is the config's.
  config_digest=$(grep -o '"digest": *"sha256:[0-9a-f]*"' <<<"$manifest" | head -n 1 | grep -o 'sha256:[0-9a-f]*') || return 1
  curl -fsS "$registry_api/$api_repository/blobs/$config_digest" 2>/dev/null | grep -qF "\"$key_label\":\"$key\""
}

registry_digest() {
  curl -fsSI \
    -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' \
    -H 'Accept: application/vnd.oci.image.manifest.v1+json' \
    "$registry_api/$api_repository/manifests/$1" 2>/dev/null |
    awk 'tolower($1) == "docker-content-digest:" { print $2 }' | tr -d '\r' || true
}

# ---------------------------------------------------------------------------------------------

as_root mkdir -p "$state_dir"
mkdir -p "$work_dir"
# One build at a time per machine (tests, scripts and people may all call this script).
exec 9>"$state_dir/build.lock"
flock 9

for tag in "${tags[@]}"; do
  started=$SECONDS
  image=$registry/$repository:$tag
  key=$(content_key "$tag")
  previous_id=$(docker image inspect --format '{{.Id}}' "$image" 2>/dev/null || true)
  current_key=$(docker image inspect --format "{{ index .Config.Labels \"$key_label\" }}" "$image" 2>/dev/null || true)
  if [ "$current_key" = "$key" ]; then
    action=reused
  elif registry_has_key "$tag" "$key" && docker pull -q "$image" >/dev/null 2>&1 &&
    [ "$(docker image inspect --format "{{ index .Config.Labels \"$key_label\" }}" "$image")" = "$key" ]; then
    action="pulled from the registry"
  else
    log "building $image (.NET $(runtime_version "$tag"), content key ${key:0:16})"
    build_image "$tag" "$image" "$key"
    action=built
  fi
  image_id=$(docker image inspect --format '{{.Id}}' "$image")
  # Drop the image this one replaces unless something still uses it (failure is fine).
  if [ -n "$previous_id" ] && [ "$previous_id" != "$image_id" ]; then
    docker rmi "$previous_id" >/dev/null 2>&1 || true
  fi

  remote_digest=$(registry_digest "$tag")
  local_digests=$(docker image inspect --format '{{range .RepoDigests}}{{println .}}{{end}}' "$image")
  if [ -n "$remote_digest" ] && grep -qxF "$registry/$repository@$remote_digest" <<<"$local_digests"; then
    pushed="registry up to date"
  else
    docker push "$image" >"$work_dir/docker-push-$tag.log" 2>&1 || {
      tail -n 20 "$work_dir/docker-push-$tag.log" >&2
      die "docker push $image failed (is the registry up? scripts/prereqs.sh)"
    }
    remote_digest=$(registry_digest "$tag")
    pushed="pushed"
  fi
  [ -n "$remote_digest" ] || die "$registry has no digest for $repository:$tag after the push"

  printf '%s %s in %ss: image %s, %s@%s (%s), content key %s\n' \
    "$image" "$action" "$((SECONDS - started))" "$image_id" "$registry/$repository" "$remote_digest" "$pushed" "${key:0:16}"
done
