// A review through each model provider in Job mode, as a child process whose environment is all
// it has: Bedrock signed with keys from the environment and with an IRSA web identity token,
// Vertex with a service-account key, a fallback on 529, catalogue prices, and start-up refusals.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AnthropicBedrock } from '@anthropic-ai/bedrock-sdk';
import { AnthropicVertex } from '@anthropic-ai/vertex-sdk';
import { costOf, MODEL_CATALOGUE, readModelSettings, reviewResultSchema } from '@kritik/core';
import { FakeBedrock, FakeGoogleOAuth, FakeSts, FakeVertex, GOOGLE_TOKEN_URL } from '@kritik/testing';
import { JWT } from 'google-auth-library';
import { createModelPort } from '../src/llm/providers.js';
import { API_KEY, Harness, jobPayload, toolReply } from './harness.js';
import { runJob } from './run-job.js';

const REGION = 'eu-central-1';
const CLOUD_PLATFORM = 'https://www.googleapis.com/auth/cloud-platform';
const BEDROCK_SONNET = 'eu.anthropic.claude-sonnet-5-5-v1:0';
const VERTEX_SONNET = 'claude-sonnet-5-5@20260101';
const KEY = { accessKeyId: 'AKIAFAKEKRITIK000001', secretAccessKey: 'fake/secret/key/for/the/bedrock/fake' };
/** Prices no built-in model has, so a cost can only come from the override. */
const PRICE = { input: 7, output: 11, cacheWrite: 13, cacheRead: 0.5 };
const USAGE = {
  input_tokens: 1200,
  output_tokens: 300,
  cache_creation_input_tokens: 400,
  cache_read_input_tokens: 800,
};
const usageCost = costOf({ input: 1200, output: 300, cacheWrite: 400, cacheRead: 800 }, PRICE);

