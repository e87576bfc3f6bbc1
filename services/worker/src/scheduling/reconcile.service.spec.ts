import { REVIEWS_QUEUE, type ReviewRequest } from '@kritik/core';
import {
  type ControlPlane,
  postedResult,
  startControlPlane,
  startTestKubelet,
  type TestKubelet,
  waitUntil,
} from '@kritik/testing';
import { BatchV1Api } from '@kubernetes/client-node';
import { Queue } from 'bullmq';
import { reviewers, type SchedulingParts, startSchedulingParts } from '../../test/support/scheduling-parts.js';
import {
  jobsNamespace,
  OWNER,
  openPullRequest,
  pushCommit,
  REPO,
  reviewJobSettings,
} from '../../test/support/world.js';
import { RunnerAccess } from '../health/runner-access.service.js';
import { KubernetesClient } from '../kubernetes/kubernetes.client.js';
import { KubernetesJobRunner } from '../kubernetes/kubernetes-job.runner.js';
import { reviewJobName } from '../kubernetes/review-job.builder.js';
import { Reconciler } from './reconcile.service.js';
import { prRefOf } from './scheduling-gate.js';

jest.setTimeout(60_000);

const NAMESPACE = 'reconcile-jobs';

describe(Reconciler.name, () => {
  let plane: ControlPlane;
  let kubelet: TestKubelet;
  let parts: SchedulingParts;
  let queue: Queue;
  let runner: KubernetesJobRunner;
  let sut: Reconciler;

  /** Review Jobs whose reviewer process runs `script`, as a worker that died would have left them. */
  const runnerFor = (script: string) =>
    new KubernetesJobRunner(new KubernetesClient(plane.adminKubeConfig(), NAMESPACE), {
      settings: reviewJobSettings(parts.fakes.anthropic, { command: [process.execPath, '-e', script] }),
      deadlineMarginSeconds: 5,
    });

  beforeAll(async () => {
    [plane, parts] = await Promise.all([startControlPlane(), startSchedulingParts()]);
    await jobsNamespace(plane, NAMESPACE);
    kubelet = await startTestKubelet(plane.adminKubeConfig(), { namespaces: [NAMESPACE] });
    queue = new Queue(REVIEWS_QUEUE, { connection: parts.redis });
    runner = runnerFor(reviewers.hangs());
    const { execution } = parts.execution(runner);
    sut = new Reconciler(
      parts.config,
      parts.logger,
      runner,
      queue,
      parts.lifecycle,
      parts.gate,
      execution,
      new RunnerAccess(parts.config, parts.logger),
      parts.metrics,
    );
  });
  afterAll(async () => {
    await queue?.close();
    await kubelet?.stop();
    await Promise.all([plane?.stop(), parts?.stop()]);
  });
  beforeEach(() => parts.flush());

  const reconcile = async () => {
    const report = await sut.reconcile();
    await sut.settled();
    return report;
  };

  /** Starts the review's Job and stops following it, as a worker that died leaves it. */
  async function orphan(review: ReviewRequest, script = reviewers.hangs()): Promise<void> {
    const detach = new AbortController();
    const { token } = await parts.github.repositoryToken(review.repo, review.installationId);
    const outcome = await runnerFor(script).run({
      payload: { ...review, apiUrl: parts.fakes.github.url },
      token,
      model: { kind: 'direct' },
      signal: new AbortController().signal,
      detach: detach.signal,
      onDispatched: () => detach.abort(),
    });
    expect(outcome).toEqual({ kind: 'detached' });
    await parts.lifecycle.record(review);
    await parts.lifecycle.start(review);
  }

  const jobGone = (review: ReviewRequest) =>
    waitUntil(
      `the Job of ${review.reviewId} to be deleted`,
      () =>
        plane
          .adminKubeConfig()
          .makeApiClient(BatchV1Api)
          .readNamespacedJob({ namespace: NAMESPACE, name: reviewJobName(review.reviewId) })
          .then(
            () => undefined,
            () => true,
          ),
      { timeoutMs: 20_000, intervalMs: 100 },
    );

  it('leaves a Job alone while its review has a live queue entry', async () => {
    const review = openPullRequest(parts.fakes.github, 'rec-live');
    await orphan(review);
    await queue.add('review', review, { jobId: review.reviewId, delay: 60_000 });

    expect((await reconcile()).actions[review.reviewId]).toBe('live');
    await runner.discard(review.reviewId);
  });

  it('deletes a running Job whose review has ended', async () => {
    const review = openPullRequest(parts.fakes.github, 'rec-ended');
    await orphan(review);
    await parts.lifecycle.end(review, { status: 'failed', reason: 'ended elsewhere' });

    expect((await reconcile()).actions[review.reviewId]).toBe('deleted');
    await jobGone(review);
    expect(await parts.lifecycle.get(review.reviewId)).toMatchObject({ status: 'failed', reason: 'ended elsewhere' });
  });

  it('deletes an orphan a newer head superseded, recording it skipped and cancelling its check run', async () => {
    const queued = openPullRequest(parts.fakes.github, 'rec-superseded');
    const review = { ...queued, checkRunId: await parts.checkRuns.queue(queued) };
    await orphan(review);
    const newer = {
      ...pushCommit(parts.fakes.github, review, 'rec-superseded-2'),
      enqueuedAt: new Date().toISOString(),
    };
    await parts.lifecycle.offerHead(newer);

    expect((await reconcile()).actions[review.reviewId]).toBe('deleted');
    await jobGone(review);
    expect(await parts.lifecycle.get(review.reviewId)).toMatchObject({
      status: 'skipped',
      reason: `superseded by ${newer.headSha.slice(0, 12)}`,
    });
    expect(parts.fakes.github.checkRuns(OWNER, REPO, review.headSha)).toEqual([
      expect.objectContaining({ id: review.checkRunId, status: 'completed', conclusion: 'cancelled' }),
    ]);
  });

  it('waits for a later pass while another review holds the PR', async () => {
    const review = openPullRequest(parts.fakes.github, 'rec-busy');
    await orphan(review);
    const other = { reviewId: 'another-review', owner: 'another-worker:1' };
    await parts.leases.acquire(prRefOf(review), other, 60_000);

    expect((await reconcile()).actions[review.reviewId]).toBe('busy');
    expect((await parts.lifecycle.get(review.reviewId))?.status).toBe('running');
    await runner.discard(review.reviewId);
  });

  it('adopts an orphan nobody holds and records the result its Job reports', async () => {
    const review = openPullRequest(parts.fakes.github, 'rec-adopt');
    await orphan(review, reviewers.reports());

    expect((await reconcile()).actions[review.reviewId]).toBe('adopted');
    expect(await parts.lifecycle.get(review.reviewId)).toMatchObject({ status: 'posted', result: postedResult() });
    expect(await parts.gate.holderOf(review)).toBeUndefined();
  });
});
