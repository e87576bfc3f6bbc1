// CPU per delivery of each stage of the backend's webhook path, measured in this process (the
// real providers from createApp, a real redis-server), next to what the bench's baseline does
// per request. Explains where the backend's CPU per request goes beyond the baseline's.
// Needs `npm run build`.
//   npm run bench:webhooks:stages -w bench -- [--ops 4000 --concurrency 20 --rounds 3 --only <stage> --profile <file>]
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import {
  createApp,
  DeliveryLedger,
  fromGitHub,
  IntakeService,
  loadBackendConfig,
  ReviewEnqueuer,
  WebhookMetrics,
  WebhookSignature,
} from '@kritik/backend';
import { type ReviewRequest, reviewIdFor } from '@kritik/core';
import { createLogger, inOneWrite, PrHeadStore, REDIS, ReviewStore } from '@kritik/server';
import { startRedis } from '@kritik/testing';
import type { Redis } from 'ioredis';
import pino from 'pino';
import { cpuMs, median, numberOption, option } from '../measure.js';
import { nextRequest, pidOfRedis, SECRET } from './load.js';

const OPS = numberOption('ops', 4000);
const CONCURRENCY = numberOption('concurrency', 20);
const ROUNDS = numberOption('rounds', 3);
const text = (name: string) => option(name) ?? '';
// Only the stages whose name contains this text.
const ONLY = text('only');
// Writes a CPU profile of the measured rounds (not of the setup) to this file.
const PROFILE = text('profile');

// Distinct deliveries of distinct pull requests, signed and parsed ahead of the measurements
// and before the application starts (a busy event loop would time out its first commands).
const requests = Array.from({ length: OPS }, () => {
  const request = nextRequest();
  const body = Buffer.from(request.body);
  const payload = JSON.parse(request.body);
  return { ...request, raw: body, payload, event: fromGitHub('pull_request', payload) };
});

