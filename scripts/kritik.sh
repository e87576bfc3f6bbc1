#!/usr/bin/env bash
# Runs the `kritik` CLI from a checkout: installs npm packages and builds first when needed, so
# a fresh clone needs nothing else (`npm run kritik -- review --diff -`).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
STEP_PREFIX=kritik:
source scripts/ensure-npm.sh
entry=services/reviewer/dist/main.js
if [ ! -f "$entry" ] || [ -n "$(find packages/core/src services/reviewer/src -newer "$entry" -name '*.ts' -print -quit)" ]; then
  step "building the CLI (tsc -b services/reviewer)"
  npx tsc -b services/reviewer >&2 && chmod +x "$entry"
fi
cd "${INIT_CWD:-$root}"
exec node "$root/$entry" "$@"
