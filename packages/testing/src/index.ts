// Test harness: real Redis, a real Kubernetes control plane with a test kubelet, and
// wire-level fakes of GitHub and Anthropic. Each module appends its export here.

export * from './certificates.js';
export * from './control-plane.js';
export * from './fakes/index.js';
export * from './kubelet.js';
export * from './pod-env.js';
export * from './ports.js';
export * from './process.js';
export * from './redis.js';
export * from './service-image.js';
export * from './tools.js';
