#!/usr/bin/env bash
# slnodejs' side of the conformance test (ConformanceTests.cs): runs Sealights' Node.js agent
# (pinned in slnodejs/package-lock.json) against the stand-in backend
# (tests/Sealights.TestBackend --record-all) in the conformance scenarios, all at once, each with
# its own backend, with short intervals (SL_* settings) so the whole run takes about half a minute.
#
#   run-slnodejs-conformance.sh OUT-DIR [scenario…]
#
# Writes OUT-DIR/<scenario>.jsonl (every request) and <scenario>.log (slnodejs' and the app's
# output, tokens redacted). The scenarios' facts come from the environment (the test sets them,
# so both agents see the same): SL_CONF_BSID, SL_CONF_OTHER_BSID, SL_CONF_EXECUTION,
# SL_CONF_STAGE, SL_CONF_OTHER_STAGE, SL_CONF_APP, SL_CONF_BRANCH, SL_CONF_BUILD (the build
# session's names), SL_CONF_PORTS (one free loopback port per scenario, in
# order). Needs node + npm (`npm ci` into $SL_CONF_NPM_DIR, default
# ~/.cache/sealights-images/slnodejs-recording), a built backend, and runs in a network namespace
# with loopback only (`unshare -rn`) where the machine allows it (else on the host's loopback:
# the token names a loopback server and the environment has no proxy).
# Scenarios: active-execution, no-execution, footprints-5xx, other-build-session, collector.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../../.." && pwd)"
install="${SL_CONF_NPM_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/sealights-images/slnodejs-recording}"
source "$here/slnodejs-lib.sh"

out="$1"; shift
scenarios=("$@")
((${#scenarios[@]})) || scenarios=(active-execution no-execution footprints-5xx other-build-session collector)
read -r -a ports <<< "${SL_CONF_PORTS:?one port per scenario}"
: "${SL_CONF_BSID:?}" "${SL_CONF_OTHER_BSID:?}" "${SL_CONF_EXECUTION:?}" "${SL_CONF_STAGE:?}" "${SL_CONF_OTHER_STAGE:?}" "${SL_CONF_APP:?}" "${SL_CONF_BRANCH:?}" "${SL_CONF_BUILD:?}"
backend="${SL_CONF_BACKEND:-$repo/tests/Sealights.TestBackend/bin/Release/net10.0/Sealights.TestBackend.dll}"
[[ -f "$backend" ]] || { echo "the test backend is not built at $backend" >&2; exit 1; }

if [[ -z "${SL_IN_LOOPBACK_NAMESPACE:-}" ]]; then
  slnodejs_install "$install"
  slnodejs_enter_loopback_namespace optional "$0" "$out" "${scenarios[@]}"
fi

cli="$install/node_modules/slnodejs/lib/cli.js"
mkdir -p "$out"

# Shortened intervals (each an slnodejs setting read from SL_<name>): collection, send and
# execution query every 2 s instead of 10, retries 0.5 s apart instead of 5; the app's schedule
# compressed ×0.2 (calls at 0.2, 3, 7 and 11 s) and ended at 16 s. The app's agent starts about
# 10 s after `slnodejs run`, so each scenario takes about 30 s.
short=(SL_footprintsCollectIntervalSecs=2 SL_footprintsSendIntervalSecs=2 SL_executionQueryIntervalSecs=2
  SL_interval=2000 SL_httpAttemptInterval=500 APP_SECONDS=16 APP_TIME_SCALE=0.2)

control() { # port json
  curl -sf -X POST -H 'Content-Type: application/json' -d "$2" "http://127.0.0.1:$1/_control/mode" > /dev/null
}

execution() { # port bsid stage
  control "$1" '{"mode":"active-execution","executionId":"'"$SL_CONF_EXECUTION"'","buildSessionId":"'"$2"'","testStage":"'"$3"'"}'
}

scenario() { # name port
  local name="$1" port="$2" work backend_pid rc=0
  work="$(mktemp -d)"
  cp -r "$here/app" "$work/app"
  : > "$out/$name.jsonl"
  dotnet "$backend" --urls "http://127.0.0.1:$port" --record-all "$out/$name.jsonl" > "$work/backend.log" 2>&1 &
  backend_pid=$!
  for _ in $(seq 150); do curl -sf "http://127.0.0.1:$port/_control/health" > /dev/null && break; sleep 0.2; done
  curl -sf "http://127.0.0.1:$port/_control/health" > /dev/null || { echo "$name: backend did not start" >&2; cat "$work/backend.log" >&2; return 1; }
  slnodejs_token "{\"x-sl-role\":\"agent\",\"x-sl-server\":\"http://127.0.0.1:$port/api\",\"subject\":\"customer@test.example\"}" > "$work/token.txt"
  printf '%s' "$SL_CONF_BSID" > "$work/bsid"
  # The build side (slnodejs config + scan) is not part of the comparison: the session is made known directly.
  control "$port" '{"mode":"build-session","buildSessionId":"'"$SL_CONF_BSID"'","appName":"'"$SL_CONF_APP"'","branchName":"'"$SL_CONF_BRANCH"'","buildName":"'"$SL_CONF_BUILD"'"}'
  local extra=()
  case "$name" in
    active-execution) execution "$port" "$SL_CONF_BSID" "$SL_CONF_STAGE" ;;
    no-execution) ;;
    footprints-5xx) execution "$port" "$SL_CONF_BSID" "$SL_CONF_STAGE"; control "$port" '{"mode":"error500"}' ;;
    other-build-session) execution "$port" "$SL_CONF_OTHER_BSID" "$SL_CONF_OTHER_STAGE" ;;
    collector) execution "$port" "$SL_CONF_BSID" "$SL_CONF_STAGE"; extra=(--collectorUrl "http://127.0.0.1:$port/collector") ;;
    *) echo "unknown scenario $name" >&2; return 1 ;;
  esac
  echo "### $(date -u +%H:%M:%S.%3N) slnodejs run ($name)" > "$out/$name.log"
  # A small, fixed environment: its start event reports environment variables.
  (cd "$work" && env -i PATH="$(dirname "$(command -v node)"):/usr/bin:/bin" HOME="$work" NODE_DEBUG=sl SL_LOG_LEVEL=info "${short[@]}" \
    node "$cli" run --tokenfile token.txt --buildsessionidfile bsid --workspacepath app --useinitialcolor true "${extra[@]}" app/index.js) >> "$out/$name.log" 2>&1 || rc=$?
  echo "### $(date -u +%H:%M:%S.%3N) slnodejs run exit code $rc" >> "$out/$name.log"
  kill "$backend_pid"; wait "$backend_pid" 2> /dev/null || true
  slnodejs_redact_log "$out/$name.log"
  sed -i "s#$work#<work>#g; s#$install#<slnodejs install>#g" "$out/$name.log" "$out/$name.jsonl"
  if grep -qF "$(cat "$work/token.txt")" "$out/$name.jsonl" "$out/$name.log"; then
    echo "$name: the token leaked into the recording" >&2; return 1
  fi
  rm -rf "$work"
  echo "$name: $(wc -l < "$out/$name.jsonl") requests, slnodejs exit code $rc" >&2
}

pids=()
for i in "${!scenarios[@]}"; do
  scenario "${scenarios[$i]}" "${ports[$i]:?not enough ports}" &
  pids+=($!)
done
status=0
for pid in "${pids[@]}"; do wait "$pid" || status=1; done
exit "$status"
