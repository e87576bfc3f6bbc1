// Memory of the worker process (services/worker/dist/main.js as its image runs it: the ENTRYPOINT
// and ENV of the worker stage of services/Dockerfile): resident set once ready, and peak (VmHWM)
// after N reviews run to their end, for each runner, beside baselines measured in the same run:
//   - a bare `node -e`, started like the image, that imports what the worker of that runner loads
//     at boot and does nothing more (kubernetes: also with @kubernetes/client-node itself instead
//     of the worker's bundle of it);
//   - the same worker build started without the image's node flags and environment;
//   - with --compare <git ref>: the worker of that commit, built by its own `build` script in a
//     temporary worktree and started as that commit's image would;
//   - with --flags "<set>;<set>": the same build with other node flags and NAME=value variables.
// Reviews run on the harness control plane (kubernetes runner: one Job each, run by the test
// kubelet) or as child processes (local runner), with a stand-in reviewer that reports at once.
// Needs `npm run build -w services/worker` first:
//   npm run bench:rss -w bench [-- --reviews 50 --repeat 3 --runners kubernetes,local --compare <ref>]
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ENV, redisKeys } from '@kritik/core';
import { freePort, startProcess, startTestKubelet, type TestKubelet, waitUntil } from '@kritik/testing';
import { median, numberOption, option } from '../measure.js';
import {
  type BenchWorld,
  flagSets,
  image,
  reviewOf,
  root,
  STAND_IN,
  type Start,
  standInSettings,
  startBenchWorld,
  startWorkerProcess,
} from './setup.js';
import { type WorkerImage, workerImage } from './worker-image.js';

const REVIEWS = numberOption('reviews', 50);
/** Runs of each variant; the report shows the median of each figure. */
const REPEAT = numberOption('repeat', 3);
const COMPARE = option('compare');
const RUNNERS = (option('runners') ?? 'kubernetes,local').split(',') as Runner[];
/** Extra variants of the same build (`--flags`), a non-empty set each. */
const FLAG_SETS = flagSets().filter(({ set }) => set !== '');

type Runner = 'kubernetes' | 'local';

/** What the worker loads at boot, by runner, for the bare-import baseline. */
const BOOT_IMPORTS: Record<Runner, string[]> = {
  local: [
    'reflect-metadata',
    '@nestjs/core',
    '@nestjs/common',
    '@nestjs/platform-express',
    '@nestjs/bullmq',
    '@nestjs/terminus',
    'bullmq',
    'ioredis',
    'pino',
    'prom-client',
    'zod',
    'yaml',
    '@octokit/app',
    '@octokit/core',
    '@octokit/plugin-retry',
    '@kritik/core',
    '@kritik/server',
  ],
  kubernetes: [],
};
// The Kubernetes client as the build left it: bundled, or the package re-exported.
BOOT_IMPORTS.kubernetes = [...BOOT_IMPORTS.local, './dist/kubernetes/client-node.js'];
/** The baseline of the bundle (services/worker/src/kubernetes/client-node.bundler.ts): the package itself. */
const UNBUNDLED_IMPORTS = [...BOOT_IMPORTS.local, '@kubernetes/client-node'];

const settings = standInSettings();

/** VmRSS and VmHWM of a process, in KiB (Linux /proc). */
function memory(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN);
  return { rss: field('VmRSS'), peak: field('VmHWM') };
}
const mib = (kib: number) => `${(kib / 1024).toFixed(1)}`.padStart(6);
const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

/**
 * A worktree of `ref` with its workspace packages built, resolving third-party packages from this
 * checkout's node_modules and its own `@kritik/*`. Returns its worker's main.js.
 */
function buildAt(ref: string, dir: string): string {
  execFileSync('git', ['-C', root, 'worktree', 'add', '--detach', '--force', dir, ref], { stdio: 'ignore' });
  const modules = join(dir, 'node_modules');
  mkdirSync(join(modules, '@kritik'), { recursive: true });
  for (const name of readdirSync(join(root, 'node_modules'))) {
    if (name !== '@kritik' && !name.startsWith('.')) symlinkSync(join(root, 'node_modules', name), join(modules, name));
  }
  for (const [name, path] of Object.entries({
    core: 'packages/core',
    server: 'packages/server',
    reviewer: 'services/reviewer',
    worker: 'services/worker',
  })) {
    symlinkSync(join(dir, path), join(modules, '@kritik', name));
  }
  // The worker's own build script of that commit (tsc, and whatever it does after).
  const { scripts } = JSON.parse(readFileSync(join(dir, 'services/worker/package.json'), 'utf8')) as {
    scripts: Record<string, string>;
  };
  execFileSync('/bin/sh', ['-c', scripts.build ?? 'tsc -b'], {
    cwd: join(dir, 'services/worker'),
    env: { ...process.env, PATH: `${join(root, 'node_modules/.bin')}:${process.env.PATH}` },
    stdio: 'inherit',
  });
  return join(dir, 'services/worker/dist/main.js');
}

