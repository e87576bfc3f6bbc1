// Dispatch of reviews by the worker (services/worker/dist/main.js, a real process started as its
// image starts it) on the harness control plane, against a baseline measured in the same run: a
// bare loop making the same Kubernetes calls (Secret, Job, owner patch) directly through the same
// client. Throughput runs first (see below); the report lists the burst first.
//   1. burst: N PRs (default 200) queued at once; time from enqueue to Job created (p50, p99) and
//      Jobs created per second. No kubelet: the Jobs only need to exist.
//   2. throughput: M reviews (default 1,000, plus 10% enqueued twice as redeliveries) at
//      concurrency 20, run by the test kubelet with a stand-in reviewer that reports at once;
//      every review must end exactly once (0 lost, 0 duplicated). Baseline: a bare loop running
//      reviews at concurrency 20 through the same client until their Jobs complete.
// Needs `npm run build -w services/worker` first:
//   npm run bench:dispatch -w services/worker [-- --prs 200 --reviews 1000 --flags ";--max-semi-space-size=4"]
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  LABELS,
  REVIEWS_QUEUE,
  type ReviewJob,
  type ReviewResult,
  redisKeys,
  reviewIdFor,
  reviewJobSettingsSchema,
  reviewRecordSchema,
} from '@kritik/core';
import {
  type ControlPlane,
  FakeGitHub,
  generateAppKeyPair,
  type ManagedProcess,
  startControlPlane,
  startProcess,
  startRedis,
  startTestKubelet,
  type TestRedis,
  waitUntil,
} from '@kritik/testing';
import { KubernetesClient, KubernetesJobRunner, REVIEW_SELECTOR, reviewJobName } from '@kritik/worker';
import { CoreV1Api, type V1Job } from '@kubernetes/client-node';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { stringify } from 'yaml';
import { type WorkerImage, workerImage } from './worker-image.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
/** The worker as its image starts it (node flags and environment of its stage in services/Dockerfile). */
const image = workerImage(root);
/**
 * Other ways to start the same build, each measured in the burst too: `--flags "<set>;<set>"`,
 * sets of node flags and NAME=value variables; an empty set ("") is plain `node main.js`.
 */
const FLAG_SETS = (() => {
  const at = process.argv.indexOf('--flags');
  return at > 0 ? (process.argv[at + 1] ?? '').split(';').map((set) => set.trim()) : [];
})();

type Start = Pick<WorkerImage, 'command' | 'env'>;
const arg = (name: string, fallback: number) => {
  const at = process.argv.indexOf(`--${name}`);
  return at > 0 ? Number(process.argv[at + 1]) : fallback;
};
const PRS = arg('prs', 200);
const REVIEWS = arg('reviews', 1_000);
const BASELINE_REVIEWS = arg('baseline-reviews', 200);
const CONCURRENCY = 20;
const REPOS = 10;
const APP_ID = '4242';
const OWNER = 'bench';

const RESULT: ReviewResult = {
  status: 'posted',
  findings: { critical: 0, major: 0, minor: 0, nit: 0 },
  commentsPosted: 0,
  filesReviewed: 1,
  filesSkipped: 0,
  tokens: { input: 0, output: 0, cacheRead: 0, cacheWrite: 0 },
  costUsd: 0,
  durationMs: 1,
};
/** Stands in for the reviewer: reports a result at once, so only dispatch is measured. */
const STAND_IN = ['/bin/sh', '-c', 'printf "%s" "$BENCH_RESULT" > "$KRITIK_TERMINATION_LOG"'];

const settings = reviewJobSettingsSchema.parse({
  image: 'kritik-reviewer:bench',
  command: STAND_IN,
  env: { BENCH_RESULT: JSON.stringify(RESULT) },
  // Past the end of the run: TTL deletions of the throughput phase's Jobs would load the burst phase.
  ttlSecondsAfterFinished: 7200,
});

/** CPU time (user + system) a process has used, in ms (Linux /proc; the load of other processes does not change it much). */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
}

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
};
const ms = (n: number) => `${n.toFixed(0)} ms`.padStart(8);

