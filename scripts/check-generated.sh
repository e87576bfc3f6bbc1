#!/usr/bin/env bash
# Regenerates every generated file (chart templates, values.yaml, values.schema.json, chart
# README) and fails when that changes anything: generated files are committed and never edited.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
npm run synth --silent
if [ -d .git ] || git rev-parse --git-dir >/dev/null 2>&1; then
  if ! git diff --exit-code --stat -- charts/ || [ -n "$(git status --porcelain -- charts/)" ]; then
    echo "generated files changed: run 'npm run synth' and commit the result" >&2
    git status --porcelain -- charts/ >&2
    exit 1
  fi
fi