/** The bench world, and the kubelet that runs the kubernetes runner's Jobs. */
interface World extends BenchWorld {
  readonly dir: string;
  readonly kubelet?: TestKubelet;
}

interface Memory {
  readonly rss: number;
  readonly peak: number;
  /** V8 heap committed, in KiB (the rest of the resident set is code, native memory, the node binary). */
  readonly heap?: number;
}

interface Measured {
  readonly label: string;
  readonly boot: Memory;
  readonly after?: Memory;
  readonly seconds?: number;
}

/** The V8 heap committed, from the worker's own /metrics (prom-client's process metrics), in KiB. */
async function heapKib(port: number): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const match = /^kritik_nodejs_heap_size_total_bytes(?:\{[^}]*\})? (\d+)/m.exec(text);
  return match ? Number(match[1]) / 1024 : Number.NaN;
}

/** Namespaces of the kubernetes runs (one per worker, so none sees another's Jobs), known to the kubelet up front. */
const KUBE_NAMESPACES = Array.from(
  { length: (2 + (COMPARE ? 1 : 0) + FLAG_SETS.length) * REPEAT },
  (_, i) => `rss-${i + 1}`,
);
let runs = 0;

/** Runs `measure` REPEAT times; each figure is the median over the runs. */
async function repeated(measure: () => Promise<Measured>): Promise<Measured> {
  const all: Measured[] = [];
  for (let i = 0; i < REPEAT; i++) all.push(await measure());
  const pick = (get: (m: Measured) => number | undefined) => median(all.map((m) => get(m) ?? Number.NaN));
  const first = all[0]!;
  const of = (get: (m: Measured) => Memory | undefined): Memory => ({
    rss: pick((m) => get(m)?.rss),
    peak: pick((m) => get(m)?.peak),
    heap: pick((m) => get(m)?.heap),
  });
  return {
    label: first.label,
    boot: of((m) => m.boot),
    ...(first.after ? { after: of((m) => m.after), seconds: pick((m) => m.seconds) } : {}),
  };
}

/** Starts a worker, measures it once ready and after REVIEWS reviews, and stops it. */
async function measureWorker(world: World, label: string, runner: Runner, image: Start): Promise<Measured> {
  await world.producer.flushall();
  const port = await freePort();
  const name = runner === 'kubernetes' ? KUBE_NAMESPACES.shift()! : `local-${++runs}`;
  if (runner === 'kubernetes') await world.jobsNamespace(name, settings);
  const proc = startWorkerProcess(
    world,
    world.dir,
    name,
    image,
    { reviewJob: settings, ...(runner === 'local' ? { local: { command: STAND_IN } } : {}) },
    {
      [ENV.port]: String(port),
      [ENV.runner]: runner,
      ...(runner === 'kubernetes' ? { [ENV.jobsNamespace]: name } : {}),
    },
  );
  try {
    await waitUntil(
      `${label} /ready`,
      async () =>
        (await fetch(`http://127.0.0.1:${port}/ready`).catch(() => undefined))?.status === 200 ? true : undefined,
      { timeoutMs: 60_000, intervalMs: 100, proc },
    );
    await sleep(2_000);
    const boot = { ...memory(proc.pid), heap: await heapKib(port) };
    const reviews = Array.from({ length: REVIEWS }, () => reviewOf());
    const started = Date.now();
    await world.queue.addBulk(reviews.map((review) => ({ name: 'review', data: review })));
    await waitUntil(
      `${REVIEWS} reviews to end`,
      async () => {
        const raws = await world.producer.mget(reviews.map((r) => redisKeys.review(r.reviewId)));
        return raws.every((raw) => raw && /"status":"(posted|skipped|failed)"/.test(raw)) ? true : undefined;
      },
      { timeoutMs: 600_000, intervalMs: 200, proc },
    );
    const seconds = (Date.now() - started) / 1000;
    await sleep(1_000);
    const after = memory(proc.pid);
    return { label, boot, after: { ...after, heap: await heapKib(port) }, seconds };
  } finally {
    await proc.stop();
  }
}

