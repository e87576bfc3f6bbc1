// The worker's last word on a PR's check run: when the reviewer could not conclude its own
// (crash, timeout, OOM, superseded), the worker does, so every review ends visibly on the PR.
import type { ReviewPayload } from '@kritik/core';
import { createOctokit, failCheckRun } from '@kritik/reviewer';

export interface ConcludeRequest {
  readonly payload: ReviewPayload;
  /** The review's repository token (contents read, pull requests and checks write). */
  readonly token: string;
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
 * run's name and shape. A superseded review's run is left to the reviewer's helper once it can
 * conclude `cancelled`; a failing mark on a commit that is no longer the head would mislead.
 */
export class ReviewerCheckRunConcluder implements CheckRunConcluder {
  constructor(private readonly onSkipped?: (request: ConcludeRequest) => void) {}

  async conclude(request: ConcludeRequest): Promise<void> {
    if (request.conclusion !== 'failure') {
      this.onSkipped?.(request);
      return;
    }
    const octokit = createOctokit({ token: request.token, baseUrl: request.payload.apiUrl });
    await failCheckRun(octokit, request.payload.repo, request.payload.headSha, request.reason);
  }
}
