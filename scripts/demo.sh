#!/usr/bin/env bash
# The demo: builds the stand-in Lambda base image (.NET 10) and the sample function image on it,
# runs the function in the local Lambda emulator in a container (host network, own ports),
# invokes it with a few inputs and prints the answers and the emulator's REPORT lines.
#   --emulator-flags  start the emulator itself as the entrypoint with its addresses as flags (the
#                     command line AWS's emulator needs: it reads no address from the environment)
#                     instead of the image's entrypoint with SL_EMULATOR_* variables
set -euo pipefail
cd "$(dirname "$0")/.."

addressing=environment
for arg in "$@"; do
  case "$arg" in
    --emulator-flags) addressing=flags ;;
    *) echo "usage: scripts/demo.sh [--emulator-flags]" >&2; exit 2 ;;
  esac
done

registry="${SL_REGISTRY:-localhost:5000}"
work="artifacts/demo"
image="${registry}/samples/sample-function:demo"
handler="SampleFunction::SampleFunction.Function::Handle"
container="sl-demo-$$"

step() { printf '\n== %s\n' "$*"; }

free_port() {
  local port
  while :; do
    port=$((20000 + RANDOM % 30000))
    (: >"/dev/tcp/127.0.0.1/${port}") 2>/dev/null || { echo "$port"; return; }
  done
}

step "stand-in base image ${registry}/lambda/dotnet:10"
bash images/lambda-dotnet-local/build.sh 10

step "sample function: dotnet publish (net10.0)"
rm -rf "$work"
mkdir -p "$work"
dotnet publish samples/SampleFunction -c Release -f net10.0 -o "$work/app" --nologo | tail -n 1

step "function image ${image}"
cat >"$work/Dockerfile" <<DOCKERFILE
FROM ${registry}/lambda/dotnet:10
COPY app/ /var/task/
CMD ["${handler}"]
DOCKERFILE
docker build --network host --quiet --tag "$image" "$work"

invoke_port="$(free_port)"
api_port="$(free_port)"
while [ "$api_port" = "$invoke_port" ]; do api_port="$(free_port)"; done
trap 'docker rm --force "$container" >/dev/null 2>&1 || true' EXIT

step "run it in the emulator (invoke 127.0.0.1:${invoke_port}, Runtime API 127.0.0.1:${api_port}; addresses by ${addressing})"
if [ "$addressing" = flags ]; then
  docker run --detach --network host --name "$container" \
    --entrypoint /usr/local/bin/aws-lambda-rie "$image" \
    --runtime-interface-emulator-address "127.0.0.1:${invoke_port}" \
    --runtime-api-address "127.0.0.1:${api_port}" \
    /var/runtime/bootstrap "$handler" >/dev/null
else
  docker run --detach --network host --name "$container" \
    --env "SL_EMULATOR_ADDRESS=127.0.0.1:${invoke_port}" \
    --env "SL_EMULATOR_RUNTIME_API_ADDRESS=127.0.0.1:${api_port}" \
    "$image" >/dev/null
fi
listening=false
for _ in $(seq 1 100); do
  if (: >"/dev/tcp/127.0.0.1/${invoke_port}") 2>/dev/null; then listening=true; break; fi
  sleep 0.1
done
if [ "$listening" != true ]; then
  echo "the emulator did not listen on 127.0.0.1:${invoke_port} within 10 s; container state and log:" >&2
  docker inspect --format '{{.State.Status}} (exit {{.State.ExitCode}})' "$container" >&2 || true
  docker logs "$container" >&2 || true
  exit 1
fi

invoke() {
  printf -- '-> %s\n<- ' "$1"
  curl -sS -X POST "http://127.0.0.1:${invoke_port}/2015-03-31/functions/function/invocations" \
    -H 'Content-Type: application/json' -d "$1" -D "$work/headers" -o "$work/body"
  cat "$work/body"
  grep -i '^x-amz-function-error' "$work/headers" | tr -d '\r' | sed 's/^/   /' || true
  echo
}

step "invocations"
invoke '{"action":"echo","message":"hello, Lambda"}'
invoke '{"action":"quote","items":[{"sku":"A","qty":2},{"sku":"B","qty":12}],"coupon":"TEN"}'
invoke '{"action":"fail"}'

step "docker stop (SIGTERM: runtime first, then SHUTDOWN to extensions)"
docker stop --time 10 "$container" >/dev/null

step "emulator log lines"
# INIT_REPORT: ours and Lambda's for a failed init; "INIT REPORT(durationMs: …)": AWS's emulator's init time.
docker logs "$container" 2>&1 | grep -E '^(START|END|REPORT) RequestId|^INIT_REPORT |INIT REPORT\(' || true
