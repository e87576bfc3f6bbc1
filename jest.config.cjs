// One jest run for the whole monorepo. Our code and our ESM-only dependencies (NestJS 12,
// Octokit, ...) are compiled to CommonJS by swc, so jest needs no experimental VM modules.
const swcTs = {
  jsc: {
    parser: { syntax: 'typescript', decorators: true },
    transform: { legacyDecorator: true, decoratorMetadata: true },
    target: 'es2022',
    keepClassNames: true,
  },
  module: { type: 'commonjs' },
  sourceMaps: 'inline',
};
const swcJs = {
  jsc: { parser: { syntax: 'ecmascript' }, target: 'es2022', keepClassNames: true },
  module: { type: 'commonjs' },
};
const workspaces = {
  core: 'packages/core',
  'control-plane': 'packages/control-plane',
  testing: 'packages/testing',
  server: 'packages/server',
  reviewer: 'services/reviewer',
  backend: 'services/backend',
  worker: 'services/worker',
  cdk8s: 'cdk8s',
  standalone: 'packages/standalone',
  e2e: 'packages/e2e',
};

module.exports = {
  testEnvironment: 'node',
  roots: [...Object.values(workspaces).map((dir) => `<rootDir>/${dir}`), '<rootDir>/k8s', '<rootDir>/scripts'],
  testMatch: ['**/*.spec.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/dist/'],
  transform: {
    '^.+\\.tsx?$': ['@swc/jest', swcTs],
    '^.+\\.(m|c)?jsx?$': ['@swc/jest', swcJs],
  },
  transformIgnorePatterns: [],
  moduleNameMapper: {
    // Workspace packages resolve to their sources, so tests never need a prior build.
    ...Object.fromEntries(
      Object.entries(workspaces).map(([name, dir]) => [`^@kritik/${name}$`, `<rootDir>/${dir}/src/index.ts`]),
    ),
    '^(\\.{1,2}/.*)\\.js$': '$1',
    // These export only a "node" + "import" condition, which jest's CommonJS resolution does not
    // match (reached through @octokit/app and @octokit/webhooks).
    '^@octokit/(auth-unauthenticated|webhooks-methods)$': '<rootDir>/node_modules/@octokit/$1/dist-node/index.js',
  },
  testTimeout: 30_000,
};
