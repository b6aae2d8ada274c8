#!/usr/bin/env bash
# Are the deployed function images built on the newest bases? What .github/workflows/staleness.yml
# runs; runs the same against the local registry.
#
#   scripts/check-deployed-images.sh LIST [--max-age 30d]
#
# LIST: one entry a line, `#` comments. An image reference (REGISTRY/NAME:TAG or @sha256:…) is
# checked as it is; `lambda:FUNCTION` (name or ARN) is first resolved to the image the function runs
# (aws lambda get-function, Code.ResolvedImageUri: the digest Lambda actually deployed).
# Exit: sl-images check's: 0 all fresh, 1 stale (or older than --max-age), 2 bad input, 3 a registry
# or AWS could not be reached. The JSON report goes to $SL_CHECK_REPORT when set.
set -euo pipefail
cd "$(dirname "$0")/.."

usage() { echo "usage: scripts/check-deployed-images.sh LIST [--max-age 30d]" >&2; exit 2; }
[ $# -ge 1 ] || usage
list="$1"; shift
check_args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --max-age) [ $# -ge 2 ] || usage; check_args+=(--max-age "$2"); shift 2 ;;
    *) usage ;;
  esac
done
[ -f "$list" ] || { echo "check-deployed-images: no list file $list" >&2; exit 2; }

# shellcheck source=scripts/lib/cli.sh
. scripts/lib/cli.sh
use_sl_images

images="$(mktemp)"
trap 'rm -f "$images"' EXIT
while IFS= read -r line || [ -n "$line" ]; do
  entry="${line%%#*}"
  entry="$(printf '%s' "$entry" | tr -d '[:space:]')"
  [ -n "$entry" ] || continue
  case "$entry" in
    lambda:*)
      function_name="${entry#lambda:}"
      if ! uri="$(aws lambda get-function --function-name "$function_name" --query Code.ResolvedImageUri --output text)"; then
        echo "check-deployed-images: cannot read function $function_name" >&2
        exit 3
      fi
      echo "$function_name runs $uri" >&2
      echo "$uri" >>"$images"
      ;;
    *) echo "$entry" >>"$images" ;;
  esac
done <"$list"
[ -s "$images" ] || { echo "check-deployed-images: $list lists no image" >&2; exit 2; }

status=0
if [ -n "${SL_CHECK_REPORT:-}" ]; then
  "${sl_images[@]}" check --from-file "$images" "${check_args[@]}" --json >"$SL_CHECK_REPORT" || status=$?
  jq -r '.images[] | "\(.image) (\(.platform)): \(.status)"' "$SL_CHECK_REPORT" || true
else
  "${sl_images[@]}" check --from-file "$images" "${check_args[@]}" || status=$?
fi
exit "$status"
