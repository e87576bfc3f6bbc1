// What the model gateway adds to a review's model calls, beside the baseline in the same run: the
// same calls through the Anthropic SDK straight to the model (the fake, on this machine) and
// through the worker's ModelGateway (its grant lookup in a real Redis, the forward, the metering).
// The model answers at once, so the difference is the gateway's own cost. A third column runs the
// same calls through a gateway whose model.maxConcurrency holds cluster-wide (provider slots leased
// in Redis, ADR 0045) beside the per-replica limit of the second. Prints, for sequential calls and
// for --concurrency calls at once (a busy fleet's reviews), p50 and p99 per call, calls per second,
// and the bench process's peak RSS.
//   npm run bench:gateway -w bench [-- --calls 400 --concurrency 20 --prompt-kib 200]
import Anthropic from '@anthropic-ai/sdk';
import { createLogger } from '@kritik/server';
import { FakeAnthropic, startRedis } from '@kritik/testing';
import { GatewayGrants, gatewaySettingsSchema, ModelGateway } from '@kritik/worker';
import { Redis } from 'ioredis';
import { Registry } from 'prom-client';
import { callsAtOnce } from '../measure.js';

const arg = (name: string, fallback: number) => {
  const at = process.argv.indexOf(`--${name}`);
  return at > 0 ? Number(process.argv[at + 1]) : fallback;
};
const calls = arg('calls', 400);
const concurrency = arg('concurrency', 20);
const promptKiB = arg('prompt-kib', 200);

const KEY = 'sk-ant-bench';
const request = {
  model: 'claude-sonnet-5-5',
  max_tokens: 1024,
  // A review's prompt: the diff and its context, a few hundred kilobytes.
  messages: [{ role: 'user' as const, content: 'x'.repeat(promptKiB * 1024) }],
};

async function run(client: Anthropic, parallel: number, anthropic: FakeAnthropic) {
  const figures = await callsAtOnce(() => client.messages.create(request), calls, parallel);
  // The fake records every request; forgetting them keeps the RSS figure about the gateway.
  anthropic.resetTraffic();
  return figures;
}

const [redis, anthropic] = await Promise.all([startRedis(), new FakeAnthropic({ apiKey: KEY }).start()]);
anthropic.setDefaultReply(FakeAnthropic.toolUse('submit_review', { summary: 'Fine.', findings: [] }));
const connection = new Redis(redis.url);
const grants = new GatewayGrants(connection);
const startGateway = async (slots?: Redis) => {
  const started = new ModelGateway(
    grants,
    gatewaySettingsSchema.parse({ port: 0 }),
    { baseUrl: anthropic.url, apiKey: KEY },
    new Registry(),
    createLogger({ name: 'bench', level: 'silent' }),
    slots,
  );
  await started.onApplicationBootstrap();
  return started;
};
// The same limit (model.maxConcurrency, 4 by default): per replica, and across replicas through Redis.
const gateway = await startGateway();
const clusterWide = await startGateway(connection);
let peakRss = 0;
const sampler = setInterval(() => {
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
}, 20);
try {
  // A ceiling no bench run reaches: the figure is the forward, not a refusal.
  const token = await grants.issue('benchreview01', 1_000_000, 3600);
  const direct = new Anthropic({ apiKey: KEY, baseURL: anthropic.url, maxRetries: 0 });
  const through = new Anthropic({ apiKey: token, baseURL: `http://127.0.0.1:${gateway.port}`, maxRetries: 0 });
  const shared = new Anthropic({ apiKey: token, baseURL: `http://127.0.0.1:${clusterWide.port}`, maxRetries: 0 });
  await run(direct, 4, anthropic);
  await run(through, 4, anthropic);
  await run(shared, 4, anthropic);
  type Figures = Awaited<ReturnType<typeof run>>;
  const rows: [string, Figures, Figures, Figures][] = [];
  for (const parallel of [1, concurrency]) {
    rows.push([
      `${parallel} at once`,
      await run(direct, parallel, anthropic),
      await run(through, parallel, anthropic),
      await run(shared, parallel, anthropic),
    ]);
  }
  const ms = (x: number) => `${x.toFixed(2)} ms`;
  console.log(`model gateway: ${calls} calls of a ${promptKiB} KiB prompt per row (model answers at once)`);
  console.log(
    `${''.padEnd(17)}${'direct (baseline)'.padEnd(33)} | ${'through the gateway, limit per replica'.padEnd(55)} | limit cluster-wide (Redis slots)`,
  );
  const cell = (f: Figures) => `p50 ${ms(f.p50)} p99 ${ms(f.p99)} ${f.perSecond.toFixed(0)}/s`;
  for (const [label, a, b, c] of rows) {
    console.log(
      `${label.padEnd(14)}   ${cell(a)}`.padEnd(50) +
        ` | ${cell(b)}   (+${ms(b.p50 - a.p50)} p50)`.padEnd(58) +
        ` | ${cell(c)}   (+${ms(c.p50 - b.p50)} p50 over per replica)`,
    );
  }
  const spent = await grants.authorize(token);
  console.log(
    `metered: ${'spent' in spent ? `${spent.spent.calls} calls, $${spent.spent.costUsd.toFixed(2)}` : 'none'}`,
  );
  console.log(`peak RSS of the bench process (fake, SDK clients and gateway): ${(peakRss / 2 ** 20).toFixed(0)} MiB`);
} finally {
  clearInterval(sampler);
  await Promise.all([gateway.onApplicationShutdown(), clusterWide.onApplicationShutdown()]);
  connection.disconnect();
  await Promise.all([redis.stop(), anthropic.stop()]);
}
