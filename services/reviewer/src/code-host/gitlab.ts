// The GitLab side of the code-host seam: merge requests through @gitbeaker/rest, with our own
// request handler (Retry-After honoured, capped backoff, streamed archives; ADR 0020).

import { createHash } from 'node:crypto';
import { createRequesterFn } from '@gitbeaker/requester-utils';
import { Gitlab } from '@gitbeaker/rest';
import {
  type CheckRunConclusion,
  type CheckRunOutput,
  COMMIT_STATUS_STATES,
  type GitLabRequester,
  gitlabProjectId,
  type RepoRef,
  setCommitStatus,
  statusDescription,
} from '@kritik/core';
import { type DiffFile, fileFromPatch, type PatchMeta } from '../diff/diff.js';
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
  type ReviewCommentInput,
  type ReviewDraft,
  type ReviewThread,
  singleLine,
} from './code-host.js';

export interface GitLabClientOptions {
  /** Base URL of the instance (`https://gitlab.example.com`); the API is under `/api/v4`. */
  url: string;
  token: string;
  /** Retries of a 429 (any method) or a 5xx (reads only). */
  retries?: number;
  /** Base of the exponential backoff when GitLab sends no Retry-After (ms). */
  retryBaseMs?: number;
  /** The longest wait a Retry-After may ask for before the call fails instead (ms). */
  maxRetryWaitMs?: number;
  timeoutMs?: number;
  warn?: (message: string) => void;
}

/** An HTTP failure from GitLab with its status and GitLab's `message` (never a header). */
class GitLabHttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Retry-After in seconds or as an HTTP date, in ms; undefined when absent or unreadable. */
function retryAfterMs(value: string | null): number | undefined {
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

async function errorMessage(response: Response): Promise<string> {
  const text = await response.text().catch(() => '');
  try {
    const json = JSON.parse(text) as { message?: unknown; error?: unknown };
    const m = json.message ?? json.error ?? text;
    return (typeof m === 'string' ? m : JSON.stringify(m)).slice(0, 300);
  } catch {
    return text.trim().slice(0, 300) || response.statusText;
  }
}

async function parseBody(response: Response, asStream: boolean): Promise<unknown> {
  if (asStream) return response.body;
  if (response.status === 204) return null;
  const type = (response.headers.get('content-type') ?? '').split(';')[0]!.trim();
  if (type === 'application/json') return response.json();
  // Raw files come as text whatever their type; the reviewer reads text only.
  return response.text();
}

interface HandlerOptions {
  method: string;
  prefixUrl: string;
  searchParams?: string;
  headers?: Record<string, string>;
  body?: string | FormData;
  asStream?: boolean;
}

/** Gitbeaker's request handler replaced: its own retries ignore Retry-After and wait milliseconds. */
function requestHandler(options: GitLabClientOptions) {
  const retries = options.retries ?? 3;
  const base = options.retryBaseMs ?? 1_000;
  const maxWait = options.maxRetryWaitMs ?? 60_000;
  const warn = options.warn ?? (() => {});
  return async (endpoint: string, o: HandlerOptions) => {
    const url = new URL(endpoint, o.prefixUrl.endsWith('/') ? o.prefixUrl : `${o.prefixUrl}/`);
    url.search = o.searchParams ?? '';
    for (let attempt = 0; ; attempt++) {
      // The timeout covers a call's answer; a streamed archive, once it starts, is bounded by the
      // checkout's own limits instead.
      const controller = new AbortController();
      const timer = setTimeout(() => controller.abort(), options.timeoutMs ?? 60_000);
      let response: Response;
      try {
        response = await fetch(url, {
          method: o.method,
          ...(o.headers ? { headers: o.headers } : {}),
          ...(o.body !== undefined ? { body: o.body } : {}),
          signal: controller.signal,
        });
        if (response.ok) {
          return {
            body: await parseBody(response, o.asStream ?? false),
            headers: Object.fromEntries(response.headers.entries()),
            status: response.status,
          };
        }
      } finally {
        clearTimeout(timer);
      }
      const retryable = response.status === 429 || (o.method === 'GET' && response.status >= 500);
      const wait = retryAfterMs(response.headers.get('retry-after')) ?? base * 2 ** attempt;
      if (!retryable || attempt >= retries || wait > maxWait) {
        throw new GitLabHttpError(response.status, await errorMessage(response));
      }
      await response.body?.cancel().catch(() => {});
      warn(`GitLab answered ${response.status} to ${o.method} ${url.pathname}; retrying in ${Math.round(wait)} ms`);
      await sleep(wait);
    }
  };
}

export type GitLabApi = InstanceType<typeof Gitlab<false>>;

/** A gitbeaker client on `url` with the reviewer's request handler. */
export function createGitLab(options: GitLabClientOptions): GitLabApi {
  const requesterFn = createRequesterFn(
    (_service, requestOptions) => Promise.resolve(requestOptions),
    requestHandler(options) as never,
  );
  return new Gitlab({
    host: options.url.replace(/\/+$/, ''),
    token: options.token,
    requesterFn,
    // GitLab's own rate limits answer with 429 and Retry-After, which the handler honours.
    rateLimits: {},
  });
}

/** Core's commit status calls over the same client (and its retries). */
function requesterOf(api: GitLabApi): GitLabRequester {
  return {
    async request(method, path, body) {
      const [pathname, query] = path.replace(/^\/+/, '').split('?');
      const searchParams = query ? Object.fromEntries(new URLSearchParams(query)) : undefined;
      const requester = (api as unknown as { requester: Record<string, GitbeakerCall> }).requester;
      const call = requester[method.toLowerCase()]!;
      const response = await call(pathname!, { ...(searchParams ? { searchParams } : {}), ...(body ? { body } : {}) });
      return response.body;
    },
  };
}

type GitbeakerCall = (
  endpoint: string,
  options: { searchParams?: Record<string, string>; body?: Record<string, unknown> },
) => Promise<{ body: unknown }>;

function statusOf(error: unknown): number | undefined {
  return error instanceof GitLabHttpError ? error.status : undefined;
}

async function call<T>(operation: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    if (error instanceof CodeHostError) throw error;
    const message = (error as Error)?.message ?? String(error);
    throw new CodeHostError('GitLab', operation, statusOf(error), message.slice(0, 300));
  }
}

