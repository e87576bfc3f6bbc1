import { COMMANDS_QUEUE, METRICS, QUEUE_PREFIX, REVIEWS_QUEUE } from '@kritik/core';
import { startRedis, type TestRedis } from '@kritik/testing';
import { Queue } from 'bullmq';
import { Registry } from 'prom-client';
import { WebhookMetrics } from './webhooks.metrics.js';

describe(WebhookMetrics.name, () => {
  let redis: TestRedis;
  let queues: Queue[];
  beforeAll(async () => {
    redis = await startRedis();
    queues = [REVIEWS_QUEUE, COMMANDS_QUEUE].map(
      (name) => new Queue(name, { connection: { url: redis.url }, prefix: QUEUE_PREFIX }),
    );
  });
  afterAll(async () => {
    await Promise.all(queues.map((q) => q.close()));
    await redis.stop();
  });

  it("registers every backend series of core's METRICS table, with its help and type, and nothing else", async () => {
    const registry = new Registry();
    new WebhookMetrics(registry, queues[0]!, queues[1]!);

    const sut = (await registry.getMetricsAsJSON()).map((m) => ({ name: m.name, help: m.help, type: m.type }));

    const defined = Object.values(METRICS)
      .filter((m) => m.from === 'backend')
      .map((m) => ({ name: m.name, help: m.help, type: m.type }));
    expect(sut).toEqual(expect.arrayContaining(defined));
    expect(sut).toHaveLength(defined.length);
  });

  it('reports the queue entries by queue and state on each scrape', async () => {
    const registry = new Registry();
    new WebhookMetrics(registry, queues[0]!, queues[1]!);
    await queues[0]!.add('review', {}, { delay: 60_000 });

    const sut = await registry.metrics();

    expect(sut).toContain(`${METRICS.queueJobs.name}{queue="${REVIEWS_QUEUE}",state="delayed"} 1`);
    expect(sut).toContain(`${METRICS.queueJobs.name}{queue="${COMMANDS_QUEUE}",state="waiting"} 0`);
  });
});
