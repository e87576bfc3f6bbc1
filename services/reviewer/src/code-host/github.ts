// The GitHub side of the code-host seam: the one client of the GitHub REST API the reviewer uses.
// Posting is always a COMMENT review: Kritik never approves or blocks.

import {
  type CheckRunConclusion,
  type CheckRunOutput,
  completeCheckRun,
  createCheckRun,
  type RepoRef,
  startCheckRun,
} from '@kritik/core';
import { retry } from '@octokit/plugin-retry';
import { Octokit } from '@octokit/rest';
import type { PatchMeta } from '../diff/diff.js';
import {
  type CheckRef,
  type CodeHost,
  CodeHostError,
  type ConversationPort,
  type PostedReview,
  type PriorComment,
  type PriorReview,
  type PullChanges,
  type PullRequestInfo,
  type ReviewDraft,
  type ReviewThread,
  singleLine,
} from './code-host.js';

/** A GitHub API failure with what was asked, the status and GitHub's message; never the token. */
export class GitHubError extends CodeHostError {
  constructor(operation: string, status: number | undefined, message: string) {
    super('GitHub', operation, status, message);
    this.name = 'GitHubError';
  }
}

export interface OctokitOptions {
  token: string;
  baseUrl: string;
  /** Base of the retry plugin's backoff (ms); tests make it small. */
  retryBaseMs?: number;
  retries?: number;
  userAgent?: string;
  warn?: (message: string) => void;
}

// Typed as the plain Octokit: the plugin only adds retries, and its inferred type is not portable.
const RetryingOctokit: typeof Octokit = Octokit.plugin(retry);
export type ReviewerOctokit = Octokit;

export function createOctokit(options: OctokitOptions): ReviewerOctokit {
  const warn = options.warn ?? (() => {});
  return new RetryingOctokit({
    auth: options.token,
    baseUrl: options.baseUrl.replace(/\/+$/, ''),
    userAgent: options.userAgent ?? 'kritik-reviewer',
    retry: {
      retries: options.retries ?? 2,
      retryAfterBaseValue: options.retryBaseMs ?? 1_000,
      // 406 is GitHub's "diff too large", answered the same way every time.
      doNotRetry: [400, 401, 403, 404, 406, 410, 422, 451],
    },
    log: { debug: () => {}, info: () => {}, warn, error: warn },
  });
}

function statusOf(error: unknown): number | undefined {
  const status = (error as { status?: unknown })?.status;
  return typeof status === 'number' ? status : undefined;
}

async function call<T>(operation: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    const status = statusOf(error);
    const raw = (error as Error)?.message ?? String(error);
    // Octokit's message ends with the documentation URL; keep the first sentence.
    throw new GitHubError(operation, status, raw.split(' - https://')[0]!.slice(0, 300));
  }
}

function fileMeta(f: {
  filename: string;
  status: string;
  previous_filename?: string;
  patch?: string;
  additions: number;
  deletions: number;
}): PatchMeta {
  return {
    filename: f.filename,
    status: f.status,
    previousFilename: f.previous_filename ?? null,
    patch: f.patch ?? null,
    additions: f.additions,
    deletions: f.deletions,
  };
}

export class OctokitGitHub implements CodeHost, ConversationPort {
  readonly name = 'GitHub';
  readonly conversations: ConversationPort = this;

  constructor(private readonly octokit: ReviewerOctokit) {}

  getPull(repo: RepoRef, pr: number): Promise<PullRequestInfo> {
    return call(`GET pull request #${pr}`, async () => {
      const { data } = await this.octokit.rest.pulls.get({ owner: repo.owner, repo: repo.name, pull_number: pr });
      return {
        number: data.number,
        title: data.title,
        body: data.body ?? '',
        draft: data.draft ?? false,
        state: data.state,
        headSha: data.head.sha,
        baseSha: data.base.sha,
        baseRef: data.base.ref,
        htmlUrl: data.html_url,
        changedFiles: data.changed_files,
        labels: data.labels.map((l) => l.name),
      };
    });
  }