/** `fn`, or `fallback` when GitLab answers one of `statuses`. */
async function unless<T>(statuses: number[], fallback: T, operation: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    const status = statusOf(error);
    if (status !== undefined && statuses.includes(status)) return fallback;
    return call(operation, () => Promise.reject(error));
  }
}

interface MergeRequestDiff {
  old_path: string;
  new_path: string;
  diff: string;
  new_file: boolean;
  renamed_file: boolean;
  deleted_file: boolean;
  too_large?: boolean;
}

function patchMeta(d: MergeRequestDiff): PatchMeta {
  let additions = 0;
  let deletions = 0;
  for (const line of d.diff.split('\n')) {
    if (line.startsWith('+')) additions++;
    else if (line.startsWith('-')) deletions++;
  }
  const status = d.new_file ? 'added' : d.deleted_file ? 'removed' : d.renamed_file ? 'renamed' : 'modified';
  return {
    filename: d.deleted_file ? d.old_path : d.new_path,
    status,
    previousFilename: d.renamed_file ? d.old_path : null,
    patch: d.diff === '' ? null : d.diff,
    additions,
    deletions,
    ...(d.too_large ? { tooLarge: true } : {}),
  };
}

interface MergeRequestState {
  webUrl: string;
  diffRefs: { base_sha: string; start_sha: string; head_sha: string };
  /** The files of the merge request's diff, parsed: where an inline comment's old line comes from. */
  files?: Map<string, DiffFile>;
}

/** The project's full path; gitbeaker URL-encodes it into one segment (core's calls use gitlabProjectId). */
const projectPath = (repo: RepoRef) => `${repo.owner}/${repo.name}`;
const key = (repo: RepoRef, iid: number) => `${repo.owner}/${repo.name}!${iid}`;

export class GitLabHost implements CodeHost {
  readonly name = 'GitLab';
  private readonly requester: GitLabRequester;
  private readonly mrs = new Map<string, MergeRequestState>();

  readonly conversations: ConversationPort;

  constructor(private readonly api: GitLabApi) {
    this.requester = requesterOf(api);
    this.conversations = new GitLabConversations(
      this.requester,
      (repo, pr) => this.headOf(repo, pr),
      (repo, b, h) => this.compare(repo, b, h),
    );
  }

