// Build step after `tsc -b` (the worker's `build` script and its image): replaces
// dist/kubernetes/client-node.js, a re-export of @kubernetes/client-node, with one ESM file of
// what it exports and every module that needs, tree-shaken and minified (names kept, for stack
// traces). Without this step the worker behaves the same and loads the whole package.
//   node dist/kubernetes/client-node.bundler.js [<worker dir>]
import { writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';

export interface BundleReport {
  readonly outfile: string;
  readonly bytes: number;
  /** Source modules in the bundle. */
  readonly modules: number;
}

/** Bundles `<workerDir>/src/kubernetes/client-node.ts` into `outfile` (by default its place in dist). */
export async function bundleClientNode(
  workerDir: string,
  outfile = join(workerDir, 'dist/kubernetes/client-node.js'),
): Promise<BundleReport> {
  const result = await build({
    entryPoints: [join(workerDir, 'src/kubernetes/client-node.ts')],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    minifyWhitespace: true,
    minifySyntax: true,
    keepNames: true,
    legalComments: 'eof',
    // CommonJS dependencies (node-fetch, ws, ...) call require() for Node's own modules.
    banner: {
      js: "import { createRequire as __kritikRequire } from 'node:module'; const require = __kritikRequire(import.meta.url);",
    },
    metafile: true,
    write: false,
    outfile,
    logLevel: 'warning',
  });
  const output = result.outputFiles[0];
  if (!output) throw new Error('esbuild produced no output');
  await writeFile(outfile, output.contents);
  return { outfile, bytes: output.contents.byteLength, modules: Object.keys(result.metafile.inputs).length };
}

if (process.argv[1]?.endsWith('client-node.bundler.js')) {
  bundleClientNode(resolve(process.argv[2] ?? '.')).then(
    (report) =>
      console.log(
        `bundled @kubernetes/client-node: ${report.modules} modules, ${(report.bytes / 1024).toFixed(0)} KiB -> ${report.outfile}`,
      ),
    (err: unknown) => {
      console.error(err);
      process.exitCode = 1;
    },
  );
}
