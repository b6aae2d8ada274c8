#!/usr/bin/env bash
# Prints the value of the coverage-ready image's org.opencontainers.image.source label, or nothing
# (build.sh then leaves the label out). A label names only a public URL, never this machine:
#   - SL_SOURCE_URL, when set (must be https://);
#   - else the clone's remote.origin.url when it is an https:// URL, its user info dropped (a token
#     in a remote URL must never reach an image label);
#   - else nothing: no remote, a local path or file:// remote (a clone of a checkout), ssh remotes.
# Run from inside the clone (build.sh runs it from the repository root).
set -euo pipefail

if [ -n "${SL_SOURCE_URL:-}" ]; then
  case "$SL_SOURCE_URL" in
    https://*) printf '%s\n' "$SL_SOURCE_URL"; exit 0 ;;
    *) echo "source-url.sh: SL_SOURCE_URL must be a public https:// URL, not '$SL_SOURCE_URL'" >&2; exit 2 ;;
  esac
fi

remote="$(git config --get remote.origin.url 2>/dev/null || true)"
case "$remote" in
  https://*)
    rest="${remote#https://}"
    authority="${rest%%/*}"
    path="${rest#"$authority"}"
    host="${authority##*@}"
    case "${host%:*}" in
      localhost|127.*|\[::1\]|"") exit 0 ;;
    esac
    printf 'https://%s%s\n' "$host" "$path" ;;
  *) ;;
esac
