#!/usr/bin/env bash
# Re-records what Sealights' Node.js agent (slnodejs, pinned in slnodejs/package-lock.json) sends
# to the stand-in backend (tests/Sealights.TestBackend --record-all), one scenario per file, as
# fixtures for the protocol notes (README.md) and a later conformance test.
#
#   tests/Sealights.Lambda.Agent.Delivery.Tests/Conformance/record-slnodejs.sh [scenario…]
#
# Needs: node + npm (the npm registry, once, for `npm ci` into $SL_RECORD_NPM_DIR, default
# ~/.cache/sealights-images/slnodejs-recording), dotnet (builds the backend), and
# `unshare -rn` (a network namespace with loopback only, so the agent provably reaches nothing
# else; set SL_RECORD_NO_UNSHARE=1 to run without it). Scenarios: active-execution,
# late-execution-and-gap, execution-ends-before-send (a race: not every run shows it), no-execution, footprints-5xx, other-build-session,
# execution-switch-and-pending-delete, sigterm-shutdown, remote-config-disabled, collector,
# bad-tokens (all when none is named).
# Output: slnodejs-<version>/<scenario>.jsonl (every request) and <scenario>.log (the agent's and
# the app's output). The token never reaches them: the backend records only its claim names and
# redacts any JWT in a body; this script redacts it from the logs and fails if it is found.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../../.." && pwd)"
install="${SL_RECORD_NPM_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/sealights-images/slnodejs-recording}"

source "$here/slnodejs-lib.sh"
if [[ -z "${SL_IN_LOOPBACK_NAMESPACE:-}" && -z "${SL_RECORD_NO_UNSHARE:-}" ]]; then
  # Build and install outside the namespace (they need the NuGet mirror and the npm registry).
  dotnet build "$repo/tests/Sealights.TestBackend" -c Release -v quiet -nologo >&2
  slnodejs_install "$install"
  slnodejs_enter_loopback_namespace required "$0" "$@"
fi

version="$(node -p "require('$install/node_modules/slnodejs/package.json').version")"
out="$here/slnodejs-$version"
mkdir -p "$out"
backend="$repo/tests/Sealights.TestBackend/bin/Release/net10.0/Sealights.TestBackend.dll"
cli="$install/node_modules/slnodejs/lib/cli.js"
work="$(mktemp -d)"
port=5180
backend_pid=""
trap '[[ -n "$backend_pid" ]] && kill "$backend_pid" 2>/dev/null; rm -rf "$work"' EXIT

token() { # claims-json
  slnodejs_token "$1" | tee -a "$work/tokens"
}

start_backend() { # scenario
  : > "$work/$1.jsonl"
  dotnet "$backend" --urls "http://127.0.0.1:$port" --record-all "$work/$1.jsonl" > "$work/backend.log" 2>&1 &
  backend_pid=$!
  for _ in $(seq 50); do curl -sf "http://127.0.0.1:$port/_control/health" > /dev/null && return; sleep 0.2; done
  echo "backend did not start" >&2; cat "$work/backend.log" >&2; exit 1
}

stop_backend() {
  kill "$backend_pid"; wait "$backend_pid" 2>/dev/null || true; backend_pid=""
}

control() { # json
  curl -sf -X POST -H 'Content-Type: application/json' -d "$1" "http://127.0.0.1:$port/_control/mode" > /dev/null
}

# slnodejs with a small, fixed environment: its start event reports environment variables.
sl() {
  local rc=0 pid
  # NODE_DEBUG=sl: its log lines on the console (info level), so the .log says what it did and why.
  (cd "$work" && exec env -i PATH="$(dirname "$(command -v node)"):/usr/bin:/bin" HOME="$work" NODE_DEBUG=sl SL_LOG_LEVEL="${SL_LOG_LEVEL:-info}" APP_SECONDS="${APP_SECONDS:-30}" APP_TIME_SCALE="${APP_TIME_SCALE:-1}" \
    node "$cli" "$@") >> "$work/$scenario.log" 2>&1 &
  pid=$!
  echo "$pid" > "$work/sl.pid"
  wait "$pid" || rc=$?
  note "slnodejs $1 exit code $rc"
}

note() { echo "### $(date -u +%H:%M:%S.%3N) $*" >> "$work/$scenario.log"; }

# Build side for one build session: config (creates it), scan (uploads the build map).
build() { # app branch build bsid-file
  note "slnodejs config + scan ($1/$2/$3)"
  sl config --tokenfile token.txt --appname "$1" --branch "$2" --build "$3" --buildsessionidfile "$4"
  sl scan --tokenfile token.txt --buildsessionidfile "$4" --workspacepath app --scm none
}

