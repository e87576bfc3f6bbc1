export * from './layering.js';
export * from './policy.schema.js';
