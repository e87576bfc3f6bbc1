import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { formatProblem, importsOf, packageOf, undeclaredImports } from './check-imports.js';

describe(importsOf.name, () => {
  it('finds static, dynamic, re-exported and required modules, and marks the type-only ones', () => {
    const sut = importsOf(
      'a.ts',
      [
        "import { a } from 'static';",
        "import type { T } from 'types-only';",
        "import { type U, type V } from 'inline-types';",
        "import { type W, x } from 'mixed';",
        "import 'side-effect';",
        "export { y } from 're-exported';",
        "export type { Z } from 're-exported-type';",
        "const lazy = await import('dynamic');",
        "const cjs = require('required');",
        "type Q = import('import-type').Q;",
        'const text = `import { fake } from "in-a-string"`;',
      ].join('\n'),
    );
    expect(sut).toEqual([
      { specifier: 'static', typeOnly: false },
      { specifier: 'types-only', typeOnly: true },
      { specifier: 'inline-types', typeOnly: true },
      { specifier: 'mixed', typeOnly: false },
      { specifier: 'side-effect', typeOnly: false },
      { specifier: 're-exported', typeOnly: false },
      { specifier: 're-exported-type', typeOnly: true },
      { specifier: 'dynamic', typeOnly: false },
      { specifier: 'required', typeOnly: false },
      { specifier: 'import-type', typeOnly: true },
    ]);
  });
});

describe(packageOf.name, () => {
  it.each([
    ['@scope/name/deep/path.js', '@scope/name'],
    ['yaml/util', 'yaml'],
    ['zod', 'zod'],
    ['./local.js', undefined],
    ['../up.js', undefined],
    ['node:fs', undefined],
    ['fs/promises', undefined],
  ])('names the package of %s', (specifier, expected) => {
    expect(packageOf(specifier)).toBe(expected);
  });
});

describe(undeclaredImports.name, () => {
  let root: string;
  const write = (file: string, text: string) => {
    mkdirSync(dirname(join(root, file)), { recursive: true });
    writeFileSync(join(root, file), text);
  };

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'kritik-check-imports-'));
    write('package.json', JSON.stringify({ workspaces: ['packages/app'], devDependencies: { jest: '1' } }));
    write(
      'packages/app/package.json',
      JSON.stringify({
        name: '@x/app',
        scripts: { build: 'tsc -b && node dist/tools/bundle.js' },
        dependencies: { zod: '1' },
        devDependencies: { esbuild: '1', 'fast-check': '1' },
      }),
    );
  });

  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('passes a workspace whose runtime files import only dependencies and its specs dev dependencies too', () => {
    write('packages/app/src/index.ts', "import { z } from 'zod';\nimport { self } from '@x/app';\nimport 'node:fs';");
    write('packages/app/src/index.spec.ts', "import fc from 'fast-check';\nimport { z } from 'zod';");
    write('packages/app/test/e2e.ts', "import fc from 'fast-check';");
    write('packages/app/src/types.ts', "import type { Plugin } from 'esbuild';");
    write('packages/app/src/tools/bundle.ts', "import { build } from 'esbuild';");
    expect(undeclaredImports(root)).toEqual([]);
  });

  it('names the file and the package imported without any declaration', () => {
    write('packages/app/src/index.ts', "import { parse } from 'yaml';");
    const sut = undeclaredImports(root);
    expect(sut.map(formatProblem)).toEqual([
      "packages/app/src/index.ts: imports 'yaml', which packages/app/package.json does not declare in dependencies",
    ]);
  });

  it('fails a runtime file that imports a dev dependency, which the production install leaves out', () => {
    write('packages/app/src/index.ts', "export { build } from 'esbuild';");
    expect(undeclaredImports(root)).toEqual([
      {
        file: 'packages/app/src/index.ts',
        pkg: 'esbuild',
        manifest: 'packages/app/package.json',
        field: 'dependencies',
      },
    ]);
  });

  it('fails a spec that imports what only another workspace or the root declares', () => {
    write('packages/app/src/index.spec.ts', "import { Redis } from 'ioredis';\nimport { expect } from 'jest';");
    expect(undeclaredImports(root).map((p) => p.pkg)).toEqual(['ioredis', 'jest']);
  });

  it('checks files outside every workspace against the root package.json', () => {
    write('scripts/tool.ts', "import { parse } from 'yaml';\nimport { run } from 'jest';");
    expect(undeclaredImports(root)).toEqual([
      {
        file: 'scripts/tool.ts',
        pkg: 'yaml',
        manifest: 'package.json',
        field: 'dependencies or devDependencies',
      },
    ]);
  });
});
