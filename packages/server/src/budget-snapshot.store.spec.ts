import { budgetSnapshot, redisKeys, reviewPolicySpecSchema } from '@kritik/core';
import { startRedis, type TestRedis } from '@kritik/testing';
import { Redis } from 'ioredis';
import { BudgetSnapshotStore, BudgetSnapshotUnreadable } from './budget-snapshot.store.js';

describe(BudgetSnapshotStore.name, () => {
  let server: TestRedis;
  let redis: Redis;
  let sut: BudgetSnapshotStore;

  beforeAll(async () => {
    server = await startRedis();
    redis = new Redis(server.url);
    sut = new BudgetSnapshotStore(redis);
  });
  beforeEach(() => redis.del(redisKeys.budgetSnapshot()));
  afterAll(async () => {
    redis.disconnect();
    await server.stop();
  });

  it('reads back what was published', async () => {
    const spend = { name: 'spend', spec: reviewPolicySpecSchema.parse({ budgets: { orgPerMonthUsd: 100 } }) };
    const snapshot = budgetSnapshot([spend], new Date('2026-12-04T10:00:00Z'));

    await sut.publish(snapshot);

    expect(await sut.read()).toEqual(snapshot);
  });

  it('reads no policies when nothing was published', async () => {
    expect((await sut.read()).policies).toEqual([]);
  });

  it.each([
    ['not JSON', '{"policies": [', /is not JSON/],
    [
      'a hostile policy name',
      JSON.stringify({ publishedAt: '2026-12-04T10:00:00Z', policies: [{ name: '"><script>', spec: {} }] }),
      /policies\.0\.name/,
    ],
    [
      'a spec with unknown keys',
      JSON.stringify({
        publishedAt: '2026-12-04T10:00:00Z',
        policies: [{ name: 'a', spec: { budgets: { perHourUsd: 1 } } }],
      }),
      /policies\.0\.spec\.budgets/,
    ],
  ])('names the key and the fault of a value that is %s', async (_, value, fault) => {
    await redis.set(redisKeys.budgetSnapshot(), value);

    const read = sut.read();

    await expect(read).rejects.toThrow(BudgetSnapshotUnreadable);
    await expect(read).rejects.toThrow(fault);
    await expect(read).rejects.toThrow(redisKeys.budgetSnapshot());
  });
});