  /** The merge request's head as last read, read now when it was not. */
  private async headOf(repo: RepoRef, pr: number): Promise<string> {
    return this.mrs.get(key(repo, pr))?.diffRefs.head_sha ?? (await this.getPull(repo, pr)).headSha;
  }

  getPull(repo: RepoRef, pr: number): Promise<PullRequestInfo> {
    return call(`GET merge request !${pr}`, async () => {
      const mr = await this.api.MergeRequests.show(projectPath(repo), pr);
      const refs = mr.diff_refs as MergeRequestState['diffRefs'] | null;
      if (!refs?.base_sha || !refs.head_sha) throw new Error('GitLab has not computed the merge request diff yet');
      this.mrs.set(key(repo, pr), { webUrl: mr.web_url, diffRefs: refs });
      const changes = Number.parseInt(String(mr.changes_count ?? '0'), 10) || 0;
      return {
        number: mr.iid,
        title: mr.title,
        body: mr.description ?? '',
        draft: Boolean(mr.draft ?? mr.work_in_progress),
        state: mr.state === 'opened' ? 'open' : mr.state,
        headSha: refs.head_sha,
        // Like GitHub's base.sha: the target branch's head, where the review's config is read.
        baseSha: refs.start_sha ?? refs.base_sha,
        baseRef: mr.target_branch,
        htmlUrl: mr.web_url,
        changedFiles: changes,
        // Names, or label objects when a caller asked `with_labels_details`.
        labels: (mr.labels ?? []).map((l: string | { name: string }) => (typeof l === 'string' ? l : l.name)),
      };
    });
  }

  pullChanges(repo: RepoRef, pull: PullRequestInfo): Promise<PullChanges> {
    return call(`GET diffs of !${pull.number}`, async () => {
      const diffs = (await this.api.MergeRequests.allDiffs(projectPath(repo), pull.number, {
        perPage: 100,
      })) as unknown as MergeRequestDiff[];
      const files = diffs.map(patchMeta);
      const state = this.mrs.get(key(repo, pull.number));
      if (state) state.files = new Map(files.map((m) => [m.filename, fileFromPatch(m)]));
      const notes =
        pull.changedFiles > files.length
          ? [`GitLab lists only ${files.length} of the ${pull.changedFiles} changed files; the rest were not reviewed.`]
          : [];
      return { kind: 'files', files, notes };
    });
  }

  /** `ahead` when `head` descends from `base` (their merge base is `base`); the diff between them then. */
  compare(repo: RepoRef, base: string, head: string) {
    const id = projectPath(repo);
    return unless([400, 404], null, `GET compare ${base.slice(0, 7)}...${head.slice(0, 7)}`, async () => {
      if (base === head) return { status: 'identical', files: [] as PatchMeta[] };
      const mergeBase = await this.api.Repositories.mergeBase(id, [base, head]);
      if (mergeBase.id !== base) return { status: 'diverged', files: [] as PatchMeta[] };
      const compared = await this.api.Repositories.compare(id, base, head);
      return { status: 'ahead', files: ((compared.diffs ?? []) as unknown as MergeRequestDiff[]).map(patchMeta) };
    });
  }

  getFileText(repo: RepoRef, path: string, ref: string): Promise<string | null> {
    return unless([404], null, `GET ${path}@${ref.slice(0, 12)}`, async () => {
      const raw = await this.api.RepositoryFiles.showRaw(projectPath(repo), path, ref);
      return typeof raw === 'string' ? raw : await (raw as Blob).text();
    });
  }

  tarball(repo: RepoRef, ref: string): Promise<AsyncIterable<Uint8Array>> {
    return call(`GET archive@${ref.slice(0, 12)}`, async () => {
      const body = await this.api.Repositories.showArchive(projectPath(repo), {
        sha: ref,
        fileType: 'tar.gz',
        asStream: true,
      });
      if (!body) throw new Error('empty archive response');
      return body as unknown as AsyncIterable<Uint8Array>;
    });
  }

  currentLogin(): Promise<string | null> {
    return unless([403, 404], null, 'GET /user', async () => (await this.api.Users.showCurrentUser()).username);
  }

  async listReviews(repo: RepoRef, pr: number): Promise<PriorReview[]> {
    const webUrl = this.mrs.get(key(repo, pr))?.webUrl ?? '';
    const notes = await this.notes(repo, pr);
    return notes
      .filter((n) => !n.system && n.type !== 'DiffNote')
      .map((n) => ({
        id: n.id,
        author: n.author?.username ?? '',
        body: n.body ?? '',
        commitId: null,
        htmlUrl: `${webUrl}#note_${n.id}`,
      }));
  }

