#!/usr/bin/env bash
# Installs every tool the tests run for real, pinned, into .tools/bin (git-ignored): Debian's
# redis-server and etcd, helm 3 and 4, kube-score and actionlint from the Go module proxy, and
# kube-apiserver + kube-controller-manager built from the wrapper module in tools/kube.
# Idempotent: a tool whose stamp matches its pinned version is not built again.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
bin="$root/.tools/bin"
mkdir -p "$bin"

HELM3_VERSION=v3.21.4
HELM4_VERSION=v4.3.1
KUBE_SCORE_VERSION=v1.20.0
ACTIONLINT_VERSION=v1.7.12
KUSTOMIZE_VERSION=v5.8.2
KUBE_VERSION=v1.33.13 # must match tools/kube/go.mod
K8S_MINOR=33

log() { printf '[tools] %s\n' "$*" >&2; }
stamp_ok() { [ -x "$bin/$1" ] && [ "$(cat "$bin/.$1.version" 2>/dev/null)" = "$2" ]; }
stamp() { echo "$2" >"$bin/.$1.version"; }

need_cmd() {
  command -v "$1" >/dev/null 2>&1 || { log "missing '$1': $2"; exit 1; }
}

# Debian packages: redis-server, etcd (server) and openssl for the test harness.
apt_pkgs=()
command -v redis-server >/dev/null 2>&1 || apt_pkgs+=(redis-server)
[ -x /usr/bin/etcd ] || command -v etcd >/dev/null 2>&1 || apt_pkgs+=(etcd-server)
# openssl makes the harness's certificates (the test kubelet's log endpoint, TLS Redis).
command -v openssl >/dev/null 2>&1 || apt_pkgs+=(openssl)
# chromium drives the browser tests (the dashboard, the docs' screenshots): playwright-core, never a downloaded browser build.
command -v chromium >/dev/null 2>&1 || apt_pkgs+=(chromium)
# Reviews show severity as emoji: without a colour emoji font the screenshots show empty boxes.
[ -f /usr/share/fonts/truetype/noto/NotoColorEmoji.ttf ] || apt_pkgs+=(fonts-noto-color-emoji)
if [ ${#apt_pkgs[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    log "installing ${apt_pkgs[*]} from Debian"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${apt_pkgs[@]}" >/dev/null
    # The packages start system services; the harness runs its own instances on free ports.
    for svc in redis-server etcd; do
      (service "$svc" stop || systemctl stop "$svc") >/dev/null 2>&1 || true
    done
  else
    log "missing ${apt_pkgs[*]}: run 'sudo apt-get install -y ${apt_pkgs[*]}'"
    exit 1
  fi
fi

need_cmd go "install Go 1.24 or newer (https://go.dev/dl/ or 'apt-get install golang')"
export GOFLAGS=-buildvcs=false

go_install() { # name module@version [ldflags]
  local name=$1 pkg=$2 ldflags=${3:-} tmp
  stamp_ok "$name" "$pkg $ldflags" && return 0
  log "building $name ($pkg)"
  tmp=$(mktemp -d)
  GOBIN="$tmp" go install -trimpath -ldflags "-s -w $ldflags" "$pkg"
  mv "$tmp"/* "$bin/$name"
  rm -rf "$tmp"
  stamp "$name" "$pkg $ldflags"
}

go_install helm "helm.sh/helm/v3/cmd/helm@$HELM3_VERSION" \
  "-X helm.sh/helm/v3/pkg/chartutil.k8sVersionMajor=1 -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMinor=$K8S_MINOR -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMajor=1 -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMinor=$K8S_MINOR"
# Helm 4 derives its default Kubernetes version from the client-go it was built with.
go_install helm4 "helm.sh/helm/v4/cmd/helm@$HELM4_VERSION"
go_install kube-score "github.com/zegl/kube-score/cmd/kube-score@$KUBE_SCORE_VERSION"
go_install actionlint "github.com/rhysd/actionlint/cmd/actionlint@$ACTIONLINT_VERSION"
go_install kustomize "sigs.k8s.io/kustomize/kustomize/v5@$KUSTOMIZE_VERSION"

kube_ldflags="-X k8s.io/component-base/version.gitVersion=$KUBE_VERSION -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$K8S_MINOR"
if ! stamp_ok kube-apiserver "$KUBE_VERSION" || ! stamp_ok kube-controller-manager "$KUBE_VERSION"; then
  log "building kube-apiserver and kube-controller-manager $KUBE_VERSION (first time: several minutes)"
  (cd "$root/tools/kube" && go build -trimpath -ldflags "-s -w $kube_ldflags" -o "$bin/" ./kube-apiserver ./kube-controller-manager)
  stamp kube-apiserver "$KUBE_VERSION"
  stamp kube-controller-manager "$KUBE_VERSION"
fi

log "tools ready in $bin"