run_app() { # extra slnodejs run options…
  note "slnodejs run app/index.js (APP_SECONDS=${APP_SECONDS:-30})"
  sl run --tokenfile token.txt --buildsessionidfile bsid --workspacepath app --useinitialcolor true "$@" app/index.js
  note "app exited"
}

finish() {
  stop_backend
  slnodejs_redact_log "$work/$scenario.log"
  sed -i "s#$work#<work>#g; s#$install#<slnodejs install>#g" "$work/$scenario.log"
  sed -i "s#$work#<work>#g; s#$install#<slnodejs install>#g" "$work/$scenario.jsonl"
  echo >> "$work/tokens"
  if grep -qF -f <(grep . "$work/tokens") "$work/$scenario.jsonl" "$work/$scenario.log"; then
    echo "the token leaked into the $scenario recording" >&2; exit 1
  fi
  cp "$work/$scenario.jsonl" "$work/$scenario.log" "$out/"
  echo "$scenario: $(wc -l < "$out/$scenario.jsonl") requests" >&2
}

prepare() { # scenario
  scenario="$1"
  rm -rf "$work/app" "$work"/bsid* "$work/$scenario.log" "$work/tokens"
  cp -r "$here/app" "$work/app"
  token "{\"x-sl-role\":\"agent\",\"x-sl-server\":\"http://127.0.0.1:$port/api\",\"subject\":\"customer@test.example\"}" > "$work/token.txt"
  start_backend "$scenario"
}

# (a) An execution of the agent's own build session is open before the app starts and ends after
# it exits; long enough for the 2-minute ping.
active-execution() {
  prepare active-execution
  build calc-app main 1 bsid
  note "slnodejs start (Functional Tests)"
  sl start --tokenfile token.txt --buildsessionidfile bsid --teststage "Functional Tests"
  APP_SECONDS=135 run_app
  note "slnodejs end"
  sl end --tokenfile token.txt --buildsessionidfile bsid
  finish
}

# Hits before the first execution, an execution opening late, ending, a gap with hits, a new one;
# the app's schedule is stretched (calls at 2, 30, 70, 110 s) so each step has time to be sent.
late-execution-and-gap() {
  prepare late-execution-and-gap
  build calc-app main 1 bsid
  APP_SECONDS=130 APP_TIME_SCALE=2 run_app &
  local app=$!
  until grep -q '^t=2 ' "$work/$scenario.log"; do sleep 0.2; done
  sleep 5;  note "execution exec-1 opens"; control '{"mode":"active-execution","executionId":"exec-1","buildSessionId":"'"$(cat "$work/bsid")"'","testStage":"Functional Tests"}'
  until grep -q '^t=30 ' "$work/$scenario.log"; do sleep 0.2; done
  sleep 25; note "execution exec-1 ends";  control '{"mode":"active-execution","active":false}'
  until grep -q '^t=70 ' "$work/$scenario.log"; do sleep 0.2; done
  sleep 10; note "execution exec-2 opens"; control '{"mode":"active-execution","executionId":"exec-2","buildSessionId":"'"$(cat "$work/bsid")"'","testStage":"Regression Tests"}'
  wait "$app"
  finish
}

# The first timing of the above (unstretched): exec-1 ends a few seconds after the t=15 call, so
# the agent's send tick can find no execution while it holds hits collected for exec-1.
execution-ends-before-send() {
  prepare execution-ends-before-send
  build calc-app main 1 bsid
  APP_SECONDS=70 run_app &
  local app=$!
  sleep 8;  note "execution exec-1 opens"; control '{"mode":"active-execution","executionId":"exec-1","buildSessionId":"'"$(cat "$work/bsid")"'","testStage":"Functional Tests"}'
  sleep 20; note "execution exec-1 ends";  control '{"mode":"active-execution","active":false}'
  sleep 17; note "execution exec-2 opens"; control '{"mode":"active-execution","executionId":"exec-2","buildSessionId":"'"$(cat "$work/bsid")"'","testStage":"Regression Tests"}'
  wait "$app"
  finish
}

# (b) No execution at all.
no-execution() {
  prepare no-execution
  build calc-app main 1 bsid
  APP_SECONDS=40 run_app
  finish
}

# (c) An open execution; every footprints request answered 500.
footprints-5xx() {
  prepare footprints-5xx
  build calc-app main 1 bsid
  control '{"mode":"active-execution","executionId":"exec-5xx","buildSessionId":"'"$(cat "$work/bsid")"'","testStage":"Functional Tests"}'
  control '{"mode":"error500"}'
  APP_SECONDS=75 run_app
  finish
}

# (d) The open execution belongs to another build session (an integration build) and test stage.
other-build-session() {
  prepare other-build-session
  build calc-app main 1 bsid
  note "slnodejs config (the integration build)"
  sl config --tokenfile token.txt --appname integration-app --branch main --build 7 --buildsessionidfile bsid-integration
  control '{"mode":"active-execution","executionId":"exec-int","buildSessionId":"'"$(cat "$work/bsid-integration")"'","testStage":"Integration Tests"}'
  APP_SECONDS=40 run_app
  finish
}

