// How the worker reads Kubernetes API failures: which are worth retrying, which mean "already
// there" (adopt it) and which mean the worker's Role lacks a verb (say exactly which).
import { backoffDelay } from '@kritik/core';

/** One API call, named the way RBAC names it, so a denial can say what to grant. */
export interface KubeOperation {
  readonly verb: string;
  /** RBAC resource, with the group when not core: `jobs.batch`, `secrets`, `pods/log`. */
  readonly resource: string;
  readonly namespace?: string;
  readonly name?: string;
}

export const describeOperation = (op: KubeOperation) =>
  `${op.verb} ${op.resource}${op.namespace ? ` in namespace "${op.namespace}"` : ''}`;

export class KubernetesApiError extends Error {
  constructor(
    readonly op: KubeOperation,
    readonly status: number | undefined,
    message: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** 403: the worker's ServiceAccount lacks a verb; the message names the verb and resource. */
export class KubernetesForbiddenError extends KubernetesApiError {
  constructor(op: KubeOperation, detail: string | undefined) {
    super(
      op,
      403,
      `Kubernetes denied the worker "${op.verb}" on "${op.resource}"${op.namespace ? ` in namespace "${op.namespace}"` : ''}: ` +
        `grant it in the worker's Role (REQUIRED_PERMISSIONS)${detail ? ` (${detail})` : ''}`,
    );
  }
}

/** 409 on create: the object exists already (a retry after a lost reply, or a restarted worker). */
export class KubernetesConflictError extends KubernetesApiError {}

export class KubernetesNotFoundError extends KubernetesApiError {}

interface ErrorLike {
  code?: unknown;
  statusCode?: unknown;
  body?: unknown;
  headers?: Record<string, string> | undefined;
  message?: unknown;
}

/** HTTP status of a client-node error (ApiException.code, Watch error.statusCode), if any. */
export function statusOf(err: unknown): number | undefined {
  const e = err as ErrorLike | undefined;
  if (typeof e?.code === 'number') return e.code;
  if (typeof e?.statusCode === 'number') return e.statusCode;
  return undefined;
}

const TRANSIENT_NETWORK = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN', 'UND_ERR_SOCKET']);

/** 429, 5xx and dropped connections are transient; everything else is an answer. */
export function isRetryable(err: unknown): boolean {
  const status = statusOf(err);
  if (status !== undefined) return status === 429 || status >= 500;
  const e = err as { code?: unknown; errno?: unknown; type?: unknown } | undefined;
  const code = typeof e?.code === 'string' ? e.code : typeof e?.errno === 'string' ? e.errno : undefined;
  return (code !== undefined && TRANSIENT_NETWORK.has(code)) || e?.type === 'system';
}

/** Milliseconds the server asked us to wait (Retry-After in seconds), if it said. */
export function retryAfterMs(err: unknown): number | undefined {
  const headers = (err as ErrorLike | undefined)?.headers;
  const raw = headers?.['retry-after'] ?? headers?.['Retry-After'];
  if (raw === undefined) return undefined;
  const seconds = Number(raw);
  return Number.isFinite(seconds) && seconds >= 0 ? seconds * 1000 : undefined;
}

/** The apiserver's own words (Status.message), kept short. */
export function detailOf(err: unknown): string | undefined {
  const body = (err as ErrorLike | undefined)?.body;
  let message: unknown;
  if (typeof body === 'string') {
    try {
      message = (JSON.parse(body) as { message?: unknown }).message;
    } catch {
      message = body;
    }
  } else if (body && typeof body === 'object') {
    message = (body as { message?: unknown }).message;
  }
  return typeof message === 'string' && message.length > 0 ? message.slice(0, 300) : undefined;
}

/** Turns a client-node failure into one of our typed errors (unchanged when it is not HTTP). */
export function toKubernetesError(op: KubeOperation, err: unknown): Error {
  if (err instanceof KubernetesApiError) return err;
  const status = statusOf(err);
  const detail = detailOf(err);
  if (status === 403) return new KubernetesForbiddenError(op, detail);
  if (status === 409) return new KubernetesConflictError(op, 409, `${describeOperation(op)}: already exists`);
  if (status === 404) return new KubernetesNotFoundError(op, 404, `${describeOperation(op)}: not found`);
  if (status !== undefined) {
    return new KubernetesApiError(
      op,
      status,
      `${describeOperation(op)} failed with HTTP ${status}${detail ? `: ${detail}` : ''}`,
    );
  }
  const message = err instanceof Error ? err.message : String(err);
  return new KubernetesApiError(op, undefined, `${describeOperation(op)} failed: ${message}`);
}

export interface RetryPolicy {
  /** Attempts in all, the first included. */
  readonly attempts: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 6, baseDelayMs: 200, maxDelayMs: 5_000 };

/** Retry-After when the API server sends it (capped), else the shared backoff with jitter. */
export function retryDelay(attempt: number, policy: RetryPolicy, err?: unknown, random = Math.random): number {
  const asked = retryAfterMs(err);
  if (asked !== undefined) return Math.min(asked, policy.maxDelayMs);
  return backoffDelay(attempt, { ...policy, jitter: true }, random);
}

export type Sleep = (ms: number) => Promise<void>;
export const sleep: Sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Runs one API call, retrying transient failures with capped backoff; the final error is typed
 * (forbidden, conflict, not found) so callers can adopt or explain.
 */
export async function withRetry<T>(
  op: KubeOperation,
  call: () => Promise<T>,
  policy: RetryPolicy = DEFAULT_RETRY,
  onRetry?: (attempt: number, delayMs: number, err: unknown) => void,
  wait: Sleep = sleep,
): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await call();
    } catch (err) {
      if (!isRetryable(err) || attempt + 1 >= policy.attempts) throw toKubernetesError(op, err);
      const delay = retryDelay(attempt, policy, err);
      onRetry?.(attempt + 1, delay, err);
      await wait(delay);
    }
  }
}
