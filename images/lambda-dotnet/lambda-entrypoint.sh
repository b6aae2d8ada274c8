#!/bin/bash
# Sealights shim in front of AWS's /lambda-entrypoint.sh (kept as /lambda-entrypoint.aws.sh):
# the image's ENTRYPOINT stays /lambda-entrypoint.sh, and a function that sets its own
# AWS_LAMBDA_EXEC_WRAPPER keeps it: ours runs first and chains it (as SL_EXEC_WRAPPER).
# On Lambda this runs on every cold start, on the runtime's path: every process it starts counts.
ours=/opt/sealights/bin/exec-wrapper
if [ -n "${AWS_LAMBDA_EXEC_WRAPPER:-}" ] && [ "$AWS_LAMBDA_EXEC_WRAPPER" != "$ours" ]; then
  export SL_EXEC_WRAPPER="${SL_EXEC_WRAPPER:-$AWS_LAMBDA_EXEC_WRAPPER}"
fi

# Inert by configuration (the launcher's own test, inactive_reason in /opt/extensions/sealights-agent:
# SL_ENABLED not true/1/yes, or neither a token variable nor SL_DEBUG_HITS_FILE): our wrapper would only exec the runtime, one
# bash start more on every cold start, so the function's own wrapper (or none) is installed instead.
trim() {
  trimmed="${1#"${1%%[![:space:]]*}"}"
  trimmed="${trimmed%"${trimmed##*[![:space:]]}"}"
}
inert=""
trim "${SL_ENABLED:-}"
case "${trimmed,,}" in
  "" | true | 1 | yes) ;;
  *) inert=1 ;;
esac
trim "${SL_TOKEN:-}${SL_TOKEN_FILE:-}${SL_DEBUG_HITS_FILE:-}" # the hits file alone: local mode
[ -n "$trimmed" ] || inert=1
# An instrumented function (probes compiled in at publish: sealights-instrumented.json in the task
# root) needs nothing of our wrapper: no wait for the agent's verdict (its probes count from the
# first call, and the runtime retries its connect until the agent listens), no JitNoInline, and
# no SIGTERM held back for a last flush (the probes library writes its last harvest and lets the
# runtime's EventPipe writer pass before the runtime exits). So the port is set here and the
# runtime starts without a bash start and a fork more on the init path.
probes=""
if [ -z "$inert" ] && [ -e "${LAMBDA_TASK_ROOT:-/var/task}/sealights-instrumented.json" ]; then
  probes=1
  export DOTNET_DiagnosticPorts="${DOTNET_DiagnosticPorts:+${DOTNET_DiagnosticPorts};}${SL_AGENT_STATE_DIR:-/tmp/.sealights-agent}/dotnet-diagnostic.sock,connect,nosuspend"
  trim "${SL_JIT_NO_INLINE:-}"
  [ -n "$trimmed" ] && [ "${trimmed,,}" != false ] && export DOTNET_JitNoInline=1
fi
if [ -z "$inert" ] && [ -z "$probes" ]; then
  export AWS_LAMBDA_EXEC_WRAPPER="$ours"
elif [ -n "${SL_EXEC_WRAPPER:-}" ]; then
  export AWS_LAMBDA_EXEC_WRAPPER="$SL_EXEC_WRAPPER"
else
  unset AWS_LAMBDA_EXEC_WRAPPER
fi
unset -f trim
unset trimmed inert ours probes

# AWS's entrypoint is a few lines of sh ending in exec: run it in this shell rather than start
# a second one for it (on AL2023 /bin/sh is bash). Anything else is exec'd as before.
aws=/lambda-entrypoint.aws.sh
shebang=""
{ IFS= read -r shebang <"$aws"; } 2>/dev/null
case "$shebang" in
  '#!/bin/sh' | '#!/bin/bash' | '#!/usr/bin/env bash' | '#!/usr/bin/env sh')
    unset shebang
    # shellcheck source=/dev/null
    . "$aws" "$@"
    exit
    ;;
esac
exec "$aws" "$@"
