// The worker's GitLab REST v4 client: the access token from the worker's Secret (GitLab has no
// installation tokens), the few calls the worker makes (commit status, merge request, notes, the
// token's user), retried on 429 and 5xx. Core's commit-status.ts speaks through it.
import type { GitLabRequester, RepoRef } from '@kritik/core';
import { CodeHostError } from '../code-host/code-host.js';
import { createHttpsFetch, type HttpsFetch } from '../github/https-fetch.js';

export interface GitLabSettings {
  /** The instance's base URL (`https://gitlab.example.com`); the API is under `/api/v4`. */
  readonly url: string;
  readonly token: string;
  /** Tries after the first of a call GitLab answers 429 or 5xx; 0 leaves retrying to the caller. */
  readonly retries?: number;
  /** Longest wait between tries, whatever Retry-After asks. */
  readonly maxRetryDelayMs?: number;
}

const DEFAULT_RETRIES = 2;
const DEFAULT_MAX_RETRY_DELAY_MS = 10_000;

export class GitLabClient implements GitLabRequester {
  private readonly api: string;

  constructor(
    private readonly settings: GitLabSettings,
    private readonly fetch: HttpsFetch = createHttpsFetch(),
  ) {
    this.api = `${settings.url.replace(/\/+$/, '')}/api/v4`;
  }

  /** The instance's base URL, as GITLAB_URL gives it. */
  get url(): string {
    return this.settings.url.replace(/\/+$/, '');
  }

  /** The same client with another retry count (comment commands retry through their queue). */
  withRetries(retries: number): GitLabClient {
    return new GitLabClient({ ...this.settings, retries }, this.fetch);
  }

  /** Closes pooled connections to GitLab (Nest calls it at shutdown). */
  onApplicationShutdown(): void {
    this.fetch.destroy();
  }

  /** The web address of a merge request. */
  mergeRequestUrl(repo: RepoRef, iid: number): string {
    return `${this.url}/${repo.owner}/${repo.name}/-/merge_requests/${iid}`;
  }

  async request(method: 'GET' | 'POST', path: string, body?: Record<string, unknown>): Promise<unknown> {
    const retries = this.settings.retries ?? DEFAULT_RETRIES;
    for (let attempt = 0; ; attempt++) {
      const res = await this.fetch(`${this.api}${path}`, {
        method,
        // Bearer, not PRIVATE-TOKEN: a redirect to another origin drops Authorization (https-fetch.ts).
        headers: {
          authorization: `Bearer ${this.settings.token}`,
          accept: 'application/json',
          ...(body ? { 'content-type': 'application/json' } : {}),
        },
        ...(body ? { body: JSON.stringify(body) } : {}),
      });
      if (res.ok) return res.status === 204 ? undefined : res.json();
      const transient = res.status === 429 || res.status >= 500;
      if (!transient || attempt >= retries) {
        const text = (await res.text()).slice(0, 300);
        throw new CodeHostError(
          `GitLab answered HTTP ${res.status} to ${method} ${path.split('?')[0]}: ${text}`,
          res.status,
          { headers: Object.fromEntries(res.headers) },
        );
      }
      const retryAfter = Number(res.headers.get('retry-after'));
      const delay = Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter * 1000 : 500 * 2 ** attempt;
      await new Promise((r) =>
        setTimeout(r, Math.min(delay, this.settings.maxRetryDelayMs ?? DEFAULT_MAX_RETRY_DELAY_MS)),
      );
    }
  }
}
