// Anthropic Messages API fake for tests: scripted replies (text, tool_use, errors) in the real wire format,
// usage from a deterministic token estimate, prompt-cache accounting (prefix match with the API's
// look-back, minimum cacheable length), multi-turn tool use, count_tokens and SSE streaming.
import { createHash } from 'node:crypto';
import { type FakeReply, HttpFake, type RecordedRequest } from './http-fake.js';

export type StopReason = 'end_turn' | 'max_tokens' | 'stop_sequence' | 'tool_use' | 'pause_turn' | 'refusal';

export interface CacheControl {
  type: 'ephemeral';
  ttl?: '5m' | '1h';
}

export interface RequestBlock {
  type: string;
  text?: string;
  cache_control?: CacheControl | null;
  [field: string]: unknown;
}

/** The parts of a Messages API request body the fake reads; the rest is recorded untouched. */
export interface MessagesRequest {
  model: string;
  max_tokens: number;
  messages: { role: 'user' | 'assistant'; content: string | RequestBlock[] }[];
  system?: string | RequestBlock[];
  tools?: { name: string; description?: string; input_schema?: unknown; cache_control?: CacheControl | null }[];
  tool_choice?: { type: 'auto' | 'any' | 'tool' | 'none'; name?: string };
  cache_control?: CacheControl | null;
  stream?: boolean;
  [field: string]: unknown;
}

export type AnthropicContentBlock =
  | { type: 'text'; text: string }
  | { type: 'tool_use'; id: string; name: string; input: unknown }
  | { type: string; [field: string]: unknown };

export interface AnthropicUsage {
  input_tokens: number;
  output_tokens: number;
  cache_creation_input_tokens: number;
  cache_read_input_tokens: number;
  cache_creation: { ephemeral_5m_input_tokens: number; ephemeral_1h_input_tokens: number };
  service_tier: 'standard';
}

export interface AnthropicMessage {
  id: string;
  type: 'message';
  role: 'assistant';
  model: string;
  content: AnthropicContentBlock[];
  stop_reason: StopReason;
  stop_sequence: string | null;
  usage: AnthropicUsage;
}

/** A scripted answer: text and/or one tool call (text first, as the model writes them), or raw content. */
export interface MessageReply {
  text?: string;
  toolUse?: { name: string; input: unknown; id?: string };
  content?: AnthropicContentBlock[];
  stopReason?: StopReason;
  /** Overrides the computed numbers. */
  usage?: Partial<Omit<AnthropicUsage, 'cache_creation' | 'service_tier'>>;
  model?: string;
}

/** A scripted API error; `type` defaults to the one the API uses for `status`. */
export interface AnthropicErrorReply {
  error: { status: number; type?: string; message?: string; headers?: Record<string, string> };
}

export type AnthropicReply = MessageReply | AnthropicErrorReply;
export type ScriptedReply =
  | AnthropicReply
  | ((request: MessagesRequest, call: number) => AnthropicReply | Promise<AnthropicReply>);

export interface FakeAnthropicOptions {
  /** When set, any other key (`x-api-key` or `authorization: Bearer`) gets 401. */
  apiKey?: string;
  /** Prefixes shorter than this are not cached, like the API's per-model minimum. Default 0. */
  minCacheTokens?: number;
}

const ERROR_TYPES: Record<number, string> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  402: 'billing_error',
  403: 'permission_error',
  404: 'not_found_error',
  413: 'request_too_large',
  429: 'rate_limit_error',
  500: 'api_error',
  504: 'timeout_error',
  529: 'overloaded_error',
};

/** The fake's token count: one token per four characters, rounded up. */
export function estimateTokens(text: string): number {
  return Math.ceil(text.length / 4);
}

/** How many block boundaries before a breakpoint the API checks for a cached prefix. */
const CACHE_LOOKBACK = 20;

function fakeId(prefix: string, call: number): string {
  return `${prefix}_fake${createHash('sha1').update(String(call)).digest('hex').slice(0, 20)}`;
}

function errorType(status: number): string {
  return ERROR_TYPES[status] ?? (status >= 500 ? 'api_error' : 'invalid_request_error');
}

function blockText(block: RequestBlock): string {
  if (block.type === 'text') return block.text ?? '';
  const { cache_control: _ignored, ...rest } = block;
  return JSON.stringify(rest);
}