/** A bare node process that imports `modules` (resolved from the worker) and then idles. */
async function measureImports(world: World, label: string, modules: string[], image: WorkerImage): Promise<Measured> {
  const script = `${modules.map((m) => `await import(${JSON.stringify(m)});`).join(' ')} console.log('ready'); setInterval(() => {}, 1000);`;
  const logFile = join(world.dir, `imports-${++runs}.log`);
  const proc = startProcess('imports', process.execPath, [...image.flags, '--input-type=module', '-e', script], {
    logFile,
    cwd: join(root, 'services/worker'),
    env: { PATH: process.env.PATH, ...image.env },
  });
  try {
    await waitUntil('the imports', async () => (readFileSync(logFile, 'utf8').includes('ready') ? true : undefined), {
      timeoutMs: 30_000,
      intervalMs: 50,
      proc,
    });
    await sleep(2_000);
    return { label, boot: memory(proc.pid) };
  } finally {
    await proc.stop();
  }
}

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'kritik-bench-rss-'));
  const bare: Start = { command: [process.execPath, image.script], env: {} };
  let compared: Start | undefined;
  if (COMPARE) {
    const compareDir = join(dir, 'compare');
    const main = buildAt(COMPARE, compareDir);
    // As that commit's image would start it.
    const previous = workerImage(compareDir);
    compared = { command: [process.execPath, ...previous.flags, main], env: previous.env };
  }
  const bench = await startBenchWorld(RUNNERS.includes('kubernetes'));
  const results: Measured[] = [];
  let kubelet: TestKubelet | undefined;
  try {
    console.log(
      `worker memory bench (${process.arch}, node ${process.version}, ${REVIEWS} reviews per worker, median of ${REPEAT} runs)`,
    );
    const env = Object.entries(image.env).map(([k, v]) => `${k}=${v} `);
    console.log(`image: ${env.join('')}node ${[...image.flags, image.script].join(' ')}`);
    for (const runner of RUNNERS) {
      if (runner === 'kubernetes' && !kubelet) {
        kubelet = await startTestKubelet(bench.plane!.adminKubeConfig(), { namespaces: [...KUBE_NAMESPACES] });
      }
      const world: World = { ...bench, dir, ...(kubelet ? { kubelet } : {}) };
      results.push(
        await repeated(() =>
          measureImports(world, `${runner}: bare node as the image, boot imports`, BOOT_IMPORTS[runner], image),
        ),
      );
      if (runner === 'kubernetes') {
        results.push(
          await repeated(() =>
            measureImports(world, 'kubernetes: the same, client package unbundled', UNBUNDLED_IMPORTS, image),
          ),
        );
      }
      results.push(
        await repeated(() => measureWorker(world, `${runner}: worker without the image's flags and env`, runner, bare)),
      );
      results.push(await repeated(() => measureWorker(world, `${runner}: worker as the image runs it`, runner, image)));
      if (compared) {
        const previous = compared;
        results.push(await repeated(() => measureWorker(world, `${runner}: worker at ${COMPARE}`, runner, previous)));
      }
      for (const { label, start } of FLAG_SETS) {
        results.push(await repeated(() => measureWorker(world, `${runner}: ${label}`, runner, start)));
      }
    }
    console.log(`\n${'MiB'.padEnd(52)}  ready: RSS   peak   heap   after: RSS   peak   heap  reviews/s`);
    const cell = (kib: number | undefined) => (kib === undefined || Number.isNaN(kib) ? '     -' : mib(kib));
    for (const r of results) {
      const after = r.after
        ? `      ${cell(r.after.rss)} ${cell(r.after.peak)} ${cell(r.after.heap)}  ${(REVIEWS / r.seconds!).toFixed(1).padStart(8)}`
        : '';
      console.log(`${r.label.padEnd(52)}  ${cell(r.boot.rss)} ${cell(r.boot.peak)} ${cell(r.boot.heap)}${after}`);
    }
    console.log('target: peak RSS of the worker under 120 MiB');
  } finally {
    await kubelet?.stop();
    await bench.stop();
    if (COMPARE)
      execFileSync('git', ['-C', root, 'worktree', 'remove', '--force', join(dir, 'compare')], { stdio: 'ignore' });
    if (process.env.BENCH_KEEP) console.error(`logs kept in ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }
}

await main();
