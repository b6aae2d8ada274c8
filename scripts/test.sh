#!/usr/bin/env bash
# Runs every test project of the solution and closes with one summary line
# ("tests: N passed, N failed, N skipped") summed over all test assemblies.
set -euo pipefail
cd "$(dirname "$0")/.."

log_file="$(mktemp)"
trap 'rm -f "$log_file"' EXIT

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
exit "$status"
