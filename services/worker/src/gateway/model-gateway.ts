// The model gateway: review Jobs call it as if it were the Anthropic API, with their per-review
// token; it forwards to the real API with the platform's key (or to Bedrock / Vertex AI with the
// worker's cloud identity), meters every reply's usage against the review's ceilings, and refuses
// calls past them or after the review ended. Credentials stay in the worker. Answers speak the API's
// error format, so the reviewer's SDK handles them as usual.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import {
  ConcurrencyLimit,
  costOf,
  METRICS,
  type ModelProvider,
  type ModelSettings,
  modelNamed,
  priceOf,
  readModelSettings,
} from '@kritik/core';
import {
  BodyTimeoutError,
  BodyTooLargeError,
  counterOf,
  listen,
  portOf,
  readRawBody,
  refuseBody,
} from '@kritik/server';
import type { OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { GatewaySettings } from '../config/worker.config.js';
import type { GatewayGrants } from './gateway-grants.js';
import { type CallLimit, ProviderSlots } from './provider-slots.js';
import { ProviderUpstream } from './provider-upstream.js';
import { replyUsage } from './reply-usage.js';

/** The calls a review makes; anything else is not the gateway's to forward. */
const ROUTES: ReadonlySet<string> = new Set(['/v1/messages', '/v1/messages/count_tokens']);
/** Request headers the API needs; the caller's credentials never travel on. */
const FORWARDED_REQUEST_HEADERS = ['content-type', 'anthropic-version', 'anthropic-beta'];
const FORWARDED_RESPONSE_HEADER = /^(content-type|request-id|retry-after|x-should-retry|anthropic-ratelimit-.*)$/i;
/** Time to receive a whole request body; a review's prompt arrives in well under a second. */
const BODY_TIMEOUT_MS = 30_000;
/** A provider slot's lease outlives its call's upstream timeout by this much at most. */
const LEASE_MARGIN_MS = 10_000;
/** Time left to calls in flight when the worker stops, before their connections close. */
const SHUTDOWN_GRACE_MS = 10_000;

export type GatewayOutcome =
  | 'forwarded'
  | 'upstream_error'
  | 'unreachable'
  | 'refused_token'
  | 'refused_budget'
  | 'bad_request';

export interface UpstreamSettings {
  /** The model API (ANTHROPIC_BASE_URL), https://api.anthropic.com by default. */
  readonly baseUrl: string;
  /** The platform's key; calls without it reach the API unauthenticated and are refused there. */
  readonly apiKey?: string;
  /** Where models run and what they cost; Anthropic's API and the built-in catalogue when unset. */
  readonly model?: ModelSettings;
}

const DEFAULT_MODEL_SETTINGS = (() => {
  const read = readModelSettings({});
  if ('problems' in read) throw new Error(read.problems.join('; '));
  return read.settings;
})();

/** An error body as the Anthropic API writes one. */
export const apiError = (type: string, message: string) => JSON.stringify({ type: 'error', error: { type, message } });

/** The gateway's series of core's METRICS table. */
export class GatewayMetrics {
  readonly requests;
  readonly tokens;
  readonly cost;

  constructor(registry: Registry) {
    this.requests = counterOf(registry, METRICS.gatewayRequests);
    this.tokens = counterOf(registry, METRICS.gatewayTokens);
    this.cost = counterOf(registry, METRICS.gatewayCost);
  }
}

export class ModelGateway implements OnApplicationBootstrap, OnApplicationShutdown {
  private server: Server | undefined;
  private readonly metrics: GatewayMetrics;
  private readonly model: ModelSettings;
  private readonly clouds = new Map<ModelProvider, ProviderUpstream>();
  /** Calls in flight per provider: a burst of reviews queues here instead of tripping 429s. */
  private readonly limits = new Map<ModelProvider, CallLimit>();

  constructor(
    private readonly grants: GatewayGrants,
    private readonly settings: GatewaySettings,
    private readonly upstream: UpstreamSettings,
    registry: Registry,
    private readonly logger: Logger,
    /** Where the limits are shared by every replica (ADR 0045); without it they hold per process. */
    slots?: Redis,
  ) {
    this.metrics = new GatewayMetrics(registry);
    this.model = upstream.model ?? DEFAULT_MODEL_SETTINGS;
    const limit = this.model.maxConcurrency;
    for (const provider of new Set([this.model.provider, this.model.fallback?.provider ?? this.model.provider])) {
      this.limits.set(
        provider,
        slots
          ? new ProviderSlots(slots, provider, { limit, leaseMs: settings.upstreamTimeoutMs + LEASE_MARGIN_MS })
          : new ConcurrencyLimit(limit),
      );
      if (provider !== 'anthropic') {
        this.clouds.set(provider, new ProviderUpstream(provider, this.model, settings.upstreamTimeoutMs));
      }
    }
  }

  /** The fallback model runs on the fallback's provider; every other model on the primary's. */
  private providerFor(model: string): ModelProvider {
    const { fallback } = this.model;
    return fallback && fallback.model === model ? fallback.provider : this.model.provider;
  }

  async onApplicationBootstrap(): Promise<void> {
    const server = createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        this.logger.error({ err }, 'model gateway call failed');
        this.answer(res, 500, 'api_error', 'the Kritik model gateway failed', 'unreachable');
      });
    });
    server.headersTimeout = 10_000;
    await listen(server, this.settings.port);
    this.server = server;
  }

  /** The port it listens on (the one configured, or the one given for port 0). */
  get port(): number | undefined {
    return portOf(this.server);
  }

  async onApplicationShutdown(): Promise<void> {
    const server = this.server;
    if (!server) return;
    server.closeIdleConnections();
    const forced = setTimeout(() => server.closeAllConnections(), SHUTDOWN_GRACE_MS);
    await new Promise<void>((resolve) => server.close(() => resolve()));
    clearTimeout(forced);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://gateway');
    if (req.method !== 'POST' || !ROUTES.has(url.pathname)) {
      return refuseBody(req, () => this.answer(res, 404, 'not_found_error', 'not a model call', 'bad_request'));
    }
    const token = credentialOf(req);
    const grant = token ? await this.grants.authorize(token) : ({ kind: 'unknown-token' } as const);
    if ('kind' in grant) {
      if (grant.kind === 'unknown-token') {
        return refuseBody(req, () =>
          this.answer(res, 401, 'authentication_error', 'unknown or ended review token', 'refused_token'),
        );
      }
      this.logger.info({ detail: grant.detail }, 'model gateway refused a call past the review budget');
      return refuseBody(req, () =>
        this.answer(res, 402, 'billing_error', `Kritik budget reached: ${grant.detail}`, 'refused_budget'),
      );
    }
    let body: Buffer;
    try {
      body = await readRawBody(req, { limit: this.settings.maxRequestBytes, timeoutMs: BODY_TIMEOUT_MS });
    } catch (err) {
      if (err instanceof BodyTooLargeError) {
        return refuseBody(req, () => this.answer(res, 413, 'request_too_large', err.message, 'bad_request'));
      }
      if (err instanceof BodyTimeoutError) {
        return refuseBody(req, () => this.answer(res, 408, 'invalid_request_error', err.message, 'bad_request'));
      }
      throw err;
    }
    const request = parseRequest(body);
    if (typeof request === 'string') {
      return this.answer(res, 400, 'invalid_request_error', request, 'bad_request');
    }
    const provider = this.providerFor(request.model);
    const cloud = this.clouds.get(provider);
    if (cloud && request.stream) {
      const refusal = `stream: the Kritik model gateway answers whole messages only through ${provider}`;
      return this.answer(res, 400, 'invalid_request_error', refusal, 'bad_request', provider);
    }

    const abort = new AbortController();
    res.on('close', () => {
      if (!res.writableFinished) abort.abort();
    });
    let reply: { status: number; headers: Headers; body: Buffer };
    try {
      reply = await this.limits
        .get(provider)!
        .run(
          () =>
            cloud ? cloud.send(url.pathname, request.body, abort.signal) : this.forward(url, req, body, abort.signal),
          abort.signal,
        );
    } catch (err) {
      const timedOut = (err as Error).name === 'TimeoutError';
      this.logger.warn({ err, reviewId: grant.reviewId }, 'the model API could not be reached');
      return this.answer(
        res,
        timedOut ? 504 : 502,
        'api_error',
        timedOut ? 'the model API did not answer in time' : 'the model API could not be reached',
        'unreachable',
        provider,
      );
    }
    if (reply.status === 200 && url.pathname === '/v1/messages') {
      await this.meter(grant.reviewId, request.model, provider, reply);
    }
    const headers: Record<string, string> = {};
    reply.headers.forEach((value, name) => {
      if (FORWARDED_RESPONSE_HEADER.test(name)) headers[name] = value;
    });
    this.metrics.requests.inc({ outcome: reply.status < 300 ? 'forwarded' : 'upstream_error', provider });
    res.writeHead(reply.status, headers).end(reply.body);
  }

  private async forward(url: URL, req: IncomingMessage, body: Buffer, signal: AbortSignal) {
    const headers: Record<string, string> = {};
    for (const name of FORWARDED_REQUEST_HEADERS) {
      const value = req.headers[name];
      if (typeof value === 'string') headers[name] = value;
    }
    if (this.upstream.apiKey) headers['x-api-key'] = this.upstream.apiKey;
    const response = await fetch(new URL(`${url.pathname.slice(1)}${url.search}`, withSlash(this.upstream.baseUrl)), {
      method: 'POST',
      headers,
      body,
      signal: AbortSignal.any([signal, AbortSignal.timeout(this.settings.upstreamTimeoutMs)]),
      redirect: 'error',
    });
    return { status: response.status, headers: response.headers, body: await this.readReply(response) };
  }

  private async readReply(response: Response): Promise<Buffer> {
    const chunks: Buffer[] = [];
    let size = 0;
    if (!response.body) return Buffer.alloc(0);
    for await (const chunk of response.body) {
      size += chunk.length;
      if (size > this.settings.maxResponseBytes) {
        throw new Error(`the model API replied with more than ${this.settings.maxResponseBytes} bytes`);
      }
      chunks.push(Buffer.from(chunk));
    }
    return Buffer.concat(chunks);
  }

  /** Counts a reply's usage into the review's grant, whatever shape the provider answered in. */
  private async meter(
    reviewId: string,
    requestedModel: string,
    provider: ModelProvider,
    reply: { headers: Headers; body: Buffer },
  ): Promise<void> {
    const usage = replyUsage(reply.body, reply.headers.get('content-type'));
    if (!usage) {
      this.logger.warn({ reviewId }, 'a model reply without usage passed the gateway unmetered');
      return;
    }
    const { catalogue } = this.model;
    // The reply names the model that was billed (in the provider's ids); the request's is the fallback.
    const model = (usage.model ? modelNamed(usage.model, provider, catalogue) : undefined) ?? requestedModel;
    const costUsd = costOf(usage, priceOf(model, catalogue).price);
    this.metrics.cost.inc({ provider }, costUsd);
    this.metrics.tokens.inc({ kind: 'input', provider }, usage.input);
    this.metrics.tokens.inc({ kind: 'output', provider }, usage.output);
    this.metrics.tokens.inc({ kind: 'cache_read', provider }, usage.cacheRead);
    this.metrics.tokens.inc({ kind: 'cache_write', provider }, usage.cacheWrite);
    await this.grants.meter(reviewId, usage, costUsd);
  }

  /** An answer of the gateway's own; `provider` once the call's model is known. */
  private answer(
    res: ServerResponse,
    status: number,
    type: string,
    message: string,
    outcome: GatewayOutcome,
    provider?: ModelProvider,
  ) {
    this.metrics.requests.inc(provider ? { outcome, provider } : { outcome });
    if (res.headersSent) return void res.destroy();
    res.writeHead(status, { 'content-type': 'application/json' }).end(apiError(type, message));
  }
}

/** The review token the SDK sends, as `x-api-key` or as a bearer token. */
function credentialOf(req: IncomingMessage): string | undefined {
  const key = req.headers['x-api-key'];
  if (typeof key === 'string' && key) return key;
  const bearer = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '');
  return bearer?.[1];
}

/** The model asked for and whether it streams, or why the request is refused. */
function parseRequest(body: Buffer): { model: string; stream: boolean; body: Record<string, unknown> } | string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    return 'the request body is not JSON';
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) return 'the request body must be an object';
  const { model, stream } = parsed as { model?: unknown; stream?: unknown };
  if (typeof model !== 'string' || model.length === 0) return 'model: a model name is required';
  return { model, stream: stream === true, body: parsed as Record<string, unknown> };
}

const withSlash = (url: string) => (url.endsWith('/') ? url : `${url}/`);
