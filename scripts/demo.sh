#!/usr/bin/env bash
# The demo, the main job in one command: from source to a coverage report.
#   1. builds the stand-in AWS bases (linux/amd64 and linux/arm64) and the coverage-ready image on
#      them, a multi-platform index :10 (images/lambda-dotnet/build.sh),
#      packs the MSBuild package Sealights.Lambda.Containers and publishes the sample function into
#      the local registry with `dotnet publish -t:PublishContainer` (probes compiled in, build map;
#      the package's build side, build session and build-map upload, against the stand-in Sealights
#      server tests/Sealights.TestBackend: `sl-images collect` creates no build sessions);
#   2. starts `sl-images collect` as the local backend, runs the function image in the Lambda
#      emulator in a container (host network, its own ports) with a token pointing at the collector,
#      and runs a few named tests (payload sequences), each as its own execution;
#   3. prints the coverage per test and in total, writes Cobertura, LCOV and HTML reports, and
#      prints `sl-images check` for the image.
# Everything built is reused by the next run (content-keyed package, incremental builds; the first
# build of the arm64 stand-in takes about 20 minutes under QEMU, later ones seconds).
#   --arch ARCH       the function's architecture, x86_64 (default) or arm64 (published with
#                     LambdaArchitecture=arm64 and run under QEMU: slow, and its timings mean nothing)
#   --no-arm64        build the coverage-ready image for linux/amd64 only (no arm64 stand-in)
#   --emulator-flags  start the emulator itself as the entrypoint with its addresses as flags (the
#                     command line AWS's emulator needs: it reads no address from the environment)
#                     instead of the image's entrypoint with SL_EMULATOR_* variables
#   --sealights FILE  the same against a real Sealights server: FILE holds an agent token (never
#                     printed, never on a command line). The build session and build map go to
#                     the token's server, each test is a test stage opened and ended with
#                     `sl-images execution start|end`, the footprints go there too: the coverage is
#                     then in Sealights, not in a local report. Never used by the tests.
set -euo pipefail
cd "$(dirname "$0")/.."
repo="$(pwd)"

addressing=environment
sealights_token_file=""
arch=x86_64
arm64_image=1
usage() { echo "usage: scripts/demo.sh [--arch x86_64|arm64] [--no-arm64] [--emulator-flags] [--sealights TOKEN_FILE]" >&2; exit 2; }
while [ $# -gt 0 ]; do
  case "$1" in
    --emulator-flags) addressing=flags ;;
    --no-arm64) arm64_image=0 ;;
    --arch)
      [ $# -ge 2 ] || usage
      case "$2" in x86_64 | arm64) arch="$2" ;; *) echo "--arch: x86_64 or arm64, not '$2'" >&2; exit 2 ;; esac
      shift ;;
    --sealights)
      [ $# -ge 2 ] || usage
      sealights_token_file="$(realpath -- "$2")"; shift
      [ -r "$sealights_token_file" ] || { echo "--sealights: cannot read the token file $2" >&2; exit 2; } ;;
    *) usage ;;
  esac
  shift
done
if [ "$arch" = arm64 ] && [ "$arm64_image" -eq 0 ]; then
  echo "--arch arm64 needs the arm64 image: drop --no-arm64" >&2
  exit 2
fi
case "$arch" in x86_64) platform=linux/amd64 ;; arm64) platform=linux/arm64 ;; esac
# Under QEMU everything the function and the agent do takes several times longer.
[ "$arch" = arm64 ] && slow=6 || slow=1

registry="${SL_REGISTRY:-localhost:5000}"
# SL_REGISTRY may carry a path (localhost:5000/team): the SDK wants host and repository apart.
registry_host="${registry%%/*}"
[ "$registry" = "$registry_host" ] && repository_prefix="" || repository_prefix="${registry#*/}/"
repository="${repository_prefix}samples/sample-function"
image="${registry_host}/${repository}:demo"
handler="SampleFunction::SampleFunction.Function::Handle"
work="$repo/artifacts/demo"
feed="$repo/artifacts/feed"
cli="$repo/src/Sealights.Images.Cli/bin/Release/net8.0/sl-images.dll"
# The consumer project lives outside the repository: none of its build settings may leak in.
project="${XDG_CACHE_HOME:-$HOME/.cache}/sealights-images/demo-$(printf '%s' "$repo" | sha256sum | cut -c1-12)/SampleFunction"
container="sl-demo-$$"
collector_pid=""
backend_pid=""