  /** The whole diff in one request, or the paginated files API when GitHub refuses it as too large (406). */
  async pullChanges(repo: RepoRef, pull: PullRequestInfo): Promise<PullChanges> {
    const diff = await this.getPullDiff(repo, pull.number);
    if (diff !== null) return { kind: 'diff', diff };
    const files = await this.listPullFiles(repo, pull.number);
    const notes =
      pull.changedFiles > files.length
        ? [`GitHub lists only ${files.length} of the ${pull.changedFiles} changed files; the rest were not reviewed.`]
        : [];
    return { kind: 'files', files, notes };
  }

  private async getPullDiff(repo: RepoRef, pr: number): Promise<string | null> {
    try {
      const { data } = await this.octokit.rest.pulls.get({
        owner: repo.owner,
        repo: repo.name,
        pull_number: pr,
        mediaType: { format: 'diff' },
      });
      return data as unknown as string;
    } catch (error) {
      if (statusOf(error) === 406) return null;
      return call(`GET diff of #${pr}`, () => Promise.reject(error));
    }
  }

  private listPullFiles(repo: RepoRef, pr: number): Promise<PatchMeta[]> {
    return call(`GET files of #${pr}`, async () => {
      const files = await this.octokit.paginate(this.octokit.rest.pulls.listFiles, {
        owner: repo.owner,
        repo: repo.name,
        pull_number: pr,
        per_page: 100,
      });
      return files.map(fileMeta);
    });
  }

  async compare(repo: RepoRef, base: string, head: string) {
    try {
      const { data } = await this.octokit.rest.repos.compareCommitsWithBasehead({
        owner: repo.owner,
        repo: repo.name,
        basehead: `${base}...${head}`,
        per_page: 100,
      });
      return { status: data.status, files: (data.files ?? []).map(fileMeta) };
    } catch (error) {
      if (statusOf(error) === 404) return null;
      return call(`GET compare ${base.slice(0, 7)}...${head.slice(0, 7)}`, () => Promise.reject(error));
    }
  }

  async getFileText(repo: RepoRef, path: string, ref: string): Promise<string | null> {
    try {
      const { data } = await this.octokit.rest.repos.getContent({ owner: repo.owner, repo: repo.name, path, ref });
      if (Array.isArray(data) || data.type !== 'file' || !('content' in data)) return null;
      return Buffer.from(data.content, (data.encoding as BufferEncoding) || 'base64').toString('utf8');
    } catch (error) {
      if (statusOf(error) === 404) return null;
      return call(`GET ${path}@${ref.slice(0, 12)}`, () => Promise.reject(error));
    }
  }

  tarball(repo: RepoRef, ref: string): Promise<AsyncIterable<Uint8Array>> {
    return call(`GET tarball@${ref.slice(0, 12)}`, async () => {
      const response = await this.octokit.request('GET /repos/{owner}/{repo}/tarball/{ref}', {
        owner: repo.owner,
        repo: repo.name,
        ref,
        // The body is streamed to disk, never held whole in memory.
        request: { parseSuccessResponseBody: false },
      });
      const body = response.data as unknown as ReadableStream<Uint8Array> | null;
      if (!body) throw new Error('empty tarball response');
      return body as unknown as AsyncIterable<Uint8Array>;
    });
  }

  async currentLogin(): Promise<string | null> {
    try {
      return (await this.octokit.rest.users.getAuthenticated()).data.login;
    } catch (error) {
      const status = statusOf(error);
      if (status === 401 || status === 403 || status === 404) return null;
      return call('GET /user', () => Promise.reject(error));
    }
  }

  listReviews(repo: RepoRef, pr: number): Promise<PriorReview[]> {
    return call(`GET reviews of #${pr}`, async () => {
      const reviews = await this.octokit.paginate(this.octokit.rest.pulls.listReviews, {
        owner: repo.owner,
        repo: repo.name,
        pull_number: pr,
        per_page: 100,
      });
      return reviews.map((r) => ({
        id: r.id,
        author: r.user?.login ?? '',
        body: r.body ?? '',
        commitId: r.commit_id ?? null,
        htmlUrl: r.html_url,
      }));
    });
  }

