// The chart generator: values definition, Helm-aware constructs and the synth of charts/kritik.
export * from './chart/config-file.js';
export * from './chart/dashboard.js';
export * from './chart/env.js';
export * from './chart/kritik-chart.js';
export * from './constructs/jobs.js';
export * from './helm/render.js';
export * from './helm/template-file.js';
export * from './helm/tokens.js';
export * from './synth.js';
export * from './values/definition.js';
export * from './values/dsl.js';
export * from './values/generate.js';
