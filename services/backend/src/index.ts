// Public API of the backend for tests and benches.
export { type CreateAppOptions, createApp } from './app.js';
export { type BackendConfig, loadBackendConfig } from './config/backend.config.js';
export { fromGitHub } from './github/github.events.js';
export { DeliveryLedger } from './intake/delivery.ledger.js';
export { IntakeService } from './intake/intake.service.js';
export { ReviewEnqueuer } from './intake/review.enqueuer.js';
export { WebhookSignature } from './webhooks/webhook.signature.js';
export { WebhookMetrics } from './webhooks/webhooks.metrics.js';
export { WebhookReceiver } from './webhooks/webhooks.receiver.js';
