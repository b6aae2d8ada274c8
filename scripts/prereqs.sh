#!/usr/bin/env bash
# Makes this machine ready for the demo and the tests, idempotently:
#   - Debian packages: the Docker engine, the registry, debootstrap (stand-in base image rootfs),
#     node + npm (the conformance test installs Sealights' Node.js agent, pinned, with npm ci),
#     tinyproxy (the HTTPS tests' CONNECT proxy), apache2-utils (htpasswd for the check tests' registry),
#     jq and ShellCheck (the AWS tests: every shell script linted; scripts/rebuild-image.sh reads JSON)
#   - arm64 (Graviton) builds and runs: clang, lld and the aarch64 GNU toolchain (NativeAOT
#     cross-publish of the agent and emulator for linux-arm64), qemu-user-static with its aarch64
#     interpreter registered in binfmt_misc (arm64 binaries and linux/arm64 containers run here)
#   - the pinned npm tools of the AWS tests (scripts/aws-tools.sh: CloudFormation spec, workflow validator)
#   - a Docker engine without a bridge (container traffic stays on loopback: --network host)
#   - a registry bound to loopback only, storing under $SL_STATE_DIR
# Safe to run again and again; it only starts what is not already running.
set -euo pipefail

SL_STATE_DIR="${SL_STATE_DIR:-/var/lib/sealights-images}"
SL_REGISTRY="${SL_REGISTRY:-localhost:5000}"
# SL_REGISTRY may carry a repository prefix (localhost:5000/team): the registry is its host:port.
registry_host_port="${SL_REGISTRY%%/*}"
registry_port="${registry_host_port##*:}"
if [ "$registry_port" = "$registry_host_port" ] || ! [[ "$registry_port" =~ ^[0-9]+$ ]]; then
  printf '[prereqs] SL_REGISTRY=%s: expected host:port[/prefix], e.g. localhost:5000\n' "$SL_REGISTRY" >&2
  exit 2
fi

log() { printf '[prereqs] %s\n' "$*" >&2; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

need_packages=()
command -v dockerd >/dev/null 2>&1 || need_packages+=(docker.io)
command -v docker-registry >/dev/null 2>&1 || need_packages+=(docker-registry)
command -v debootstrap >/dev/null 2>&1 || need_packages+=(debootstrap)
command -v curl >/dev/null 2>&1 || need_packages+=(curl)
command -v readelf >/dev/null 2>&1 || need_packages+=(binutils)
command -v node >/dev/null 2>&1 || need_packages+=(nodejs)
command -v npm >/dev/null 2>&1 || need_packages+=(npm)
# A real CONNECT proxy for the HTTPS delivery tests (run by them as a plain process on a loopback port).
command -v tinyproxy >/dev/null 2>&1 || need_packages+=(tinyproxy)
# htpasswd -B (apache2-utils): the bcrypt users of the htpasswd-protected registry the `check` tests start.
command -v htpasswd >/dev/null 2>&1 || need_packages+=(apache2-utils)
command -v shellcheck >/dev/null 2>&1 || need_packages+=(shellcheck)
command -v jq >/dev/null 2>&1 || need_packages+=(jq)
# arm64: NativeAOT cross-publish for linux-arm64 (clang drives lld; the aarch64 gcc brings its libc
# and crt files, binutils its objcopy) and QEMU to run what it produces.
command -v clang >/dev/null 2>&1 || need_packages+=(clang)
command -v ld.lld >/dev/null 2>&1 || need_packages+=(lld)
command -v aarch64-linux-gnu-gcc >/dev/null 2>&1 || need_packages+=(gcc-aarch64-linux-gnu)
command -v aarch64-linux-gnu-objcopy >/dev/null 2>&1 || need_packages+=(binutils-aarch64-linux-gnu)
[ -f /usr/lib/binfmt.d/qemu-aarch64.conf ] || need_packages+=(qemu-user-static)
if [ "${#need_packages[@]}" -gt 0 ]; then
  log "installing ${need_packages[*]}"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_packages[@]}" >/dev/null
fi

# The kernel runs arm64 ELF binaries (and linux/arm64 containers) through QEMU once its
# interpreter is registered; the F flag in Debian's conf keeps it usable inside containers.
if [ ! -e /proc/sys/fs/binfmt_misc/register ]; then
  log "mounting binfmt_misc"
  as_root mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
fi
if [ ! -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ]; then
  log "registering qemu-aarch64 in binfmt_misc"
  as_root bash -c 'cat /usr/lib/binfmt.d/qemu-aarch64.conf > /proc/sys/fs/binfmt_misc/register'
fi

# The Docker engine: no bridge, no iptables (this workplace allows loopback traffic only).
if ! docker info >/dev/null 2>&1; then
  log "starting dockerd"
  as_root mkdir -p "$SL_STATE_DIR"
  as_root bash -c "nohup dockerd --bridge=none --iptables=false >'$SL_STATE_DIR/dockerd.log' 2>&1 &"
  for _ in $(seq 1 60); do
    docker info >/dev/null 2>&1 && break
    sleep 1
  done
  docker info >/dev/null 2>&1 || { log "dockerd did not start; see $SL_STATE_DIR/dockerd.log"; exit 1; }
fi

# The registry: loopback only, with its own config (Debian's default listens on all addresses).
if ! curl -fsS "http://127.0.0.1:${registry_port}/v2/" >/dev/null 2>&1; then
  log "starting docker-registry on 127.0.0.1:${registry_port}"
  as_root mkdir -p "$SL_STATE_DIR/registry"
  as_root tee "$SL_STATE_DIR/registry.yml" >/dev/null <<YAML
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $SL_STATE_DIR/registry
  delete:
    enabled: true
http:
  addr: 127.0.0.1:${registry_port}
YAML
  as_root bash -c "nohup docker-registry serve '$SL_STATE_DIR/registry.yml' >'$SL_STATE_DIR/registry.log' 2>&1 &"
  for _ in $(seq 1 30); do
    curl -fsS "http://127.0.0.1:${registry_port}/v2/" >/dev/null 2>&1 && break
    sleep 1
  done
  curl -fsS "http://127.0.0.1:${registry_port}/v2/" >/dev/null 2>&1 || { log "registry did not start; see $SL_STATE_DIR/registry.log"; exit 1; }
fi
log "docker engine and registry ${SL_REGISTRY} ready"

# The AWS tests' npm tools (idempotent: npm ci only when the lock changed). Only those tests need
# them, and they install them again and fail with the reason, so the demo does not stop here.
SL_STATE_DIR="$SL_STATE_DIR" bash "$(dirname "$0")/aws-tools.sh" >/dev/null ||
  log "warning: the AWS tests' npm tools are not installed (scripts/aws-tools.sh above); those tests will fail"
