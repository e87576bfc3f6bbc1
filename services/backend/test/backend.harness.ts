// Runs the real backend application on a free loopback port against a real Redis, and signs
// fixtures the way GitHub does (HMAC-SHA256 of the exact body bytes).
import { createHmac, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { PORTS, QUEUE_PREFIX, REVIEWS_QUEUE, type ReviewRequest, reviewIdFor } from '@kritik/core';
import { createLogger } from '@kritik/server';
import { startRedis, type TestRedis } from '@kritik/testing';
import type { INestApplication } from '@nestjs/common';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { createApp } from '../src/app.js';
import { loadBackendConfig } from '../src/config/backend.config.js';

/** Parsed JSON that tests walk freely (fixtures, replies, log lines). */
// biome-ignore lint/suspicious/noExplicitAny: assertions check the shape at run time
export type Json = any;

export const SECRET = 'It is a test webhook secret, 32+';
export const GITLAB_SECRET = 'It is a test GitLab webhook token';
export const API_TOKEN = 'test-api-token-0123456789';

export interface GitLabPostOptions {
  /** X-Gitlab-Event-UUID; a random one when omitted. */
  readonly eventUuid?: string;
  /** Idempotency-Key, which GitLab keeps across retries; absent when omitted. */
  readonly idempotencyKey?: string;
  /** The X-Gitlab-Token header; GITLAB_SECRET when omitted, absent when null. */
  readonly token?: string | null;
  readonly headers?: Record<string, string>;
}

export function fixture(name: string): Record<string, Json> {
  return JSON.parse(readFileSync(join(__dirname, 'fixtures', `${name}.json`), 'utf8'));
}

export const sign = (body: string | Buffer, secret = SECRET) =>
  `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;

export interface PostOptions {
  readonly deliveryId?: string;
  /** The X-Hub-Signature-256 header; signed with SECRET when omitted, absent when null. */
  readonly signature?: string | null;
  readonly headers?: Record<string, string>;
  /** Where to post; `/webhooks/github` when omitted. */
  readonly path?: string;
}

export interface Reply {
  readonly status: number;
  readonly body: Json;
  readonly headers: Headers;
}

export interface BackendHarness {
  readonly url: string;
  readonly redis: TestRedis;
  /** A client of the test's own, for assertions. */
  readonly client: Redis;
  readonly reviews: Queue;
  /** JSON log lines the backend wrote. */
  readonly logs: Record<string, Json>[];
  post(event: string, payload: unknown, options?: PostOptions): Promise<Reply>;
  /** Posts to /webhooks/gitlab with the headers GitLab sends. */
  postGitLab(event: string, payload: unknown, options?: GitLabPostOptions): Promise<Reply>;
  get(path: string, headers?: Record<string, string>): Promise<Reply>;
  /** Stops Redis for real; `redis.restart()` brings it back on the same port. */
  shutdownRedis(): Promise<void>;
  stop(): Promise<void>;
}

export async function startBackend(env: Record<string, string> = {}, redis?: TestRedis): Promise<BackendHarness> {
  const server = redis ?? (await startRedis());
  const config = loadBackendConfig({
    REDIS_URL: server.url,
    GITHUB_WEBHOOK_SECRET: SECRET,
    KRITIK_API_TOKEN: API_TOKEN,
    KRITIK_LOG_LEVEL: 'info',
    ...env,
  });
  const logs: Record<string, Json>[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) logs.push(JSON.parse(line));
      done();
    },
  });
  let app: INestApplication | undefined;
  const client = new Redis(server.url, { maxRetriesPerRequest: null });
  const reviews = new Queue(REVIEWS_QUEUE, { connection: client, prefix: QUEUE_PREFIX });
  // Outages are part of some tests; the client reconnects by itself.
  reviews.on('error', () => undefined);
  try {
    app = await createApp(config, { logger: createLogger({ name: 'backend', level: 'info', destination }) });
    await app.listen(config.port === PORTS.backend ? 0 : config.port, '127.0.0.1');
  } catch (error) {
    await app?.close();
    if (!redis) await server.stop();
    throw error;
  }
  const url = (await app.getUrl()).replace('[::1]', '127.0.0.1');
  const reply = async (response: Response): Promise<Reply> => {
    const text = await response.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {}
    return { status: response.status, body, headers: response.headers };
  };
  /** The exact bytes of `payload` (JSON-encoded unless a string or Buffer) and a POST of them with `headers`. */
  const bytesOf = (payload: unknown) =>
    typeof payload === 'string' || Buffer.isBuffer(payload) ? payload : JSON.stringify(payload);
  const postBytes = async (path: string, headers: Record<string, string>, body: string | Buffer) =>
    reply(await fetch(`${url}${path}`, { method: 'POST', headers, body: new Uint8Array(Buffer.from(body)) }));
  return {
    url,
    redis: server,
    client,
    reviews,
    logs,
    async post(event, payload, options = {}) {
      const body = bytesOf(payload);
      const signature = options.signature === undefined ? sign(body) : options.signature;
      const headers: Record<string, string> = {
        'content-type': 'application/json',
        'user-agent': 'GitHub-Hookshot/7a0d5b6',
        'x-github-event': event,
        'x-github-delivery': options.deliveryId ?? randomUUID(),
        'x-github-hook-id': '512345678',
        'x-github-hook-installation-target-id': '1000001',
        'x-github-hook-installation-target-type': 'integration',
        ...(signature === null ? {} : { 'x-hub-signature-256': signature }),
        ...options.headers,
      };
      return postBytes(options.path ?? '/webhooks/github', headers, body);
    },
    async postGitLab(event, payload, options = {}) {
      const body = bytesOf(payload);
      const token = options.token === undefined ? GITLAB_SECRET : options.token;
      const headers: Record<string, string> = {
        'content-type': 'application/json',
        'user-agent': 'GitLab/17.6.0',
        'x-gitlab-event': event,
        'x-gitlab-event-uuid': options.eventUuid ?? randomUUID(),
        'x-gitlab-webhook-uuid': '0b1f6c52-9d0e-4f45-8f1a-2d8e3b7c4a11',
        'x-gitlab-instance': 'https://gitlab.example.com',
        ...(options.idempotencyKey ? { 'idempotency-key': options.idempotencyKey } : {}),
        ...(token === null ? {} : { 'x-gitlab-token': token }),
        ...options.headers,
      };
      return postBytes('/webhooks/gitlab', headers, body);
    },
    async get(path, headers = {}) {
      return reply(await fetch(`${url}${path}`, { headers }));
    },
    shutdownRedis() {
      return new Promise<void>((resolve) => {
        const socket = connect({ host: server.host, port: server.port }, () => socket.end('SHUTDOWN NOSAVE\r\n'));
        socket.on('close', () => resolve());
        socket.on('error', () => undefined);
      });
    },
    async stop() {
      await reviews.close();
      client.disconnect();
      await app?.close();
      if (!redis) await server.stop();
    },
  };
}

/** Polls until `ok(value)` or the timeout, returning the last value. */
export async function eventually<T>(fn: () => Promise<T>, ok: (value: T) => boolean, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (ok(value) || Date.now() > deadline) return value;
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** A review of `repo` (`owner/name`) pull request `pr` at `sha`, as intake would queue it. */
export function reviewRequest(repo: string, pr: number, sha: string, sender?: string): ReviewRequest {
  const [owner, name] = repo.split('/') as [string, string];
  return {
    reviewId: reviewIdFor('github', { owner, name }, pr, sha),
    platform: 'github',
    repo: { owner, name },
    pr,
    headSha: sha,
    trigger: 'opened',
    ...(sender ? { sender } : {}),
    enqueuedAt: new Date().toISOString(),
  };
}
