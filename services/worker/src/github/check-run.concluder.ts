// The worker's last word on a PR's check run: when the reviewer could not conclude its own
// (crash, timeout, OOM, superseded), the worker does, so every review ends visibly on the PR.
import type { ReviewPayload } from '@kritik/core';
import type { OctokitRequester } from '@kritik/reviewer';

export interface ConcludeRequest {
  readonly payload: ReviewPayload;
  /** The review's repository token (contents read, pull requests and checks write). */
  readonly token: string;
  /** `failure` when the review broke; `cancelled` when a newer commit replaced it (not red on the PR). */
  readonly conclusion: 'failure' | 'cancelled';
  /** Shown on the check run; says why the review did not finish. */
  readonly reason: string;
  /** The reviewer's check run when it reported one. */
  readonly checkRunId?: number;
}

export interface CheckRunConcluder {
  conclude(request: ConcludeRequest): Promise<void>;
}

/**
 * Concludes through the reviewer's own helper, so the worker and the reviewer agree on the check
 * run's name and shape. The reviewer's package (with the Anthropic SDK) is loaded on the first
 * conclusion only: most workers never need it, and it costs memory from boot on.
 */
export class ReviewerCheckRunConcluder implements CheckRunConcluder {
  constructor(private readonly octokitFor: (token: string) => OctokitRequester) {}

  async conclude(request: ConcludeRequest): Promise<void> {
    const { failCheckRun } = await import('@kritik/reviewer');
    const { repo, headSha } = request.payload;
    await failCheckRun(this.octokitFor(request.token), repo, headSha, request.reason, request.conclusion);
  }
}
