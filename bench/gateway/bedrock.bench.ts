// What the gateway's translation to Amazon Bedrock costs, beside the baseline in the same run:
// review calls signed by the Bedrock SDK straight to the Bedrock fake (a review Job without the
// gateway), and the same calls through the worker's ModelGateway, which checks the review's grant
// in a real Redis, signs with the worker's identity (SigV4 hashes the whole body) and meters the
// reply. The fake answers at once, so the difference is Kritik's own cost. Prints p50 and p99 per
// call and calls per second, one call at a time and --concurrency at once.
//   npm run bench:gateway:bedrock -w bench [-- --calls 200 --concurrency 20 --prompt-kib 200]
import { AnthropicBedrock } from '@anthropic-ai/bedrock-sdk';
import Anthropic from '@anthropic-ai/sdk';
import { readModelSettings } from '@kritik/core';
import { createLogger } from '@kritik/server';
import { FakeBedrock, startRedis } from '@kritik/testing';
import { GatewayGrants, gatewaySettingsSchema, ModelGateway } from '@kritik/worker';
import { Redis } from 'ioredis';
import { Registry } from 'prom-client';
import { callsAtOnce, numberOption } from '../measure.js';

const calls = numberOption('calls', 200);
const concurrency = numberOption('concurrency', 20);
const promptKiB = numberOption('prompt-kib', 200);

const REGION = 'eu-central-1';
const BEDROCK_ID = 'anthropic.claude-haiku-4-5-20251001-v1:0';
const KEY = { accessKeyId: 'AKIABENCHFAKE0000001', secretAccessKey: 'bench/secret/for/the/fake' };
// The worker's identity, read by the AWS SDK from the environment as IRSA's would be.
process.env.AWS_ACCESS_KEY_ID = KEY.accessKeyId;
process.env.AWS_SECRET_ACCESS_KEY = KEY.secretAccessKey;

const body = 'x'.repeat(promptKiB * 1024);

async function run(send: () => Promise<unknown>, parallel: number, bedrock: FakeBedrock) {
  const figures = await callsAtOnce(send, calls, parallel);
  bedrock.resetTraffic();
  return figures;
}

const [redis, bedrock] = await Promise.all([startRedis(), new FakeBedrock({ region: REGION }).allow(KEY).start()]);
bedrock.setDefaultReply({ toolUse: { name: 'submit_review', input: { summary: 'Fine.', findings: [] } } });
const settings = readModelSettings({
  KRITIK_MODEL_PROVIDER: 'bedrock',
  KRITIK_MODEL_REGION: REGION,
  ANTHROPIC_BEDROCK_BASE_URL: bedrock.url,
  // High enough that the limit never queues a call: the figure is the translation, not the queue.
  KRITIK_MODEL_MAX_CONCURRENCY: '1000',
  KRITIK_MODEL_CATALOGUE: JSON.stringify({
    'claude-sonnet-5-5': { ids: { bedrock: 'eu.anthropic.claude-sonnet-5-5-v1:0' } },
  }),
});
if ('problems' in settings) throw new Error(settings.problems.join('; '));
const connection = new Redis(redis.url);
const grants = new GatewayGrants(connection);
const gateway = new ModelGateway(
  grants,
  gatewaySettingsSchema.parse({ port: 0 }),
  { baseUrl: 'http://127.0.0.1:9', model: settings.settings },
  new Registry(),
  createLogger({ name: 'bench', level: 'silent' }),
);
await gateway.onApplicationBootstrap();
try {
  const token = await grants.issue('benchreview02', 1_000_000, 3600);
  const direct = new AnthropicBedrock({ awsRegion: REGION, baseURL: bedrock.url, maxRetries: 0 });
  const through = new Anthropic({ apiKey: token, baseURL: `http://127.0.0.1:${gateway.port}`, maxRetries: 0 });
  const messages = [{ role: 'user' as const, content: body }];
  const viaSdk = () => direct.messages.create({ model: BEDROCK_ID, max_tokens: 1024, messages });
  const viaGateway = () => through.messages.create({ model: 'claude-haiku-4-5', max_tokens: 1024, messages });
  await run(viaSdk, 4, bedrock);
  await run(viaGateway, 4, bedrock);
  const ms = (x: number) => `${x.toFixed(2)} ms`;
  console.log(`model gateway to Bedrock: ${calls} calls of a ${promptKiB} KiB prompt per row (model answers at once)`);
  console.log(`${''.padEnd(17)}${'Bedrock SDK direct (baseline)'.padEnd(33)} | through the gateway`);
  for (const parallel of [1, concurrency]) {
    const a = await run(viaSdk, parallel, bedrock);
    const b = await run(viaGateway, parallel, bedrock);
    console.log(
      `${`${parallel} at once`.padEnd(14)}   p50 ${ms(a.p50)} p99 ${ms(a.p99)} ${a.perSecond.toFixed(0)}/s`.padEnd(50) +
        ` | p50 ${ms(b.p50)} p99 ${ms(b.p99)} ${b.perSecond.toFixed(0)}/s   (+${ms(b.p50 - a.p50)} p50)`,
    );
  }
} finally {
  await gateway.onApplicationShutdown();
  connection.disconnect();
  await Promise.all([redis.stop(), bedrock.stop()]);
}
