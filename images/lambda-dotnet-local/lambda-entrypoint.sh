#!/bin/bash
# Entrypoint of the local stand-in of public.ecr.aws/lambda/dotnet (same contract as AWS's):
# the only argument is the handler (the image's CMD). Outside Lambda (no AWS_LAMBDA_RUNTIME_API)
# the emulator is started and it runs the bootstrap; inside Lambda the bootstrap runs directly.
if [ "$#" -ne 1 ]; then
  echo "lambda-entrypoint.sh: expected exactly one argument, the handler (e.g. Assembly::Namespace.Type::Method); got $#" >&2
  exit 142
fi
export _HANDLER="$1"

RUNTIME_ENTRYPOINT=/var/runtime/bootstrap
if [ -z "${AWS_LAMBDA_RUNTIME_API:-}" ]; then
  exec /usr/local/bin/aws-lambda-rie "$RUNTIME_ENTRYPOINT"
else
  exec "$RUNTIME_ENTRYPOINT"
fi
