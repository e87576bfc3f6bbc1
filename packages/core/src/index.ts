export * from './commands.js';
export * from './env.js';
export * from './kubernetes.js';
export * from './labels.js';
export * from './queues.js';
export * from './review.js';
export * from './review-deadline.js';
export * from './review-index.js';