let serial = 0;
function reviewOf(label: string): ReviewJob {
  serial++;
  const repo = { owner: OWNER, name: `repo-${serial % REPOS}` };
  const headSha = serial.toString(16).padStart(40, '0');
  return {
    reviewId: reviewIdFor('github', repo, serial, `${label}-${headSha}`).slice(0, 20),
    platform: 'github',
    repo,
    pr: serial,
    headSha,
    trigger: 'synchronize',
    installationId: 1,
    enqueuedAt: new Date().toISOString(),
  };
}

/** Records when each review's Job first appears in `namespace`, and how many Jobs each review got. */
async function watchJobs(plane: ControlPlane, namespace: string) {
  const client = new KubernetesClient(plane.adminKubeConfig(), namespace);
  const createdAt = new Map<string, number>();
  const uids = new Map<string, Set<string>>();
  const onJob = (job: V1Job) => {
    const id = job.metadata?.labels?.[LABELS.reviewId];
    if (!id || !job.metadata?.uid) return;
    if (!createdAt.has(id)) createdAt.set(id, performance.timeOrigin + performance.now());
    const set = uids.get(id) ?? new Set<string>();
    set.add(job.metadata.uid);
    uids.set(id, set);
  };
  let stopped = false;
  let controller: AbortController | undefined;
  let resourceVersion = (await client.listJobs(REVIEW_SELECTOR)).resourceVersion;
  const open = async () => {
    if (stopped) return;
    controller = await client.watchJobs(
      { labelSelector: REVIEW_SELECTOR, ...(resourceVersion ? { resourceVersion } : {}) },
      (event) => {
        if (event.type === 'BOOKMARK' || event.type === 'ERROR') return;
        resourceVersion = event.object.metadata?.resourceVersion ?? resourceVersion;
        if (event.type === 'ADDED') onJob(event.object);
      },
      () => setTimeout(() => void open(), 100),
    );
  };
  await open();
  return {
    createdAt,
    uids,
    stop() {
      stopped = true;
      controller?.abort();
    },
  };
}

async function namespaceFor(plane: ControlPlane, name: string) {
  await plane.createNamespace(name);
  await plane
    .adminKubeConfig()
    .makeApiClient(CoreV1Api)
    .createNamespacedServiceAccount({ namespace: name, body: { metadata: { name: settings.serviceAccountName } } });
}

/** What the worker's runner does before following a Job, called on the runner itself. */
async function dispatchDirectly(client: KubernetesClient, review: ReviewJob, apiUrl: string) {
  const runner = new KubernetesJobRunner(client, { settings, deadlineMarginSeconds: 60 });
  return (await runner.dispatch({ ...review, apiUrl }, { token: 'ghs_bench', model: { kind: 'direct' } })).job;
}

async function startWorker(
  redis: TestRedis,
  plane: ControlPlane,
  github: FakeGitHub,
  privateKey: string,
  dir: string,
  namespace: string,
  scheduling: Record<string, unknown>,
  start: Start = image,
): Promise<ManagedProcess> {
  const config = join(dir, `${namespace}.yaml`);
  writeFileSync(config, stringify({ reviewJob: settings, scheduling }));
  const proc = startProcess(`worker-${namespace}`, start.command[0]!, start.command.slice(1), {
    logFile: join(dir, `worker-${namespace}.log`),
    cwd: root,
    env: {
      ...start.env,
      PATH: process.env.PATH,
      PORT: '0',
      REDIS_URL: redis.url,
      GITHUB_APP_ID: APP_ID,
      GITHUB_APP_PRIVATE_KEY: privateKey,
      GITHUB_API_URL: github.url,
      KRITIK_RUNNER: 'kubernetes',
      KRITIK_JOBS_NAMESPACE: namespace,
      KUBECONFIG: plane.kubeconfigPath,
      KRITIK_CONFIG: config,
      KRITIK_LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'warn',
    },
  });
  return proc;
}

