// The GitHub App identity, held by the worker alone: it signs App JWTs with the private key and
// mints installation tokens limited to one repository and to the permissions of one use: a
// review Job's (the reviewer's), a check run's, or one comment command's.
import type { RepoRef } from '@kritik/core';
import { App } from '@octokit/app';
import { Octokit } from '@octokit/core';
import { retry } from '@octokit/plugin-retry';
import type { CommentReaction } from '../code-host/code-host.js';
import { createHttpsFetch, type HttpsFetch } from './https-fetch.js';

/** Exactly what the reviewer needs; the token handed to a review Job can do nothing else. */
export const REVIEWER_TOKEN_PERMISSIONS = {
  contents: 'read',
  pull_requests: 'write',
  checks: 'write',
} as const;

/** Installation token permissions: permission name to access level. */
export type TokenPermissions = Readonly<Record<string, 'read' | 'write'>>;

/** Answering a comment command with a comment on the pull request (`issues: write` in the App). */
export const COMMENT_TOKEN_PERMISSIONS: TokenPermissions = { issues: 'write' };

/**
 * Creating a review's check run when it is accepted and concluding it when the reviewer could
 * not: narrower than the review's own token, so a review whose token GitHub refuses still ends visibly.
 */
export const CHECKS_TOKEN_PERMISSIONS: TokenPermissions = { checks: 'write' };

/** Reading a pull request's head and base, to queue the review a comment asked for. */
export const PULL_READ_TOKEN_PERMISSIONS: TokenPermissions = { pull_requests: 'read' };

export interface GitHubAppSettings {
  readonly appId: string;
  readonly privateKey: string;
  readonly apiUrl: string;
}

export interface InstallationToken {
  readonly token: string;
  readonly expiresAt: string;
}

export class GitHubTokenError extends Error {
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'GitHubTokenError';
  }
}

/** A pull request's state and commits, as a `@<bot> review` comment needs them. */
export interface PullRequestHead {
  readonly state: string;
  readonly draft: boolean;
  readonly headSha: string;
  readonly baseSha: string;
}

export interface IssueComment {
  readonly id: number;
  readonly url: string;
}

/** Pages of comments searched for a marker; a PR with more is answered again rather than searched on. */
const MAX_COMMENT_PAGES = 20;

/** Calls for comment commands are not retried here: the commands queue tries again, with backoff. */
const COMMAND_RETRIES = 0;

const RetryingOctokit = Octokit.plugin(retry);

export class GitHubAppClient {
  private readonly app: App;
  private readonly fetch: HttpsFetch = createHttpsFetch();
  private readonly installations = new Map<string, number>();
  /** Mints under way, so a burst of reviews of one repository asks GitHub once. */
  private readonly minting = new Map<string, Promise<InstallationToken>>();

  constructor(private readonly settings: GitHubAppSettings) {
    this.app = new App({
      appId: settings.appId,
      privateKey: settings.privateKey,
      Octokit: RetryingOctokit.defaults({
        baseUrl: settings.apiUrl,
        retry: { retries: 3 },
        request: { fetch: this.fetch },
      }),
    });
  }

  /** Closes pooled connections to GitHub (Nest calls it at shutdown). */
  onApplicationShutdown(): void {
    this.fetch.destroy();
  }

  get apiUrl(): string {
    return this.settings.apiUrl;
  }

  private login: Promise<string> | undefined;

  /**
   * The login the App posts as (`<slug>[bot]`): Kritik trusts its hidden markers only in
   * comments and reviews by this login. Asked once; a failure is asked again next time.
   */
  botLogin(): Promise<string> {
    this.login ??= this.app.octokit.request('GET /app').then(
      ({ data }) => `${data?.slug}[bot]`,
      (err) => {
        this.login = undefined;
        throw this.explain(err, 'read the App (GET /app)');
      },
    );
    return this.login;
  }