  listReviewComments(repo: RepoRef, pr: number): Promise<PriorComment[]> {
    return call(`GET review comments of #${pr}`, async () => {
      const comments = await this.octokit.paginate(this.octokit.rest.pulls.listReviewComments, {
        owner: repo.owner,
        repo: repo.name,
        pull_number: pr,
        per_page: 100,
      });
      return comments.map((c) => ({
        id: c.id,
        inReplyTo: c.in_reply_to_id ?? null,
        author: c.user?.login ?? '',
        body: c.body,
        path: c.path,
        line: c.line ?? c.original_line ?? null,
      }));
    });
  }

  /**
   * GitHub takes a review whole or refuses it (422). Refused, it is posted again with every range
   * on its last line alone (a range GitHub will not take is the likeliest cause), then with no
   * inline comments at all, their findings listed in the summary.
   */
  async createReview(repo: RepoRef, pr: number, draft: ReviewDraft): Promise<PostedReview> {
    const none = new Set<number>();
    const body = draft.body(none);
    const attempts = [draft.comments];
    if (draft.comments.some((c) => c.start_line !== undefined)) attempts.push(draft.comments.map(singleLine));
    for (const comments of attempts) {
      try {
        const posted = await this.postReview(repo, pr, draft.commitId, body, comments);
        return { ...posted, body, refused: none };
      } catch (error) {
        if (!(error instanceof GitHubError) || error.status !== 422 || draft.comments.length === 0) throw error;
      }
    }
    const refused = new Set(draft.comments.map((_, i) => i));
    const summary = draft.body(refused);
    const posted = await this.postReview(repo, pr, draft.commitId, summary, []);
    return { ...posted, body: summary, refused };
  }

  private postReview(
    repo: RepoRef,
    pr: number,
    commitId: string,
    body: string,
    comments: ReviewDraft['comments'],
  ): Promise<{ id: number; htmlUrl: string }> {
    return call(`POST review on #${pr}`, async () => {
      const { data } = await this.octokit.rest.pulls.createReview({
        owner: repo.owner,
        repo: repo.name,
        pull_number: pr,
        commit_id: commitId,
        body,
        event: 'COMMENT',
        // Only the fields GitHub knows: the fallback body is ours.
        comments: comments.map(({ singleLineBody: _single, ...comment }) => comment),
      });
      return { id: data.id, htmlUrl: data.html_url };
    });
  }

  createCheck(repo: RepoRef, headSha: string, output: CheckRunOutput): Promise<number> {
    return call('POST check run', () => createCheckRun(this.octokit, repo, headSha, 'in_progress', output));
  }

  startCheck(repo: RepoRef, check: CheckRef, output: CheckRunOutput): Promise<void> {
    return call('PATCH check run', () => startCheckRun(this.octokit, repo, check.id, output));
  }

  completeCheck(repo: RepoRef, check: CheckRef, conclusion: CheckRunConclusion, output: CheckRunOutput): Promise<void> {
    return call('PATCH check run', () => completeCheckRun(this.octokit, repo, check.id, conclusion, output));
  }

  // ---- conversations ----

  updateReview(repo: RepoRef, pr: number, reviewId: number, body: string): Promise<void> {
    return call(`PUT review ${reviewId} on #${pr}`, async () => {
      await this.octokit.rest.pulls.updateReview({
        owner: repo.owner,
        repo: repo.name,
        pull_number: pr,
        review_id: reviewId,
        body,
      });
    });
  }

