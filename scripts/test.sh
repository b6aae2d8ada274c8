#!/usr/bin/env bash
# Runs every test project of the solution and closes with one summary line
# ("tests: N passed, N failed, N skipped") summed over all test assemblies. Then it removes what
# the run made in the Docker engine and fails if any of it remains (scripts/test-leftovers.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

# The run's name: the label on its containers and images, and part of every tag it builds.
export SL_TEST_RUN="${SL_TEST_RUN:-run-$(date -u +%Y%m%dt%H%M%S)-$$}"
log_file="$(mktemp)"
swept=0
# Interrupted runs are swept too (quietly: the interruption is the news).
trap 'rm -f "$log_file"; [ "$swept" -eq 1 ] || bash scripts/test-leftovers.sh "$SL_TEST_RUN" >/dev/null 2>&1 || true' EXIT

status=0
dotnet build Sealights.Images.sln -c Release 2>&1 | tail -n 3
# One test assembly at a time: the Docker and process tests measure latencies on 2 cores.
dotnet test Sealights.Images.sln -c Release --no-build -m:1 "$@" 2>&1 | tee "$log_file" || status=$?

# dotnet test prints one line per test assembly: "Passed!  - Failed: 0, Passed: 12, Skipped: 0, ..."
read -r passed failed skipped < <(grep -E '(Passed|Failed)! +- +Failed:' "$log_file" | awk -F'[:,]' '
  { failed += $2; passed += $4; skipped += $6 }
  END { printf "%d %d %d\n", passed, failed, skipped }')
echo "tests: ${passed} passed, ${failed} failed, ${skipped} skipped"
if [ "$status" -eq 0 ] && [ "$passed" -eq 0 ]; then
  echo "no test ran" >&2
  exit 1
fi
# Nothing of the run may stay behind (the stand-in base images are no part of it).
swept=1
bash scripts/test-leftovers.sh "$SL_TEST_RUN" || { [ "$status" -ne 0 ] || status=1; }
exit "$status"
