// What concluding a check run costs the worker, beside the baseline in the same run: the worker
// used to load `@kritik/reviewer` (with the Anthropic SDK) on its first conclusion; it now calls
// `@kritik/core`'s check-run functions. Prints
//   1. memory of a node process, started with the worker image's flags, after loading what a
//      conclusion needs (median of --repeat runs): heap used after GC and resident set;
//   2. the size on disk of the worker image's runtime tree (`npm ls --omit=dev` of the worker, as
//      its Dockerfile keeps), now and with the reviewer's production tree added back (the tree
//      when the worker depended on it).
// Needs `npm run build` first:  npm run bench:footprint -w bench [-- --repeat 5]
import { execFileSync } from 'node:child_process';
import { lstatSync, statSync } from 'node:fs';
import { lstat, readdir } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { workerImage } from '../dispatch/worker-image.js';
import { median, numberOption } from '../measure.js';

const root = join(import.meta.dirname, '..', '..');
const repeat = numberOption('repeat', 5);
/** The worker image's node flags, read from its Dockerfile once. */
const { flags } = workerImage(root);

interface Memory {
  heapMiB: number;
  rssMiB: number;
}

/** Heap after GC and RSS of a fresh node (the image's flags) once `specifier` is imported. */
function loaded(specifier: string | undefined): Memory {
  const script = `
    ${specifier ? `await import(${JSON.stringify(specifier)});` : ''}
    globalThis.gc(); globalThis.gc();
    const m = process.memoryUsage();
    console.log(JSON.stringify({ heapMiB: m.heapUsed / 2 ** 20, rssMiB: m.rss / 2 ** 20 }));`;
  const out = execFileSync(process.execPath, [...flags, '--expose-gc', '--input-type=module', '-e', script], {
    cwd: join(root, 'services/worker'),
    encoding: 'utf8',
  });
  return JSON.parse(out) as Memory;
}

function measure(specifier: string | undefined): Memory {
  const runs = Array.from({ length: repeat }, () => loaded(specifier));
  return { heapMiB: median(runs.map((r) => r.heapMiB)), rssMiB: median(runs.map((r) => r.rssMiB)) };
}

/** Production package folders of a workspace, relative to the root, as the Dockerfile keeps them. */
function productionTree(workspace: string): Set<string> {
  const out = execFileSync('npm', ['ls', '--omit=dev', '--all', '--parseable', '--workspace', workspace], {
    cwd: root,
    encoding: 'utf8',
  });
  return new Set(
    out
      .split('\n')
      .filter(Boolean)
      .map((p) => relative(root, p))
      .filter((p) => p !== ''),
  );
}

/** Bytes of files under `dir`, skipping nested node_modules (counted as their own packages). */
async function bytesOf(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name === '.git') continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) total += await bytesOf(path);
    else if (entry.isFile()) total += (await lstat(path)).size;
  }
  return total;
}

async function treeMiB(paths: Set<string>): Promise<number> {
  let total = 0;
  for (const p of paths) {
    const abs = join(root, p);
    // Workspaces are symlinks in node_modules (or their own folders); the image holds their dist only.
    const isWorkspace = !p.includes('node_modules') || lstatSync(abs).isSymbolicLink();
    const dir = isWorkspace ? join(abs, 'dist') : abs;
    if (statSync(dir, { throwIfNoEntry: false })?.isDirectory()) total += await bytesOf(dir);
  }
  return total / 2 ** 20;
}

const fmt = (n: number) => n.toFixed(1).padStart(7);

const bare = measure(undefined);
const before = measure('@kritik/reviewer');
const after = measure('@kritik/core');
console.log(`1. memory after loading what a check-run conclusion needs (median of ${repeat}, MiB)`);
console.log('                                        heap     rss');
console.log(`   bare node (image flags)          ${fmt(bare.heapMiB)} ${fmt(bare.rssMiB)}`);
console.log(`   baseline: import @kritik/reviewer ${fmt(before.heapMiB)} ${fmt(before.rssMiB)}`);
console.log(`   now:      import @kritik/core     ${fmt(after.heapMiB)} ${fmt(after.rssMiB)}`);
console.log('   (the worker loads @kritik/core at boot anyway: the excess of the baseline is what a conclusion added)');

const worker = productionTree('@kritik/worker');
const withReviewer = new Set([...worker, ...productionTree('@kritik/reviewer')]);
const [now, then] = [await treeMiB(worker), await treeMiB(withReviewer)];
console.log('\n2. worker image runtime tree (packages, MiB on disk)');
console.log(`   baseline: with @kritik/reviewer  ${String(withReviewer.size).padStart(5)} ${fmt(then)}`);
console.log(`   now                              ${String(worker.size).padStart(5)} ${fmt(now)}`);
console.log(`   without: ${[...withReviewer].filter((p) => !worker.has(p)).join(', ')}`);