  listReviewThreads(repo: RepoRef, pr: number): Promise<ReviewThread[]> {
    return call(`GraphQL review threads of #${pr}`, async () => {
      const threads: ReviewThread[] = [];
      let after: string | null = null;
      // Bounded: a pull request with more threads than this is read in part, never forever.
      for (let page = 0; page < MAX_THREAD_PAGES; page++) {
        const data: ThreadsPage = await this.octokit.graphql<ThreadsPage>(THREADS_QUERY, {
          owner: repo.owner,
          name: repo.name,
          number: pr,
          first: 100,
          after,
        });
        const connection = data.repository?.pullRequest?.reviewThreads;
        if (!connection) break;
        for (const node of connection.nodes ?? []) {
          const first = node?.comments?.nodes?.[0];
          if (!node || !first?.databaseId) continue;
          const author = first.author
            ? first.author.__typename === 'Bot'
              ? `${first.author.login}[bot]`
              : first.author.login
            : '';
          threads.push({
            id: node.id,
            isResolved: node.isResolved,
            isOutdated: node.isOutdated,
            path: node.path,
            firstCommentId: first.databaseId,
            author,
            body: first.body ?? '',
            resolvedBy: node.resolvedBy?.login ?? null,
            thumbsDown: first.reactions?.totalCount ?? 0,
          });
        }
        if (!connection.pageInfo.hasNextPage) break;
        after = connection.pageInfo.endCursor;
      }
      return threads;
    });
  }

  replyToReviewComment(repo: RepoRef, pr: number, commentId: number, body: string): Promise<void> {
    return call(`POST reply to comment ${commentId} on #${pr}`, async () => {
      await this.octokit.rest.pulls.createReplyForReviewComment({
        owner: repo.owner,
        repo: repo.name,
        pull_number: pr,
        comment_id: commentId,
        body,
      });
    });
  }

  async getIssueComment(
    repo: RepoRef,
    _pr: number,
    commentId: number,
  ): Promise<{ author: string; body: string } | null> {
    try {
      const { data } = await this.octokit.rest.issues.getComment({
        owner: repo.owner,
        repo: repo.name,
        comment_id: commentId,
      });
      return { author: data.user?.login ?? '', body: data.body ?? '' };
    } catch (error) {
      if (statusOf(error) === 404) return null;
      return call(`GET comment ${commentId}`, () => Promise.reject(error));
    }
  }

  commentOnPull(repo: RepoRef, pr: number, body: string): Promise<void> {
    return call(`POST comment on #${pr}`, async () => {
      await this.octokit.rest.issues.createComment({ owner: repo.owner, repo: repo.name, issue_number: pr, body });
    });
  }

  reactToComment(
    repo: RepoRef,
    _pr: number,
    kind: 'review-comment' | 'issue-comment',
    commentId: number,
    content: 'eyes',
  ) {
    return call(`POST reaction on comment ${commentId}`, async () => {
      const params = { owner: repo.owner, repo: repo.name, comment_id: commentId, content };
      if (kind === 'review-comment') await this.octokit.rest.reactions.createForPullRequestReviewComment(params);
      else await this.octokit.rest.reactions.createForIssueComment(params);
    });
  }

  resolveReviewThread(_repo: RepoRef, _pr: number, threadId: string): Promise<void> {
    return call('GraphQL resolveReviewThread', async () => {
      await this.octokit.graphql(RESOLVE_THREAD, { threadId });
    });
  }
}

const MAX_THREAD_PAGES = 10;

const THREADS_QUERY = `query($owner: String!, $name: String!, $number: Int!, $first: Int!, $after: String) {
  repository(owner: $owner, name: $name) {
    pullRequest(number: $number) {
      reviewThreads(first: $first, after: $after) {
        pageInfo { hasNextPage endCursor }
        nodes {
          id isResolved isOutdated path resolvedBy { login }
          comments(first: 1) {
            nodes { databaseId body author { __typename login } reactions(content: THUMBS_DOWN) { totalCount } }
          }
        }
      }
    }
  }
}`;

const RESOLVE_THREAD = `mutation($threadId: ID!) {
  resolveReviewThread(input: { threadId: $threadId }) { thread { id isResolved } }
}`;

interface ThreadsPage {
  repository?: {
    pullRequest?: {
      reviewThreads?: {
        pageInfo: { hasNextPage: boolean; endCursor: string | null };
        nodes?: ({
          id: string;
          isResolved: boolean;
          isOutdated: boolean;
          path: string;
          resolvedBy?: { login: string } | null;
          comments?: {
            nodes?: ({
              databaseId?: number;
              body?: string;
              author?: { __typename: string; login: string } | null;
              reactions?: { totalCount: number };
            } | null)[];
          };
        } | null)[];
      };
    } | null;
  } | null;
}
