// Why a comment command failed, and whether trying again can help: GitHub's 5xx, 429, a rate
// limit or a dropped connection may pass; a closed or missing pull request, or a permission the
// App lacks, will not, so those end at once instead of costing GitHub calls on every retry.

import { CodeHostError, NotConfiguredError } from '../code-host/code-host.js';
import type { CommandCause } from '../metrics/worker.metrics.js';

/** A command that cannot succeed however often it is tried. */
export class CommandFailure extends Error {
  constructor(
    readonly kind: Exclude<CommandCause, 'ok'>,
    message: string,
  ) {
    super(message);
    this.name = 'CommandFailure';
  }
}

export interface FailureVerdict {
  readonly cause: Exclude<CommandCause, 'ok'>;
  readonly transient: boolean;
  /** One line for the log and the failed queue entry. */
  readonly reason: string;
}

interface HttpishError {
  status?: unknown;
  message?: unknown;
  response?: { headers?: Record<string, string | number | undefined> };
}

export function judgeFailure(err: unknown): FailureVerdict {
  if (err instanceof CommandFailure) return { cause: err.kind, transient: false, reason: err.message };
  if (err instanceof NotConfiguredError) return { cause: 'error', transient: false, reason: err.message };
  const { status, message, response } = (err ?? {}) as HttpishError;
  const text = typeof message === 'string' ? message : String(err);
  if (typeof status !== 'number') return { cause: 'error', transient: true, reason: text };
  // A CodeHostError names its host and status already; Octokit's errors do not.
  const reason = err instanceof CodeHostError ? text : `GitHub answered HTTP ${status}: ${text}`;
  const headers = response?.headers ?? {};
  const rateLimited =
    status === 429 ||
    (status === 403 && (headers['retry-after'] !== undefined || headers['x-ratelimit-remaining'] === '0'));
  if (status >= 500 || rateLimited) return { cause: 'github_error', transient: true, reason };
  if (status === 404 || status === 410) return { cause: 'not_found', transient: false, reason };
  if (status === 401 || status === 403 || status === 422) return { cause: 'forbidden', transient: false, reason };
  return { cause: 'github_error', transient: false, reason };
}
