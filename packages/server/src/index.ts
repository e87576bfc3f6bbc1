// NestJS infrastructure shared by the backend and the worker: config, logging, Redis, metrics,
// health probes, and the reviews queue: records, PR heads, their lifecycle and the enqueuer.
export * from './boot.js';
export * from './budget-snapshot.store.js';
export * from './budget-standing.js';
export * from './config.js';
export * from './health.module.js';
export * from './learned-rules.store.js';
export * from './listen.js';
export * from './logger.js';
export * from './metrics.module.js';
export * from './pr-head.store.js';
export * from './queue-recovery.js';
export * from './raw-body.js';
export * from './redis.health.js';
export * from './redis.js';
export * from './redis-connection.js';
export * from './redis-script.js';
export * from './review.store.js';
export * from './review-enqueuer.js';
export * from './review-history.js';
export * from './review-lifecycle.js';
export * from './review-queue.module.js';
export * from './worker-status.store.js';
