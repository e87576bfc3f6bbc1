// Faults end to end: Redis going away and coming back, mutated payloads, pushes while a
// review of the same pull request runs.
import { randomUUID } from 'node:crypto';
import { QUEUE_PREFIX, REVIEWS_QUEUE, redisKeys } from '@kritik/core';
import { Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { API_TOKEN, type BackendHarness, eventually, fixture, type Json, startBackend } from './backend.harness.js';

const sha = (n: number) => n.toString(16).padStart(40, '0');
const push = (n: number) => {
  const payload = fixture('pull_request.synchronize');
  payload.pull_request.head.sha = sha(n);
  return payload;
};

describe('backend under faults', () => {
  let sut: BackendHarness;

  beforeAll(async () => {
    sut = await startBackend({ KRITIK_DEBOUNCE_MS: '50' });
  });
  afterAll(() => sut?.stop());

  describe('Redis stopped', () => {
    afterEach(async () => {
      await sut.redis.restart();
      await eventually(
        () => sut.get('/ready'),
        (r) => r.status === 200,
      );
    });

    it('answers 503 with Retry-After, so GitHub can redeliver, and keeps serving liveness', async () => {
      await sut.shutdownRedis();
      const reply = await sut.post('pull_request', push(1), { deliveryId: 'during-outage' });
      expect(reply.status).toBe(503);
      expect(reply.headers.get('retry-after')).toBe('5');
      expect((await sut.get('/health')).status).toBe(200);
      expect((await sut.get('/ready')).status).toBe(503);
    });

    it('accepts the redelivery once Redis is back, without a restart', async () => {
      await sut.shutdownRedis();
      expect((await sut.post('pull_request', push(2), { deliveryId: 'redelivered' })).status).toBe(503);
      await sut.redis.restart();

      const reply = await eventually(
        () => sut.post('pull_request', push(2), { deliveryId: 'redelivered' }),
        (r) => r.status !== 503,
      );
      expect(reply).toMatchObject({ status: 202, body: { status: 'queued' } });
      expect(await sut.reviews.getJob(reply.body.reviewId)).toBeDefined();
    });

    it('answers the reviews API with 503, not 500', async () => {
      await sut.shutdownRedis();
      const reply = await sut.get('/api/reviews', { authorization: `Bearer ${API_TOKEN}` });
      expect(reply.status).toBe(503);
    });

    it('still answers deliveries it ignores, which need no storage', async () => {
      await sut.shutdownRedis();
      const reply = await sut.post('pull_request', fixture('pull_request.closed'));
      expect(reply).toMatchObject({ status: 202, body: { status: 'ignored' } });
    });
  });

  describe('while a review of the pull request runs', () => {
    let worker: Worker;
    let connection: Redis;

    beforeEach(async () => {
      await sut.client.flushall();
      connection = new Redis(sut.redis.url, { maxRetriesPerRequest: null });
      worker = new Worker(REVIEWS_QUEUE, null, { connection, prefix: QUEUE_PREFIX, autorun: false });
    });
    afterEach(async () => {
      await worker.close(true);
      connection.disconnect();
    });

    const takeNext = () =>
      eventually(
        () => worker.getNextJob('test-token'),
        (job) => job !== undefined,
        5_000,
      );

    it('keeps only the newest push to start after it and skips the ones it replaced', async () => {
      const running = await sut.post('pull_request', push(10));
      const active = await takeNext();
      expect(active?.id).toBe(running.body.reviewId);

      const later = [];
      for (const n of [11, 12, 13]) later.push(await sut.post('pull_request', push(n)));
      expect(later.map((r) => r.body.afterRunning)).toEqual([true, true, true]);

      const status = async (id: string) => JSON.parse((await sut.client.get(redisKeys.review(id)))!).status;
      expect(await Promise.all(later.map((r) => status(r.body.reviewId)))).toEqual(['skipped', 'skipped', 'queued']);
      expect(await status(running.body.reviewId)).toBe('queued');

      await active!.moveToCompleted('done', 'test-token');
      const next = await takeNext();
      expect(next?.data.headSha).toBe(sha(13));
      expect(next?.id).toBe(later[2]!.body.reviewId);
    });

    it('replaces a review that waits for a worker past its debounce', async () => {
      const first = await sut.post('pull_request', push(20));
      // Past the debounce: what a worker's scheduler does once the delay ends.
      const [delayed] = await sut.reviews.getDelayed();
      await delayed!.promote();
      expect((await sut.reviews.getWaiting()).map((j) => j.id)).toEqual([first.body.reviewId]);
      const second = await sut.post('pull_request', push(21));

      expect(second.status).toBe(202);
      const jobs = [...(await sut.reviews.getWaiting()), ...(await sut.reviews.getDelayed())];
      expect(jobs.map((j) => j.data.headSha)).toEqual([sha(21)]);
      const record = JSON.parse((await sut.client.get(redisKeys.review(first.body.reviewId)))!);
      expect(record).toMatchObject({ status: 'skipped', reason: `superseded by ${sha(21).slice(0, 12)}` });
    });
  });

  describe('mutated payloads', () => {
    // A small deterministic generator, so a failure names a reproducible case.
    let seed = 20261122;
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const pick = <T>(items: readonly T[]) => items[Math.floor(random() * items.length)]!;
    const oddValues = [
      null,
      0,
      -1,
      1e308,
      '',
      'x'.repeat(5000),
      [],
      {},
      true,
      '\u0000\ud800',
      { $ne: 1 },
      [[[]]],
      'deadbeef',
    ];

    function paths(value: unknown, prefix: string[] = [], out: string[][] = []): string[][] {
      if (value && typeof value === 'object') {
        for (const [key, child] of Object.entries(value)) {
          out.push([...prefix, key]);
          if (out.length < 2000) paths(child, [...prefix, key], out);
        }
      }
      return out;
    }

    function mutate(payload: Record<string, Json>): string {
      const copy = structuredClone(payload);
      const all = paths(copy);
      for (let i = 0, n = 1 + Math.floor(random() * 4); i < n; i++) {
        const path = pick(all);
        const parent = path
          .slice(0, -1)
          .reduce<Json>((node, key) => (node && typeof node === 'object' ? node[key] : undefined), copy);
        if (!parent || typeof parent !== 'object') continue;
        const key = path.at(-1)!;
        if (random() < 0.3) delete parent[key];
        else parent[key] = pick(oddValues);
      }
      const text = JSON.stringify(copy);
      const roll = random();
      if (roll < 0.1) return text.slice(0, Math.floor(random() * text.length));
      if (roll < 0.15) return pick(['null', '[]', '"text"', '42', '{}', '']);
      return text;
    }

    it('never answer with a 5xx other than 503, and the server keeps serving', async () => {
      const sources: [string, string][] = [
        ['pull_request', 'pull_request.opened'],
        ['pull_request', 'pull_request.synchronize'],
        ['pull_request', 'pull_request.labeled'],
        ['issue_comment', 'issue_comment.created.review'],
        ['issue_comment', 'issue_comment.created.help'],
        ['installation', 'installation.created'],
      ];
      const statuses = new Map<number, number>();
      const failures: string[] = [];
      for (let i = 0; i < 300; i++) {
        const [event, name] = pick(sources);
        const body = mutate(fixture(name));
        const reply = await sut.post(event, body, { deliveryId: randomUUID() });
        statuses.set(reply.status, (statuses.get(reply.status) ?? 0) + 1);
        // An empty body cannot carry a valid signature: 401.
        if (reply.status >= 500 && reply.status !== 503)
          failures.push(`${reply.status} ${event}: ${body.slice(0, 300)}`);
      }
      expect(failures).toEqual([]);
      expect([...statuses.keys()].every((s) => [200, 202, 400, 401, 503].includes(s))).toBe(true);
      expect(statuses.get(400)).toBeGreaterThan(0);
      expect((await sut.post('pull_request', push(99))).status).toBe(202);
    });
  });
});
