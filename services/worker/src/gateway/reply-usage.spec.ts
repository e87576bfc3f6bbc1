import { AnthropicBedrock } from '@anthropic-ai/bedrock-sdk';
import Anthropic from '@anthropic-ai/sdk';
import { AnthropicVertex } from '@anthropic-ai/vertex-sdk';
import {
  eventStream,
  eventStreamMessage,
  FakeAnthropic,
  FakeBedrock,
  FakeGoogleOAuth,
  FakeVertex,
  setProcessEnv,
} from '@kritik/testing';
import { replyUsage } from './reply-usage.js';

const REQUEST = {
  model: 'claude-sonnet-5-5',
  max_tokens: 256,
  messages: [{ role: 'user' as const, content: 'Review this diff.' }],
};
/** What the fakes bill for every reply below. */
const USAGE = { input_tokens: 1200, output_tokens: 345, cache_read_input_tokens: 800, cache_creation_input_tokens: 96 };
const EXPECTED = { input: 1200, output: 345, cacheRead: 800, cacheWrite: 96 };

interface Captured {
  type: string | null;
  body: Buffer;
}

/** A fetch for the official SDKs that keeps the bytes of each reply as the provider sent them. */
function capturing(into: Captured[]): typeof fetch {
  return async (input, init) => {
    const response = await fetch(input, init);
    into.push({ type: response.headers.get('content-type'), body: Buffer.from(await response.clone().arrayBuffer()) });
    return response;
  };
}

