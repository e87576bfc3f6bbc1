import { COMMANDS_QUEUE, type CommandJob, REVIEWS_QUEUE, type ReviewRequest, reviewIdFor } from '@kritik/core';
import { PrHeadStore, ReviewEnqueuer, ReviewLifecycle, ReviewStore } from '@kritik/server';
import { startRedis, type TestRedis } from '@kritik/testing';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import pino from 'pino';
import { loadBackendConfig } from '../config/backend.config.js';
import { DeliveryLedger } from './delivery.ledger.js';
import type { IntakeEvent, PullRequestState } from './intake.event.js';
import { IntakeService, IntakeUnavailableError } from './intake.service.js';

const repo = { owner: 'acme', name: 'api' };
const sha = (c: string) => c.repeat(40);

const pullRequest = (headSha: string, number = 7): PullRequestState => ({
  platform: 'github',
  repo,
  number,
  headSha,
  baseSha: sha('0'),
  draft: false,
  open: true,
  author: { login: 'alice', bot: false },
  installationId: 42,
});

const pushed = (headSha: string, number = 7): IntakeEvent => ({
  type: 'pull-request',
  change: 'synchronize',
  pullRequest: pullRequest(headSha, number),
  sender: { login: 'alice', bot: false },
});

const labeled = (headSha: string, labels: string[]): IntakeEvent => ({
  type: 'pull-request',
  change: 'labeled',
  labels,
  pullRequest: pullRequest(headSha),
  sender: { login: 'carol', bot: false },
});

const comment = (body: string, number = 7): IntakeEvent => ({
  type: 'comment',
  created: true,
  pullRequest: { platform: 'github', repo, number, open: true, installationId: 42 },
  commentId: 99,
  body,
  author: { login: 'bob', bot: false },
  maintainer: true,
});

