import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { startRedis } from '@kritik/testing';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';

const server = await startRedis();
const redis = new Redis(server.url, { commandTimeout: 2000, enableOfflineQueue: false, maxRetriesPerRequest: null });
await new Promise((r) => redis.once('ready', r));
const queue = new Queue('reviews', { connection: redis });
const data = (i: number) => ({
  reviewId: 'r' + i,
  platform: 'github',
  repo: { owner: 'acme', name: 'api' },
  pr: i,
  headSha: 'a'.repeat(40),
  baseSha: 'b'.repeat(40),
  trigger: 'synchronize',
  installationId: 51234567,
  deliveryId: 'd-' + i,
  sender: 'bob',
  enqueuedAt: new Date().toISOString(),
});
const add = (i: number) =>
  queue.add('review', data(i), {
    jobId: 'r' + i,
    delay: 2000,
    deduplication: { id: 'github:acme/api#' + i, replace: true, keepLastIfActive: true },
    removeOnComplete: { age: 86400, count: 10000 },
    removeOnFail: { age: 604800 },
  });
const measure = async (name: string, run: (i: number) => Promise<unknown>, ops = 10000, conc = 20, base = 0) => {
  const t = process.cpuUsage();
  let next = 0;
  await Promise.all(
    Array.from({ length: conc }, async () => {
      while (next < ops) {
        const i = next++;
        await run(base + i);
      }
    }),
  );
  const u = process.cpuUsage(t);
  console.log(name, ((u.user + u.system) / ops).toFixed(1), 'us', 'user', (u.user / ops).toFixed(1));
};
await measure('warm add', add, 10000, 20, 0);
const session = new Session();
session.connect();
await session.post('Profiler.enable');
await session.post('Profiler.start');
await measure('add', add, 20000, 20, 100000);
const { profile } = await session.post('Profiler.stop');
writeFileSync('/tmp/wb/add.cpuprofile', JSON.stringify(profile));
await queue.close();
redis.disconnect();
await server.stop();
