export * from './budget-snapshot.js';
export * from './layering.js';
export * from './policy.schema.js';
