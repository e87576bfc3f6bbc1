// The platform on the test harness, for the end-to-end specs and bench/e2e.

export {
  type Delivery,
  delivery,
  pullRequestPayload,
  sendWebhook,
  signature,
  type WebhookAnswer,
} from '@kritik/testing';
export * from './chart.js';
export * from './deployment-env.js';
export * from './gitlab.js';
export * from './platform.js';
export * from './recorder.js';
export * from './world.js';
