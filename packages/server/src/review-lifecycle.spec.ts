import { REVIEW_OUTCOMES, type ReviewOutcome, type ReviewRequest, reviewIdFor } from '@kritik/core';
import { startRedis, type TestRedis } from '@kritik/testing';
import { Redis } from 'ioredis';
import { PrHeadStore } from './pr-head.store.js';
import { ReviewStore } from './review.store.js';
import { REVIEW_TRANSITIONS, ReviewLifecycle, supersedes } from './review-lifecycle.js';

const repo = { owner: 'acme', name: 'api' };
const sha = (n: number) => n.toString(16).padStart(40, '0');
const review = (pr: number, n: number, enqueuedAt = new Date(Date.UTC(2030, 0, 1, 0, 0, n))): ReviewRequest => ({
  reviewId: reviewIdFor('github', repo, pr, sha(n)),
  platform: 'github',
  repo,
  pr,
  headSha: sha(n),
  trigger: 'synchronize',
  enqueuedAt: enqueuedAt.toISOString(),
});

describe(ReviewLifecycle.name, () => {
  let server: TestRedis;
  let redis: Redis;
  let sut: ReviewLifecycle;

  const lifecycleOn = (connection: Redis) =>
    new ReviewLifecycle(new ReviewStore(connection), new PrHeadStore(connection));

  beforeAll(async () => {
    server = await startRedis();
    redis = new Redis(server.url);
    sut = lifecycleOn(redis);
  });
  afterAll(async () => {
    redis.disconnect();
    await server.stop();
  });
  beforeEach(() => redis.flushall());

  /** A review recorded and moved to `status` through the lifecycle. */
  async function reviewIn(status: 'queued' | 'running' | ReviewOutcome, n = 1): Promise<ReviewRequest> {
    const r = review(1, n);
    await sut.record(r);
    if (status === 'running') await sut.start(r);
    else if (status !== 'queued') await sut.end(r, { status, reason: `ended ${status}` });
    expect((await sut.get(r.reviewId))?.status).toBe(status);
    return r;
  }

  describe('record', () => {
    it('records a new review as queued', async () => {
      const r = review(1, 1);
      const { record, created } = await sut.record(r, new Date('2030-02-01T00:00:00Z'));
      expect(created).toBe(true);
      expect(record).toMatchObject({ id: r.reviewId, status: 'queued', timeline: [{ status: 'queued' }] });
    });

    it('leaves a review recorded before as it is', async () => {
      const r = await reviewIn('running');
      expect(await sut.record(r)).toMatchObject({ created: false, record: { status: 'running' } });
    });
  });

  describe('start', () => {
    it('moves a queued review to running', async () => {
      const r = await reviewIn('queued');
      expect(await sut.start(r)).toMatchObject({ started: true, record: { status: 'running' } });
    });

    it('starts a running review again when a worker adopts it', async () => {
      const r = await reviewIn('running');
      expect(await sut.start(r)).toMatchObject({ started: true, record: { status: 'running' } });
      expect((await sut.get(r.reviewId))?.timeline.map((t) => t.status)).toEqual(['queued', 'running', 'running']);
    });

    it.each(REVIEW_OUTCOMES)('refuses to start a review that ended %s', async (status) => {
      const r = await reviewIn(status);
      expect(await sut.start(r)).toEqual({ started: false, status });
      expect((await sut.get(r.reviewId))?.status).toBe(status);
    });

    it('records a review whose record is gone before starting it', async () => {
      const r = review(1, 9);
      expect(await sut.start(r)).toMatchObject({ started: true, record: { status: 'running' } });
      expect((await sut.get(r.reviewId))?.timeline.map((t) => t.status)).toEqual(['queued', 'running']);
    });
  });

  describe('end', () => {
    it.each(REVIEW_OUTCOMES)('ends a running review as %s with its reason', async (status) => {
      const r = await reviewIn('running');
      expect(await sut.end(r, { status, reason: 'why' })).toMatchObject({
        ok: true,
        record: { status, reason: 'why' },
      });
    });

    it.each(REVIEW_OUTCOMES)('ends a waiting review as %s without running it', async (status) => {
      const r = await reviewIn('queued');
      expect(await sut.end(r, { status })).toMatchObject({ ok: true, record: { status } });
    });

    it.each(REVIEW_OUTCOMES)('keeps the first ending of a review that ended %s', async (first) => {
      const r = await reviewIn(first);
      for (const status of REVIEW_OUTCOMES) {
        expect(await sut.end(r, { status, reason: 'later' })).toMatchObject({
          ok: false,
          reason: 'not-allowed',
          record: { status: first, reason: `ended ${first}` },
        });
      }
    });

    it('records a review whose record is gone before ending it', async () => {
      const r = review(1, 8);
      expect(await sut.end(r, { status: 'failed', reason: 'no token' })).toMatchObject({
        ok: true,
        record: { status: 'failed', reason: 'no token' },
      });
    });
  });

  describe('supersedeWaiting', () => {
    it('records a waiting review as skipped, superseded by the newer head', async () => {
      const r = await reviewIn('queued');
      expect(await sut.supersedeWaiting(r.reviewId, { headSha: 'c'.repeat(40) })).toBe(true);
      expect(await sut.get(r.reviewId)).toMatchObject({ status: 'skipped', reason: `superseded by ${'c'.repeat(12)}` });
    });

    it.each(['running', ...REVIEW_OUTCOMES] as const)('leaves a review that is %s alone', async (status) => {
      const r = await reviewIn(status);
      expect(await sut.supersedeWaiting(r.reviewId, { headSha: 'c'.repeat(40) })).toBe(false);
      expect((await sut.get(r.reviewId))?.status).toBe(status);
    });

    it('reports a missing record as not superseded', async () => {
      expect(await sut.supersedeWaiting(review(1, 7).reviewId, { headSha: 'c'.repeat(40) })).toBe(false);
    });
  });

  it('lets no move leave a final status', () => {
    for (const move of Object.values(REVIEW_TRANSITIONS)) {
      for (const status of REVIEW_OUTCOMES) expect(move.from).not.toContain(status);
    }
  });

  describe('the supersede rule', () => {
    const older = review(1, 1);
    const newer = review(1, 2);
    const headOf = (r: ReviewRequest) => ({ reviewId: r.reviewId, sha: r.headSha, at: Date.parse(r.enqueuedAt) });

    it('supersedes a review by another one enqueued later or at the same time', () => {
      expect(supersedes(headOf(newer), older)).toBe(true);
      expect(supersedes({ ...headOf(newer), at: Date.parse(older.enqueuedAt) }, older)).toBe(true);
    });

    it('never supersedes a review by itself, by an older one, or without a head', () => {
      expect(supersedes(headOf(older), older)).toBe(false);
      expect(supersedes(headOf(older), newer)).toBe(false);
      expect(supersedes(undefined, older)).toBe(false);
    });
  });

  describe('admit', () => {
    it('admits the first review of a pull request', async () => {
      expect(await sut.admit(review(1, 1))).toEqual({ admitted: true });
    });

    it('admits a review again (a deferred or recovered queue entry)', async () => {
      const r = review(1, 1);
      await sut.admit(r);
      expect(await sut.admit(r)).toEqual({ admitted: true });
    });

    it('refuses a review enqueued before the head, with the ending to record', async () => {
      const newer = review(1, 2);
      await sut.admit(newer);
      expect(await sut.admit(review(1, 1))).toEqual({
        admitted: false,
        by: { reviewId: newer.reviewId, sha: newer.headSha, at: Date.parse(newer.enqueuedAt) },
        ending: { status: 'skipped', reason: `superseded by ${newer.headSha.slice(0, 12)}` },
      });
    });

    it('tells a running review that a newer one became the head', async () => {
      const [older, newer] = [review(1, 1), review(1, 2)];
      await sut.admit(older);
      expect(await sut.supersededBy(older)).toBeUndefined();
      await sut.admit(newer);
      expect(await sut.supersededBy(older)).toMatchObject({ reviewId: newer.reviewId, sha: newer.headSha });
      expect(await sut.supersededBy(newer)).toBeUndefined();
    });

    it('keeps a GitLab merge request and a GitHub pull request of the same path apart (a mirror)', async () => {
      const onGitLab: ReviewRequest = {
        ...review(1, 1),
        platform: 'gitlab',
        reviewId: reviewIdFor('gitlab', repo, 1, sha(1)),
      };
      await sut.admit(onGitLab);
      await sut.admit(review(1, 2));
      expect(await sut.supersededBy(onGitLab)).toBeUndefined();
      expect(await sut.head({ platform: 'gitlab', repo, pr: 1 })).toMatchObject({ reviewId: onGitLab.reviewId });
      expect(await sut.head({ platform: 'github', repo, pr: 1 })).toMatchObject({ sha: sha(2) });
    });
  });

  describe('two workers racing on one pull request', () => {
    let other: Redis;
    let worker2: ReviewLifecycle;

    beforeAll(() => {
      other = new Redis(server.url);
      worker2 = lifecycleOn(other);
    });
    afterAll(() => other.disconnect());

    /**
     * What a worker does with a review it takes: admit it, then start it or record it superseded;
     * a started one looks at the PR's head again (as its lease renewal does) and ends superseded
     * when a later review took it meanwhile.
     */
    async function take(worker: ReviewLifecycle, r: ReviewRequest) {
      const admission = await worker.admit(r);
      if (!admission.admitted) {
        await worker.end(r, admission.ending);
        return false;
      }
      await worker.start(r);
      await new Promise((resolve) => setImmediate(resolve));
      const by = await worker.supersededBy(r);
      if (by) await worker.end(r, worker.supersededEnding(by));
      return true;
    }

    it.each([
      ['a millisecond apart', 1],
      ['in the same millisecond', 0],
    ])('lets exactly one of two reviews enqueued %s win, the other recorded superseded', async (_, gapMs) => {
      const base = Date.UTC(2030, 0, 1);
      const rounds = Array.from({ length: 40 }, (_, pr) => {
        const older = review(pr + 1, 2 * pr + 1, new Date(base));
        const newer = review(pr + 1, 2 * pr + 2, new Date(base + gapMs));
        return { older, newer, first: pr % 2 ? older : newer };
      });
      for (const { older, newer } of rounds) await Promise.all([sut.record(older), sut.record(newer)]);

      // Worker 1 takes one review of each PR, worker 2 the other, on their own connections.
      const admitted = await Promise.all(
        rounds.map(({ older, newer, first }) =>
          Promise.all([take(sut, first), take(worker2, first === older ? newer : older)]),
        ),
      );

      for (const [i, { older, newer }] of rounds.entries()) {
        const records = await Promise.all([sut.get(older.reviewId), sut.get(newer.reviewId)]);
        expect(records.map((r) => r?.status).sort()).toEqual(['running', 'skipped']);
        const winner = records.find((r) => r?.status === 'running')!;
        const loser = records.find((r) => r?.status === 'skipped')!;
        expect(loser.reason).toBe(`superseded by ${winner.headSha.slice(0, 12)}`);
        // The PR names the winner as its head, so every later check agrees with the race.
        expect((await sut.head(older))?.reviewId).toBe(winner.id);
        if (gapMs > 0) expect(winner.id).toBe(newer.reviewId);
        // Enqueued together, only one was ever told it is the head.
        else expect(admitted[i]!.filter(Boolean)).toHaveLength(1);
      }
    });
  });
});
