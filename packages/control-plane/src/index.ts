// Real servers on loopback, without the test harness: a Kubernetes control plane (etcd,
// kube-apiserver, kube-controller-manager), the child processes and free ports they run on, and
// the lookup of the pinned binaries. Shared by the harness (@kritik/testing) and the GitOps
// validation (k8s/validate), which is shipped tooling and must not depend on the harness.

export * from './control-plane.js';
export * from './ports.js';
export * from './process.js';
export * from './redis-probe.js';
export * from './tools.js';
