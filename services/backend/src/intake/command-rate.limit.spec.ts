import { redisKeys } from '@kritik/core';
import { startRedis, type TestRedis } from '@kritik/testing';
import { Redis } from 'ioredis';
import { CommandRateLimit } from './command-rate.limit.js';
import type { PullRequestRef } from './intake.event.js';

describe(CommandRateLimit.name, () => {
  let server: TestRedis;
  let redis: Redis;
  const pr: PullRequestRef = { platform: 'github', repo: { owner: 'Acme', name: 'api' }, number: 7 };
  const now = 1_000_000;

  beforeAll(async () => {
    server = await startRedis();
    redis = new Redis(server.url);
  });
  afterAll(async () => {
    redis.disconnect();
    await server.stop();
  });
  beforeEach(() => redis.flushall());

  const sut = () => new CommandRateLimit(redis, { limit: 2, perPrLimit: 3, windowSeconds: 60 });

  it("refuses a user's third command on a pull request and names the user's limit", async () => {
    const limit = sut();
    const answers = [];
    for (const id of ['d1', 'd2', 'd3']) answers.push(await limit.refusal(pr, 'mallory', id, now));

    expect(answers).toEqual([undefined, undefined, 'user']);
  });

  it('refuses the fourth command on a pull request across users, naming the pull request limit', async () => {
    const limit = sut();
    const answers = [];
    for (const [user, id] of [
      ['a', 'd1'],
      ['b', 'd2'],
      ['c', 'd3'],
      ['d', 'd4'],
    ] as const) {
      answers.push(await limit.refusal(pr, user, id, now));
    }

    expect(answers).toEqual([undefined, undefined, undefined, 'pull_request']);
  });

  it('does not count a command the pull request limit refused against the user', async () => {
    const limit = sut();
    for (const [user, id] of [
      ['a', 'd1'],
      ['b', 'd2'],
      ['c', 'd3'],
    ] as const) {
      await limit.refusal(pr, user, id, now);
    }
    await limit.refusal(pr, 'd', 'd4', now);

    expect(await redis.zcard(redisKeys.prUserCommands('acme/api', 7, 'd'))).toBe(0);
    expect(await redis.zcard(redisKeys.prCommands('acme/api', 7))).toBe(3);
  });

  it('answers a redelivered command as it did the first time, without counting it again', async () => {
    const limit = sut();
    await limit.refusal(pr, 'alice', 'd1', now);

    expect(await limit.refusal(pr, 'alice', 'd1', now + 1)).toBeUndefined();
    expect(await limit.refusal(pr, 'alice', 'd2', now + 2)).toBeUndefined();
    expect(await limit.refusal(pr, 'alice', 'd3', now + 3)).toBe('user');
  });

  it('counts the same user and pull request in any letter case as one', async () => {
    const limit = sut();
    await limit.refusal(pr, 'Alice', 'd1', now);
    await limit.refusal({ ...pr, repo: { owner: 'acme', name: 'API' } }, 'alice', 'd2', now);

    expect(await limit.allows(pr, 'ALICE', 'd3', now)).toBe(false);
  });

  it('admits commands again once the window has passed', async () => {
    const limit = sut();
    await limit.refusal(pr, 'alice', 'd1', now);
    await limit.refusal(pr, 'alice', 'd2', now);

    expect(await limit.allows(pr, 'alice', 'd3', now + 60_001)).toBe(true);
  });
});