async function finalStatuses(redis: Redis, ids: string[]) {
  const raws = await redis.mget(ids.map((id) => redisKeys.review(id)));
  return raws.map((raw) => (raw ? reviewRecordSchema.parse(JSON.parse(raw)) : undefined));
}

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'kritik-bench-dispatch-'));
  const keys = generateAppKeyPair();
  const [plane, redis, github] = await Promise.all([startControlPlane(), startRedis(), new FakeGitHub().start()]);
  github.setApp({ appId: APP_ID, privateKeyPem: keys.privateKeyPem });
  for (let i = 0; i < REPOS; i++) github.addRepo(OWNER, `repo-${i}`);
  github.addInstallation({ id: 1, account: OWNER });
  const producer = new Redis(redis.url, { maxRetriesPerRequest: null });
  const queue = new Queue(REVIEWS_QUEUE, { connection: producer });
  const workers: ManagedProcess[] = [];
  try {
    console.log(`dispatch bench (${process.arch}, node ${process.version}, harness control plane)`);
    const throughput: string[] = [];

    if (REVIEWS > 0) {
      // 2. Throughput with the kubelet: the worker at concurrency 20. Measured first, so that the
      // burst's never-finishing Jobs do not load the Job controller meanwhile.
      await namespaceFor(plane, 'reviews');
      await namespaceFor(plane, 'reviews-baseline');
      const kubelet = await startTestKubelet(plane.adminKubeConfig(), { namespaces: ['reviews', 'reviews-baseline'] });
      try {
        const reviewsWatch = await watchJobs(plane, 'reviews');
        const throughputWorker = await startWorker(redis, plane, github, keys.privateKeyPem, dir, 'reviews', {
          concurrency: CONCURRENCY,
          perRepoConcurrency: CONCURRENCY,
        });
        workers.push(throughputWorker);
        const reviews = Array.from({ length: REVIEWS }, () => reviewOf('review'));
        const redelivered = reviews.filter((_, i) => i % 10 === 0);
        const started = Date.now();
        await queue.addBulk([...reviews, ...redelivered].map((review) => ({ name: 'review', data: review })));
        const ids = reviews.map((r) => r.reviewId);
        let records = await finalStatuses(producer, ids);
        const deadline = Date.now() + 30 * 60_000;
        let lastReport = Date.now();
        for (;;) {
          records = await finalStatuses(producer, ids);
          const ended = records.filter((r) => r && ['posted', 'skipped', 'failed'].includes(r.status)).length;
          if (ended === ids.length || Date.now() > deadline || !throughputWorker.running()) break;
          if (Date.now() - lastReport > 15_000) {
            console.error(`   ... ${ended}/${ids.length} reviews ended`);
            lastReport = Date.now();
          }
          await new Promise((r) => setTimeout(r, 500));
        }
        const elapsed = (Date.now() - started) / 1000;
        reviewsWatch.stop();
        // The queue is shared: this worker must not take the burst's reviews.
        await throughputWorker.stop();
        const counts = await queue.getJobCounts('failed', 'wait', 'active', 'delayed', 'completed');
        const lost = records.filter((r) => !r || !['posted', 'skipped', 'failed'].includes(r.status)).length;
        const failed = records.filter((r) => r?.status === 'failed').length;
        const twice = ids.filter((id) => (reviewsWatch.uids.get(id)?.size ?? 0) > 1).length;
        const endedTwice = records.filter(
          (r) => r && r.timeline.filter((t) => ['posted', 'skipped', 'failed'].includes(t.status)).length > 1,
        ).length;

        // 2. Throughput baseline: a bare loop at the same concurrency, waiting for each Job to complete.
        const client = new KubernetesClient(plane.adminKubeConfig(), 'reviews-baseline');
        const baselineReviews = Array.from({ length: BASELINE_REVIEWS }, () => reviewOf('bare-review'));
        const complete = new Map<string, () => void>();
        const done = await client.watchJobs(
          { labelSelector: REVIEW_SELECTOR },
          (event) => {
            const cond = event.object.status?.conditions ?? [];
            if (cond.some((c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True')) {
              complete.get(event.object.metadata?.labels?.[LABELS.reviewId] ?? '')?.();
            }
          },
          () => {},
        );
        const pending = [...baselineReviews];
        const baselineStart = Date.now();
        await Promise.all(
          Array.from({ length: CONCURRENCY }, async () => {
            for (let review = pending.shift(); review; review = pending.shift()) {
              const finished = new Promise<void>((resolve) => complete.set(review!.reviewId, resolve));
              await dispatchDirectly(client, review, github.url);
              await finished;
              await client.listPods(`batch.kubernetes.io/job-name=${reviewJobName(review.reviewId)}`);
            }
          }),
        );
        const baselineElapsed = (Date.now() - baselineStart) / 1000;
        done.abort();

        throughput.push(
          `\n2. ${REVIEWS} reviews (+${redelivered.length} redelivered) at concurrency ${CONCURRENCY}, test kubelet, stand-in reviewer`,
        );
        throughput.push(
          `   ${'worker'.padEnd(34)} ${(REVIEWS / elapsed).toFixed(1).padStart(6)} reviews/s  (${elapsed.toFixed(1)} s)  lost ${lost}  duplicated ${twice + endedTwice}  failed ${failed}  queue failed ${counts.failed}`,
        );
        throughput.push(
          `   ${'baseline (bare loop, same client)'.padEnd(34)} ${(BASELINE_REVIEWS / baselineElapsed).toFixed(1).padStart(6)} reviews/s  (${BASELINE_REVIEWS} reviews, ${baselineElapsed.toFixed(1)} s)`,
        );
        throughput.push('   targets: 0 lost, 0 duplicated');
        if (lost > 0 || twice + endedTwice > 0) process.exitCode = 1;
      } finally {
        await kubelet.stop();
      }
    }

    // 1. Burst: the worker (and, when asked, the same build without the image's flags).
    const burstWith = async (namespace: string, start: Start) => {
      await producer.flushall();
      await namespaceFor(plane, namespace);
      const burstWatch = await watchJobs(plane, namespace);
      // The Jobs never finish (no kubelet here), so the warm-up reviews keep their slots.
      const burstWorker = await startWorker(
        redis,
        plane,
        github,
        keys.privateKeyPem,
        dir,
        namespace,
        { concurrency: PRS + REPOS, perRepoConcurrency: PRS + REPOS },
        start,
      );
      workers.push(burstWorker);
      // One review per repository warms the worker up (connections, repository tokens, which it
      // caches for their hour), as in a running system.
      const warm = Array.from({ length: REPOS }, () => reviewOf('warm'));
      await queue.addBulk(warm.map((review) => ({ name: 'review', data: review })));
      await waitUntil(
        'the worker to dispatch the warm-up reviews',
        async () => (warm.every((r) => burstWatch.createdAt.has(r.reviewId)) ? true : undefined),
        { timeoutMs: 60_000, intervalMs: 50, proc: burstWorker },
      );
      const burst = Array.from({ length: PRS }, () => reviewOf('burst'));
      const cpuBefore = cpuMs(burstWorker.pid);
      const enqueuedAt = Date.now();
      await queue.addBulk(
        burst.map((review) => ({
          name: 'review',
          data: { ...review, enqueuedAt: new Date(enqueuedAt).toISOString() },
        })),
      );
      await waitUntil(
        `${PRS} Jobs`,
        async () => (burst.every((r) => burstWatch.createdAt.has(r.reviewId)) ? true : undefined),
        { timeoutMs: 120_000, intervalMs: 20, proc: burstWorker },
      ).catch(async (err) => {
        const listed = await new KubernetesClient(plane.adminKubeConfig(), namespace).listJobs(REVIEW_SELECTOR);
        console.error(`watched ${burstWatch.createdAt.size} Jobs, listed ${listed.items.length}`);
        throw err;
      });
      const cpuPerJob = (cpuMs(burstWorker.pid) - cpuBefore) / PRS;
      const latencies = burst.map((r) => burstWatch.createdAt.get(r.reviewId)! - enqueuedAt);
      // Where the time went: until the worker took the entry off the queue, and from there to the Job.
      const active = new Map(
        (await queue.getJobs(['active'])).map((j) => [(j.data as ReviewJob).reviewId, j.processedOn ?? 0]),
      );
      const pickup = burst.map((r) => (active.get(r.reviewId) ?? Number.NaN) - enqueuedAt);
      const processing = burst.map(
        (r) => burstWatch.createdAt.get(r.reviewId)! - (active.get(r.reviewId) ?? Number.NaN),
      );
      burstWatch.stop();
      await burstWorker.stop();
      return { latencies, pickup, processing, cpuPerJob };
    };
    const { latencies: workerLatencies, pickup, processing, cpuPerJob } = await burstWith('burst', image);
    const variants: { label: string; latencies: number[]; cpuPerJob: number }[] = [];
    for (const [i, set] of FLAG_SETS.entries()) {
      const words = set.split(/\s+/).filter(Boolean);
      const isEnv = (w: string) => /^[A-Z_]+=/.test(w);
      const env = Object.fromEntries(words.filter(isEnv).map((w) => w.split('=', 2)));
      const command = [process.execPath, ...words.filter((w) => !isEnv(w)), image.script];
      const measured = await burstWith(`burst-variant-${i + 1}`, { command, env });
      variants.push({ label: set ? `worker with ${set}` : 'worker as plain node main.js', ...measured });
    }

    // 1. Burst: the baseline, the same calls from a bare loop, all at once like the burst.
    await namespaceFor(plane, 'burst-baseline');
    const baselineWatch = await watchJobs(plane, 'burst-baseline');
    const direct = new KubernetesClient(plane.adminKubeConfig(), 'burst-baseline');
    await dispatchDirectly(direct, reviewOf('warm'), github.url);
    const bare = Array.from({ length: PRS }, () => reviewOf('bare'));
    const bareStart = Date.now();
    await Promise.all(bare.map((review) => dispatchDirectly(direct, review, github.url)));
    await waitUntil(
      `${PRS} baseline Jobs`,
      async () => (bare.every((r) => baselineWatch.createdAt.has(r.reviewId)) ? true : undefined),
      {
        timeoutMs: 60_000,
        intervalMs: 20,
      },
    );
    const bareLatencies = bare.map((r) => baselineWatch.createdAt.get(r.reviewId)! - bareStart);
    baselineWatch.stop();

    const rate = (latencies: number[]) => (latencies.length / (Math.max(...latencies) / 1000)).toFixed(0);
    console.log(`\n1. ${PRS} PRs queued at once: enqueue -> Job created (watched)`);
    console.log(
      `   ${'worker'.padEnd(34)} p50 ${ms(percentile(workerLatencies, 50))}  p99 ${ms(percentile(workerLatencies, 99))}  ${rate(workerLatencies).padStart(5)} Jobs/s  ${cpuPerJob.toFixed(1)} ms CPU/Job`,
    );
    console.log(
      `   ${'  of which queue -> worker'.padEnd(34)} p50 ${ms(percentile(pickup, 50))}  p99 ${ms(percentile(pickup, 99))}`,
    );
    console.log(
      `   ${'  of which worker -> Job'.padEnd(34)} p50 ${ms(percentile(processing, 50))}  p99 ${ms(percentile(processing, 99))}`,
    );
    for (const v of variants) {
      console.log(
        `   ${v.label.padEnd(34)} p50 ${ms(percentile(v.latencies, 50))}  p99 ${ms(percentile(v.latencies, 99))}  ${rate(v.latencies).padStart(5)} Jobs/s  ${v.cpuPerJob.toFixed(1)} ms CPU/Job`,
      );
    }
    console.log(
      `   ${'baseline (bare loop, same client)'.padEnd(34)} p50 ${ms(percentile(bareLatencies, 50))}  p99 ${ms(percentile(bareLatencies, 99))}  ${rate(bareLatencies).padStart(5)} Jobs/s`,
    );
    console.log('   targets: p50 < 150 ms, p99 < 500 ms');
    for (const line of throughput) console.log(line);
  } finally {
    await Promise.all(workers.map((w) => w.stop()));
    await queue.close();
    producer.disconnect();
    await Promise.all([plane.stop(), redis.stop(), github.stop()]);
    if (process.env.BENCH_KEEP) console.error(`logs kept in ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }
}

await main();