  /** The notes of the diff discussions; a reply points at its discussion's first note, as on GitHub. */
  async listReviewComments(repo: RepoRef, pr: number): Promise<PriorComment[]> {
    const discussions = await listDiscussions(this.requester, repo, pr);
    return discussions.flatMap((d) => {
      const root = d.notes[0];
      if (!root || root.system || root.type !== 'DiffNote') return [];
      return d.notes
        .filter((n) => !n.system)
        .map((n) => ({
          id: n.id,
          inReplyTo: n.id === root.id ? null : root.id,
          author: n.author?.username ?? '',
          body: n.body ?? '',
          path: root.position?.new_path ?? '',
          line: root.position?.new_line ?? null,
        }));
    });
  }

  /**
   * Each inline comment is a discussion with a text position on the merge request's diff_refs, a
   * range with a `line_range`; a range GitLab refuses (400) is placed on its last line alone, a
   * position it refuses is left out and listed in the summary note, posted last.
   */
  async createReview(repo: RepoRef, pr: number, draft: ReviewDraft): Promise<PostedReview> {
    const id = projectPath(repo);
    if (!this.mrs.has(key(repo, pr))) await this.getPull(repo, pr);
    const state = this.mrs.get(key(repo, pr))!;
    const refused = new Set<number>();
    for (const [i, comment] of draft.comments.entries()) {
      const file = state.files?.get(comment.path);
      const attempts = comment.start_line === undefined ? [comment] : [comment, singleLine(comment)];
      let placed = false;
      for (const attempt of attempts) {
        const position = {
          positionType: 'text' as const,
          baseSha: state.diffRefs.base_sha,
          startSha: state.diffRefs.start_sha,
          headSha: draft.commitId,
          newPath: attempt.path,
          oldPath: file?.oldPath ?? attempt.path,
          newLine: String(attempt.line),
          ...oldLineOf(file, attempt.line),
          ...lineRangeOf(file, attempt),
        };
        try {
          await this.api.MergeRequestDiscussions.create(id, pr, attempt.body, { position });
          placed = true;
          break;
        } catch (error) {
          if (statusOf(error) !== 400) return call(`POST discussion on !${pr}`, () => Promise.reject(error));
        }
      }
      if (!placed) refused.add(i);
    }
    const body = draft.body(refused);
    return call(`POST note on !${pr}`, async () => {
      const note = await this.api.MergeRequestNotes.create(id, pr, body);
      return { id: note.id, htmlUrl: `${state.webUrl}#note_${note.id}`, body, refused };
    });
  }

  updateReview(repo: RepoRef, pr: number, reviewId: number, body: string): Promise<void> {
    return call(`PUT note ${reviewId} on !${pr}`, async () => {
      await this.api.MergeRequestNotes.edit(projectPath(repo), pr, reviewId, { body });
    });
  }

  /** The `kritik` commit status running; one the worker already moved to running is left as it is. */
  createCheck(repo: RepoRef, headSha: string, output: CheckRunOutput): Promise<number> {
    return call('POST commit status', async () => {
      const status = await setCommitStatus(this.requester, repo, headSha, {
        state: 'running',
        description: statusDescription(output),
      });
      return status.id;
    });
  }

  async startCheck(repo: RepoRef, check: CheckRef, output: CheckRunOutput): Promise<void> {
    await this.createCheck(repo, check.headSha, output);
  }

  completeCheck(
    repo: RepoRef,
    check: CheckRef,
    conclusion: CheckRunConclusion,
    output: CheckRunOutput,
    link?: string,
  ): Promise<void> {
    return call('POST commit status', async () => {
      await setCommitStatus(this.requester, repo, check.headSha, {
        state: COMMIT_STATUS_STATES[conclusion],
        description: statusDescription(output),
        ...(link ? { targetUrl: link } : {}),
      });
    });
  }

  private notes(repo: RepoRef, pr: number): Promise<GitLabNote[]> {
    return call(`GET notes of !${pr}`, async () => {
      const notes = await this.api.MergeRequestNotes.all(projectPath(repo), pr, { perPage: 100 });
      return notes as unknown as GitLabNote[];
    });
  }
}

