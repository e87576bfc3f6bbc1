import type { Budget } from '@kritik/core';
import { startRedis, type TestRedis } from '@kritik/testing';
import { Redis } from 'ioredis';
import { BudgetLedger, overBudgetReason, windowReset } from './budget-ledger.js';

const daily: Budget = {
  id: 'spend/repository-per-day',
  policy: 'spend',
  scope: 'repository',
  period: 'day',
  limitUsd: 5,
};
const monthlyOrg: Budget = { id: 'spend/org-per-month', policy: 'spend', scope: 'org', period: 'month', limitUsd: 100 };
const subject = { platform: 'github' as const, repo: { owner: 'Acme', name: 'api' } };
const at = new Date('2026-12-04T10:00:00Z');

describe(BudgetLedger.name, () => {
  let server: TestRedis;
  let redis: Redis;
  const ledger = (now = at, redisClient = redis) =>
    new BudgetLedger(redisClient, { reservationTtlMs: 600_000 }, () => now);

  beforeAll(async () => {
    server = await startRedis({ persist: true });
    redis = new Redis(server.url);
  });
  afterAll(async () => {
    redis.disconnect();
    await server.stop();
  });
  beforeEach(() => redis.flushall());

  it('lets at most 5 of 20 concurrent reviews run on a budget for 5', async () => {
    const sut = ledger();

    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => sut.reserve(`review${i}`, [daily, monthlyOrg], subject, 1)),
    );

    expect(results.filter((r) => r.ok)).toHaveLength(5);
    expect((await sut.standing([daily], subject))[0]).toMatchObject({ usedUsd: 5, remainingUsd: 0 });
  });

  it('refuses a review naming the budget that is short and when it resets', async () => {
    const sut = ledger();
    await sut.reserve('a', [monthlyOrg, daily], subject, 4.5);

    const refused = await sut.reserve('b', [monthlyOrg, daily], subject, 1);

    expect(refused).toEqual({ ok: false, budget: daily, usedUsd: 4.5, resetsAt: new Date('2026-12-05T00:00:00Z') });
    expect(overBudgetReason(refused as Extract<typeof refused, { ok: false }>)).toBe(
      'budget: spend/repository-per-day (5 USD per day for this repository) has 0.50 USD left; it resets at 2026-12-05T00:00:00.000Z',
    );
    // All or nothing: the org budget did not keep b's reservation either.
    expect((await sut.standing([monthlyOrg], subject))[0]!.usedUsd).toBe(4.5);
  });

  it('replaces a reservation with the real cost, once, freeing the rest for the next review', async () => {
    const sut = ledger();
    await sut.reserve('a', [daily], subject, 4);

    await sut.settle('a', [daily], subject, 0.25);
    await sut.settle('a', [daily], subject, 0.25);

    expect((await sut.standing([daily], subject))[0]!.usedUsd).toBe(0.25);
    expect((await sut.reserve('b', [daily], subject, 4)).ok).toBe(true);
  });

  it('does not count the same review twice when it reserves again (a redelivery)', async () => {
    const sut = ledger();

    await sut.reserve('a', [daily], subject, 3);
    const again = await sut.reserve('a', [daily], subject, 3);

    expect(again.ok).toBe(true);
    expect((await sut.standing([daily], subject))[0]!.usedUsd).toBe(3);
  });

  it('lets a reservation that was never settled lapse', async () => {
    await ledger().reserve('crashed', [daily], subject, 5);

    const later = ledger(new Date(at.getTime() + 601_000));

    expect((await later.reserve('next', [daily], subject, 5)).ok).toBe(true);
  });

  it('starts a new window at midnight UTC for a daily budget, and counts per repository', async () => {
    await ledger().reserve('a', [daily], subject, 5);

    expect((await ledger(new Date('2026-12-05T00:00:01Z')).reserve('b', [daily], subject, 5)).ok).toBe(true);
    expect((await ledger().reserve('c', [daily], { ...subject, repo: { owner: 'acme', name: 'web' } }, 5)).ok).toBe(
      true,
    );
  });

  it('keeps what was spent across a worker restart and a Redis restart', async () => {
    await ledger().reserve('a', [daily], subject, 2);
    await ledger().settle('a', [daily], subject, 2);
    await redis.bgrewriteaof();
    await server.restart();
    const fresh = new Redis(server.url);

    try {
      const sut = ledger(at, fresh);
      expect((await sut.standing([daily], subject))[0]!.usedUsd).toBe(2);
      expect((await sut.reserve('b', [daily], subject, 3.5)).ok).toBe(false);
    } finally {
      fresh.disconnect();
    }
  });
});

describe(windowReset.name, () => {
  it('is the first of next month for a monthly budget, across a year end', () => {
    expect(windowReset('month', new Date('2026-12-31T23:59:59Z'))).toEqual(new Date('2027-01-01T00:00:00Z'));
  });
});