describe('review through a model provider', () => {
  let h: Harness;
  let dir: string;

  beforeEach(async () => {
    h = await new Harness().start();
    dir = mkdtempSync(join(tmpdir(), 'kritik-provider-'));
    await h.repo();
    h.pullRequest([{ filename: 'a.go', status: 'added', patch: '@@ -0,0 +1,2 @@\n+package a\n+func A() {}' }]);
  });

  afterEach(async () => {
    await h.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** The Job's environment without any Anthropic key: HOME is empty, so no AWS or gcloud profile is found. */
  const jobEnv = (extra: Record<string, string>) => ({
    HOME: dir,
    KRITIK_REVIEW: JSON.stringify(jobPayload(h.github.url)),
    GITHUB_TOKEN: h.token,
    KRITIK_TERMINATION_LOG: join(dir, 'termination-log'),
    ...extra,
  });
  const result = () => reviewResultSchema.parse(JSON.parse(readFileSync(join(dir, 'termination-log'), 'utf8')));
  const catalogue = (ids: Record<string, string>) => JSON.stringify({ 'claude-sonnet-5-5': { ids, price: PRICE } });

  describe('Amazon Bedrock', () => {
    let bedrock: FakeBedrock;
    beforeEach(async () => {
      bedrock = await new FakeBedrock({ region: REGION }).start();
    });
    afterEach(() => bedrock.stop());

    const bedrockEnv = (extra: Record<string, string>) =>
      jobEnv({
        KRITIK_MODEL_PROVIDER: 'bedrock',
        KRITIK_MODEL_REGION: REGION,
        ANTHROPIC_BEDROCK_BASE_URL: bedrock.url,
        KRITIK_MODEL_CATALOGUE: catalogue({ bedrock: BEDROCK_SONNET }),
        ...extra,
      });

    it('signs with the keys in the environment and prices the reply from the catalogue override', async () => {
      bedrock.allow(KEY).script({ ...toolReply('Looks fine.'), usage: USAGE });

      const run = await runJob(
        bedrockEnv({ AWS_ACCESS_KEY_ID: KEY.accessKeyId, AWS_SECRET_ACCESS_KEY: KEY.secretAccessKey }),
      );

      expect(run.code).toBe(0);
      expect(bedrock.invocations()).toEqual([
        expect.objectContaining({
          modelId: BEDROCK_SONNET,
          stream: false,
          region: REGION,
          accessKeyId: KEY.accessKeyId,
        }),
      ]);
      expect(result()).toMatchObject({ status: 'posted', tokens: { input: 1200, output: 300 } });
      expect(result().costUsd).toBeCloseTo(usageCost, 9);
      expect(h.reviews()[0]!.body).toContain('Looks fine.');
      expect(`${run.stdout}${run.stderr}`).not.toContain(KEY.secretAccessKey);
    });

    it('assumes the role of an IRSA web identity token file through STS and signs with its session', async () => {
      const tokenFile = join(dir, 'token');
      writeFileSync(tokenFile, 'eyJhbGciOiJSUzI1NiJ9.projected-service-account-token.sig');
      const roleArn = 'arn:aws:iam::123456789012:role/kritik-reviewer';
      const sts = await new FakeSts({ roleArn, webIdentityToken: readFileSync(tokenFile, 'utf8'), bedrock }).start();
      bedrock.script(toolReply('Through the role.'));
      try {
        const run = await runJob(
          bedrockEnv({
            AWS_REGION: REGION,
            AWS_ROLE_ARN: roleArn,
            AWS_WEB_IDENTITY_TOKEN_FILE: tokenFile,
            AWS_ENDPOINT_URL_STS: sts.url,
          }),
        );

        expect(run.code).toBe(0);
        expect(sts.issued).toHaveLength(1);
        expect(bedrock.invocations()[0]).toMatchObject({ accessKeyId: sts.issued[0]!.accessKeyId, region: REGION });
        expect(result().status).toBe('posted');
      } finally {
        await sts.stop();
      }
    });

    it('fails the review visibly when the signature is scoped to another region', async () => {
      bedrock.allow(KEY).script(toolReply('never'));

      const run = await runJob(
        bedrockEnv({
          KRITIK_MODEL_REGION: 'us-east-1',
          AWS_ACCESS_KEY_ID: KEY.accessKeyId,
          AWS_SECRET_ACCESS_KEY: KEY.secretAccessKey,
        }),
      );

      expect(run.code).toBe(1);
      expect(bedrock.invocations()).toEqual([]);
      expect(result().status).toBe('failed');
      expect(result().reason).toMatch(/Amazon Bedrock request failed: 403 .*us-east-1/);
    });

    it('streams through invoke-with-response-stream in AWS event-stream framing', async () => {
      bedrock.allow(KEY).script({ text: 'streamed <b>&</b> "quoted"' });
      const sut = new AnthropicBedrock({
        awsRegion: REGION,
        baseURL: bedrock.url,
        awsAccessKey: KEY.accessKeyId,
        awsSecretKey: KEY.secretAccessKey,
        maxRetries: 0,
      });

      const stream = sut.messages.stream({
        model: BEDROCK_SONNET,
        max_tokens: 100,
        messages: [{ role: 'user', content: 'hi' }],
      });
      const message = await stream.finalMessage();

      expect(bedrock.invocations()[0]).toMatchObject({ modelId: BEDROCK_SONNET, stream: true });
      expect(message.content).toEqual([{ type: 'text', text: 'streamed <b>&</b> "quoted"' }]);
      expect(message.stop_reason).toBe('end_turn');
    });
  });

  describe('Vertex AI', () => {
    const PROJECT = 'acme-reviews';
    const LOCATION = 'europe-west1';
    let oauth: FakeGoogleOAuth;
    let vertex: FakeVertex;
    beforeEach(async () => {
      oauth = await new FakeGoogleOAuth().start();
      vertex = await new FakeVertex(oauth, { project: PROJECT, region: LOCATION }).start();
    });
    afterEach(async () => {
      await Promise.all([vertex.stop(), oauth.stop()]);
    });

    it('takes its token from the GKE metadata server (Workload Identity) and calls rawPredict in the project and location', async () => {
      vertex.script({ ...toolReply('Reviewed on Vertex.'), usage: USAGE });

      const run = await runJob(
        jobEnv({
          KRITIK_MODEL_PROVIDER: 'vertex',
          KRITIK_MODEL_REGION: LOCATION,
          KRITIK_VERTEX_PROJECT_ID: PROJECT,
          ANTHROPIC_VERTEX_BASE_URL: `${vertex.url}/v1`,
          KRITIK_MODEL_CATALOGUE: catalogue({ vertex: VERTEX_SONNET }),
          GCE_METADATA_HOST: new URL(oauth.url).host,
        }),
      );

      expect(run.code).toBe(0);
      expect(oauth.issued).toBe(1);
      expect(vertex.predictions()).toEqual([
        expect.objectContaining({ project: PROJECT, region: LOCATION, model: VERTEX_SONNET, stream: false }),
      ]);
      expect(result().status).toBe('posted');
      expect(result().costUsd).toBeCloseTo(usageCost, 9);
    });

    it('exchanges a generated service-account key for a token and streams through streamRawPredict', async () => {
      const key = oauth.serviceAccountKey(PROJECT);
      const jwt = new JWT({ email: key.client_email, key: key.private_key, scopes: [CLOUD_PLATFORM] });
      // The library sends every key's JWT to Google's endpoint; only that address is redirected to the fake.
      const transporter = jwt.transporter;
      jwt.transporter = {
        request: (options: { url?: unknown }) =>
          transporter.request({
            ...options,
            url: String(options.url) === GOOGLE_TOKEN_URL ? `${oauth.url}/token` : options.url,
          } as never),
      } as never;
      vertex.script({ text: 'streamed from Vertex' });
      const sut = new AnthropicVertex({
        region: LOCATION,
        projectId: PROJECT,
        baseURL: `${vertex.url}/v1`,
        authClient: jwt,
        maxRetries: 0,
      });

      const message = await sut.messages
        .stream({ model: VERTEX_SONNET, max_tokens: 50, messages: [{ role: 'user', content: 'hi' }] })
        .finalMessage();

      expect(oauth.issued).toBe(1);
      expect(vertex.predictions()[0]).toMatchObject({ model: VERTEX_SONNET, stream: true });
      expect(message.content).toEqual([{ type: 'text', text: 'streamed from Vertex' }]);
    });

    it('refuses a bearer token the token endpoint did not issue', async () => {
      const sut = new AnthropicVertex({
        region: LOCATION,
        projectId: PROJECT,
        baseURL: `${vertex.url}/v1`,
        authClient: { getRequestHeaders: async () => new Headers({ authorization: 'Bearer ya29.forged' }) } as never,
        maxRetries: 0,
      });

      await expect(
        sut.messages.create({ model: VERTEX_SONNET, max_tokens: 5, messages: [{ role: 'user', content: 'x' }] }),
      ).rejects.toMatchObject({ status: 401 });
      expect(vertex.predictions()).toEqual([]);
    });
  });

  describe('fallback', () => {
    it('asks the fallback model when the primary stays overloaded, records it and prices it at the fallback rate', async () => {
      const overloaded = { error: { status: 529, headers: { 'retry-after-ms': '5' } } };
      h.anthropic.script(overloaded, overloaded, overloaded, { ...toolReply('From the fallback.'), usage: USAGE });

      const run = await runJob(
        jobEnv({
          ANTHROPIC_API_KEY: API_KEY,
          ANTHROPIC_BASE_URL: h.anthropic.url,
          KRITIK_FALLBACK_MODEL: 'claude-haiku-4-5',
        }),
      );

      expect(run.code).toBe(0);
      expect(h.anthropic.messageRequests().map((r) => r.model)).toEqual([
        'claude-sonnet-5-5',
        'claude-sonnet-5-5',
        'claude-sonnet-5-5',
        'claude-haiku-4-5',
      ]);
      expect(result()).toMatchObject({
        status: 'posted',
        fallback: { from: 'claude-sonnet-5-5', to: 'anthropic/claude-haiku-4-5', calls: 1 },
      });
      const haiku = MODEL_CATALOGUE['claude-haiku-4-5']!.price;
      expect(result().costUsd).toBeCloseTo(
        costOf({ input: 1200, output: 300, cacheWrite: 400, cacheRead: 800 }, haiku),
        9,
      );
      expect(run.stderr).toContain('falling back to claude-haiku-4-5');
    });

    it('falls back from Bedrock answering 503 to Anthropic, on another provider', async () => {
      const bedrock = await new FakeBedrock({ region: REGION }).allow(KEY).start();
      const unavailable = {
        error: { status: 503, message: 'Service unavailable', headers: { 'retry-after-ms': '5' } },
      };
      bedrock.script(unavailable, unavailable, unavailable);
      h.anthropic.script(toolReply('Anthropic answered.'));
      try {
        const run = await runJob(
          jobEnv({
            KRITIK_MODEL_PROVIDER: 'bedrock',
            KRITIK_MODEL_REGION: REGION,
            ANTHROPIC_BEDROCK_BASE_URL: bedrock.url,
            KRITIK_MODEL_CATALOGUE: catalogue({ bedrock: BEDROCK_SONNET }),
            AWS_ACCESS_KEY_ID: KEY.accessKeyId,
            AWS_SECRET_ACCESS_KEY: KEY.secretAccessKey,
            KRITIK_FALLBACK_PROVIDER: 'anthropic',
            KRITIK_FALLBACK_MODEL: 'claude-sonnet-5-5',
            ANTHROPIC_API_KEY: API_KEY,
            ANTHROPIC_BASE_URL: h.anthropic.url,
          }),
        );

        expect(run.code).toBe(0);
        expect(bedrock.invocations()).toHaveLength(3);
        expect(h.anthropic.messageRequests().map((r) => r.model)).toEqual(['claude-sonnet-5-5']);
        expect(result()).toMatchObject({
          status: 'posted',
          fallback: { from: 'claude-sonnet-5-5', to: 'anthropic/claude-sonnet-5-5', calls: 1 },
        });
      } finally {
        await bedrock.stop();
      }
    });

    it('does not fall back on a client error', async () => {
      h.anthropic.script({ error: { status: 400, message: 'bad request' } });

      const run = await runJob(
        jobEnv({
          ANTHROPIC_API_KEY: API_KEY,
          ANTHROPIC_BASE_URL: h.anthropic.url,
          KRITIK_FALLBACK_MODEL: 'claude-haiku-4-5',
        }),
      );

      expect(run.code).toBe(1);
      expect(h.anthropic.messageRequests().map((r) => r.model)).toEqual(['claude-sonnet-5-5']);
      expect(result().fallback).toBeUndefined();
    });
  });

  describe('start-up', () => {
    it('refuses an unknown fallback model and lists the known ones', async () => {
      const run = await runJob(
        jobEnv({ ANTHROPIC_API_KEY: API_KEY, KRITIK_FALLBACK_MODEL: 'claude-sonnet-9<script>' }),
      );

      expect(run.code).toBe(2);
      expect(run.stderr).toContain('KRITIK_FALLBACK_MODEL');
      expect(run.stderr).toContain('"claude-sonnet-9<script>"');
      expect(run.stderr).toContain('known: claude-fable-5, claude-haiku-4-5');
      expect(h.anthropic.messageRequests()).toEqual([]);
      expect(result()).toMatchObject({ status: 'failed' });
    });

    it('refuses Bedrock when the catalogue has no Bedrock id for the default model, listing the models it has', async () => {
      const run = await runJob(jobEnv({ KRITIK_MODEL_PROVIDER: 'bedrock', KRITIK_MODEL_REGION: REGION }));

      expect(run.code).toBe(2);
      expect(run.stderr).toContain('"claude-sonnet-5-5" is not in the model catalogue for provider bedrock');
      expect(run.stderr).toContain('claude-haiku-4-5, claude-haiku-4-5-20251001, claude-opus-4-5');
    });

    it('names the bad catalogue override field', async () => {
      const run = await runJob(
        jobEnv({
          ANTHROPIC_API_KEY: API_KEY,
          KRITIK_MODEL_CATALOGUE: JSON.stringify({ 'claude-sonnet-5-5': { price: { input: -1 } } }),
        }),
      );

      expect(run.code).toBe(2);
      expect(run.stderr).toContain('KRITIK_MODEL_CATALOGUE claude-sonnet-5-5.price.input');
    });
  });
});

describe('the catalogue in a review', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await new Harness().start();
  });
  afterEach(() => h.stop());

  it('sends no cache breakpoints to a model the catalogue says cannot cache', async () => {
    await h.repo();
    h.pullRequest([{ filename: 'a.go', status: 'added', patch: '@@ -0,0 +1,2 @@\n+package a\n+func A() {}' }]);
    h.anthropic.script(toolReply('No cache.'));
    const read = readModelSettings({
      KRITIK_MODEL_CATALOGUE: '{"claude-sonnet-5-5":{"promptCaching":{"supported":false}}}',
    });
    if ('problems' in read) throw new Error(read.problems.join('; '));

    await h.review({
      llm: createModelPort({ settings: read.settings, apiKey: API_KEY, anthropicBaseUrl: h.anthropic.url }),
    });

    const [sent] = h.anthropic.requestsTo('POST /v1/messages');
    expect(sent!.rawBody).toContain('"system"');
    expect(sent!.rawBody).not.toContain('cache_control');
  });

  it('keeps the cache breakpoints of a model that caches', async () => {
    await h.repo();
    h.pullRequest([{ filename: 'a.go', status: 'added', patch: '@@ -0,0 +1,2 @@\n+package a\n+func A() {}' }]);
    h.anthropic.script(toolReply('Cached.'));
    const read = readModelSettings({});
    if ('problems' in read) throw new Error(read.problems.join('; '));

    await h.review({
      llm: createModelPort({ settings: read.settings, apiKey: API_KEY, anthropicBaseUrl: h.anthropic.url }),
    });

    expect(h.anthropic.requestsTo('POST /v1/messages')[0]!.rawBody).toContain('"cache_control"');
  });

  it("keeps max_input_tokens within the model's context window from the catalogue override", async () => {
    await h.repo('max_input_tokens: 500000\n');
    h.pullRequest([{ filename: 'a.go', status: 'added', patch: '@@ -0,0 +1,2 @@\n+package a\n+func A() {}' }]);
    h.anthropic.script(toolReply('Small model.'));
    const read = readModelSettings({ KRITIK_MODEL_CATALOGUE: '{"claude-sonnet-5-5":{"contextWindow":100000}}' });
    if ('problems' in read) throw new Error(read.problems.join('; '));

    await h.review({
      llm: createModelPort({ settings: read.settings, apiKey: API_KEY, anthropicBaseUrl: h.anthropic.url }),
    });

    expect(h.reviews()[0]!.body).toContain(
      'max_input_tokens (500000) is above the context window of `claude-sonnet-5-5`; 100000 was used.',
    );
  });
});