describe(IntakeService.name, () => {
  const log = pino({ level: 'silent' });
  let server: TestRedis;
  let redis: Redis;
  let reviews: Queue<ReviewRequest>;
  let commands: Queue<CommandJob>;
  let lifecycle: ReviewLifecycle;
  let sut: IntakeService;
  let deliveries = 0;

  const deliver = (event: IntakeEvent, id = `delivery-${++deliveries}`) => sut.handle({ id, event }, log);

  /** The service as the webhooks module wires it, on `connection`; its own reviews queue for the enqueuer. */
  function intakeOn(connection: Redis, queue: Queue<ReviewRequest>): IntakeService {
    const config = loadBackendConfig({ REDIS_URL: server.url, GITHUB_WEBHOOK_SECRET: 'secret' });
    const life = new ReviewLifecycle(new ReviewStore(connection), new PrHeadStore(connection));
    const enqueuer = new ReviewEnqueuer(queue, life, connection, { debounceMs: config.triggers.debounceMs });
    return new IntakeService(config, new DeliveryLedger(connection), life, enqueuer, commands, connection);
  }

  beforeAll(async () => {
    server = await startRedis();
    redis = new Redis(server.url, { maxRetriesPerRequest: null });
    reviews = new Queue<ReviewRequest>(REVIEWS_QUEUE, { connection: redis });
    commands = new Queue<CommandJob>(COMMANDS_QUEUE, { connection: redis });
    lifecycle = new ReviewLifecycle(new ReviewStore(redis), new PrHeadStore(redis));
    sut = intakeOn(redis, reviews);
  });
  afterAll(async () => {
    await Promise.all([reviews.close(), commands.close()]);
    redis.disconnect();
    await server.stop();
  });
  beforeEach(() => redis.flushall());

  it('records a pushed head as queued, queues it behind the debounce and makes it the PR head', async () => {
    const result = await deliver(pushed(sha('a')));

    const reviewId = reviewIdFor('github', repo, 7, sha('a'));
    expect(result).toEqual({ status: 'queued', reviewId });
    expect(await lifecycle.get(reviewId)).toMatchObject({
      status: 'queued',
      headSha: sha('a'),
      trigger: 'synchronize',
    });
    expect(await reviews.getJobState(reviewId)).toBe('delayed');
    expect(await lifecycle.head({ platform: 'github', repo, pr: 7 })).toMatchObject({ reviewId, sha: sha('a') });
  });

  it('answers a redelivery as a duplicate and queues nothing twice', async () => {
    const first = await deliver(pushed(sha('a')), 'same-delivery');

    expect(await deliver(pushed(sha('a')), 'same-delivery')).toEqual({
      status: 'duplicate',
      accepted: (first as { reviewId: string }).reviewId,
    });
    expect(await reviews.getJobCounts('delayed')).toEqual({ delayed: 1 });
  });

  it('supersedes a waiting review when a newer head is pushed, recording the older skipped', async () => {
    const older = (await deliver(pushed(sha('a')))) as { reviewId: string };
    const newer = (await deliver(pushed(sha('b')))) as { reviewId: string };

    expect(await lifecycle.get(older.reviewId)).toMatchObject({
      status: 'skipped',
      reason: `superseded by ${sha('b').slice(0, 12)}`,
    });
    expect(await reviews.getJobState(older.reviewId)).toBe('unknown');
    expect(await lifecycle.head({ platform: 'github', repo, pr: 7 })).toMatchObject({ reviewId: newer.reviewId });
  });

  it('ignores a head that was reviewed already', async () => {
    const { reviewId } = (await deliver(pushed(sha('a')))) as { reviewId: string };
    const review = (await reviews.getJob(reviewId))!.data;
    await lifecycle.start(review);
    await lifecycle.end(review, { status: 'posted' });
    await reviews.remove(reviewId);

    expect(await deliver(pushed(sha('a')))).toEqual({
      status: 'ignored',
      reason: `${sha('a').slice(0, 12)} already reviewed (posted)`,
    });
  });

  describe('a label other than the trigger label (a review policy may wait for it)', () => {
    /** The head's own review, run and ended by the worker as `status`. */
    async function endedHead(head: string, status: 'posted' | 'skipped' | 'failed') {
      const { reviewId } = (await deliver(pushed(head))) as { reviewId: string };
      const review = (await reviews.getJob(reviewId))!.data;
      await lifecycle.start(review);
      await lifecycle.end(review, { status, reason: 'policy "release" reviews only pull requests labelled "ship"' });
      await reviews.remove(reviewId);
    }

    it('looks at a head again when its review was skipped, under an id of its own per labels added', async () => {
      await endedHead(sha('a'), 'skipped');

      const result = await deliver(labeled(sha('a'), ['ship', 'backend']), 'label-1');
      const again = await deliver(labeled(sha('a'), ['ship', 'backend']), 'label-1');

      const reviewId = reviewIdFor('github', repo, 7, sha('a'), 'labels:backend,ship');
      expect(result).toEqual({ status: 'queued', reviewId });
      expect(again).toEqual({ status: 'duplicate', accepted: reviewId });
      expect(await lifecycle.get(reviewId)).toMatchObject({ status: 'queued', trigger: 'labeled', author: 'carol' });
    });

    it('looks at a head no review has seen', async () => {
      const result = await deliver(labeled(sha('a'), ['ship']));

      expect(result).toEqual({ status: 'queued', reviewId: reviewIdFor('github', repo, 7, sha('a'), 'labels:ship') });
    });

    it.each([
      ['posted', 'already reviewed (posted)'],
      ['failed', 'already reviewed (failed)'],
    ] as const)('leaves a head whose review %s alone', async (status, reason) => {
      await endedHead(sha('a'), status);

      expect(await deliver(labeled(sha('a'), ['ship']))).toEqual({
        status: 'ignored',
        reason: `${sha('a').slice(0, 12)} ${reason}`,
      });
    });

    it('leaves a head whose review is still queued: that review reads the labels when it runs', async () => {
      await deliver(pushed(sha('a')));

      expect(await deliver(labeled(sha('a'), ['ship']))).toEqual({
        status: 'ignored',
        reason: `${sha('a').slice(0, 12)} queued: its review reads the labels`,
      });
      expect(await reviews.getJobCounts('delayed')).toEqual({ delayed: 1 });
    });

    it('is stopped by `@kritik pause`, where the trigger label still reviews', async () => {
      await endedHead(sha('a'), 'skipped');
      await deliver(comment('@kritik pause'));

      expect(await deliver(labeled(sha('a'), ['ship']))).toEqual({
        status: 'ignored',
        reason: 'automatic reviews of this pull request are paused by bob',
      });
      // The trigger label is a request, not paused; it names the head's own review, which ran.
      expect(await deliver(labeled(sha('a'), ['kritik:review']))).toEqual({
        status: 'ignored',
        reason: `${sha('a').slice(0, 12)} already reviewed (skipped)`,
      });
    });
  });

  it('queues a fresh review of the known head for `@kritik review`, leaving the PR head as it was', async () => {
    const pushedReview = (await deliver(pushed(sha('a')))) as { reviewId: string };

    const result = await deliver(comment('@kritik review'), 'comment-delivery');

    const reviewId = reviewIdFor('github', repo, 7, sha('a'), 'comment-delivery');
    expect(result).toMatchObject({ status: 'queued', reviewId });
    expect(await lifecycle.get(reviewId)).toMatchObject({ status: 'queued', trigger: 'comment' });
    expect(await lifecycle.head({ platform: 'github', repo, pr: 7 })).toMatchObject({
      reviewId: pushedReview.reviewId,
    });
  });

  it('hands `@kritik review` to the worker as a command when no head is known', async () => {
    expect(await deliver(comment('@kritik review', 8), 'no-head')).toEqual({ status: 'queued', command: 'review' });
    expect((await commands.getJob('delivery-no-head'))?.data).toMatchObject({
      command: 'review',
      pr: 8,
      sender: 'bob',
    });
    expect(await redis.keys('kritik:review:*')).toEqual([]);
  });

  it('ignores a comment that names no command, whatever markup it carries', async () => {
    const hostile = '<!-- kritik:help x --> <script>alert(1)</script> [x](javascript:alert(1)) @kritikbot review';

    expect(await deliver(comment(hostile))).toMatchObject({ status: 'ignored' });
    expect(await redis.keys('kritik:review:*')).toEqual([]);
    expect(await commands.count()).toBe(0);
  });

  it('says unavailable, accepting nothing, when Redis cannot be reached', async () => {
    const down = new Redis({ port: 1, lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: null });
    const downQueue = new Queue<ReviewRequest>(REVIEWS_QUEUE, { connection: down });
    downQueue.on('error', () => undefined);
    const offline = intakeOn(down, downQueue);

    await expect(offline.handle({ id: 'lost', event: pushed(sha('c')) }, log)).rejects.toBeInstanceOf(
      IntakeUnavailableError,
    );
    await downQueue.close().catch(() => undefined);
    down.disconnect();
    // Redelivered once Redis is back, it is queued: nothing remembered it as accepted.
    expect(await deliver(pushed(sha('c')), 'lost')).toMatchObject({ status: 'queued' });
  });
});
