#!/usr/bin/env bash
# Installs the pinned npm tools the template and workflow tests use (scripts/aws-tools/package.json
# and its lock: the CloudFormation resource specification @aws-cdk/aws-service-spec and the workflow
# validator @action-validator/cli) with `npm ci` into $SL_STATE_DIR/aws-tools, outside the
# checkout; reused while the lock file is unchanged. Idempotent; prints the install folder.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
install="${SL_AWS_TOOLS_DIR:-${SL_STATE_DIR:-/var/lib/sealights-images}/aws-tools}"

command -v npm >/dev/null 2>&1 || { echo "aws-tools: npm is required (Debian: apt-get install npm)" >&2; exit 1; }
mkdir -p "$install"
if ! cmp -s "$here/aws-tools/package-lock.json" "$install/package-lock.json" ||
  [ ! -f "$install/node_modules/@aws-cdk/aws-service-spec/db.json.gz" ] ||
  [ ! -f "$install/node_modules/@action-validator/cli/cli.mjs" ]; then
  cp "$here/aws-tools/package.json" "$here/aws-tools/package-lock.json" "$install/"
  (cd "$install" && npm ci --ignore-scripts --no-audit --no-fund >&2) ||
    { echo "aws-tools: npm ci of scripts/aws-tools into $install failed" >&2; exit 1; }
fi
echo "$install"
