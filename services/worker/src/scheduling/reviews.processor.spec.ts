import { REVIEWS_QUEUE, type ReviewRequest } from '@kritik/core';
import { waitUntil } from '@kritik/testing';
import { type Job, Queue, Worker } from 'bullmq';
import { reviewers, type SchedulingParts, startSchedulingParts } from '../../test/support/scheduling-parts.js';
import { OWNER, openPullRequest, pushCommit, REPO } from '../../test/support/world.js';
import { RunnerAccess } from '../health/runner-access.service.js';
import { ReviewsProcessor } from './reviews.processor.js';
import { prRefOf } from './scheduling-gate.js';

describe(ReviewsProcessor.name, () => {
  let parts: SchedulingParts;
  let queue: Queue;
  let consumer: Worker | undefined;

  beforeAll(async () => {
    parts = await startSchedulingParts();
    queue = new Queue(REVIEWS_QUEUE, { connection: parts.redis });
  });
  afterAll(async () => {
    await queue?.close();
    await parts?.stop();
  });
  beforeEach(() => parts.flush());
  afterEach(async () => {
    await consumer?.close(true);
    consumer = undefined;
  });

  /** The processor under test, consuming the queue with a reviewer that runs `script`. */
  function consume(script: string): ReviewsProcessor {
    const { execution } = parts.execution(script);
    const sut = new ReviewsProcessor(
      parts.config,
      parts.logger,
      execution,
      parts.gate,
      parts.lifecycle,
      new RunnerAccess(parts.config, parts.logger),
      parts.metrics,
      parts.hosts,
    );
    consumer = new Worker(REVIEWS_QUEUE, (job, token) => sut.process(job, token), {
      connection: parts.redis,
      lockDuration: parts.config.scheduling.lockDurationMs,
    });
    return sut;
  }

  async function enqueue(review: ReviewRequest): Promise<Job> {
    await parts.lifecycle.record(review);
    return queue.add('review', review, { jobId: review.reviewId });
  }

  const settled = (job: Job) =>
    waitUntil(
      `queue entry ${job.id} to settle`,
      async () => {
        const state = await queue.getJobState(job.id!);
        if (state !== 'completed' && state !== 'failed') return undefined;
        const done = (await queue.getJob(job.id!))!;
        return { state, value: done.returnvalue as unknown, failedReason: done.failedReason, data: done.data };
      },
      { timeoutMs: 15_000, intervalMs: 50 },
    );

  const runsOf = (review: ReviewRequest) => parts.fakes.github.checkRuns(OWNER, REPO, review.headSha);

  it('runs a review, its queued check run kept with the queue entry and concluded at the end', async () => {
    const review = openPullRequest(parts.fakes.github, 'proc-run');
    consume(reviewers.reports());

    const end = await settled(await enqueue(review));

    expect(end).toMatchObject({ state: 'completed', value: { kind: 'finished', status: 'posted' } });
    expect(end.data.checkRunId).toEqual(expect.any(Number));
    expect(runsOf(review)).toEqual([
      expect.objectContaining({ id: end.data.checkRunId, status: 'completed', conclusion: 'neutral' }),
    ]);
    expect((await parts.lifecycle.get(review.reviewId))?.status).toBe('posted');
  });

  it('records a review queued behind a newer head as superseded without running it', async () => {
    const older = openPullRequest(parts.fakes.github, 'proc-stale');
    const newer = { ...pushCommit(parts.fakes.github, older, 'proc-stale-2'), enqueuedAt: new Date().toISOString() };
    await parts.lifecycle.offerHead(newer);
    consume(reviewers.crashes());

    const end = await settled(await enqueue({ ...older, enqueuedAt: new Date(Date.now() - 60_000).toISOString() }));

    expect(end).toMatchObject({ state: 'completed', value: { kind: 'superseded' } });
    expect(await parts.lifecycle.get(older.reviewId)).toMatchObject({
      status: 'skipped',
      reason: `superseded by ${newer.headSha.slice(0, 12)}`,
    });
    expect(runsOf(older)).toEqual([]);
  });

  it('puts a review back in the delayed set while another review of its PR runs, then runs it', async () => {
    const review = openPullRequest(parts.fakes.github, 'proc-busy');
    const other = { reviewId: 'another-review', owner: 'another-worker:7' };
    await parts.leases.acquire(prRefOf(review), other, 60_000);
    consume(reviewers.reports());

    const job = await enqueue(review);
    await waitUntil(
      'the review to be deferred',
      async () =>
        (await parts.metrics.deferred.get()).values.some((v) => v.labels.why === 'pr_busy') ? true : undefined,
      { timeoutMs: 10_000, intervalMs: 50 },
    );
    expect((await parts.lifecycle.get(review.reviewId))?.status).toBe('queued');
    expect(runsOf(review)).toEqual([expect.objectContaining({ status: 'queued' })]);

    await parts.leases.release(prRefOf(review), other);
    expect(await settled(job)).toMatchObject({ state: 'completed', value: { kind: 'finished', status: 'posted' } });
    // One check run for the review however often it was deferred.
    expect(runsOf(review)).toHaveLength(1);
  });

  it('fails an entry that is not a review and records nothing', async () => {
    consume(reviewers.reports());
    const job = await queue.add('review', { reviewId: '<script>alert(1)</script>', repo: 'not-a-repo' });

    expect(await settled(job)).toMatchObject({
      state: 'failed',
      failedReason: expect.stringContaining('invalid review job'),
    });
    expect(await parts.redis.keys('kritik:review:*')).toEqual([]);
  });

  it('answers an entry of a review that ended as a duplicate, leaving its PR head alone', async () => {
    const review = openPullRequest(parts.fakes.github, 'proc-ended');
    await parts.lifecycle.record(review);
    await parts.lifecycle.end(review, { status: 'failed', reason: 'ended earlier' });
    consume(reviewers.reports());

    const end = await settled(await queue.add('review', review, { jobId: review.reviewId }));

    expect(end).toMatchObject({ state: 'completed', value: { kind: 'duplicate', status: 'failed' } });
    expect(await parts.lifecycle.head(review)).toBeUndefined();
    expect(runsOf(review)).toEqual([]);
  });
});
