// Builds the `kritik` CLI as the npm package @kritik/cli: one self-contained ESM file bundled
// from services/reviewer's build (no workspace packages to publish beside it), its README, and a
// package.json with the release version. The release workflow publishes what this writes;
// the tests pack it and run the packed CLI.
//   tsx scripts/pack-cli.ts <out dir>      (after `npm run build`)
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';

export const CLI_PACKAGE = '@kritik/cli';

const root = resolve(import.meta.dirname, '..');

export async function packCli(out: string): Promise<{ dir: string; version: string }> {
  const reviewer = JSON.parse(readFileSync(join(root, 'services/reviewer/package.json'), 'utf8')) as {
    version: string;
  };
  const { license, engines } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
    license: string;
    engines: Record<string, string>;
  };
  mkdirSync(out, { recursive: true });
  await build({
    entryPoints: [join(root, 'services/reviewer/dist/main.js')],
    outfile: join(out, 'kritik.js'),
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    minify: false,
    legalComments: 'linked',
    logLevel: 'warning',
    // Bundled CommonJS dependencies call require(); ESM has none of its own.
    banner: {
      js: "import { createRequire as __kritikRequire } from 'node:module';\nconst require = __kritikRequire(import.meta.url);",
    },
  });
  const manifest = {
    name: CLI_PACKAGE,
    version: reviewer.version,
    description: 'Kritik: AI code review of a pull request or a local diff, from a terminal or CI',
    license,
    type: 'module',
    bin: { kritik: 'kritik.js' },
    files: ['kritik.js', 'kritik.js.LEGAL.txt', 'README.md'],
    engines,
    repository: { type: 'git', url: 'git+https://github.com/kritik-dev/kritik.git', directory: 'services/reviewer' },
    keywords: ['code-review', 'ai', 'anthropic', 'github', 'ci'],
  };
  writeFileSync(join(out, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  copyFileSync(join(root, 'services/reviewer/README.md'), join(out, 'README.md'));
  return { dir: out, version: reviewer.version };
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(import.meta.filename)) {
  const out = process.argv[2];
  if (!out) {
    process.stderr.write('usage: tsx scripts/pack-cli.ts <out dir>\n');
    process.exit(2);
  }
  const { dir, version } = await packCli(resolve(out));
  process.stderr.write(`pack-cli: ${CLI_PACKAGE}@${version} in ${dir}\n`);
}
