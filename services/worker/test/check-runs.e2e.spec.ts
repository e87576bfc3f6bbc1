// A review's check run from the second it is accepted: the worker creates it queued before the
// review runs (while it waits behind another review of its PR), the reviewer moves that same run
// on, and the worker concludes it by id when no review can run. Real Redis and BullMQ, the real
// reviewer as a local process, the GitHub fake.
import type { ReviewRequest } from '@kritik/core';
import { startRedis, type TestRedis, waitUntil } from '@kritik/testing';
import { type LeaseHolder, PrLeases } from '../src/scheduling/pr-lease.js';
import { prRefOf } from '../src/scheduling/scheduling-gate.js';
import { Producer, startLocalWorker, type WorkerUnderTest } from './support/worker-app.js';
import {
  type Fakes,
  OWNER,
  openPullRequest,
  pushCommit,
  REPO,
  reviewRequestFor,
  shaOf,
  startFakes,
} from './support/world.js';

jest.setTimeout(120_000);

describe('the check run of a review', () => {
  let redis: TestRedis;
  let fakes: Fakes;
  let producer: Producer;

  beforeAll(async () => {
    [redis, fakes] = await Promise.all([startRedis(), startFakes()]);
  });
  afterAll(async () => {
    await Promise.all([redis?.stop(), fakes?.stop()]);
  });
  beforeEach(async () => {
    producer = new Producer(redis.url);
    await producer.redis.flushall();
  });
  afterEach(() => producer.close());

  const start = (command?: string[]): Promise<WorkerUnderTest> => startLocalWorker(redis.url, fakes, command);

  const runsOf = (review: ReviewRequest, owner = OWNER, repo = REPO) =>
    fakes.github.checkRuns(owner, repo, review.headSha);
  const queuedRun = (review: ReviewRequest) =>
    waitUntil('the queued check run', async () => runsOf(review).find((r) => r.status === 'queued'), {
      timeoutMs: 10_000,
      intervalMs: 50,
    });
  /** How each check run of the review was created: concluding by id creates none. */
  const created = (review: ReviewRequest) =>
    fakes.github
      .requestsTo({ method: 'POST', path: /\/check-runs$/ })
      .map((r) => r.body as { head_sha: string; status?: string })
      .filter((b) => b.head_sha === review.headSha)
      .map((b) => b.status);
  const pullReads = (review: ReviewRequest) =>
    fakes.github.requestsTo({ method: 'GET', path: new RegExp(`/pulls/${review.pr}$`) }).length;

  describe('while another review holds the PR', () => {
    let sut: WorkerUnderTest;
    let leases: PrLeases;
    const other: LeaseHolder = { reviewId: 'b'.repeat(20), owner: 'another-worker:1' };

    beforeAll(async () => {
      sut = await start();
      leases = sut.app.get(PrLeases);
    });
    afterAll(() => sut.close());

    it('is queued before the review runs, and the reviewer concludes that same run', async () => {
      const review = openPullRequest(fakes.github, 'held');
      await leases.acquire(prRefOf(review), other, 60_000);
      await producer.enqueue(review);

      const queued = await queuedRun(review);
      await new Promise((r) => setTimeout(r, 500));
      expect(pullReads(review)).toBe(0);
      expect(runsOf(review)).toEqual([expect.objectContaining({ id: queued.id, status: 'queued' })]);

      await leases.release(prRefOf(review), other);
      expect(await producer.ended(review.reviewId)).toMatchObject({
        status: 'posted',
        result: { checkRunId: queued.id, checkConcluded: true },
      });
      expect(runsOf(review)).toEqual([
        expect.objectContaining({ id: queued.id, status: 'completed', conclusion: 'neutral' }),
      ]);
    });

    it('ends cancelled when a newer commit supersedes it while it waits', async () => {
      const older = openPullRequest(fakes.github, 'waiting');
      await leases.acquire(prRefOf(older), other, 60_000);
      await producer.enqueue(older);
      const queued = await queuedRun(older);
      const newer = pushCommit(fakes.github, older, 'waiting-2');
      await producer.enqueue(newer);

      expect(await producer.ended(older.reviewId)).toMatchObject({
        status: 'skipped',
        reason: `superseded by ${newer.headSha.slice(0, 12)}`,
      });
      expect(runsOf(older)).toEqual([
        expect.objectContaining({ id: queued.id, status: 'completed', conclusion: 'cancelled' }),
      ]);
      expect(runsOf(older)[0]!.output.summary).toBe(`superseded by ${newer.headSha}`);

      await leases.release(prRefOf(older), other);
      expect(await producer.ended(newer.reviewId)).toMatchObject({ status: 'posted' });
      expect(runsOf(newer)).toEqual([expect.objectContaining({ status: 'completed', conclusion: 'neutral' })]);
    });
  });

  it('is concluded failure by id when the reviewer cannot be started', async () => {
    const sut = await start([`/nonexistent/kritik-reviewer-${process.pid}`, 'job']);
    try {
      const review = openPullRequest(fakes.github, 'no-start');
      await producer.enqueue(review);

      const record = await producer.ended(review.reviewId);
      expect(record).toMatchObject({ status: 'failed', reason: expect.stringContaining('cannot start the reviewer') });
      expect(runsOf(review)).toEqual([expect.objectContaining({ status: 'completed', conclusion: 'failure' })]);
      expect(runsOf(review)[0]!.output.summary).toContain('cannot start the reviewer');
      expect(created(review)).toEqual(['queued']);
    } finally {
      await sut.close();
    }
  });

  it('is concluded failure by id when GitHub refuses the review’s token', async () => {
    // The App lost `contents: read` in this installation: the review's token cannot be minted,
    // a token that only writes check runs still can.
    const owner = 'narrow';
    fakes.github.addRepo(owner, REPO, { files: { main: { 'README.md': '# web\n' } } });
    fakes.github.addInstallation({
      id: 99,
      account: owner,
      permissions: { metadata: 'read', pull_requests: 'write', checks: 'write' },
    });
    const headSha = shaOf('narrow-head');
    fakes.github.addPullRequest({
      owner,
      repo: REPO,
      number: 1,
      base: { ref: 'main', sha: shaOf('narrow-base') },
      head: { ref: 'feature', sha: headSha },
      files: [{ filename: 'src/app.ts', patch: '@@ -0,0 +1 @@\n+export {};' }],
    });
    const review: ReviewRequest = { ...reviewRequestFor(1, headSha), repo: { owner, name: REPO }, installationId: 99 };
    const sut = await start();
    try {
      await producer.enqueue(review);

      const record = await producer.ended(review.reviewId);
      expect(record).toMatchObject({ status: 'failed', reason: expect.stringContaining('permissions') });
      expect(runsOf(review, owner)).toEqual([expect.objectContaining({ status: 'completed', conclusion: 'failure' })]);
      expect(runsOf(review, owner)[0]!.output.summary).toBe(record.reason);
      expect(created(review)).toEqual(['queued']);
    } finally {
      await sut.close();
    }
  });
});