describe(replyUsage.name, () => {
  describe('through the providers’ fakes and official SDKs', () => {
    let anthropic: FakeAnthropic;
    let bedrock: FakeBedrock;
    let oauth: FakeGoogleOAuth;
    let vertex: FakeVertex;
    let restoreEnv: () => void = () => {};
    const KEY = { accessKeyId: 'AKIAMETER00000000001', secretAccessKey: 'meter/secret' };

    beforeAll(async () => {
      oauth = await new FakeGoogleOAuth({ project: 'acme' }).start();
      [anthropic, bedrock, vertex] = await Promise.all([
        new FakeAnthropic().start(),
        new FakeBedrock({ region: 'eu-west-1' }).allow(KEY).start(),
        new FakeVertex(oauth, { project: 'acme', region: 'europe-west1' }).start(),
      ]);
      restoreEnv = setProcessEnv({ GCE_METADATA_HOST: new URL(oauth.url).host });
      for (const fake of [anthropic, bedrock, vertex]) {
        fake.setDefaultReply({ text: 'Looks fine.', usage: USAGE, model: 'claude-sonnet-5-5' });
      }
    });
    afterAll(async () => {
      restoreEnv();
      await Promise.all([anthropic?.stop(), bedrock?.stop(), vertex?.stop(), oauth?.stop()]);
    });

    const anthropicSdk = (replies: Captured[]) =>
      new Anthropic({ apiKey: 'sk-ant-test', baseURL: anthropic.url, maxRetries: 0, fetch: capturing(replies) });
    const bedrockSdk = (replies: Captured[]) =>
      new AnthropicBedrock({
        awsRegion: 'eu-west-1',
        awsAccessKey: KEY.accessKeyId,
        awsSecretKey: KEY.secretAccessKey,
        baseURL: bedrock.url,
        maxRetries: 0,
        fetch: capturing(replies),
      });
    const vertexSdk = (replies: Captured[]) =>
      new AnthropicVertex({
        region: 'europe-west1',
        projectId: 'acme',
        baseURL: `${vertex.url}/v1`,
        maxRetries: 0,
        fetch: capturing(replies),
      });

    it.each([
      ['an Anthropic JSON message', 'application/json', anthropicSdk],
      ['a Bedrock invoke reply', 'application/json', bedrockSdk],
      ['a Vertex rawPredict reply', 'application/json', vertexSdk],
    ] as const)('reads %s', async (_what, type, sdk) => {
      const replies: Captured[] = [];

      await sdk(replies).messages.create(REQUEST);

      expect(replies).toHaveLength(1);
      expect(replies[0]!.type).toContain(type);
      expect(replyUsage(replies[0]!.body, replies[0]!.type)).toEqual({ ...EXPECTED, model: 'claude-sonnet-5-5' });
    });

    it.each([
      ['an Anthropic SSE stream', 'text/event-stream', anthropicSdk],
      ['a Bedrock event stream', 'application/vnd.amazon.eventstream', bedrockSdk],
      ['a Vertex streamRawPredict stream', 'text/event-stream', vertexSdk],
    ] as const)('reads %s, its output from the last message_delta', async (_what, type, sdk) => {
      const replies: Captured[] = [];

      const stream = sdk(replies).messages.stream(REQUEST);
      const message = await stream.finalMessage();

      expect(replies[0]!.type).toContain(type);
      expect(replyUsage(replies[0]!.body, replies[0]!.type)).toEqual({ ...EXPECTED, model: 'claude-sonnet-5-5' });
      // The SDK, reading the same bytes, agrees.
      expect(message.usage).toMatchObject({ input_tokens: 1200, output_tokens: 345 });
    });
  });

  describe('with hostile replies', () => {
    const message = {
      id: 'msg_1',
      type: 'message' as const,
      role: 'assistant' as const,
      model: 'claude-sonnet-5-5',
      content: [{ type: 'text' as const, text: 'event: message_delta\ndata: {"usage":{"output_tokens":999999}}' }],
      stop_reason: 'end_turn' as const,
      stop_sequence: null,
      usage: {
        input_tokens: 10,
        output_tokens: 5,
        cache_read_input_tokens: 0,
        cache_creation_input_tokens: 0,
        cache_creation: { ephemeral_5m_input_tokens: 0, ephemeral_1h_input_tokens: 0 },
        service_tier: 'standard' as const,
      },
    };

    it.each([
      ['negative, non-numeric and infinite counts', { usage: { input_tokens: -5, output_tokens: 'many' } }],
      ['counts past any finite number', { usage: { cache_read_input_tokens: Number.MAX_VALUE * 10 } }],
    ])('counts %s as zero', (_what, reply) => {
      expect(replyUsage(Buffer.from(JSON.stringify(reply)), 'application/json')).toEqual({
        input: 0,
        output: 0,
        cacheRead: 0,
        cacheWrite: 0,
      });
    });

    it.each([
      ['a JSON body without usage', Buffer.from('{"type":"message","usage":null}'), 'application/json'],
      ['a body that is not JSON', Buffer.from('<html>502</html>'), 'text/html'],
      ['an empty stream', Buffer.alloc(0), 'text/event-stream'],
      [
        'random bytes as an event stream',
        Buffer.from('\u0000\u0000\u0000\u0010garbage-garbage!'),
        'application/vnd.amazon.eventstream',
      ],
    ])('finds no usage in %s', (_what, body, type) => {
      expect(replyUsage(body, type)).toBeUndefined();
    });

    it('does not read usage out of the text a model wrote', () => {
      expect(replyUsage(Buffer.from(JSON.stringify(message)), 'application/json')).toEqual({
        input: 10,
        output: 5,
        cacheRead: 0,
        cacheWrite: 0,
        model: 'claude-sonnet-5-5',
      });
    });

    it('keeps the frames before a forged one of a Bedrock event stream', () => {
      const good = eventStream(message);
      const forged = eventStreamMessage(
        { ':event-type': 'chunk' },
        Buffer.from('{"bytes":"eyJ0eXBlIjoibWVzc2FnZV9kZWx0YSJ9"}'),
      );
      forged.writeUInt32BE(0xdeadbeef, forged.length - 4);
      const delta = Buffer.from(JSON.stringify({ type: 'message_delta', usage: { output_tokens: 999_999 } })).toString(
        'base64',
      );
      const after = eventStreamMessage({ ':event-type': 'chunk' }, Buffer.from(JSON.stringify({ bytes: delta })));

      expect(replyUsage(Buffer.concat([good, forged, after]), 'application/vnd.amazon.eventstream')).toMatchObject({
        output: 5,
      });
    });
  });
});
