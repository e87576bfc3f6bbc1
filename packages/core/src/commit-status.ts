// The `kritik` commit status on a merge request's head: GitLab's equivalent of the check run, the
// one place its name, texts, states and wire calls live. The worker sets it pending when it accepts a
// review and concludes it when a review cannot; the reviewer moves it to running and concludes it.
// Written over a bare requester, like check-run.ts, so core depends on no GitLab client.
import { type CheckRunConclusion, type CheckRunOutput, checkRunText } from './check-run.js';
import type { RepoRef } from './review.js';

export const COMMIT_STATUS_NAME = 'kritik';

/** The states Kritik sets; GitLab also knows `skipped`, which Kritik does not use (see conclusion mapping). */
export type CommitStatusState = 'pending' | 'running' | 'success' | 'failed' | 'canceled';

const FINISHED_STATES = ['success', 'failed', 'canceled', 'skipped'];

/**
 * A review's conclusion as a GitLab state. Findings never fail the status (Kritik comments, it does
 * not block), a skipped review is a success with its reason, a superseded one is canceled.
 */
export const COMMIT_STATUS_STATES: Record<CheckRunConclusion, CommitStatusState> = {
  success: 'success',
  neutral: 'success',
  skipped: 'success',
  failure: 'failed',
  cancelled: 'canceled',
};

/**
 * One GitLab REST v4 call: `path` is relative to `/api/v4` with the project already encoded
 * (`/projects/group%2Fsub%2Fproj/statuses/<sha>`); resolves with the parsed JSON body, rejects on
 * an HTTP error. The reviewer's GitLab client and the worker's both fit.
 */
export interface GitLabRequester {
  request(method: 'GET' | 'POST' | 'PUT', path: string, body?: Record<string, unknown>): Promise<unknown>;
}

/** The project's id in GitLab's URLs: its full path (nested groups kept), URL-encoded. */
export const gitlabProjectId = (repo: RepoRef): string => encodeURIComponent(`${repo.owner}/${repo.name}`);

/** GitLab refuses descriptions over 255 characters. */
export const MAX_STATUS_DESCRIPTION = 255;

/**
 * A check run output as one line of plain text: the title, then the summary with Markdown links
 * reduced to their text and the hidden markers dropped, cut to GitLab's limit.
 */
export function statusDescription(output: CheckRunOutput): string {
  const summary = output.summary
    .replace(/<!--[\s\S]*?-->/g, '')
    .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/\s+/g, ' ')
    .trim();
  const text = summary ? `${output.title}: ${summary}` : output.title;
  return text.length > MAX_STATUS_DESCRIPTION ? `${text.slice(0, MAX_STATUS_DESCRIPTION - 1)}…` : text;
}

/** What the commit status says at each stage that is not the review's own result: checkRunText's words. */
export const commitStatusText = {
  queued: (headSha: string) => statusDescription(checkRunText.queued(headSha)),
  inProgress: (headSha: string) => statusDescription(checkRunText.inProgress(headSha)),
  ended: (conclusion: CheckRunConclusion, reason: string) => statusDescription(checkRunText.ended(conclusion, reason)),
};

export interface CommitStatusInput {
  readonly state: CommitStatusState;
  readonly description: string;
  /** The review, the merge request or the dashboard; GitLab accepts http(s) only. */
  readonly targetUrl?: string;
  /** The branch; GitLab finds it from the SHA when omitted. */
  readonly ref?: string;
}

export interface CommitStatus {
  readonly id: number;
  readonly status: string;
  readonly name: string;
  readonly description: string | null;
  readonly targetUrl: string | null;
}

/** Sets the `kritik` status of `sha`: creates it, or moves the open one to `state`. */
export async function setCommitStatus(
  gl: GitLabRequester,
  repo: RepoRef,
  sha: string,
  input: CommitStatusInput,
): Promise<CommitStatus> {
  const data = await gl.request('POST', `/projects/${gitlabProjectId(repo)}/statuses/${encodeURIComponent(sha)}`, {
    state: input.state,
    name: COMMIT_STATUS_NAME,
    description: input.description.slice(0, MAX_STATUS_DESCRIPTION),
    ...(input.targetUrl && /^https?:\/\//.test(input.targetUrl) ? { target_url: input.targetUrl } : {}),
    ...(input.ref ? { ref: input.ref } : {}),
  });
  return statusOf(data);
}

/** The `kritik` statuses of `sha`, newest first. */
export async function listCommitStatuses(gl: GitLabRequester, repo: RepoRef, sha: string): Promise<CommitStatus[]> {
  const data = await gl.request(
    'GET',
    `/projects/${gitlabProjectId(repo)}/repository/commits/${encodeURIComponent(sha)}/statuses?name=${COMMIT_STATUS_NAME}&per_page=100`,
  );
  if (!Array.isArray(data)) throw new Error('GitLab answered the commit statuses with something other than a list');
  return data.map(statusOf).filter((s) => s.name === COMMIT_STATUS_NAME);
}

export type ConcludeStatusAction = 'updated' | 'already-completed';

/**
 * Ends a review's `kritik` status that the reviewer could not end itself (a Job that never started,
 * crashed or timed out, a review superseded). A status already finished keeps its state: the
 * reviewer's own word wins. Otherwise the status is set to the conclusion, created if none exists,
 * so the review still ends visibly on the merge request.
 */
export async function concludeCommitStatus(
  gl: GitLabRequester,
  repo: RepoRef,
  sha: string,
  conclusion: CheckRunConclusion,
  reason: string,
  targetUrl?: string,
): Promise<{ action: ConcludeStatusAction; status: CommitStatus }> {
  const [latest] = await listCommitStatuses(gl, repo, sha);
  if (latest && FINISHED_STATES.includes(latest.status)) return { action: 'already-completed', status: latest };
  const status = await setCommitStatus(gl, repo, sha, {
    state: COMMIT_STATUS_STATES[conclusion],
    description: commitStatusText.ended(conclusion, reason),
    ...(targetUrl ? { targetUrl } : {}),
  });
  return { action: 'updated', status };
}

function statusOf(data: unknown): CommitStatus {
  const s = (data ?? {}) as Record<string, unknown>;
  if (typeof s.id !== 'number' || typeof s.status !== 'string')
    throw new Error('GitLab answered a commit status without an id or a status');
  return {
    id: s.id,
    status: s.status,
    name: typeof s.name === 'string' ? s.name : '',
    description: typeof s.description === 'string' ? s.description : null,
    targetUrl: typeof s.target_url === 'string' ? s.target_url : null,
  };
}
