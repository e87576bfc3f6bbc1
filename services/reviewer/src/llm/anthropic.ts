// The model behind one interface: sends a built request through @anthropic-ai/sdk, retries 429,
// 529, 5xx and dropped connections with capped backoff (honouring retry-after), and returns the
// turn with its token usage; parseReviewInput validates a submit_review input.
import Anthropic from '@anthropic-ai/sdk';
import {
  backoffDelay,
  ConcurrencyLimit,
  DEFAULT_ANTHROPIC_BASE_URL,
  type ModelCatalogue,
  type ModelPrice,
  type ModelProvider,
  providerModelId,
  SEVERITIES,
  type TokenUsage,
  UnknownModelError,
} from '@kritik/core';
import { z } from 'zod';
import type { Finding } from '../finding.js';

export type MessageRequest = Anthropic.Messages.MessageCreateParamsNonStreaming;

export type ModelFinding = Finding;

export interface ReviewCallOptions {
  /** Epoch ms after which no attempt starts and no attempt may run (the review's deadline). */
  deadlineAt?: number;
}

/** One model turn as it came back: the content blocks, why it stopped, and what it cost in tokens. */
export interface ModelTurn {
  content: Anthropic.Messages.ContentBlock[];
  stopReason: string | null;
  usage: TokenUsage;
  /** The price of this turn when another model than the one asked answered it (a fallback). */
  price?: ModelPrice;
}

export interface LlmPort {
  /** One Messages call (non-streaming: the gateway refuses streams), retried within the deadline. */
  send(request: MessageRequest, options?: ReviewCallOptions): Promise<ModelTurn>;
  /** The catalogue that prices its calls; the built-in one when unset. */
  readonly catalogue?: ModelCatalogue;
}

/** What AnthropicLlm needs of a client: Anthropic, AnthropicBedrock and AnthropicVertex all fit. */
export interface ModelClient {
  readonly timeout: number;
  readonly messages: Pick<Anthropic['messages'], 'create'>;
}

/** Which provider a client talks to, and how Kritik's model names become that provider's ids. */
export interface ModelRoute {
  provider: ModelProvider;
  catalogue: ModelCatalogue;
  /** Calls in flight at once to this provider, shared by every port that uses it. */
  limit?: ConcurrencyLimit;
}

export class LlmError extends Error {
  constructor(
    message: string,
    readonly status?: number,
    readonly attempts = 1,
  ) {
    super(message);
    this.name = 'LlmError';
  }
}

export interface RetryPolicy {
  /** Total attempts, the first included. */
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 3, baseDelayMs: 1_000, maxDelayMs: 30_000 };

export interface AnthropicClientOptions {
  apiKey: string;
  baseURL?: string;
  timeoutMs?: number;
}

export function createAnthropic(options: AnthropicClientOptions): Anthropic {
  return new Anthropic({
    apiKey: options.apiKey,
    // Passed explicitly, so the SDK does not look at the environment itself.
    baseURL: options.baseURL ?? DEFAULT_ANTHROPIC_BASE_URL,
    timeout: options.timeoutMs ?? 180_000,
    // Retries are ours: one policy, visible in progress output and bounded by the review deadline.
    maxRetries: 0,
  });
}

const findingSchema = z.object({
  path: z.string().min(1),
  line: z.coerce.number().int(),
  // Read on its own (endLineOf): a bad range must not cost the finding.
  end_line: z.unknown().optional(),
  severity: z.preprocess((v) => (typeof v === 'string' ? v.toLowerCase() : v), z.enum(SEVERITIES)),
  title: z.string().min(1),
  body: z.string().default(''),
  suggestion: z.string().nullish(),
});

const lineNumber = z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER);

/**
 * The last line of a finding's range, when it is one: a whole line number after `line`. Anything
 * else (negative, reversed, not a number) leaves the finding on `line` alone; a range past its hunk
 * is clipped where the finding is placed (DiffIndex.place).
 */
function endLineOf(value: unknown, line: number): number | undefined {
  if (value === null || value === undefined || value === '') return undefined;
  const end = lineNumber.safeParse(value);
  return end.success && end.data > line ? end.data : undefined;
}

/** Validates the tool input finding by finding, keeping every usable one. */
export function parseReviewInput(input: unknown): { summary: string; findings: ModelFinding[]; dropped: number } {
  const obj = (typeof input === 'object' && input !== null ? input : {}) as Record<string, unknown>;
  const summary = typeof obj.summary === 'string' ? obj.summary : '';
  const raw = Array.isArray(obj.findings) ? obj.findings : [];
  const findings: ModelFinding[] = [];
  for (const item of raw) {
    const r = findingSchema.safeParse(item);
    if (!r.success) continue;
    const { end_line: rawEnd, suggestion, ...rest } = r.data;
    const end_line = endLineOf(rawEnd, rest.line);
    // A suggestion was written for the range asked: on a range refused it would replace the wrong lines.
    const refusedRange = end_line === undefined && rawEnd != null && rawEnd !== '' && Number(rawEnd) !== rest.line;
    findings.push({
      ...rest,
      ...(end_line !== undefined ? { end_line } : {}),
      ...(suggestion != null && suggestion !== '' && !refusedRange ? { suggestion } : {}),
    });
  }
  return { summary, findings, dropped: raw.length - findings.length };
}

export function usageOf(u: Anthropic.Messages.Usage | undefined): TokenUsage {
  return {
    input: u?.input_tokens ?? 0,
    output: u?.output_tokens ?? 0,
    cacheRead: u?.cache_read_input_tokens ?? 0,
    cacheWrite: u?.cache_creation_input_tokens ?? 0,
  };
}

