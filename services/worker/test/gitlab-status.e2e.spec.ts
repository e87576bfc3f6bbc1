// The `kritik` commit status of a GitLab review from the second the worker accepts it: pending on
// the head while it waits, then concluded by the worker wherever it concludes GitHub's check runs
// (superseded while waiting, a reviewer that cannot start). Real Redis and BullMQ, the worker
// configured with a GitLab token, the GitLab fake reached through the worker's GitLab client.
import { type ReviewRequest, reviewIdFor } from '@kritik/core';
import { type FakeGitLab, type TestRedis, waitUntil } from '@kritik/testing';
import { type LeaseHolder, PrLeases } from '../src/scheduling/pr-lease.js';
import { prRefOf } from '../src/scheduling/scheduling-gate.js';
import { Producer, startLocalWorker, type WorkerUnderTest } from './support/worker-app.js';
import { type Fakes, GITLAB_PROJECT, GITLAB_REPO, shaOf, startGitLabWorld } from './support/world.js';

jest.setTimeout(120_000);

const PROJECT = GITLAB_PROJECT;
const repo = GITLAB_REPO;

describe('the kritik commit status of a GitLab review', () => {
  let redis: TestRedis;
  let fakes: Fakes;
  let gitlab: FakeGitLab;
  let producer: Producer;
  let iid = 1;

  beforeAll(async () => {
    ({ redis, fakes, gitlab } = await startGitLabWorld());
  });
  afterAll(async () => {
    await Promise.all([redis?.stop(), fakes?.stop(), gitlab?.stop()]);
  });
  beforeEach(async () => {
    producer = new Producer(redis.url);
    gitlab.resetTraffic();
    await producer.redis.flushall();
  });
  afterEach(() => producer.close());

  const start = (command?: string[]): Promise<WorkerUnderTest> =>
    startLocalWorker(redis.url, fakes, command, { gitlab: { url: gitlab.url, token: gitlab.token } });

  function mergeRequest(label: string): ReviewRequest {
    const number = iid++;
    const headSha = shaOf(`gitlab-${label}`);
    gitlab.addMergeRequest({ project: PROJECT, iid: number, baseSha: shaOf(`gitlab-base-${label}`), headSha });
    return review(number, headSha);
  }

  const review = (pr: number, headSha: string): ReviewRequest => ({
    reviewId: reviewIdFor('gitlab', repo, pr, headSha),
    platform: 'gitlab',
    repo,
    pr,
    headSha,
    trigger: 'synchronize',
    enqueuedAt: new Date().toISOString(),
  });

  const statesOf = (r: ReviewRequest) => gitlab.statuses(PROJECT, r.headSha).map((s) => s.status);
  const pending = (r: ReviewRequest) =>
    waitUntil('the pending status', async () => (statesOf(r).includes('pending') ? true : undefined), {
      timeoutMs: 10_000,
      intervalMs: 50,
    });

  it('is pending while the review waits, and ends canceled when a newer push supersedes it', async () => {
    const sut = await start();
    const other: LeaseHolder = { reviewId: 'b'.repeat(20), owner: 'another-worker:1' };
    const leases = new PrLeases(producer.redis);
    try {
      const older = mergeRequest('waiting');
      await leases.acquire(prRefOf(older), other, 60_000);
      await producer.enqueue(older);
      await pending(older);
      const newerSha = shaOf('gitlab-waiting-2');
      gitlab.pushHead(PROJECT, older.pr, newerSha, []);
      await producer.enqueue(review(older.pr, newerSha));

      expect(await producer.ended(older.reviewId)).toMatchObject({
        status: 'skipped',
        reason: `superseded by ${newerSha.slice(0, 12)}`,
      });
      const [status, ...more] = gitlab.statuses(PROJECT, older.headSha);
      expect(more).toEqual([]);
      expect(status).toMatchObject({ name: 'kritik', status: 'canceled' });
      expect(status!.description).toContain(newerSha);
      await leases.release(prRefOf(older), other);
    } finally {
      await sut.close();
    }
  });

  it('is concluded failed by the worker when the reviewer cannot be started', async () => {
    const sut = await start([`/nonexistent/kritik-reviewer-${process.pid}`, 'job']);
    try {
      const r = mergeRequest('no-start');
      await producer.enqueue(r);

      const record = await producer.ended(r.reviewId);

      expect(record).toMatchObject({ status: 'failed', reason: expect.stringContaining('cannot start the reviewer') });
      const [status, ...more] = gitlab.statuses(PROJECT, r.headSha);
      expect(more).toEqual([]);
      expect(status).toMatchObject({ name: 'kritik', status: 'failed' });
      expect(status!.description).toContain('cannot start the reviewer');
      expect(status!.target_url).toBe(`${gitlab.url}/${PROJECT}/-/merge_requests/${r.pr}`);
      const posted = gitlab
        .requestsTo('POST /api/v4/projects/{id}/statuses/{sha}')
        .filter((q) => q.path.endsWith(r.headSha))
        .map((q) => (q.body as { state: string }).state);
      expect(posted).toEqual(['pending', 'failed']);
    } finally {
      await sut.close();
    }
  });
});
