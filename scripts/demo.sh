#!/usr/bin/env bash
# `npm run demo`: one full review on this machine with no accounts and no network (GitHub and the
# model are local fakes). Installs and builds what is missing first, saying so, one line per step.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
source scripts/ensure-npm.sh
[ -d .tools/bin ] && export PATH="$root/.tools/bin:$PATH"
if ! command -v redis-server >/dev/null 2>&1 && [ -z "${KRITIK_REDIS_SERVER:-}" ]; then
  step "redis-server is missing: install it (Debian/Ubuntu: sudo apt-get install redis-server; macOS: brew install redis)"
  exit 1
fi
step "building the platform (tsc -b; incremental after the first time)"
npx tsc -b packages/standalone
exec node packages/standalone/dist/demo-main.js "$@"
