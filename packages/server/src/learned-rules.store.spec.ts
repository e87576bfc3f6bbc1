import { redisKeys } from '@kritik/core';
import { startRedis, type TestRedis } from '@kritik/testing';
import { Redis } from 'ioredis';
import { LearnedRulesStore } from './learned-rules.store.js';

describe(LearnedRulesStore.name, () => {
  let redis: TestRedis;
  let client: Redis;
  let sut: LearnedRulesStore;
  const repo = { owner: 'Acme', name: 'API' };
  const rule = { fingerprint: '0123456789abcdef', rule: 'Error ignored (in a.go) — <img src=x onerror=alert(1)>' };

  beforeAll(async () => {
    redis = await startRedis();
    client = new Redis(redis.url);
    sut = new LearnedRulesStore(client);
  });
  afterAll(async () => {
    client.disconnect();
    await redis.stop();
  });
  beforeEach(() => client.flushall());

  it('keeps a GitLab project’s rules and acceptance apart from a GitHub repository of the same path', async () => {
    await sut.record('gitlab', repo, [{ ...rule, via: 'ignore' }]);
    await sut.addResolved('gitlab', repo, 3);

    expect(await sut.list('github', repo)).toEqual([]);
    expect(await sut.acceptance('github', repo)).toEqual({ resolved: 0, dismissed: 0, rate: null });
    expect(await sut.list('gitlab', repo)).toMatchObject([{ ...rule, via: 'ignore' }]);
    expect(await sut.acceptance('gitlab', repo)).toEqual({ resolved: 3, dismissed: 1, rate: 0.75 });
    expect(await sut.remove('github', repo, rule.fingerprint)).toBe(false);
  });

  it('reads the rules a GitHub repository learned before rules were kept per code host', async () => {
    const before = JSON.stringify({ ...rule, learnedAt: '2026-01-02T03:04:05.000Z' });
    await client.hset(redisKeys.repoRules('acme/api'), rule.fingerprint, before);
    await client.zadd(redisKeys.repoRulesByTime('acme/api'), 1, rule.fingerprint);
    await client.hset(redisKeys.repoAcceptance('acme/api'), 'dismissed', 1);

    expect(await sut.list('github', repo)).toEqual([JSON.parse(before)]);
    expect((await sut.acceptance('github', repo)).dismissed).toBe(1);
  });

  it('counts a fingerprint dismissed again once, and answers how many were new', async () => {
    expect(await sut.record('github', repo, [rule])).toBe(1);
    expect(await sut.record('github', repo, [rule, { ...rule, fingerprint: 'fedcba9876543210' }])).toBe(1);
    expect((await sut.acceptance('github', repo)).dismissed).toBe(2);
  });
});
