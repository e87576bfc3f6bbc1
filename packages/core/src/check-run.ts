// The Kritik check run on a pull request's head, the one place its name, texts and wire calls
// live: the worker creates it queued and concludes it when a review cannot, the reviewer starts
// and completes it. Written over a bare `request(route, params)` so core depends on no client.
import type { RepoRef } from './review.js';

export const CHECK_RUN_NAME = 'Kritik';

export interface CheckRunOutput {
  readonly title: string;
  readonly summary: string;
  readonly text?: string;
}

/** `cancelled` when a newer commit replaced the review: grey on the PR, not red. */
export type CheckRunConclusion = 'success' | 'neutral' | 'failure' | 'skipped' | 'cancelled';

/** What Octokit's `request` is (the reviewer's Octokit and the worker's installation Octokit both fit). */
export interface GitHubRequester {
  request(route: string, parameters?: Record<string, unknown>): Promise<{ data: unknown }>;
}

/** GitHub caps a check run's title at 255 characters, summary and text at 65,535 each. */
export function limitOutput(output: CheckRunOutput): CheckRunOutput {
  const cap = (s: string) => (s.length > 65_000 ? `${s.slice(0, 65_000)}\n\n…truncated` : s);
  return {
    title: output.title.slice(0, 255),
    summary: cap(output.summary),
    ...(output.text ? { text: cap(output.text) } : {}),
  };
}

const short = (sha: string) => sha.slice(0, 7);

/** What the check run says at each stage that is not the review's own result. */
export const checkRunText = {
  queued: (headSha: string): CheckRunOutput => ({
    title: 'Review queued',
    summary: `Kritik accepted the review of ${short(headSha)}; it starts when a review slot is free.`,
  }),
  inProgress: (headSha: string): CheckRunOutput => ({
    title: 'Review in progress',
    summary: `Kritik is reviewing ${short(headSha)}.`,
  }),
  ended: (conclusion: CheckRunConclusion, reason: string): CheckRunOutput => ({
    title: ENDED_TITLES[conclusion],
    summary: reason,
  }),
};

const ENDED_TITLES: Record<CheckRunConclusion, string> = {
  failure: 'Kritik review failed',
  cancelled: 'Kritik review cancelled',
  skipped: 'Kritik review skipped',
  neutral: 'Kritik review finished',
  success: 'Kritik review finished',
};

const repoParams = (repo: RepoRef) => ({ owner: repo.owner, repo: repo.name });

/** Creates the Kritik check run on `headSha`; returns its id. */
export async function createCheckRun(
  gh: GitHubRequester,
  repo: RepoRef,
  headSha: string,
  status: 'queued' | 'in_progress',
  output: CheckRunOutput,
): Promise<number> {
  const { data } = await gh.request('POST /repos/{owner}/{repo}/check-runs', {
    ...repoParams(repo),
    name: CHECK_RUN_NAME,
    head_sha: headSha,
    status,
    ...(status === 'in_progress' ? { started_at: new Date().toISOString() } : {}),
    output: limitOutput(output),
  });
  return idOf(data);
}

/** Moves a queued check run to in progress (the reviewer, once its Job runs). */
export async function startCheckRun(
  gh: GitHubRequester,
  repo: RepoRef,
  id: number,
  output: CheckRunOutput,
): Promise<void> {
  await gh.request('PATCH /repos/{owner}/{repo}/check-runs/{check_run_id}', {
    ...repoParams(repo),
    check_run_id: id,
    status: 'in_progress',
    started_at: new Date().toISOString(),
    output: limitOutput(output),
  });
}

/** Completes a check run with the review's result. */
export async function completeCheckRun(
  gh: GitHubRequester,
  repo: RepoRef,
  id: number,
  conclusion: CheckRunConclusion,
  output: CheckRunOutput,
): Promise<void> {
  await gh.request('PATCH /repos/{owner}/{repo}/check-runs/{check_run_id}', {
    ...repoParams(repo),
    check_run_id: id,
    status: 'completed',
    conclusion,
    completed_at: new Date().toISOString(),
    output: limitOutput(output),
  });
}

export type ConcludeAction = 'updated' | 'created' | 'already-completed';

/**
 * Ends a review's check run that the reviewer could not end itself (a token that could not be
 * minted, a Job that never started, crashed or timed out, a review superseded). A run already
 * completed keeps its conclusion: the reviewer's own word wins. With the run's `id` it is
 * concluded by id; without one (Jobs of a worker that predates ids), the Kritik run on
 * `headSha` is searched by name, and one is created completed when there is none, so the
 * review still ends visibly on the PR.
 */
export async function concludeCheckRun(
  gh: GitHubRequester,
  repo: RepoRef,
  target: { readonly headSha: string; readonly id?: number },
  conclusion: CheckRunConclusion,
  reason: string,
): Promise<{ checkRunId: number; action: ConcludeAction }> {
  const output = checkRunText.ended(conclusion, reason);
  let open: number | undefined;
  if (target.id !== undefined) {
    const { data } = await gh.request('GET /repos/{owner}/{repo}/check-runs/{check_run_id}', {
      ...repoParams(repo),
      check_run_id: target.id,
    });
    if (statusOf(data) === 'completed') return { checkRunId: target.id, action: 'already-completed' };
    open = target.id;
  } else {
    const { data } = await gh.request('GET /repos/{owner}/{repo}/commits/{ref}/check-runs', {
      ...repoParams(repo),
      ref: target.headSha,
      check_name: CHECK_RUN_NAME,
      per_page: 100,
    });
    const runs = (
      (data as { check_runs?: { id: number; status: string; head_sha: string }[] }).check_runs ?? []
    ).filter((r) => r.head_sha === target.headSha);
    open = runs.find((r) => r.status !== 'completed')?.id;
    if (open === undefined && runs.length > 0) return { checkRunId: runs[0]!.id, action: 'already-completed' };
  }
  if (open !== undefined) {
    await completeCheckRun(gh, repo, open, conclusion, output);
    return { checkRunId: open, action: 'updated' };
  }
  const { data } = await gh.request('POST /repos/{owner}/{repo}/check-runs', {
    ...repoParams(repo),
    name: CHECK_RUN_NAME,
    head_sha: target.headSha,
    status: 'completed',
    conclusion,
    completed_at: new Date().toISOString(),
    output: limitOutput(output),
  });
  return { checkRunId: idOf(data), action: 'created' };
}

function idOf(data: unknown): number {
  const id = (data as { id?: unknown } | null)?.id;
  if (typeof id !== 'number') throw new Error('GitHub answered a check run without an id');
  return id;
}

function statusOf(data: unknown): unknown {
  return (data as { status?: unknown } | null)?.status;
}