step() { printf '\n== %s\n' "$*"; }
sl_images() { dotnet "$cli" "$@"; }

free_port() {
  local port
  while :; do
    port=$((20000 + RANDOM % 30000))
    (: >"/dev/tcp/127.0.0.1/${port}") 2>/dev/null || { echo "$port"; return; }
  done
}

wait_for_health() {
  local url="$1" pid="$2" log="$3"
  for _ in $(seq 1 150); do
    curl -sf "$url" >/dev/null 2>&1 && return 0
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  echo "${url} did not answer; its log:" >&2
  cat "$log" >&2
  exit 1
}

cleanup() {
  docker rm --force "$container" >/dev/null 2>&1 || true
  if [ -n "$backend_pid" ]; then kill "$backend_pid" 2>/dev/null || true; wait "$backend_pid" 2>/dev/null || true; fi
  if [ -n "$collector_pid" ]; then kill "$collector_pid" 2>/dev/null || true; wait "$collector_pid" 2>/dev/null || true; fi
}
trap cleanup EXIT

# --- 1. build -------------------------------------------------------------------------------------

if [ "$arm64_image" -eq 1 ]; then
  step "1/8 stand-in AWS bases ${registry}/lambda/dotnet:10 (linux/amd64) and :10-arm64 (linux/arm64)"
  if ! docker image inspect "${registry}/lambda/dotnet:10-arm64" >/dev/null 2>&1; then
    echo "   (the first build of the arm64 stand-in runs debootstrap under QEMU: about 20 minutes; --no-arm64 skips it)"
  fi
  bash images/lambda-dotnet-local/build.sh 10 10-arm64
  step "2/8 coverage-ready image ${registry}/sealights/lambda-dotnet:10 (agent NativeAOT; an index of linux/amd64 and linux/arm64)"
  bash images/lambda-dotnet/build.sh --tag 10 --arch all --base "${registry}/lambda/dotnet:10" \
    --base-arm64 "${registry}/lambda/dotnet:10-arm64" --registry "$registry"
else
  step "1/8 stand-in AWS base ${registry}/lambda/dotnet:10"
  bash images/lambda-dotnet-local/build.sh 10
  step "2/8 coverage-ready image ${registry}/sealights/lambda-dotnet:10 (agent NativeAOT, linux/amd64)"
  bash images/lambda-dotnet/build.sh --tag 10 --arch x86_64 --base "${registry}/lambda/dotnet:10" --registry "$registry"
fi

step "3/8 MSBuild package Sealights.Lambda.Containers and the sl-images tool (./run pack)"
# The documented install command: a new version whenever the sources change (never taken from
# NuGet's cache), an unchanged one not packed again.
pack_output="$(bash scripts/pack-release.sh --out "$feed")"
printf '%s\n' "$pack_output" | sed 's/^/   /'
package_version="$(printf '%s\n' "$pack_output" | awk '$1 == "Sealights.Lambda.Containers" { print $2 }')"

rm -rf "$work"
mkdir -p "$work"
backend_port="$(free_port)"
backend="http://127.0.0.1:${backend_port}"
if [ -n "$sealights_token_file" ]; then
  step "4/8 Sealights server: the token's (--sealights)"
  token_file="$sealights_token_file"
else
step "4/8 stand-in Sealights server on ${backend}/api for the build side (tests/Sealights.TestBackend)"
# `sl-images collect` answers what the agent calls, but creates no build session and takes no build
# map: the package's build side (and `sl-images config`/`scan --upload`) talks to this stand-in.
dotnet build tests/Sealights.TestBackend -c Release --nologo -v quiet >/dev/null
dotnet tests/Sealights.TestBackend/bin/Release/net10.0/Sealights.TestBackend.dll --urls "$backend" \
  --record "$work/backend-requests.jsonl" >"$work/backend.log" 2>&1 &