interface GitLabNote {
  id: number;
  type: string | null;
  body: string;
  system: boolean;
  author?: { username: string };
  resolvable?: boolean;
  resolved?: boolean;
  resolved_by?: { username: string } | null;
  position?: { new_path?: string; new_line?: number | null; head_sha?: string };
}

interface GitLabDiscussion {
  id: string;
  individual_note: boolean;
  notes: GitLabNote[];
}

const mrPath = (repo: RepoRef, pr: number) => `/projects/${gitlabProjectId(repo)}/merge_requests/${pr}`;

/** The merge request's discussions, every page (GitLab gives at most 100 a page). */
async function listDiscussions(gl: GitLabRequester, repo: RepoRef, pr: number): Promise<GitLabDiscussion[]> {
  return call(`GET discussions of !${pr}`, async () => {
    const all: GitLabDiscussion[] = [];
    for (let page = 1; ; page++) {
      const batch = (await gl.request('GET', `${mrPath(repo, pr)}/discussions?per_page=100&page=${page}`)) as
        | GitLabDiscussion[]
        | null;
      if (!Array.isArray(batch)) break;
      all.push(...batch);
      if (batch.length < 100) break;
    }
    return all;
  });
}

type Compare = (repo: RepoRef, base: string, head: string) => Promise<{ status: string; files: PatchMeta[] } | null>;

/**
 * Conversations on a merge request through GitLab's discussions API: a thread is a discussion (its
 * id is the discussion id), a comment is a note. GitLab says nothing like GitHub's `outdated`, so
 * the rule is ours: a discussion is outdated when the diff from the commit its position was written
 * on (`position.head_sha`) to the merge request's head deletes or replaces its line, or removes or
 * renames its file.
 */
class GitLabConversations implements ConversationPort {
  constructor(
    private readonly gl: GitLabRequester,
    private readonly headOf: (repo: RepoRef, pr: number) => Promise<string>,
    private readonly compare: Compare,
  ) {}

  async listReviewThreads(repo: RepoRef, pr: number): Promise<ReviewThread[]> {
    const head = await this.headOf(repo, pr);
    const discussions = (await listDiscussions(this.gl, repo, pr)).filter(
      (d) => !d.individual_note && d.notes[0]?.type === 'DiffNote' && d.notes[0].resolvable,
    );
    const changes = new Map<string, Promise<Map<string, PatchMeta> | null>>();
    const changedSince = (sha: string) => {
      let pending = changes.get(sha);
      if (!pending) {
        pending = this.compare(repo, sha, head).then(
          (c) => c && new Map(c.files.map((f) => [f.previousFilename ?? f.filename, f])),
        );
        changes.set(sha, pending);
      }
      return pending;
    };
    const threads: ReviewThread[] = [];
    for (const d of discussions) {
      const root = d.notes[0]!;
      const path = root.position?.new_path ?? '';
      const line = root.position?.new_line ?? null;
      const since = root.position?.head_sha;
      let isOutdated = false;
      if (since && since !== head && line !== null) {
        const changed = await changedSince(since);
        // A history GitLab cannot compare (a force-push) leaves the thread as it is.
        isOutdated = changed !== null && touchesLine(changed.get(path), line);
      }
      const awards = (await call(`GET award emoji of note ${root.id}`, () =>
        this.gl.request('GET', `${mrPath(repo, pr)}/notes/${root.id}/award_emoji?per_page=100`),
      )) as { name: string }[] | null;
      threads.push({
        id: d.id,
        isResolved: d.notes.some((n) => n.resolvable && n.resolved),
        isOutdated,
        path,
        firstCommentId: root.id,
        author: root.author?.username ?? '',
        body: root.body ?? '',
        resolvedBy: d.notes.find((n) => n.resolved_by)?.resolved_by?.username ?? null,
        thumbsDown: (awards ?? []).filter((a) => a.name === 'thumbsdown').length,
      });
    }
    return threads;
  }

  async replyToReviewComment(repo: RepoRef, pr: number, commentId: number, body: string): Promise<void> {
    const discussions = await listDiscussions(this.gl, repo, pr);
    const discussion = discussions.find((d) => d.notes.some((n) => n.id === commentId));
    if (!discussion)
      throw new CodeHostError('GitLab', `POST reply to note ${commentId}`, 404, 'no discussion holds it');
    await call(`POST reply in discussion ${discussion.id}`, () =>
      this.gl.request('POST', `${mrPath(repo, pr)}/discussions/${encodeURIComponent(discussion.id)}/notes`, { body }),
    );
  }

