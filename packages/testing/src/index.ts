// Test harness: real Redis, a real Kubernetes control plane with a test kubelet, and
// wire-level fakes of GitHub and Anthropic. Each module appends its export here; the servers it
// runs (control plane, processes, ports, tools) come from @kritik/control-plane, re-exported.

export * from '@kritik/control-plane';
export * from './certificates.js';
export * from './chromium.js';
export * from './fakes/index.js';
export * from './kubelet.js';
export * from './pod-env.js';
export * from './process-env.js';
export * from './redis.js';
export * from './service-image.js';
export * from './temp-dir.js';
export * from './webhooks.js';
export * from './world.js';
