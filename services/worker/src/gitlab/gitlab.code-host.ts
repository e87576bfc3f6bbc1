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
import type { CodeHost, CommentReaction, PostedComment, PullRequestHead } from '../code-host/code-host.js';
import type { GitLabClient } from './gitlab.client.js';

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

  private mergeRequestPath(command: CommandJob): string {
    return `/projects/${gitlabProjectId(command.repo)}/merge_requests/${command.pr}`;
  }

  private noteUrl(command: CommandJob, id: number): string {
    return `${this.gitlab.mergeRequestUrl(command.repo, command.pr)}#note_${id}`;
  }
}