backend_pid=$!
wait_for_health "$backend/_control/health" "$backend_pid" "$work/backend.log"
# Agent tokens: JWTs with the claims the agent and the CLI check, the signature random (nothing
# verifies it here). The build side's names the stand-in server and is read from a file outside
# the publish folder; the function's (below) names the collector. Neither is on a command line or
# in any output.
b64url() { base64 -w0 | tr '+/' '-_' | tr -d '='; }
agent_token() {
  printf '%s.%s.%s' "$(printf '{"alg":"HS256","typ":"JWT"}' | b64url)" \
    "$(printf '{"x-sl-role":"agent","x-sl-server":"%s/api","subject":"demo@local"}' "$1" | b64url)" \
    "$(head -c 32 /dev/urandom | b64url)"
}
token_file="$work/sl-token"
(umask 077; agent_token "$backend" >"$token_file")
echo "   build-side token (server ${backend}/api) in ${token_file#"$repo"/}"
fi

step "5/8 dotnet publish -t:PublishContainer -> ${image} (${platform})"
lambda_core="$(find artifacts/local-feed -name 'Amazon.Lambda.Core.*.nupkg' | head -n 1)"
lambda_core_version="$(basename "$lambda_core" .nupkg)"
lambda_core_version="${lambda_core_version#Amazon.Lambda.Core.}"
mkdir -p "$project"
rm -f "$project"/*.cs
cp samples/SampleFunction/*.cs "$project/"
cat >"$project/SampleFunction.csproj" <<PROJECT
<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup>
    <TargetFramework>net10.0</TargetFramework>
    <Nullable>enable</Nullable>
    <ImplicitUsings>enable</ImplicitUsings>
    <LambdaHandler>${handler}</LambdaHandler>
    <SealightsBaseImageRegistry>${registry}</SealightsBaseImageRegistry>
    <LambdaArchitecture>${arch}</LambdaArchitecture>
  </PropertyGroup>
  <ItemGroup>
    <PackageReference Include="Sealights.Lambda.Containers" Version="${package_version}" PrivateAssets="all" />
    <PackageReference Include="Amazon.Lambda.Core" Version="${lambda_core_version}" />
  </ItemGroup>
</Project>
PROJECT
cat >"$project/nuget.config" <<CONFIG
<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <packageSources>
    <clear />
    <add key="demo" value="${feed}" />
    <add key="local-standins" value="${repo}/artifacts/local-feed" />
    <add key="nuget.org" value="https://api.nuget.org/v3/index.json" />
  </packageSources>
  <packageSourceMapping>
    <packageSource key="demo"><package pattern="Sealights.Lambda.Containers" /></packageSource>
    <packageSource key="local-standins"><package pattern="Amazon.Lambda.Core" /></packageSource>
    <packageSource key="nuget.org"><package pattern="*" /></packageSource>
  </packageSourceMapping>
</configuration>
CONFIG
echo "   project ${project} (the sample's sources, the package referenced)"
publish_log="$project/publish.log"
if ! dotnet publish "$project" -t:PublishContainer -c Release --nologo -v minimal \
  "-p:ContainerRegistry=${registry_host}" "-p:ContainerRepository=${repository}" -p:ContainerImageTag=demo \
  "-p:SealightsTokenFile=${token_file}" -p:SealightsAppName=sample-function -p:SealightsBranchName=demo \
  "-p:SealightsBuildName=demo-$(date -u +%Y%m%dT%H%M%S)" >"$publish_log" 2>&1; then
  cat "$publish_log" >&2
  echo "dotnet publish -t:PublishContainer failed" >&2
  exit 1
fi
grep -E 'instrumented|build map|build session|Sealights|Pushed|->' "$publish_log" | sed 's/^ */   /' || true
build_map="$(find "$project/bin/Release/net10.0" -name sealights-buildmap.json -path '*publish*' | head -n 1)"
[ -n "$build_map" ] || { echo "the publish wrote no sealights-buildmap.json" >&2; exit 1; }
echo "   build map ${build_map} ($(jq '[.assemblies[].methods | length] | add' "$build_map") methods)"

# --- 2. collect and test ----------------------------------------------------------------------------

if [ -n "$sealights_token_file" ]; then
  # A real server: no local collector; the build session is the one the publish created.
  bsid="$(jq -r '.SL_BUILD_SESSION_ID // empty' "$(dirname "$build_map")/sealights.json" 2>/dev/null || true)"
  [ -n "$bsid" ] || { echo "the publish created no build session (no SL_BUILD_SESSION_ID in sealights.json); see ${publish_log}" >&2; exit 1; }
  step "6/8 build session ${bsid} on the token's server"
  collector_port=""
  SL_TOKEN="$(tr -d '\r\n' <"$token_file")"
  export SL_TOKEN
  agent_env=(--env SL_TOKEN --env SL_FLUSH_INTERVAL_SECONDS=0)
