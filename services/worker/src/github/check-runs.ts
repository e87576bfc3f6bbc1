// The worker's side of a review's check run: created queued the moment a review is accepted, so
// the PR shows it while it waits, and concluded by id when the reviewer cannot end it (no token,
// no Job, a Job that crashed or timed out, a newer commit). The wire shape is core's.
import {
  type CheckRunConclusion,
  type ConcludeAction,
  checkRunText,
  concludeCheckRun,
  createCheckRun,
  hasCheckRun,
  type ReviewRequest,
} from '@kritik/core';
import { Injectable } from '@nestjs/common';
import { CHECKS_TOKEN_PERMISSIONS, GitHubAppClient } from './github-app.client.js';

@Injectable()
export class CheckRuns {
  constructor(private readonly github: GitHubAppClient) {}

  /** Creates the review's check run, queued on its head; returns its id. */
  async queue(review: ReviewRequest): Promise<number> {
    return createCheckRun(
      await this.octokitFor(review),
      review.repo,
      review.headSha,
      'queued',
      checkRunText.queued(review.headSha),
    );
  }

  /**
   * Concludes the review's check run with `reason`: by `review.checkRunId` when the review has
   * one (a run already completed keeps its conclusion), else the Kritik run on its head by name.
   */
  async conclude(
    review: ReviewRequest,
    conclusion: CheckRunConclusion,
    reason: string,
  ): Promise<{ checkRunId: number; action: ConcludeAction } | undefined> {
    // An answer has no run of its own; the one on its head belongs to that head's review.
    if (!hasCheckRun(review.trigger)) return undefined;
    return concludeCheckRun(
      await this.octokitFor(review),
      review.repo,
      { headSha: review.headSha, ...(review.checkRunId !== undefined ? { id: review.checkRunId } : {}) },
      conclusion,
      reason,
    );
  }

  /** A client with a token that can write check runs and nothing else, so it works when the review's cannot be minted. */
  private async octokitFor(review: ReviewRequest) {
    const { token } = await this.github.repositoryToken(review.repo, review.installationId, CHECKS_TOKEN_PERMISSIONS);
    return this.github.octokitFor(token);
  }
}