  async resolveReviewThread(repo: RepoRef, pr: number, threadId: string): Promise<void> {
    await call(`PUT resolve discussion ${threadId}`, () =>
      this.gl.request('PUT', `${mrPath(repo, pr)}/discussions/${encodeURIComponent(threadId)}?resolved=true`),
    );
  }

  getIssueComment(repo: RepoRef, pr: number, commentId: number): Promise<{ author: string; body: string } | null> {
    return unless([404], null, `GET note ${commentId}`, async () => {
      const note = (await this.gl.request('GET', `${mrPath(repo, pr)}/notes/${commentId}`)) as GitLabNote;
      return { author: note.author?.username ?? '', body: note.body ?? '' };
    });
  }

  async commentOnPull(repo: RepoRef, pr: number, body: string, discussionId?: string): Promise<void> {
    if (discussionId !== undefined) {
      // A discussion deleted since the question was asked: the answer still comes, on its own.
      const posted = await unless([404], false, `POST note in discussion ${discussionId}`, async () => {
        const path = `${mrPath(repo, pr)}/discussions/${encodeURIComponent(discussionId)}/notes`;
        await this.gl.request('POST', path, { body });
        return true;
      });
      if (posted) return;
    }
    await call(`POST note on !${pr}`, () => this.gl.request('POST', `${mrPath(repo, pr)}/notes`, { body }));
  }

  /** GitLab awards emoji on notes of either kind alike; one already given is left as it is. */
  async reactToComment(
    repo: RepoRef,
    pr: number,
    _kind: 'review-comment' | 'issue-comment',
    commentId: number,
    content: 'eyes',
  ): Promise<void> {
    await unless([404], undefined, `POST award emoji on note ${commentId}`, async () => {
      await this.gl.request('POST', `${mrPath(repo, pr)}/notes/${commentId}/award_emoji`, { name: content });
    });
  }
}

/** The file's diff deletes or replaces the old side's `line`, or the file went away or moved. */
function touchesLine(file: PatchMeta | undefined, line: number): boolean {
  if (!file) return false;
  if (file.status === 'removed' || file.status === 'renamed') return true;
  const parsed = fileFromPatch(file);
  return parsed.hunks.some((h) => h.lines.some((l) => l.kind === 'del' && l.oldLine === line));
}

/**
 * GitLab's `line_range` for a comment spanning `start_line..line`: each end by its line code
 * (`sha1(path)_<old>_<new>`, the old side's counter for an added line) and its type, `new` for an
 * added line, `old` otherwise. Nothing when the range is not one this diff shows.
 */
function lineRangeOf(
  file: DiffFile | undefined,
  comment: ReviewCommentInput,
): { lineRange?: { start: LineRangeEnd; end: LineRangeEnd } } {
  if (comment.start_line === undefined || !file) return {};
  const start = lineRangeEnd(file, comment.start_line);
  const end = lineRangeEnd(file, comment.line);
  return start && end ? { lineRange: { start, end } } : {};
}

interface LineRangeEnd {
  lineCode: string;
  type: 'new' | 'old';
  oldLine?: number;
  newLine: number;
}

function lineRangeEnd(file: DiffFile, newLine: number): LineRangeEnd | undefined {
  const pathSha = createHash('sha1').update(file.path).digest('hex');
  for (const hunk of file.hunks) {
    let old = hunk.oldStart;
    for (const line of hunk.lines) {
      if (line.newLine === newLine && line.kind !== 'del') {
        const added = line.kind === 'add';
        return {
          lineCode: `${pathSha}_${added ? old : line.oldLine}_${newLine}`,
          type: added ? 'new' : 'old',
          ...(added || line.oldLine === null ? {} : { oldLine: line.oldLine }),
          newLine,
        };
      }
      if (line.kind !== 'add') old++;
    }
  }
  return undefined;
}

/** A context line is placed with both lines, as GitLab wants; an added line with new_line alone. */
function oldLineOf(file: DiffFile | undefined, newLine: number): { oldLine?: string } {
  for (const hunk of file?.hunks ?? []) {
    const line = hunk.lines.find((l) => l.newLine === newLine);
    if (line) return line.kind === 'ctx' && line.oldLine !== null ? { oldLine: String(line.oldLine) } : {};
  }
  return {};
}
