# Sourced by the commands a fresh clone runs first (scripts/kritik.sh, scripts/demo.sh): `step`
# says what is happening on stderr, one line per step, and the npm packages are installed when
# missing or older than the lockfile. Expects to run from the repository root.
step() { printf '%s %s\n' "${STEP_PREFIX:-▸}" "$*" >&2; }
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  step "installing npm packages (npm ci; about a minute on a fresh clone)"
  npm ci --no-audit --no-fund --loglevel=error >&2
fi
