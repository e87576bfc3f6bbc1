// A real Redis that refuses INFO makes BullMQ's one-time connection set-up fail, as an INFO past
// the command timeout or a connection dropping just after connecting does.
import { startRedis, type TestRedis, waitUntil } from '@kritik/testing';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import pino from 'pino';
import { QueueRecovery } from './queue-recovery.js';

describe(QueueRecovery.name, () => {
  let redis: TestRedis;
  let admin: Redis;
  let connection: Redis;
  let queue: Queue;
  let sut: QueueRecovery | undefined;

  beforeEach(async () => {
    redis = await startRedis();
    admin = new Redis(redis.url, { maxRetriesPerRequest: null });
    await admin.call('ACL', 'SETUSER', 'default', '-info');
    connection = new Redis(redis.url, { maxRetriesPerRequest: null });
    queue = new Queue('reviews', { connection });
    // The Queue's own 'error' events would otherwise be unhandled.
    queue.on('error', () => undefined);
  });
  afterEach(async () => {
    sut?.onApplicationShutdown();
    sut = undefined;
    await queue.close().catch(() => undefined);
    connection.disconnect();
    admin.disconnect();
    await redis.stop();
  });

  const allowInfo = () => admin.call('ACL', 'SETUSER', 'default', '+info');
  const add = (id: string) => queue.add('review', { id }, { jobId: id });

  it('without it, a queue whose set-up failed once stays broken while Redis is fine', async () => {
    await expect(add('before')).rejects.toThrow();
    await allowInfo();
    await expect(add('after')).rejects.toThrow();
  });

  it('sets a failed queue up again in place, so the same Queue object takes commands', async () => {
    sut = new QueueRecovery([queue], pino({ level: 'silent' }), 50);
    sut.onModuleInit();
    await expect(add('before')).rejects.toThrow();
    expect(
      await waitUntil('the failure reported', async () => (await sut!.unusable(200)).reviews, { timeoutMs: 5_000 }),
    ).toMatch(/connection set-up failed/);

    await allowInfo();
    const job = await waitUntil('an add that succeeds', () => add('after').catch(() => undefined), {
      timeoutMs: 5_000,
    });
    expect(job.id).toBe('after');
    expect(await admin.exists('bull:reviews:after')).toBe(1);
    expect(await sut.unusable(1_000)).toEqual({});
  });
});