/** The request without `cache_control` on its system blocks, tools and message blocks. */
export function withoutCacheControl(request: MessageRequest): MessageRequest {
  const strip = <T>(block: T): T => {
    if (!block || typeof block !== 'object' || !('cache_control' in block)) return block;
    const { cache_control: _dropped, ...rest } = block as T & { cache_control?: unknown };
    return rest as T;
  };
  const { cache_control: _top, ...rest } = request as MessageRequest & { cache_control?: unknown };
  return {
    ...rest,
    ...(Array.isArray(request.system) ? { system: request.system.map(strip) } : {}),
    ...(request.tools ? { tools: request.tools.map(strip) } : {}),
    messages: request.messages.map((m) =>
      typeof m.content === 'string' ? m : { ...m, content: m.content.map(strip) },
    ),
  } as MessageRequest;
}

const PROVIDER_NAMES: Record<ModelProvider, string> = {
  anthropic: 'Anthropic API',
  bedrock: 'Amazon Bedrock',
  vertex: 'Vertex AI',
};

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export class AnthropicLlm implements LlmPort {
  constructor(
    private readonly client: ModelClient,
    private readonly policy: RetryPolicy = DEFAULT_RETRY,
    private readonly onRetry: (message: string) => void = () => {},
    private readonly route?: ModelRoute,
  ) {}

  get catalogue(): ModelCatalogue | undefined {
    return this.route?.catalogue;
  }

  async send(request: MessageRequest, options: ReviewCallOptions = {}): Promise<ModelTurn> {
    const limit = this.route?.limit;
    const entry =
      this.route && Object.hasOwn(this.route.catalogue, request.model)
        ? this.route.catalogue[request.model]
        : undefined;
    // A model the catalogue says cannot cache gets no breakpoints (some providers refuse them).
    const cacheable = entry?.promptCaching.supported ?? true;
    const routed = { ...(cacheable ? request : withoutCacheControl(request)), model: this.modelId(request.model) };
    return limit ? limit.run(() => this.attempts(routed, options)) : this.attempts(routed, options);
  }

  /** The provider's id of the model; on Anthropic an unknown name goes through as written. */
  private modelId(model: string): string {
    const route = this.route;
    if (!route || route.provider === 'anthropic') return model;
    try {
      return providerModelId(model, route.provider, route.catalogue);
    } catch (error) {
      if (error instanceof UnknownModelError) throw new LlmError(error.message, undefined, 0);
      throw error;
    }
  }

  private async attempts(request: MessageRequest, options: ReviewCallOptions): Promise<ModelTurn> {
    for (let attempt = 1; ; attempt++) {
      const left = options.deadlineAt === undefined ? undefined : options.deadlineAt - Date.now();
      if (left !== undefined && left <= 1_000) {
        throw new LlmError(
          `review time limit reached before the model answered (attempt ${attempt})`,
          undefined,
          attempt - 1,
        );
      }
      try {
        // A request never outlives the review's deadline, so the Job ends on its own terms.
        const timeout = left === undefined ? undefined : Math.min(this.client.timeout, left);
        const message = await this.client.messages.create(request, timeout === undefined ? undefined : { timeout });
        return {
          content: message.content,
          stopReason: message.stop_reason,
          usage: usageOf(message.usage),
        };
      } catch (error) {
        if (error instanceof LlmError) throw error;
        const status = error instanceof Anthropic.APIError ? error.status : undefined;
        const retryable =
          error instanceof Anthropic.APIConnectionError ||
          status === 408 ||
          status === 429 ||
          status === 529 ||
          (status !== undefined && status >= 500);
        const reason = describe(error);
        if (!retryable || attempt >= this.policy.maxAttempts) {
          const tries = attempt > 1 ? ` after ${attempt} attempts` : '';
          throw new LlmError(`${this.providerName} request failed${tries}: ${reason}`, status, attempt);
        }
        const delay = this.delay(error, attempt);
        if (options.deadlineAt !== undefined && Date.now() + delay >= options.deadlineAt - 1_000) {
          throw new LlmError(`${reason}; no time left before the review deadline to retry`, status, attempt);
        }
        this.onRetry(
          `model request failed (${reason}); retry ${attempt}/${this.policy.maxAttempts - 1} in ${delay} ms`,
        );
        await sleep(delay);
      }
    }
  }

  private get providerName(): string {
    return PROVIDER_NAMES[this.route?.provider ?? 'anthropic'];
  }

  /** retry-after(-ms) when the API sends it (capped), else the shared backoff with jitter. */
  private delay(error: unknown, attempt: number): number {
    const headers = error instanceof Anthropic.APIError ? error.headers : undefined;
    const ms = Number(headers?.get('retry-after-ms'));
    const seconds = Number(headers?.get('retry-after'));
    let asked: number | undefined;
    if (Number.isFinite(ms) && ms > 0) asked = ms;
    else if (Number.isFinite(seconds) && seconds >= 0 && headers?.get('retry-after') !== null) asked = seconds * 1000;
    if (asked === undefined) return backoffDelay(attempt - 1, { ...this.policy, jitter: true });
    return Math.round(Math.min(this.policy.maxDelayMs, asked));
  }
}

function describe(error: unknown): string {
  if (error instanceof Anthropic.APIConnectionTimeoutError) return 'request timed out';
  if (error instanceof Anthropic.APIConnectionError) return 'connection failed';
  if (error instanceof Anthropic.APIError) {
    const body = error.error as { error?: { type?: string; message?: string } } | undefined;
    const detail = body?.error?.message ?? error.message;
    return `${error.status ?? ''} ${body?.error?.type ?? ''} ${detail}`.replace(/\s+/g, ' ').trim().slice(0, 300);
  }
  return (error as Error)?.message ?? String(error);
}