/** The prompt in the API's cache order (tools, system, messages), with the cache breakpoints marked. */
function segments(req: MessagesRequest): { text: string; cache?: CacheControl }[] {
  const out: { text: string; cache?: CacheControl }[] = [];
  const push = (text: string, cache: CacheControl | null | undefined) =>
    out.push({ text, ...(cache ? { cache } : {}) });
  for (const tool of req.tools ?? []) {
    const { cache_control, ...definition } = tool;
    push(JSON.stringify(definition), cache_control);
  }
  if (typeof req.system === 'string') push(req.system, undefined);
  for (const block of Array.isArray(req.system) ? req.system : []) push(blockText(block), block.cache_control);
  for (const message of req.messages) {
    if (typeof message.content === 'string') push(message.content, undefined);
    else for (const block of message.content) push(blockText(block), block.cache_control);
  }
  const last = out.at(-1);
  if (req.cache_control && last && !last.cache) last.cache = req.cache_control;
  return out;
}

export class FakeAnthropic extends HttpFake {
  private readonly queue: ScriptedReply[] = [];
  private defaultReply: ScriptedReply = { text: 'OK' };
  private readonly cache = new Set<string>();
  private readonly ids = new WeakMap<RecordedRequest, string>();
  private counter = 0;
  private calls = 0;

  constructor(private readonly options: FakeAnthropicOptions = {}) {
    super();
    this.route('POST', '/v1/messages', (req) => this.messages(req));
    this.route('POST', '/v1/messages/count_tokens', (req) => this.countTokens(req));
  }

  static toolUse(name: string, input: unknown): MessageReply {
    return { toolUse: { name, input } };
  }

  static text(text: string): MessageReply {
    return { text };
  }

  /** Queues replies for the next Messages calls, in order; once used up, the default reply answers. */
  script(...replies: ScriptedReply[]): this {
    this.queue.push(...replies);
    return this;
  }

  setDefaultReply(reply: ScriptedReply): this {
    this.defaultReply = reply;
    return this;
  }

  /** Scripted replies not consumed yet. */
  get pending(): number {
    return this.queue.length;
  }

  /** Bodies of every Messages call received (count_tokens excluded). */
  messageRequests(): MessagesRequest[] {
    return this.requestsTo('POST /v1/messages').map((r) => r.body as MessagesRequest);
  }

  /** Forgets cached prompt prefixes, as if their TTL had passed. */
  clearCache(): void {
    this.cache.clear();
  }

  /** Token count of a request as the fake computes it (count_tokens answers this). */
  inputTokens(req: MessagesRequest): number {
    return estimateTokens(
      segments(req)
        .map((s) => s.text)
        .join(''),
    );
  }

  protected override errorReply(status: number, req: RecordedRequest): FakeReply {
    return this.apiError(status, errorType(status), `Fake ${errorType(status)}`, req);
  }

  protected override commonHeaders(req: RecordedRequest): Record<string, string> {
    return { 'request-id': this.requestId(req) };
  }

  private requestId(req: RecordedRequest): string {
    let id = this.ids.get(req);
    if (!id) {
      id = `req_fake_${String(++this.counter).padStart(8, '0')}`;
      this.ids.set(req, id);
    }
    return id;
  }

  protected apiError(
    status: number,
    type: string,
    message: string,
    req: RecordedRequest,
    headers?: Record<string, string>,
  ): FakeReply {
    return { status, headers, body: { type: 'error', error: { type, message }, request_id: this.requestId(req) } };
  }

