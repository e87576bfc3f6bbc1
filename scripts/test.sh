#!/usr/bin/env bash
# The one test command (`npm test`), for developers and CI alike: installs what is missing,
# builds, lints, checks generated files, validates the GitOps tree, then runs every jest test
# against real Redis, a real control plane, real helm and wire-level fakes of GitHub/Anthropic.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

step() { printf '\n== %s\n' "$*" >&2; }

step "npm packages"
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi

step "tools"
bash scripts/tools.sh
export PATH="$root/.tools/bin:$PATH"

step "build"
npm run build --silent

step "lint and typecheck"
npx biome check .
npx tsc -p tsconfig.spec.json

step "declared dependencies (every imported package in its workspace's package.json)"
npx tsx scripts/check-imports.ts

step "generated files are up to date"
bash scripts/check-generated.sh

step "workflows (actionlint)"
actionlint -color=false

step "GitOps tree"
bash scripts/validate.sh

step "jest"
npx jest --ci "$@"
