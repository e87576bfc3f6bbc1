import Anthropic from '@anthropic-ai/sdk';
import { readModelSettings, redisKeys } from '@kritik/core';
import { createLogger } from '@kritik/server';
import {
  FakeAnthropic,
  FakeBedrock,
  FakeGoogleOAuth,
  FakeVertex,
  setProcessEnv,
  startRedis,
  type TestRedis,
} from '@kritik/testing';
import { Redis } from 'ioredis';
import { Registry } from 'prom-client';
import { gatewaySettingsSchema } from '../config/worker.config.js';
import { GatewayGrants } from './gateway-grants.js';
import { ModelGateway } from './model-gateway.js';

const PLATFORM_KEY = 'sk-ant-platform-0123456789';
const MAX_COST_USD = 5;
const REQUEST = {
  model: 'claude-sonnet-5-5',
  max_tokens: 256,
  messages: [{ role: 'user' as const, content: 'Review this diff.' }],
};

describe(ModelGateway.name, () => {
  let redis: TestRedis;
  let client: Redis;
  let anthropic: FakeAnthropic;
  let grants: GatewayGrants;
  let registry: Registry;
  let sut: ModelGateway;
  let url: string;

  const start = async (settings: Record<string, unknown> = {}, upstream = anthropic.url) => {
    registry = new Registry();
    const gateway = new ModelGateway(
      grants,
      gatewaySettingsSchema.parse({ port: 0, ...settings }),
      { baseUrl: upstream, apiKey: PLATFORM_KEY },
      registry,
      createLogger({ name: 'gateway', level: 'silent' }),
    );
    await gateway.onApplicationBootstrap();
    return gateway;
  };

  /** The Anthropic SDK as the reviewer builds it, pointed at the gateway with a review's token. */
  const sdk = (apiKey: string) => new Anthropic({ apiKey, baseURL: url, maxRetries: 0 });

  const post = (path: string, init: { token?: string; body?: string | Buffer; method?: string } = {}) =>
    fetch(`${url}${path}`, {
      method: init.method ?? 'POST',
      headers: {
        'content-type': 'application/json',
        'anthropic-version': '2023-06-01',
        ...(init.token ? { 'x-api-key': init.token } : {}),
      },
      ...(init.method === 'GET' ? {} : { body: init.body ?? JSON.stringify(REQUEST) }),
    });

  beforeAll(async () => {
    [redis, anthropic] = await Promise.all([startRedis(), new FakeAnthropic({ apiKey: PLATFORM_KEY }).start()]);
    client = new Redis(redis.url);
    grants = new GatewayGrants(client);
    sut = await start();
    url = `http://127.0.0.1:${sut.port}`;
  });
  afterAll(async () => {
    await sut?.onApplicationShutdown();
    client?.disconnect();
    await Promise.all([redis?.stop(), anthropic?.stop()]);
  });
  beforeEach(() => {
    anthropic.resetTraffic();
    anthropic.setDefaultReply(FakeAnthropic.text('Looks fine.'));
  });

  it('forwards a review call with the platform key and meters its usage', async () => {
    const token = await grants.issue('review000001', MAX_COST_USD, 60);

    const reply = await sdk(token).messages.create(REQUEST);

    expect(reply.content).toEqual([expect.objectContaining({ type: 'text', text: 'Looks fine.' })]);
    const [seen] = anthropic.requestsTo('POST /v1/messages');
    expect(seen!.headers['x-api-key']).toBe(PLATFORM_KEY);
    expect(JSON.stringify(seen!.headers)).not.toContain(token);
    const grant = await grants.authorize(token);
    expect(grant).toMatchObject({
      reviewId: 'review000001',
      spent: { calls: 1, input: reply.usage.input_tokens, output: reply.usage.output_tokens },
    });
    expect((grant as { spent: { costUsd: number } }).spent.costUsd).toBeGreaterThan(0);
    const metrics = await registry.metrics();
    expect(metrics).toMatch(/kritik_gateway_requests_total\{outcome="forwarded",provider="anthropic"\} 1/);
    expect(metrics).toMatch(/kritik_gateway_tokens_total\{kind="output",provider="anthropic"\} [1-9]/);
    expect(metrics).toMatch(/kritik_gateway_cost_usd_total\{provider="anthropic"\} 0\.\d*[1-9]/);
  });

  it('gives the same token to a review granted twice (a worker adopting a running review)', async () => {
    const first = await grants.issue('review000002', MAX_COST_USD, 60);
    expect(await grants.issue('review000002', MAX_COST_USD, 60)).toBe(first);
  });

  it.each([
    ['no token', undefined],
    ['a token of no review', 'kgw_review000404_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'],
    ['the platform key itself', PLATFORM_KEY],
    ['a hostile token', 'kgw_review000003_x-api-key: sk-ant-evil <!-- kritik:review -->'],
  ])('refuses %s with 401 and sends nothing upstream', async (_what, token) => {
    await grants.issue('review000003', MAX_COST_USD, 60);

    const res = await post('/v1/messages', token === undefined ? {} : { token });

    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({
      type: 'error',
      error: { type: 'authentication_error', message: expect.any(String) },
    });
    expect(anthropic.requestsTo('POST /v1/messages')).toHaveLength(0);
  });

  it('refuses a token guessed for a granted review', async () => {
    const token = await grants.issue('review000004', MAX_COST_USD, 60);
    const guessed = `${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}`;

    await expect(sdk(guessed).messages.create(REQUEST)).rejects.toMatchObject({ status: 401 });
    expect(anthropic.requestsTo('POST /v1/messages')).toHaveLength(0);
  });

  it('refuses every call once the review has ended', async () => {
    const token = await grants.issue('review000005', MAX_COST_USD, 60);
    await sdk(token).messages.create(REQUEST);

    await grants.revoke('review000005');

    await expect(sdk(token).messages.create(REQUEST)).rejects.toMatchObject({ status: 401 });
    expect(anthropic.requestsTo('POST /v1/messages')).toHaveLength(1);
  });

  it('refuses calls past the review budget with a billing error the SDK does not retry', async () => {
    anthropic.setDefaultReply({ text: 'expensive', usage: { input_tokens: 100_000, output_tokens: 20_000 } });
    const token = await grants.issue('review000006', 0.3, 60);
    const client = new Anthropic({ apiKey: token, baseURL: url, maxRetries: 3 });

    await client.messages.create(REQUEST);
    const refused = await client.messages.create(REQUEST).catch((err: unknown) => err);

    expect(refused).toBeInstanceOf(Anthropic.APIError);
    expect(refused).toMatchObject({ status: 402, error: { error: { type: 'billing_error' } } });
    expect((refused as Error).message).toMatch(/spent 0\.4000 of its 0\.3 USD/);
    expect(anthropic.requestsTo('POST /v1/messages')).toHaveLength(1);
  });

  it('lets count_tokens through without metering it', async () => {
    const token = await grants.issue('review000008', MAX_COST_USD, 60);

    const counted = await sdk(token).messages.countTokens({ model: REQUEST.model, messages: REQUEST.messages });

    expect(counted.input_tokens).toBeGreaterThan(0);
    expect(await grants.authorize(token)).toMatchObject({ spent: { calls: 0 } });
  });

  it('passes the API errors through, so the reviewer retries as it would against the API', async () => {
    const token = await grants.issue('review000009', MAX_COST_USD, 60);
    anthropic.script({ error: { status: 529, headers: { 'retry-after': '1' } } });

    const res = await post('/v1/messages', { token });

    expect(res.status).toBe(529);
    expect(res.headers.get('retry-after')).toBe('1');
    expect(res.headers.get('request-id')).toBeTruthy();
    expect(await res.json()).toMatchObject({ type: 'error', error: { type: 'overloaded_error' } });
    expect(await grants.authorize(token)).toMatchObject({ spent: { calls: 0 } });
  });

  it.each([
    ['a body that is not JSON', '{"model": ', 400, 'not JSON'],
    ['a JSON array', '[1,2]', 400, 'must be an object'],
    ['a request without a model', JSON.stringify({ messages: [] }), 400, 'model'],
  ])('answers %s with a clear API error', async (_what, body, status, message) => {
    const token = await grants.issue('review000010', MAX_COST_USD, 60);

    const res = await post('/v1/messages', { token, body });

    expect(res.status).toBe(status);
    expect(((await res.json()) as { error: { message: string } }).error.message).toContain(message);
    expect(anthropic.requestsTo('POST /v1/messages')).toHaveLength(0);
  });

  it('passes a streamed reply on and meters it from its events', async () => {
    const token = await grants.issue('review000015', MAX_COST_USD, 60);
    anthropic.setDefaultReply({ text: 'Streamed.', usage: { input_tokens: 70, output_tokens: 30 } });

    const message = await sdk(token).messages.stream(REQUEST).finalMessage();

    expect(message.content).toEqual([expect.objectContaining({ type: 'text', text: 'Streamed.' })]);
    expect(await grants.authorize(token)).toMatchObject({ spent: { calls: 1, input: 70, output: 30 } });
  });

  it('forwards only model calls', async () => {
    const token = await grants.issue('review000011', MAX_COST_USD, 60);

    const res = await post('/v1/models', { token, method: 'GET' });
    const outside = await post('/v1/messages/../../admin', { token });

    expect([res.status, outside.status]).toEqual([404, 404]);
    expect(anthropic.requests).toHaveLength(0);
  });

  describe('with small limits and an unreachable API', () => {
    let small: ModelGateway;
    let smallUrl: string;

    beforeAll(async () => {
      small = await start({ maxRequestBytes: 1024 }, 'http://127.0.0.1:9');
      smallUrl = `http://127.0.0.1:${small.port}`;
    });
    afterAll(() => small?.onApplicationShutdown());

    it('refuses a body over the limit with 413 before it reaches the API', async () => {
      const token = await grants.issue('review000012', MAX_COST_USD, 60);
      const body = JSON.stringify({ ...REQUEST, messages: [{ role: 'user', content: 'x'.repeat(4096) }] });

      const res = await fetch(`${smallUrl}/v1/messages`, { method: 'POST', headers: { 'x-api-key': token }, body });

      expect(res.status).toBe(413);
      expect(await res.json()).toMatchObject({ error: { type: 'request_too_large' } });
    });

    it('answers 502 when the API cannot be reached, and meters nothing', async () => {
      const token = await grants.issue('review000013', MAX_COST_USD, 60);

      const res = await fetch(`${smallUrl}/v1/messages`, {
        method: 'POST',
        headers: { 'x-api-key': token, 'content-type': 'application/json' },
        body: JSON.stringify(REQUEST),
      });

      expect(res.status).toBe(502);
      expect(await res.json()).toMatchObject({ error: { type: 'api_error' } });
      expect(await grants.authorize(token)).toMatchObject({ spent: { calls: 0 } });
    });
  });

  describe('through Amazon Bedrock', () => {
    const REGION = 'eu-west-1';
    const KEY = { accessKeyId: 'AKIAWORKERFAKE000001', secretAccessKey: 'worker/secret/for/the/fake' };
    const PRICE = { input: 7, output: 11, cacheWrite: 13, cacheRead: 0.5 };
    let restoreEnv: () => void = () => {};
    let bedrock: FakeBedrock;
    let cloud: ModelGateway;
    let cloudUrl: string;
    let bedrockSettings: ReturnType<typeof readModelSettings>;

    beforeAll(async () => {
      // The worker's own identity, read from the environment by the AWS SDK as IRSA's would be.
      restoreEnv = setProcessEnv({ AWS_ACCESS_KEY_ID: KEY.accessKeyId, AWS_SECRET_ACCESS_KEY: KEY.secretAccessKey });
      bedrock = await new FakeBedrock({ region: REGION }).allow(KEY).start();
      bedrockSettings = readModelSettings({
        KRITIK_MODEL_PROVIDER: 'bedrock',
        KRITIK_MODEL_REGION: REGION,
        ANTHROPIC_BEDROCK_BASE_URL: bedrock.url,
        KRITIK_MODEL_MAX_CONCURRENCY: '1',
        KRITIK_MODEL_CATALOGUE: JSON.stringify({
          'claude-sonnet-5-5': { ids: { bedrock: 'eu.anthropic.claude-sonnet-5-5-v1:0' }, price: PRICE },
        }),
      });
      ({ gateway: cloud, registry } = await startCloudGateway(grants, bedrockSettings));
      cloudUrl = `http://127.0.0.1:${cloud.port}`;
    });
    afterAll(async () => {
      await cloud?.onApplicationShutdown();
      await bedrock?.stop();
      restoreEnv();
    });

    const cloudSdk = (apiKey: string) => new Anthropic({ apiKey, baseURL: cloudUrl, maxRetries: 0 });

    it('sends the call to Bedrock signed with the worker identity and meters it at the catalogue price', async () => {
      const token = await grants.issue('review000021', MAX_COST_USD, 60);
      bedrock.script({ text: 'From Bedrock.', usage: { input_tokens: 1000, output_tokens: 100 } });

      const reply = await cloudSdk(token).messages.create(REQUEST);

      expect(reply.content).toEqual([{ type: 'text', text: 'From Bedrock.' }]);
      const [seen] = bedrock.invocations();
      expect(seen).toMatchObject({ modelId: 'eu.anthropic.claude-sonnet-5-5-v1:0', accessKeyId: KEY.accessKeyId });
      expect(JSON.stringify(bedrock.requestsTo({ path: /^\/model\// }))).not.toContain(token);
      const grant = (await grants.authorize(token)) as { spent: { costUsd: number; calls: number } };
      expect(grant.spent.calls).toBe(1);
      expect(grant.spent.costUsd).toBeCloseTo((1000 * PRICE.input + 100 * PRICE.output) / 1e6, 9);
    });

    it('refuses a streamed call with a clear error and counts it under bedrock', async () => {
      const token = await grants.issue('review000025', MAX_COST_USD, 60);

      const res = await fetch(`${cloudUrl}/v1/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-api-key': token },
        body: JSON.stringify({ ...REQUEST, stream: true }),
      });

      expect(res.status).toBe(400);
      expect(((await res.json()) as { error: { message: string } }).error.message).toContain(
        'whole messages only through bedrock',
      );
      expect(await registry.metrics()).toMatch(
        /kritik_gateway_requests_total\{outcome="bad_request",provider="bedrock"\} 1/,
      );
    });

    it('answers Bedrock errors in the API shape, with the status the reviewer retries or falls back on', async () => {
      const token = await grants.issue('review000022', MAX_COST_USD, 60);
      bedrock.script({ error: { status: 503, message: 'Model is overloaded <script>' } });

      const res = await fetch(`${cloudUrl}/v1/messages`, {
        method: 'POST',
        headers: { 'x-api-key': token, 'content-type': 'application/json' },
        body: JSON.stringify(REQUEST),
      });

      expect(res.status).toBe(503);
      expect(await res.json()).toEqual({
        type: 'error',
        error: { type: 'api_error', message: 'bedrock: Model is overloaded <script>' },
      });
      expect(await grants.authorize(token)).toMatchObject({ spent: { calls: 0 } });
    });

    it('refuses a model Bedrock has no id for, naming the ones it has', async () => {
      const token = await grants.issue('review000023', MAX_COST_USD, 60);

      const call = cloudSdk(token).messages.create({ ...REQUEST, model: 'claude-mythos-5' });

      await expect(call).rejects.toMatchObject({
        status: 400,
        message: expect.stringContaining('known: claude-haiku-4-5'),
      });
      expect(bedrock.invocations().map((i) => i.modelId)).not.toContain('claude-mythos-5');
    });

    it('holds calls beyond the per-provider limit until one ends, instead of sending them all at once', async () => {
      const token = await grants.issue('review000024', MAX_COST_USD, 60);
      let release!: () => void;
      const held = new Promise<void>((resolve) => {
        release = resolve;
      });
      const before = bedrock.invocations().length;
      bedrock.script(
        async () => {
          await held;
          return { text: 'first' };
        },
        { text: 'second' },
      );

      const first = cloudSdk(token).messages.create(REQUEST);
      const second = cloudSdk(token).messages.create(REQUEST);
      await new Promise((r) => setTimeout(r, 300));
      const inFlight = bedrock.invocations().length - before;
      release();
      const replies = await Promise.all([first, second]);

      expect(inFlight).toBe(1);
      expect(replies.map((r) => (r.content[0] as { text: string }).text)).toEqual(['first', 'second']);
    });

    it('holds the limit across two worker replicas sharing Redis, not per replica', async () => {
      const [a, b] = await Promise.all([
        startCloudGateway(grants, bedrockSettings, client),
        startCloudGateway(grants, bedrockSettings, client),
      ]);
      const token = await grants.issue('review000026', MAX_COST_USD, 60);
      const replica = (gateway: ModelGateway) =>
        new Anthropic({ apiKey: token, baseURL: `http://127.0.0.1:${gateway.port}`, maxRetries: 0 });
      let inFlight = 0;
      let most = 0;
      bedrock.setDefaultReply(async () => {
        most = Math.max(most, ++inFlight);
        await new Promise((r) => setTimeout(r, 50));
        inFlight--;
        return { text: 'one at a time' };
      });
      try {
        const replies = await Promise.all(
          [a, b, a, b, a, b].map(({ gateway }) => replica(gateway).messages.create(REQUEST)),
        );

        expect(replies).toHaveLength(6);
        expect(most).toBe(1);
        expect(await client.zcard(redisKeys.gatewaySlots('bedrock'))).toBe(0);
      } finally {
        await Promise.all([a.gateway.onApplicationShutdown(), b.gateway.onApplicationShutdown()]);
      }
    });
  });

  describe('through Vertex AI', () => {
    const PROJECT = 'acme-reviews';
    const LOCATION = 'europe-west1';
    let oauth: FakeGoogleOAuth;
    let vertex: FakeVertex;
    let cloud: ModelGateway;
    let restoreEnv: () => void = () => {};

    beforeAll(async () => {
      oauth = await new FakeGoogleOAuth({ project: PROJECT }).start();
      vertex = await new FakeVertex(oauth, { project: PROJECT, region: LOCATION }).start();
      // GKE Workload Identity's metadata server, where google-auth-library looks for the worker's token.
      restoreEnv = setProcessEnv({ GCE_METADATA_HOST: new URL(oauth.url).host });
      const read = readModelSettings({
        KRITIK_MODEL_PROVIDER: 'vertex',
        KRITIK_MODEL_REGION: LOCATION,
        KRITIK_VERTEX_PROJECT_ID: PROJECT,
        ANTHROPIC_VERTEX_BASE_URL: `${vertex.url}/v1`,
        KRITIK_MODEL_CATALOGUE: JSON.stringify({
          'claude-sonnet-5-5': { ids: { vertex: 'claude-sonnet-5-5@20260101' } },
        }),
      });
      ({ gateway: cloud, registry } = await startCloudGateway(grants, read));
    });
    afterAll(async () => {
      await cloud?.onApplicationShutdown();
      await Promise.all([vertex?.stop(), oauth?.stop()]);
      restoreEnv();
    });

    it('calls rawPredict with the token of the worker identity, never the review token', async () => {
      const token = await grants.issue('review000031', MAX_COST_USD, 60);
      vertex.script({ text: 'From Vertex.', usage: { input_tokens: 10, output_tokens: 5 } });

      const reply = await new Anthropic({
        apiKey: token,
        baseURL: `http://127.0.0.1:${cloud.port}`,
        maxRetries: 0,
      }).messages.create(REQUEST);

      expect(reply.content).toEqual([{ type: 'text', text: 'From Vertex.' }]);
      expect(vertex.predictions()).toEqual([
        expect.objectContaining({
          project: PROJECT,
          region: LOCATION,
          model: 'claude-sonnet-5-5@20260101',
          stream: false,
        }),
      ]);
      expect(oauth.issued).toBe(1);
      expect(JSON.stringify(vertex.requestsTo({ path: /rawPredict$/ }))).not.toContain(token);
      expect(await grants.authorize(token)).toMatchObject({ spent: { calls: 1, input: 10, output: 5 } });
    });
  });

  it('keeps no grant alive past its time, and brings none back when a late reply is metered', async () => {
    const token = await grants.issue('review000014', MAX_COST_USD, 1);
    expect(await client.ttl(redisKeys.gatewayGrant('review000014'))).toBe(1);

    await grants.revoke('review000014');
    expect(await grants.meter('review000014', { input: 1, output: 1, cacheRead: 0, cacheWrite: 0 }, 0.01)).toBe(false);

    expect(await client.exists(redisKeys.gatewayGrant('review000014'))).toBe(0);
    expect(await grants.authorize(token)).toEqual({ kind: 'unknown-token' });
  });
});

/** A gateway in front of a cloud provider (the Anthropic URL unreachable: nothing may go there). */
async function startCloudGateway(
  grants: GatewayGrants,
  read: ReturnType<typeof readModelSettings>,
  slots?: Redis,
): Promise<{ gateway: ModelGateway; registry: Registry }> {
  if ('problems' in read) throw new Error(read.problems.join('; '));
  const registry = new Registry();
  const gateway = new ModelGateway(
    grants,
    gatewaySettingsSchema.parse({ port: 0 }),
    { baseUrl: 'http://127.0.0.1:9', model: read.settings },
    registry,
    createLogger({ name: 'gateway', level: 'silent' }),
    slots,
  );
  await gateway.onApplicationBootstrap();
  return { gateway, registry };
}