const redisServer = await startRedis();
const config = loadBackendConfig({
  REDIS_URL: redisServer.url,
  GITHUB_WEBHOOK_SECRET: SECRET,
  KRITIK_LOG_LEVEL: 'info',
});
// The application's logger settings, writing to /dev/null.
const logger = createLogger({
  name: 'backend',
  level: 'info',
  destination: pino.destination({ dest: '/dev/null', sync: false, minLength: 4096 }),
});
const app = await createApp(config, { logger });
await app.init();
try {
  const redis = app.get<string, Redis>(REDIS);
  if (redis.status !== 'ready') await once(redis, 'ready');
  const redisPid = pidOfRedis(redisServer.port);
  const signature = new WebhookSignature(config.github.webhookSecret ?? SECRET);
  const intake = app.get(IntakeService);
  const ledger = app.get(DeliveryLedger);
  const store = app.get(ReviewStore);
  const enqueuer = app.get(ReviewEnqueuer);
  const heads = app.get(PrHeadStore);
  const metrics = app.get(WebhookMetrics);

  const reviewJob = (i: number): ReviewRequest => {
    const { payload } = requests[i]!;
    const repo = { owner: payload.repository.owner.login, name: payload.repository.name };
    const headSha = `${payload.pull_request.head.sha}`;
    return {
      reviewId: reviewIdFor('github', repo, payload.number, headSha, randomUUID()),
      platform: 'github',
      repo,
      pr: payload.number,
      headSha,
      trigger: 'synchronize',
      deliveryId: randomUUID(),
      sender: 'bench',
      enqueuedAt: new Date().toISOString(),
    };
  };

  /** CPU microseconds per operation of this process and of redis-server, `ops` runs `concurrency` at a time. */
  async function measure(run: (i: number) => unknown): Promise<{ own: number; redis: number }> {
    const before = { own: process.cpuUsage(), redis: cpuMs(redisPid) };
    let next = 0;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < OPS) await run(next++);
      }),
    );
    const own = process.cpuUsage(before.own);
    return { own: (own.user + own.system) / OPS, redis: ((cpuMs(redisPid) - before.redis) * 1000) / OPS };
  }

  const stages: [string, (i: number) => unknown][] = [
    [
      'verify signature (HMAC-SHA256 of the body)',
      (i) => signature.verify(requests[i]!.raw, requests[i]!.headers['x-hub-signature-256']),
    ],
    ['JSON.parse of the body', (i) => JSON.parse(requests[i]!.raw.toString('utf8'))],
    ['map and validate the fields read (zod)', (i) => fromGitHub('pull_request', requests[i]!.payload)],
    [
      'child logger + one log line',
      (i) =>
        logger.child({ deliveryId: requests[i]!.headers['x-github-delivery'], event: 'pull_request' }).info(
          {
            reviewId: 'x',
            trigger: 'synchronize',
            headSha: requests[i]!.payload.pull_request.head.sha,
            queue: 'queued',
          },
          'review queued',
        ),
    ],
    ['metrics: counter + histogram', () => metrics.record('pull_request', 'queued', process.hrtime.bigint())],
    [
      'round trip 1: claim + review record + PR slot',
      (i) => {
        const job = reviewJob(i);
        return Promise.all(
          inOneWrite(redis, () => [
            ledger.claimAndRead(randomUUID(), job.reviewId, enqueuer.slotReads(job)),
            store.create(job),
          ]),
        );
      },
    ],
    [
      'round trip 2a: BullMQ add (delayed, deduplicated)',
      (i) => enqueuer.enqueue(reviewJob(i), logger, { slot: { holder: null, next: null } }),
    ],
    [
      'round trip 2b: PR head offer',
      (i) => heads.offer({ repo: `bench/r${i}`, pr: i }, { reviewId: `r${i}`, sha: 'a'.repeat(40), at: Date.now() }),
    ],
    [
      'intake.handle: both round trips as served',
      (i) => intake.handle({ id: randomUUID(), event: requests[i]!.event }, logger),
    ],
    [
      'all of the above as one delivery, without HTTP',
      (i) => {
        const request = requests[i]!;
        if (!signature.verify(request.raw, request.headers['x-hub-signature-256'])) throw new Error('bad signature');
        const deliveryId = randomUUID();
        const event = fromGitHub('pull_request', JSON.parse(request.raw.toString('utf8')));
        const log = logger.child({ deliveryId, event: 'pull_request' });
        const startedAt = process.hrtime.bigint();
        return intake
          .handle({ id: deliveryId, event }, log)
          .then(() => metrics.record('pull_request', 'queued', startedAt));
      },
    ],
    [
      'baseline: SET NX EX (its one Redis write)',
      (i) => redis.set(`baseline:delivery:${i}:${randomUUID()}`, '1', 'EX', 3600, 'NX'),
    ],
  ];

  const results = new Map<string, { own: number[]; redis: number[] }>();
  const session = new Session();
  for (let round = 0; round <= ROUNDS; round++) {
    if (round === 1 && PROFILE) {
      session.connect();
      await session.post('Profiler.enable');
      await session.post('Profiler.start');
    }
    for (const [name, run] of stages.filter(([name]) => name.includes(ONLY))) {
      await redis.flushall();
      const figures = await measure(run);
      // Round 0 warms up (JIT, scripts loaded).
      if (round === 0) continue;
      const entry = results.get(name) ?? { own: [], redis: [] };
      entry.own.push(figures.own);
      entry.redis.push(figures.redis);
      results.set(name, entry);
    }
  }
  if (PROFILE) writeFileSync(PROFILE, JSON.stringify((await session.post('Profiler.stop')).profile));
  console.log(`CPU per delivery by stage (${OPS} ops, ${CONCURRENCY} at a time, medians of ${ROUNDS} rounds), µs`);
  console.log(`  ${'stage'.padEnd(48)} ${'node'.padStart(7)} ${'redis'.padStart(7)}`);
  for (const [name, { own, redis: server }] of results) {
    console.log(`  ${name.padEnd(48)} ${median(own).toFixed(1).padStart(7)} ${median(server).toFixed(1).padStart(7)}`);
  }
} finally {
  await app.close();
  await redisServer.stop();
}
