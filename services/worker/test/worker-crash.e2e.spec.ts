// `kill -9` of the worker process in the middle of a review: after a restart the review ends with
// exactly one posted review for its SHA, its Job adopted rather than run again. The worker runs
// as a real process (dist/main.js) configured through env and KRITIK_CONFIG like in the chart.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type ControlPlane,
  FAST_SCHEDULING,
  type ManagedProcess,
  repoRoot,
  startControlPlane,
  startProcess,
  startRedis,
  startTestKubelet,
  type TestKubelet,
  type TestRedis,
  waitUntil,
} from '@kritik/testing';
import { BatchV1Api, CoreV1Api } from '@kubernetes/client-node';
import { stringify } from 'yaml';
import { reviewJobName } from '../src/kubernetes/review-job.builder.js';
import { Producer } from './support/worker-app.js';
import {
  APP_ID,
  type Fakes,
  jobsNamespace,
  OWNER,
  openPullRequest,
  REPO,
  reviewJobSettings,
  startFakes,
  workerIdentity,
} from './support/world.js';

jest.setTimeout(180_000);

const NAMESPACE = 'crash-jobs';

describe('worker killed mid-review', () => {
  let plane: ControlPlane;
  let redis: TestRedis;
  let kubelet: TestKubelet;
  let fakes: Fakes;
  let dir: string;
  let env: NodeJS.ProcessEnv;
  const workers: ManagedProcess[] = [];
  const main = join(repoRoot(), 'services/worker/dist/main.js');

  beforeAll(async () => {
    if (!existsSync(main)) throw new Error(`${main} is missing: run \`npm run build\` first`);
    [plane, redis, fakes] = await Promise.all([startControlPlane(), startRedis(), startFakes()]);
    await jobsNamespace(plane, NAMESPACE);
    kubelet = await startTestKubelet(plane.adminKubeConfig(), { namespaces: [NAMESPACE] });
    const identity = await workerIdentity(plane, NAMESPACE, 'kritik-worker');
    dir = mkdtempSync(join(tmpdir(), 'kritik-worker-crash-'));
    const kubeconfig = join(dir, 'kubeconfig');
    writeFileSync(kubeconfig, identity.kubeConfig.exportConfig(), { mode: 0o600 });
    const config = join(dir, 'config.yaml');
    writeFileSync(
      config,
      stringify({
        reviewJob: reviewJobSettings(fakes.anthropic),
        scheduling: FAST_SCHEDULING,
        kubernetes: { accessCheckIntervalSeconds: 1, deadlineMarginSeconds: 5 },
      }),
    );
    env = {
      PATH: process.env.PATH,
      PORT: '0',
      REDIS_URL: redis.url,
      GITHUB_APP_ID: APP_ID,
      GITHUB_APP_PRIVATE_KEY: fakes.privateKey,
      GITHUB_API_URL: fakes.github.url,
      KRITIK_RUNNER: 'kubernetes',
      KRITIK_JOBS_NAMESPACE: NAMESPACE,
      KUBECONFIG: kubeconfig,
      KRITIK_CONFIG: config,
      KRITIK_LOG_LEVEL: 'debug',
    };
  });
  afterAll(async () => {
    await Promise.all(workers.map((w) => w.stop(0)));
    await kubelet?.stop();
    await Promise.all([plane?.stop(), redis?.stop(), fakes?.stop()]);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const startWorkerProcess = () => {
    const proc = startProcess(`worker-${workers.length + 1}`, process.execPath, [main], {
      logFile: join(dir, `worker-${workers.length + 1}.log`),
      env,
    });
    workers.push(proc);
    return proc;
  };

  /**
   * Starts a review, stops the worker with `stop` while the reviewer waits on the model, starts
   * another worker and returns what the review ended as, with the Job as it was before the stop.
   */
  const stopMidReview = async (label: string, stop: (worker: ManagedProcess) => Promise<void>) => {
    const producer = new Producer(redis.url);
    const batch = plane.adminKubeConfig().makeApiClient(BatchV1Api);
    const core = plane.adminKubeConfig().makeApiClient(CoreV1Api);
    try {
      const review = openPullRequest(fakes.github, label);
      const name = reviewJobName(review.reviewId);
      // The reviewer is mid-review (waiting on the model) when the worker stops.
      fakes.anthropic.delayNext(6_000, 1, 'POST /v1/messages');
      const asked = fakes.anthropic.messageRequests().length;
      const first = startWorkerProcess();
      await producer.enqueue(review);
      await waitUntil(
        'the reviewer to wait on the model',
        async () => (fakes.anthropic.messageRequests().length > asked ? true : undefined),
        { timeoutMs: 30_000, intervalMs: 50, proc: first },
      );
      const job = await batch.readNamespacedJob({ namespace: NAMESPACE, name });
      await stop(first);
      const stoppedAs = await producer.record(review.reviewId);

      const second = startWorkerProcess();
      const record = await waitUntil(
        'the review to end after the restart',
        async () => {
          const r = await producer.record(review.reviewId);
          return r && ['posted', 'skipped', 'failed'].includes(r.status) ? r : undefined;
        },
        { timeoutMs: 60_000, intervalMs: 100, proc: second },
      );
      const jobAfter = await batch.readNamespacedJob({ namespace: NAMESPACE, name });
      const pods = await core.listNamespacedPod({
        namespace: NAMESPACE,
        labelSelector: `batch.kubernetes.io/job-name=${name}`,
      });
      await second.stop();
      return { review, record, stoppedAs, job, jobAfter, pods: pods.items, secondLog: second.tail(400), first };
    } finally {
      await producer.close();
    }
  };

  it('ends with exactly one posted review for the SHA after kill -9 and a restart', async () => {
    const sut = await stopMidReview('crash', (worker) => worker.stop(0));

    expect((await sut.first.exited).signal).toBe('SIGKILL');
    expect(sut.stoppedAs?.status).toBe('running');
    expect(sut.record.status).toBe('posted');
    expect(fakes.github.reviews(OWNER, REPO, sut.review.pr)).toHaveLength(1);
    // The Job of the first worker was adopted, not created again, and its pod ran once.
    expect(sut.jobAfter.metadata?.uid).toBe(sut.job.metadata?.uid);
    expect(sut.pods).toHaveLength(1);
    expect(sut.secondLog).toMatch(/adopted the running review/);
  });

  it('hands a running review to the next worker on SIGTERM without ending it', async () => {
    const sut = await stopMidReview('sigterm', (worker) => worker.stop(10_000));

    expect((await sut.first.exited).signal).not.toBe('SIGKILL');
    expect(sut.stoppedAs?.status).toBe('running');
    expect(sut.record.status).toBe('posted');
    expect(fakes.github.reviews(OWNER, REPO, sut.review.pr)).toHaveLength(1);
    expect(sut.jobAfter.metadata?.uid).toBe(sut.job.metadata?.uid);
    expect(sut.pods).toHaveLength(1);
    // Handed back through the wait list, not left for stalled-job recovery.
    expect(sut.secondLog).not.toMatch(/recovered a review whose worker stopped/);
    expect(sut.secondLog).toMatch(/adopted the running review/);
  });
});
