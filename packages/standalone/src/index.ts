// Public API of the standalone mode, for tests and embedding.

export * from './demo/render.js';
export * from './local-redis.js';
export * from './preflight.js';
export * from './services.js';
export * from './standalone.config.js';
export * from './standalone.js';