else
collector_port="$(free_port)"
while [ "$collector_port" = "$backend_port" ]; do collector_port="$(free_port)"; done
collector="http://127.0.0.1:${collector_port}"
step "6/8 sl-images collect on ${collector} (footprints in ${work#"$repo"/}/footprints)"
# Started directly (not through sl_images): $! is then the collector itself, which SIGTERM stops.
dotnet "$cli" collect --listen "127.0.0.1:${collector_port}" --out "$work/footprints" --build-map "$build_map" \
  --execution startup >"$work/collector.log" 2>&1 &
collector_pid=$!
wait_for_health "$collector/health" "$collector_pid" "$work/collector.log"
fi

invoke_port="$(free_port)"
api_port="$(free_port)"
taken() { [ "$1" = "$collector_port" ] || [ "$1" = "$backend_port" ]; }
while taken "$invoke_port"; do invoke_port="$(free_port)"; done
while taken "$api_port" || [ "$api_port" = "$invoke_port" ]; do api_port="$(free_port)"; done
if [ -z "$sealights_token_file" ]; then
SL_TOKEN="$(agent_token "$collector")"
export SL_TOKEN
# The build session comes with the image (/var/task/sealights.json); footprints go to the collector.
agent_env=(--env SL_TOKEN --env "SL_COLLECTOR_URL=${collector}" --env SL_FLUSH_INTERVAL_SECONDS=0)
fi

docker pull --quiet --platform "$platform" "$image" >/dev/null

step "7/8 the function in the emulator, ${platform} (invoke 127.0.0.1:${invoke_port}, Runtime API 127.0.0.1:${api_port}; addresses by ${addressing})"
if [ "$addressing" = flags ]; then
  docker run --detach --network host --platform "$platform" --name "$container" "${agent_env[@]}" \
    --entrypoint /usr/local/bin/aws-lambda-rie "$image" \
    --runtime-interface-emulator-address "127.0.0.1:${invoke_port}" \
    --runtime-api-address "127.0.0.1:${api_port}" \
    /var/runtime/bootstrap "$handler" >/dev/null
else
  docker run --detach --network host --platform "$platform" --name "$container" "${agent_env[@]}" \
    --env "SL_EMULATOR_ADDRESS=127.0.0.1:${invoke_port}" \
    --env "SL_EMULATOR_RUNTIME_API_ADDRESS=127.0.0.1:${api_port}" \
    "$image" >/dev/null
fi
listening=false
for _ in $(seq 1 $((100 * slow))); do
  if (: >"/dev/tcp/127.0.0.1/${invoke_port}") 2>/dev/null; then listening=true; break; fi
  sleep 0.1
done
if [ "$listening" != true ]; then
  echo "the emulator did not listen on 127.0.0.1:${invoke_port} within $((10 * slow)) s; container state and log:" >&2
  docker inspect --format '{{.State.Status}} (exit {{.State.ExitCode}})' "$container" >&2 || true
  docker logs "$container" >&2 || true
  exit 1
fi

stored() { curl -sf "${collector}/health" | jq -r .stored; }

invoke() {
  printf -- '   -> %s\n   <- ' "$1"
  curl -sS -X POST "http://127.0.0.1:${invoke_port}/2015-03-31/functions/function/invocations" \
    -H 'Content-Type: application/json' -d "$1" -D "$work/headers" -o "$work/body"
  # One line per answer; a function error without its stack trace.
  jq -c 'if type == "object" then del(.stackTrace) else . end' "$work/body" 2>/dev/null || cat "$work/body"
  grep -i '^x-amz-function-error' "$work/headers" | tr -d '\r' | sed 's/^/      /' || true
}

