#!/usr/bin/env bash
# One command keeps every version of a release in step (see scripts/release-version.ts):
#   scripts/release-version.sh 0.2.0        set package, chart, Flux chart tag and image tags
#   scripts/release-version.sh --check      fail unless they all agree (CI, scripts/validate.sh)
#   scripts/release-version.sh --check 0.2.0  ... and equal 0.2.0 (the release workflow's tag)
set -euo pipefail
cd "$(dirname "$0")/.."
exec node_modules/.bin/tsx scripts/release-version.ts "$@"
