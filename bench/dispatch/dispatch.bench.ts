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
//   npm run bench:dispatch -w bench [-- --prs 200 --reviews 1000 --flags ";--max-semi-space-size=4"]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ENV, LABELS, type ReviewRequest, redisKeys, reviewRecordSchema } from '@kritik/core';
import { type ControlPlane, type ManagedProcess, startTestKubelet, waitUntil } from '@kritik/testing';
import { KubernetesClient, KubernetesJobRunner, REVIEW_SELECTOR, reviewJobName } from '@kritik/worker';
import type { V1Job } from '@kubernetes/client-node';
import type { Redis } from 'ioredis';
import { cpuMs, numberOption, percentile } from '../measure.js';
import {
  type BenchWorld,
  flagSets,
  image,
  REPOS,
  reviewOf,
  type Start,
  standInSettings,
  startBenchWorld,
  startWorkerProcess,
} from './setup.js';

const PRS = numberOption('prs', 200);
const REVIEWS = numberOption('reviews', 1_000);
const BASELINE_REVIEWS = numberOption('baseline-reviews', 200);
const CONCURRENCY = 20;

// Past the end of the run: TTL deletions of the throughput phase's Jobs would load the burst phase.
const settings = standInSettings({ ttlSecondsAfterFinished: 7200 });

const ms = (n: number) => `${n.toFixed(0)} ms`.padStart(8);

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

/** What the worker's runner does before following a Job, called on the runner itself. */
async function dispatchDirectly(client: KubernetesClient, review: ReviewRequest, apiUrl: string) {
  const runner = new KubernetesJobRunner(client, { settings, deadlineMarginSeconds: 60 });
  return (await runner.dispatch({ ...review, apiUrl }, { token: 'ghs_bench', model: { kind: 'direct' } })).job;
}

function startWorker(
  world: BenchWorld,
  dir: string,
  namespace: string,
  scheduling: Record<string, unknown>,
  start: Start = image,
): ManagedProcess {
  return startWorkerProcess(
    world,
    dir,
    namespace,
    start,
    { reviewJob: settings, scheduling },
    {
      [ENV.port]: '0',
      [ENV.runner]: 'kubernetes',
      [ENV.jobsNamespace]: namespace,
    },
  );
}

async function finalStatuses(redis: Redis, ids: string[]) {
  const raws = await redis.mget(ids.map((id) => redisKeys.review(id)));
  return raws.map((raw) => (raw ? reviewRecordSchema.parse(JSON.parse(raw)) : undefined));
}

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'kritik-bench-dispatch-'));
  const world = await startBenchWorld(true);
  const { producer, queue, github } = world;
  const plane = world.plane!;
  const workers: ManagedProcess[] = [];
  try {
    console.log(`dispatch bench (${process.arch}, node ${process.version}, harness control plane)`);
    const throughput: string[] = [];

    if (REVIEWS > 0) {
      // 2. Throughput with the kubelet: the worker at concurrency 20. Measured first, so that the
      // burst's never-finishing Jobs do not load the Job controller meanwhile.
      await world.jobsNamespace('reviews', settings);
      await world.jobsNamespace('reviews-baseline', settings);
      const kubelet = await startTestKubelet(plane.adminKubeConfig(), { namespaces: ['reviews', 'reviews-baseline'] });
      try {
        const reviewsWatch = await watchJobs(plane, 'reviews');
        const throughputWorker = startWorker(world, dir, 'reviews', {
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
      await world.jobsNamespace(namespace, settings);
      const burstWatch = await watchJobs(plane, namespace);
      // The Jobs never finish (no kubelet here), so the warm-up reviews keep their slots.
      const burstWorker = startWorker(
        world,
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
        (await queue.getJobs(['active'])).map((j) => [(j.data as ReviewRequest).reviewId, j.processedOn ?? 0]),
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
    for (const [i, { label, start }] of flagSets().entries()) {
      variants.push({ label, ...(await burstWith(`burst-variant-${i + 1}`, start)) });
    }

    // 1. Burst: the baseline, the same calls from a bare loop, all at once like the burst.
    await world.jobsNamespace('burst-baseline', settings);
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
    await world.stop();
    if (process.env.BENCH_KEEP) console.error(`logs kept in ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }
}

await main();