  /** Header and body checks the API makes before a model sees the request. */
  private rejection(req: RecordedRequest): FakeReply | undefined {
    // SDK 1.x sends the key as a bearer token; older clients and curl use x-api-key. The API takes both.
    const bearer = /^Bearer\s+(\S+)$/i.exec(String(req.headers.authorization ?? ''))?.[1];
    const key = req.headers['x-api-key'] ?? bearer;
    if (!key) return this.apiError(401, 'authentication_error', 'x-api-key header is required', req);
    if (this.options.apiKey !== undefined && key !== this.options.apiKey) {
      return this.apiError(401, 'authentication_error', 'invalid x-api-key', req);
    }
    if (!req.headers['anthropic-version']) {
      return this.apiError(400, 'invalid_request_error', 'anthropic-version: header is required', req);
    }
    const body = req.body as Partial<MessagesRequest> | undefined;
    const invalid = (message: string) => this.apiError(400, 'invalid_request_error', message, req);
    if (typeof body !== 'object' || body === null) return invalid('The request body is not valid JSON.');
    if (typeof body.model !== 'string' || body.model === '') return invalid('model: Field required');
    if (!Array.isArray(body.messages) || body.messages.length === 0) return invalid('messages: Field required');
    const choice = body.tool_choice;
    if (choice?.type === 'tool' && !(body.tools ?? []).some((t) => t.name === choice.name)) {
      return invalid(`tool_choice: tool '${choice.name}' not found in provided tools`);
    }
    return undefined;
  }

  private countTokens(req: RecordedRequest): FakeReply {
    const rejected = this.rejection(req);
    if (rejected) return rejected;
    return { status: 200, body: { input_tokens: this.inputTokens(req.body as MessagesRequest) } };
  }

  private async messages(req: RecordedRequest): Promise<FakeReply> {
    const rejected = this.rejection(req);
    if (rejected) return rejected;
    const request = req.body as MessagesRequest;
    const answer = await this.answer(request, req);
    if ('error' in answer) return answer.error;
    if (request.stream) {
      return {
        status: 200,
        headers: { 'content-type': 'text/event-stream; charset=utf-8' },
        body: sse(answer.message),
      };
    }
    return { status: 200, body: answer.message };
  }

  /**
   * The model's side of a call whose transport checks passed: the scripted message, or the API
   * error to send. Bedrock's and Vertex's fakes answer through it with their own framing.
   */
  protected async answer(
    request: MessagesRequest,
    req: RecordedRequest,
  ): Promise<{ message: AnthropicMessage } | { error: FakeReply }> {
    if (!Number.isInteger(request.max_tokens) || request.max_tokens < 1) {
      return { error: this.apiError(400, 'invalid_request_error', 'max_tokens: Field required', req) };
    }
    if (!Array.isArray(request.messages) || request.messages.length === 0) {
      return { error: this.apiError(400, 'invalid_request_error', 'messages: Field required', req) };
    }
    const scripted = this.queue.shift() ?? this.defaultReply;
    const call = this.calls++;
    const reply = typeof scripted === 'function' ? await scripted(request, call) : scripted;
    if ('error' in reply) {
      const { status, type, message, headers } = reply.error;
      return {
        error: this.apiError(status, type ?? errorType(status), message ?? `Fake ${errorType(status)}`, req, headers),
      };
    }
    return { message: this.message(request, reply, call) };
  }

  private message(request: MessagesRequest, reply: MessageReply, call: number): AnthropicMessage {
    const content: AnthropicContentBlock[] = reply.content ?? [
      ...(reply.text !== undefined ? [{ type: 'text' as const, text: reply.text }] : []),
      ...(reply.toolUse
        ? [
            {
              type: 'tool_use' as const,
              id: reply.toolUse.id ?? fakeId('toolu', call),
              name: reply.toolUse.name,
              input: reply.toolUse.input,
            },
          ]
        : []),
    ];
    const hasToolUse = content.some((b) => b.type === 'tool_use');
    const produced = content
      .map((b) => ('text' in b && typeof b.text === 'string' ? b.text : JSON.stringify('input' in b ? b.input : b)))
      .join('');
    return {
      id: fakeId('msg', call),
      type: 'message',
      role: 'assistant',
      model: reply.model ?? request.model,
      content,
      stop_reason: reply.stopReason ?? (hasToolUse ? 'tool_use' : 'end_turn'),
      stop_sequence: null,
      usage: { ...this.usage(request, Math.max(1, estimateTokens(produced))), ...reply.usage },
    };
  }