# A test: a named execution on the collector, its payloads, then its footprints delivered (the
# agent sends after every invocation) before the next test starts.
# Against a real server: a test stage opened and ended with sl-images. The agent asks for the lab's
# execution at most every 10 s (as Sealights' agents do), so each side waits that long: hits before
# it knows the stage would go to the previous one.
run_sealights_test() {
  local name="$1"; shift
  echo "-- test \"${name}\""
  sl_images execution start --token-file "$token_file" --bsid "$bsid" --test-stage "$name"
  echo "   (11 s: until the agent has asked for the lab's execution)"; sleep 11
  for payload in "$@"; do invoke "$payload"; done
  echo "   (11 s: the footprints out before the stage ends)"; sleep 11
  sl_images execution end --token-file "$token_file" --bsid "$bsid"
}

run_test() {
  [ -z "$sealights_token_file" ] || { run_sealights_test "$@"; return; }
  local name="$1" before; shift
  echo "-- test \"${name}\""
  curl -sf -X POST "${collector}/v3/testExecution/" -H 'Content-Type: application/json' \
    -d "{\"executionId\":\"${name}\"}" >/dev/null
  before="$(stored)"
  for payload in "$@"; do invoke "$payload"; done
  # Delivered: more stored than before, and nothing new for a second (10 s at most; 60 under QEMU).
  local last=-1 now quiet=0
  for _ in $(seq 1 $((50 * slow))); do
    now="$(stored)"
    if [ "$now" -gt "$before" ] && [ "$now" = "$last" ]; then quiet=$((quiet + 1)); else quiet=0; fi
    [ "$quiet" -ge 5 ] && break
    last="$now"; sleep 0.2
  done
  echo "   footprints stored: $(( $(stored) - before ))"
}

run_test echo '{"action":"echo","message":"hello, Lambda"}'
run_test quote '{"action":"quote","items":[{"sku":"A","qty":2},{"sku":"B","qty":12}],"coupon":"TEN"}' \
  '{"action":"quote","items":[{"sku":"C","qty":1}]}'
run_test info '{"action":"info"}' '{"action":"fail"}'

docker stop --time 10 "$container" >/dev/null
if [ -z "$sealights_token_file" ]; then
  curl -sf -X DELETE "${collector}/v3/testExecution/" >/dev/null || true
  kill "$collector_pid"; wait "$collector_pid" || true; collector_pid=""
fi
echo "-- the emulator's REPORT lines"
docker logs "$container" 2>&1 | grep -E '^REPORT RequestId|^INIT_REPORT |INIT REPORT\(' | sed 's/^/   /' || true
echo "-- the agent's lines"
docker logs "$container" 2>&1 | grep -F '[sealights-agent]' | sed 's/^/   /' | tail -n 20 || true

if [ -n "$sealights_token_file" ]; then
  step "8/8 the coverage is in Sealights"
  echo "   app sample-function, branch demo, build session ${bsid}: test stages echo, quote, info"
  step "sl-images check ${image}"
  check_status=0
  sl_images check "$image" --platform "$platform" || check_status=$?
  echo "(exit ${check_status})"
  exit 0
fi

# --- 3. report --------------------------------------------------------------------------------------

step "8/8 coverage report (per test and in total)"
formats=summary,cobertura,lcov
reportgenerator_args=()
tools="$repo/artifacts/demo-tools"
if ! command -v reportgenerator >/dev/null 2>&1 && [ ! -x "$HOME/.dotnet/tools/reportgenerator" ] && [ ! -x "$tools/reportgenerator" ]; then
  dotnet tool install --tool-path "$tools" dotnet-reportgenerator-globaltool --version 5.6.0 >/dev/null 2>&1 \
    || echo "   (ReportGenerator could not be installed: no HTML report)"
fi
[ -x "$tools/reportgenerator" ] && reportgenerator_args=(--reportgenerator "$tools/reportgenerator")
if command -v reportgenerator >/dev/null 2>&1 || [ -x "$HOME/.dotnet/tools/reportgenerator" ] || [ ${#reportgenerator_args[@]} -gt 0 ]; then
  formats="${formats},html"
fi
sl_images report --build-map "$build_map" --footprints "$work/footprints" --format "$formats" \
  --out "$work/report" --by-execution "${reportgenerator_args[@]}"
echo
echo "reports: ${work}/report/coverage.cobertura.xml, lcov.info$([[ $formats == *html* ]] && echo ", html/index.html")"
echo "         per test: ${work}/report/executions/<test>/"

step "sl-images check ${image}"
check_status=0
sl_images check "$image" --platform "$platform" || check_status=$?
echo "(exit ${check_status})"
