# shellcheck shell=bash
# Shared by record-slnodejs.sh and run-slnodejs-conformance.sh (sourced, not run): installing the
# pinned slnodejs outside the repository, test tokens, and a loopback-only network namespace.

# The pinned package (slnodejs/package.json + package-lock.json) installed with `npm ci` into $1
# (a cache folder: a test project's folder must not hold node_modules); reused while the lock
# file is unchanged. Fails with one clear line when node or npm is missing or npm ci fails.
slnodejs_install() { # install-dir
  local here install="$1"
  here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
  command -v node > /dev/null || { echo "slnodejs needs node on PATH (Debian: apt-get install nodejs npm)" >&2; return 1; }
  command -v npm > /dev/null || { echo "slnodejs needs npm on PATH (Debian: apt-get install npm)" >&2; return 1; }
  mkdir -p "$install"
  if ! cmp -s "$here/slnodejs/package-lock.json" "$install/package-lock.json" || [[ ! -d "$install/node_modules/slnodejs" ]]; then
    cp "$here/slnodejs/package.json" "$here/slnodejs/package-lock.json" "$install/"
    (cd "$install" && npm ci --ignore-scripts --no-audit --no-fund >&2) || { echo "npm ci of the pinned slnodejs into $install failed" >&2; return 1; }
  fi
}

# An agent token as slnodejs checks it (subject, x-sl-server, x-sl-role); the signature is random.
slnodejs_token() { # claims-json
  node -e 'const b = s => Buffer.from(s).toString("base64url");
    process.stdout.write(b(JSON.stringify({alg: "HS256", typ: "JWT"})) + "." + b(process.argv[1]) + "." + require("crypto").randomBytes(16).toString("base64url"))' "$1"
}

# Redacts tokens from a log slnodejs wrote: whole JWTs and the abbreviated form it logs itself.
slnodejs_redact_log() { # file
  sed -i -E "s/eyJ[A-Za-z0-9_-]*\.eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*/<jwt redacted>/g; s/eyJ[A-Za-z0-9_-]{0,4}\.\.\.[A-Za-z0-9_-]{1,8}/<token abbreviated by slnodejs, redacted>/g" "$1"
}

# Re-runs the calling script in a network namespace with loopback only (`unshare -rn`), so the
# agent provably reaches nothing else; sets SL_IN_LOOPBACK_NAMESPACE=1 there. Returns (does not
# exec) when already inside, or when $1 is "optional" and user namespaces are not available.
slnodejs_enter_loopback_namespace() { # required|optional script args…
  local need="$1"; shift
  [[ -n "${SL_IN_LOOPBACK_NAMESPACE:-}" ]] && return 0
  if ! command -v ip > /dev/null || ! unshare -rn true 2> /dev/null; then
    [[ "$need" == optional ]] && { echo "unshare -rn or ip is not available here: slnodejs runs on the host network (its server is loopback)" >&2; return 0; }
    echo "unshare -rn (a user network namespace) or ip (iproute2) is not available" >&2; return 1
  fi
  # shellcheck disable=SC2016 # $0 and $@ expand in the inner bash, on purpose
  exec unshare -rn env SL_IN_LOOPBACK_NAMESPACE=1 bash -c 'ip link set lo up && exec "$0" "$@"' "$@"
}
