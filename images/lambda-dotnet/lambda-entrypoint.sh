#!/bin/bash
# Sealights shim in front of AWS's /lambda-entrypoint.sh (kept as /lambda-entrypoint.aws.sh):
# the image's ENTRYPOINT stays /lambda-entrypoint.sh, and a function that sets its own
# AWS_LAMBDA_EXEC_WRAPPER keeps it: ours runs first and chains it (as SL_EXEC_WRAPPER).
ours=/opt/sealights/bin/exec-wrapper
if [ -n "${AWS_LAMBDA_EXEC_WRAPPER:-}" ] && [ "$AWS_LAMBDA_EXEC_WRAPPER" != "$ours" ]; then
  export SL_EXEC_WRAPPER="${SL_EXEC_WRAPPER:-$AWS_LAMBDA_EXEC_WRAPPER}"
fi
export AWS_LAMBDA_EXEC_WRAPPER="$ours"
exec /lambda-entrypoint.aws.sh "$@"