# The app is stopped with SIGTERM (as Lambda stops an environment) 2 s after a call, before the
# next send: is there a last flush, a shutdown event?
sigterm-shutdown() {
  prepare sigterm-shutdown
  build calc-app main 1 bsid
  control '{"mode":"active-execution","executionId":"exec-term","buildSessionId":"'"$(cat "$work/bsid")"'","testStage":"Functional Tests"}'
  APP_SECONDS=60 run_app --forwardSignals &
  local app=$!
  sleep 1
  local run_pid
  run_pid="$(cat "$work/sl.pid")"
  until grep -q '^t=15 ' "$work/$scenario.log"; do sleep 0.2; done
  sleep 2; note "SIGTERM to slnodejs run (2 s after the t=15 call)"; kill -TERM "$run_pid"
  wait "$app"
  finish
}

# An open execution changes directly (no "none" in between) to another one with another stage,
# 2 s after the t=15 call; 10 s after the t=35 call that one turns pendingDelete (the t=55 call
# falls in it); 12 s later a third opens.
execution-switch-and-pending-delete() {
  prepare execution-switch-and-pending-delete
  build calc-app main 1 bsid
  local bsid
  bsid="$(cat "$work/bsid")"
  control '{"mode":"active-execution","executionId":"exec-1","buildSessionId":"'"$bsid"'","testStage":"Functional Tests"}'
  APP_SECONDS=90 run_app &
  local app=$!
  until grep -q '^t=15 ' "$work/$scenario.log"; do sleep 0.2; done
  sleep 2; note "execution exec-1 -> exec-2 (Regression Tests)"
  control '{"mode":"active-execution","executionId":"exec-2","buildSessionId":"'"$bsid"'","testStage":"Regression Tests"}'
  until grep -q '^t=35 ' "$work/$scenario.log"; do sleep 0.2; done
  sleep 10; note "execution exec-2 pendingDelete"
  control '{"mode":"active-execution","executionId":"exec-2","buildSessionId":"'"$bsid"'","testStage":"Regression Tests","status":"pendingDelete"}'
  sleep 12; note "execution exec-3 opens"
  control '{"mode":"active-execution","executionId":"exec-3","buildSessionId":"'"$bsid"'","testStage":"Functional Tests"}'
  wait "$app"
  finish
}

# The remote configuration says enabled: false (an open execution, hits at t=1 and t=15).
remote-config-disabled() {
  prepare remote-config-disabled
  build calc-app main 1 bsid
  control '{"mode":"active-execution","executionId":"exec-off","buildSessionId":"'"$(cat "$work/bsid")"'","testStage":"Functional Tests"}'
  control '{"mode":"remote-config","config":{"enabled":false}}'
  APP_SECONDS=30 run_app
  finish
}

# (e) A collector URL (the same backend under /collector); an execution is open on the server.
collector() {
  prepare collector
  build calc-app main 1 bsid
  control '{"mode":"active-execution","executionId":"exec-col","buildSessionId":"'"$(cat "$work/bsid")"'","testStage":"Functional Tests"}'
  APP_SECONDS=40 run_app --collectorUrl "http://127.0.0.1:$port/collector"
  finish
}

# (f) Tokens without x-sl-role, with another role, without subject: what slnodejs says and sends.
bad-tokens() {
  prepare bad-tokens
  build calc-app main 1 bsid
  for claims in \
    "{\"x-sl-server\":\"http://127.0.0.1:$port/api\",\"subject\":\"customer@test.example\"}" \
    "{\"x-sl-role\":\"user\",\"x-sl-server\":\"http://127.0.0.1:$port/api\",\"subject\":\"customer@test.example\"}" \
    "{\"x-sl-role\":\"agent\",\"x-sl-server\":\"http://127.0.0.1:$port/api\"}"; do
    token "$claims" > "$work/token.txt"
    note "token claims: $(node -p 'Object.keys(JSON.parse(process.argv[1])).join(",")' "$claims")"
    APP_SECONDS=5 run_app
    note "slnodejs config with that token"
    sl config --tokenfile token.txt --appname calc-app --branch main --build 2 --buildsessionidfile bsid-bad
  done
  finish
}

scenarios=("$@")
if ((${#scenarios[@]} == 0)); then
  scenarios=(active-execution late-execution-and-gap execution-ends-before-send no-execution footprints-5xx other-build-session execution-switch-and-pending-delete sigterm-shutdown remote-config-disabled collector bad-tokens)
fi
for s in "${scenarios[@]}"; do
  "$s"
  port=$((port + 1))
done