  /**
   * Usage as the API reports it: the longest already-cached breakpoint prefix is read, the rest up to the
   * last breakpoint is written, and `input_tokens` counts only what follows the last breakpoint.
   */
  private usage(request: MessagesRequest, outputTokens: number): AnthropicUsage {
    const parts = segments(request);
    const total = estimateTokens(parts.map((p) => p.text).join(''));
    const hash = createHash('sha256');
    let prefix = '';
    // Every block boundary is a prefix the API may find cached; only breakpoints are written.
    const prefixes: { key: string; tokens: number }[] = [];
    const breakpoints: { at: number; ttl: string }[] = [];
    for (const part of parts) {
      hash.update(part.text);
      prefix += part.text;
      prefixes.push({ key: hash.copy().digest('hex'), tokens: estimateTokens(prefix) });
      if (part.cache) breakpoints.push({ at: prefixes.length - 1, ttl: part.cache.ttl ?? '5m' });
    }
    const last = breakpoints.at(-1);
    let read = 0;
    let written = 0;
    if (last && prefixes[last.at]!.tokens >= (this.options.minCacheTokens ?? 0)) {
      // Like the API: from each breakpoint, the previous CACHE_LOOKBACK block boundaries are
      // checked for a cached prefix, and the longest hit is read.
      for (const b of breakpoints) {
        for (let i = b.at; i >= Math.max(0, b.at - CACHE_LOOKBACK + 1); i--) {
          const p = prefixes[i]!;
          if (this.cache.has(p.key)) {
            read = Math.max(read, p.tokens);
            break;
          }
        }
      }
      written = prefixes[last.at]!.tokens - read;
      for (const b of breakpoints) {
        const p = prefixes[b.at]!;
        if (p.tokens >= (this.options.minCacheTokens ?? 0)) this.cache.add(p.key);
      }
    }
    const oneHour = last?.ttl === '1h';
    return {
      input_tokens: total - read - written,
      output_tokens: outputTokens,
      cache_creation_input_tokens: written,
      cache_read_input_tokens: read,
      cache_creation: {
        ephemeral_5m_input_tokens: oneHour ? 0 : written,
        ephemeral_1h_input_tokens: oneHour ? written : 0,
      },
      service_tier: 'standard',
    };
  }

  /**
   * The tool results of a request's last user message, by tool_use id: what a scripted reply
   * reads to script the next turn of a tool-use conversation.
   */
  static toolResults(request: MessagesRequest): { id: string; content: string; isError: boolean }[] {
    const last = request.messages.at(-1);
    if (last?.role !== 'user' || typeof last.content === 'string') return [];
    return last.content
      .filter((b) => b.type === 'tool_result')
      .map((b) => {
        const content = b.content;
        const text = Array.isArray(content)
          ? content.map((c) => (typeof c === 'object' && c && 'text' in c ? String(c.text) : '')).join('')
          : String(content ?? '');
        return { id: String(b.tool_use_id), content: text, isError: b.is_error === true };
      });
  }
}

/** The server-sent events the API streams for a finished message. */
export function sse(message: AnthropicMessage): string {
  return streamEvents(message)
    .map(([event, data]) => `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`)
    .join('');
}

/** The events of a streamed message, in order: what SSE and Bedrock's event stream each frame. */
export function streamEvents(message: AnthropicMessage): [string, unknown][] {
  const events: [string, unknown][] = [
    [
      'message_start',
      {
        type: 'message_start',
        message: { ...message, content: [], stop_reason: null, usage: { ...message.usage, output_tokens: 1 } },
      },
    ],
  ];
  message.content.forEach((block, index) => {
    if (block.type === 'tool_use') {
      events.push([
        'content_block_start',
        { type: 'content_block_start', index, content_block: { ...block, input: {} } },
      ]);
      const delta = { type: 'input_json_delta', partial_json: JSON.stringify(block.input) };
      events.push(['content_block_delta', { type: 'content_block_delta', index, delta }]);
    } else if (block.type === 'text') {
      events.push([
        'content_block_start',
        { type: 'content_block_start', index, content_block: { type: 'text', text: '' } },
      ]);
      const delta = { type: 'text_delta', text: block.text };
      events.push(['content_block_delta', { type: 'content_block_delta', index, delta }]);
    } else {
      events.push(['content_block_start', { type: 'content_block_start', index, content_block: block }]);
    }
    events.push(['content_block_stop', { type: 'content_block_stop', index }]);
  });
  events.push([
    'message_delta',
    {
      type: 'message_delta',
      delta: { stop_reason: message.stop_reason, stop_sequence: null },
      usage: { output_tokens: message.usage.output_tokens },
    },
  ]);
  events.push(['message_stop', { type: 'message_stop' }]);
  return events;
}
