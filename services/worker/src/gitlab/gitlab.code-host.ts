// GitLab as a code host: the configured access token for every review (handed to each review Job
// in its own Secret), the `kritik` commit status through core's commit-status.ts, and notes on
// the merge request for comment commands.
import {
  type CheckRunConclusion,
  type CommandJob,
  commitStatusText,
  concludeCommitStatus,
  gitlabProjectId,
  hasCheckRun,
  type ReviewRequest,
  setCommitStatus,
} from '@kritik/core';
import {
  type CodeHost,
  CodeHostError,
  type CommentReaction,
  type PostedComment,
  type PullRequestHead,
  type SenderAccess,
} from '../code-host/code-host.js';
import type { GitLabClient } from './gitlab.client.js';

/**
 * GitLab's access levels by name. Developer (30) may push to the repository: the equivalent of
 * GitHub's COLLABORATOR, the least of the roles GitHub lets ask for a full review (docs/adr/0047).
 */
const ACCESS_LEVELS: ReadonlyMap<number, string> = new Map([
  [0, 'No access'],
  [5, 'Minimal access'],
  [10, 'Guest'],
  [15, 'Planner'],
  [20, 'Reporter'],
  [30, 'Developer'],
  [40, 'Maintainer'],
  [50, 'Owner'],
]);
const MAY_CHANGE_ACCESS_LEVEL = 30;
/** How long a user's access is remembered: a burst of commands asks GitLab once; a change of role counts soon. */
export const ACCESS_CACHE_MS = 60_000;
/** Users remembered at most: the cache cannot grow with the number of commenters. */
const ACCESS_CACHE_ENTRIES = 1_000;

/** Pages of notes searched for a marker; a merge request with more is answered again rather than searched on. */
const MAX_NOTE_PAGES = 20;

interface MergeRequestJson {
  state?: string;
  draft?: boolean;
  work_in_progress?: boolean;
  sha?: string;
  diff_refs?: { base_sha?: string; head_sha?: string } | null;
}

interface NoteJson {
  id: number;
  body?: string;
  system?: boolean;
  author?: { username?: string };
}

const GITLAB_EMOJI: Record<CommentReaction, string> = { eyes: 'eyes', '+1': 'thumbsup' };

export class GitLabCodeHost implements CodeHost {
  readonly platform = 'gitlab' as const;
  private login: Promise<string> | undefined;
  /** Comment commands are retried by their queue, with backoff, not here. */
  private readonly once: GitLabClient;
  private readonly access = new Map<string, { readonly at: number; readonly access: SenderAccess }>();

  constructor(
    private readonly gitlab: GitLabClient,
    private readonly token: string,
  ) {
    this.once = gitlab.withRetries(0);
  }

  get apiUrl(): string {
    return this.gitlab.url;
  }

  async reviewToken(): Promise<string> {
    return this.token;
  }

  /** The token's user (a project or group access token's bot user); asked once, again after a failure. */
  botLogin(): Promise<string> {
    this.login ??= this.gitlab.request('GET', '/user').then(
      (data) => {
        const username = (data as { username?: unknown } | undefined)?.username;
        if (typeof username !== 'string' || !username) throw new Error('GitLab answered GET /user without a username');
        return username;
      },
      (err) => {
        this.login = undefined;
        throw err;
      },
    );
    return this.login;
  }

  async queueStatus(review: ReviewRequest): Promise<number> {
    const status = await setCommitStatus(this.gitlab, review.repo, review.headSha, {
      state: 'pending',
      description: commitStatusText.queued(review.headSha),
      targetUrl: this.gitlab.mergeRequestUrl(review.repo, review.pr),
    });
    return status.id;
  }

  async concludeStatus(review: ReviewRequest, conclusion: CheckRunConclusion, reason: string): Promise<void> {
    // An answer has no status of its own; the one on its head belongs to that head's review.
    if (!hasCheckRun(review.trigger)) return;
    await concludeCommitStatus(
      this.gitlab,
      review.repo,
      review.headSha,
      conclusion,
      reason,
      this.gitlab.mergeRequestUrl(review.repo, review.pr),
    );
  }

  async pullRequest(command: CommandJob): Promise<PullRequestHead> {
    const mr = (await this.once.request('GET', this.mergeRequestPath(command))) as MergeRequestJson;
    const headSha = mr.diff_refs?.head_sha ?? mr.sha;
    const baseSha = mr.diff_refs?.base_sha;
    if (!headSha || !baseSha) throw new Error(`GitLab answered merge request !${command.pr} without its commits`);
    return {
      // GitLab's `opened`; `closed`, `merged` and `locked` are not open.
      state: mr.state === 'opened' ? 'open' : (mr.state ?? 'unknown'),
      draft: mr.draft ?? mr.work_in_progress ?? false,
      headSha,
      baseSha,
    };
  }

  async comment(command: CommandJob, body: string): Promise<PostedComment> {
    const note = (await this.once.request('POST', `${this.mergeRequestPath(command)}/notes`, { body })) as NoteJson;
    return { id: note.id, url: this.noteUrl(command, note.id) };
  }

  /** An award emoji on the command's note; GitLab names `+1` `thumbsup`. */
  async react(command: CommandJob, content: CommentReaction): Promise<void> {
    if (command.commentId === undefined) return;
    await this.once.request('POST', `${this.mergeRequestPath(command)}/notes/${command.commentId}/award_emoji`, {
      name: GITLAB_EMOJI[content],
    });
  }

  async findComment(command: CommandJob, marker: string): Promise<PostedComment | undefined> {
    const self = await this.botLogin();
    for (let page = 1; page <= MAX_NOTE_PAGES; page++) {
      const notes = (await this.once.request(
        'GET',
        `${this.mergeRequestPath(command)}/notes?sort=asc&order_by=created_at&per_page=100&page=${page}`,
      )) as NoteJson[];
      // Anyone can write the marker; only Kritik's own note counts.
      const found = notes.find((n) => !n.system && n.author?.username === self && n.body?.includes(marker));
      if (found) return { id: found.id, url: this.noteUrl(command, found.id) };
      if (notes.length < 100) return undefined;
    }
    return undefined;
  }

  /** The user's effective access (inherited from groups too); a non-member (404) may not change it. */
  async senderAccess(command: CommandJob, userId: number, now = Date.now()): Promise<SenderAccess> {
    const project = gitlabProjectId(command.repo);
    const key = `${project}\n${userId}`;
    const cached = this.access.get(key);
    if (cached && now - cached.at < ACCESS_CACHE_MS) return cached.access;
    let access: SenderAccess;
    try {
      const member = (await this.once.request('GET', `/projects/${project}/members/all/${userId}`)) as {
        access_level?: unknown;
      };
      const level = typeof member?.access_level === 'number' ? member.access_level : 0;
      access = {
        mayChange: level >= MAY_CHANGE_ACCESS_LEVEL,
        role: ACCESS_LEVELS.get(level) ?? `access level ${level}`,
      };
    } catch (err) {
      if (!(err instanceof CodeHostError && err.status === 404)) throw err;
      access = { mayChange: false, role: 'not a member' };
    }
    if (this.access.size >= ACCESS_CACHE_ENTRIES) this.access.clear();
    this.access.set(key, { at: now, access });
    return access;
  }

  private mergeRequestPath(command: CommandJob): string {
    return `/projects/${gitlabProjectId(command.repo)}/merge_requests/${command.pr}`;
  }

  private noteUrl(command: CommandJob, id: number): string {
    return `${this.gitlab.mergeRequestUrl(command.repo, command.pr)}#note_${id}`;
  }
}
