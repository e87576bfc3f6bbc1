// Public API of the backend for tests and benches.

// Kept for benches that take the enqueuer from the backend; it lives in @kritik/server.
export { ReviewEnqueuer } from '@kritik/server';
export { type CreateAppOptions, createApp } from './app.js';
export { type BackendConfig, loadBackendConfig } from './config/backend.config.js';
export { fromGitHub } from './github/github.events.js';
export { DeliveryLedger } from './intake/delivery.ledger.js';
export { IntakeService } from './intake/intake.service.js';
export { WebhookSignature } from './webhooks/webhook.signature.js';
export { WebhookMetrics } from './webhooks/webhooks.metrics.js';
export { WebhookReceiver } from './webhooks/webhooks.receiver.js';