  /**
   * A token for one repository with `permissions` ({@link REVIEWER_TOKEN_PERMISSIONS} unless a
   * use needs others). Octokit caches it per installation, repositories and permissions until
   * shortly before it expires.
   */
  async repositoryToken(
    repo: RepoRef,
    installationId?: number,
    permissions: TokenPermissions = REVIEWER_TOKEN_PERMISSIONS,
  ): Promise<InstallationToken> {
    const id = installationId ?? (await this.installationOf(repo));
    const scope = Object.entries(permissions)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([name, level]) => `${name}=${level}`)
      .join(',');
    const key = `${id}:${repo.owner}/${repo.name}:${scope}`.toLowerCase();
    let minting = this.minting.get(key);
    if (!minting) {
      minting = this.mint(repo, id, permissions).finally(() => this.minting.delete(key));
      this.minting.set(key, minting);
    }
    return minting;
  }

  /** A REST client acting with an installation token, retrying transient failures `retries` times. */
  octokitFor(token: string, retries = 2): Octokit {
    return new RetryingOctokit({
      auth: token,
      baseUrl: this.settings.apiUrl,
      retry: { retries },
      request: { fetch: this.fetch },
    });
  }

  /** The pull request's state and its current head and base commits. */
  async pullRequest(repo: RepoRef, pr: number, installationId?: number): Promise<PullRequestHead> {
    const { token } = await this.repositoryToken(repo, installationId, PULL_READ_TOKEN_PERMISSIONS);
    const { data } = await this.octokitFor(token, COMMAND_RETRIES).request(
      'GET /repos/{owner}/{repo}/pulls/{pull_number}',
      {
        owner: repo.owner,
        repo: repo.name,
        pull_number: pr,
      },
    );
    return { state: data.state, draft: data.draft ?? false, headSha: data.head.sha, baseSha: data.base.sha };
  }

  /** Posts `body` in the pull request's conversation (an issue comment). */
  async comment(repo: RepoRef, pr: number, body: string, installationId?: number): Promise<IssueComment> {
    const { token } = await this.repositoryToken(repo, installationId, COMMENT_TOKEN_PERMISSIONS);
    const octokit = this.octokitFor(token, COMMAND_RETRIES);
    const { data } = await octokit.request('POST /repos/{owner}/{repo}/issues/{issue_number}/comments', {
      owner: repo.owner,
      repo: repo.name,
      issue_number: pr,
      body,
    });
    return { id: Number(data.id), url: data.html_url };
  }

  /**
   * Reacts to a comment in the pull request's conversation, to say at once that a command was
   * heard. GitHub answers 200 instead of 201 when the reaction is already there: a retry adds none.
   */
  async react(repo: RepoRef, commentId: number, content: CommentReaction, installationId?: number): Promise<void> {
    const { token } = await this.repositoryToken(repo, installationId, COMMENT_TOKEN_PERMISSIONS);
    const octokit = this.octokitFor(token, COMMAND_RETRIES);
    await octokit.request('POST /repos/{owner}/{repo}/issues/comments/{comment_id}/reactions', {
      owner: repo.owner,
      repo: repo.name,
      comment_id: commentId,
      content,
    });
  }

  /** The first comment by the App in the pull request's conversation whose body contains `marker`. */
  async findComment(
    repo: RepoRef,
    pr: number,
    marker: string,
    installationId?: number,
  ): Promise<IssueComment | undefined> {
    const [{ token }, self] = await Promise.all([
      this.repositoryToken(repo, installationId, COMMENT_TOKEN_PERMISSIONS),
      this.botLogin(),
    ]);
    const octokit = this.octokitFor(token, COMMAND_RETRIES);
    for (let page = 1; page <= MAX_COMMENT_PAGES; page++) {
      const { data } = await octokit.request('GET /repos/{owner}/{repo}/issues/{issue_number}/comments', {
        owner: repo.owner,
        repo: repo.name,
        issue_number: pr,
        per_page: 100,
        page,
      });
      // Anyone can write the marker; only the App's own comment counts.
      const found = data.find((c) => c.user?.login === self && c.body?.includes(marker));
      if (found) return { id: Number(found.id), url: found.html_url };
      if (data.length < 100) return undefined;
    }
    return undefined;
  }

  private async mint(repo: RepoRef, id: number, permissions: TokenPermissions): Promise<InstallationToken> {
    try {
      const auth = (await this.app.octokit.auth({
        type: 'installation',
        installationId: id,
        repositoryNames: [repo.name],
        permissions: { ...permissions },
      })) as { token: string; expiresAt: string };
      return { token: auth.token, expiresAt: auth.expiresAt };
    } catch (err) {
      throw this.explain(err, `mint an installation token for ${repo.owner}/${repo.name} (installation ${id})`);
    }
  }

  /** The installation that covers a repository (asked once per repository, then remembered). */
  async installationOf(repo: RepoRef): Promise<number> {
    const key = `${repo.owner}/${repo.name}`.toLowerCase();
    const known = this.installations.get(key);
    if (known !== undefined) return known;
    try {
      const { data } = await this.app.octokit.request('GET /repos/{owner}/{repo}/installation', {
        owner: repo.owner,
        repo: repo.name,
      });
      this.installations.set(key, data.id);
      return data.id;
    } catch (err) {
      throw this.explain(err, `find the App installation of ${repo.owner}/${repo.name}`);
    }
  }

  private explain(err: unknown, what: string): GitHubTokenError {
    const status = (err as { status?: unknown }).status;
    const message = err instanceof Error ? err.message : String(err);
    return new GitHubTokenError(
      `GitHub refused to ${what}: ${typeof status === 'number' ? `HTTP ${status}, ` : ''}${message}`,
      typeof status === 'number' ? status : undefined,
    );
  }
}
