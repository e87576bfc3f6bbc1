#!/usr/bin/env bash
# Validates the GitOps tree (k8s/), for developers and CI alike: every overlay and cluster entry
# point builds with kustomize, every Flux object meets the Flux schemas, and each HelmRelease's
# values are rendered with `helm template charts/kritik` and applied with server-side dry-run to
# a real kube-apiserver with the chart's CRDs installed, so ReviewPolicies (k8s/policies) meet the
# schema the API server enforces and the checks the worker makes; every version of the release
# agrees (scripts/release-version.sh --check).
# Problems are printed as `file: key: message`.
#   scripts/validate.sh                     every overlay and cluster entry point
#   scripts/validate.sh k8s/overlays/staging  only these kustomization directories
#   scripts/validate.sh --no-dry-run          skip the API server (no etcd/kube-apiserver needed)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export PATH="$root/.tools/bin:$PATH"

for tool in kustomize helm; do
  command -v "$tool" >/dev/null 2>&1 || {
    echo "validate: '$tool' is missing: run 'npm run tools' (bash scripts/tools.sh)" >&2
    exit 1
  }
done
[ -x node_modules/.bin/tsx ] || {
  echo "validate: node_modules is missing: run 'npm ci'" >&2
  exit 1
}

# The validator imports the control plane and the tool lookup (not the test harness) from their
# build output, and is type-checked here because it lives outside the workspaces.
node_modules/.bin/tsc -b packages/control-plane packages/core
node_modules/.bin/tsc -p k8s/tsconfig.json
# The chart tag Flux pulls and the image tags the overlays run move with the release version.
node_modules/.bin/tsx scripts/release-version.ts --check
exec node_modules/.bin/tsx k8s/validate/main.ts "$@"
