// The review's side of the check run: the id the worker created queued (or one created here), and
// whether it was concluded; every ending of a review concludes it once, through this handle.
import { type CheckRunConclusion, type CheckRunOutput, checkRunText, type RepoRef } from '@kritik/core';
import type { GitHubPort } from '../../github/github.js';

export class CheckRunHandle {
  id: number | undefined;
  concluded = false;

  constructor(
    private readonly gh: GitHubPort | undefined,
    private readonly repo: RepoRef | undefined,
    private readonly progress: (m: string) => void,
  ) {}

  /** Moves the worker's queued run to in progress; the review goes on if GitHub refuses. */
  async start(headSha: string): Promise<void> {
    if (this.id === undefined || !this.gh || !this.repo) return;
    try {
      await this.gh.startCheckRun(this.repo, this.id, checkRunText.inProgress(headSha));
    } catch (error) {
      // The run stays queued until the review concludes it; the review itself goes on.
      this.progress(`check run not started: ${(error as Error).message}`);
    }
  }

  /** Creates one in progress when no worker did (the CLI); a user's token cannot, which is fine. */
  async create(headSha: string): Promise<void> {
    if (this.id !== undefined || !this.gh || !this.repo) return;
    try {
      this.id = await this.gh.createCheckRun(this.repo, headSha, checkRunText.inProgress(headSha));
    } catch (error) {
      // A personal token cannot write check runs (only GitHub Apps can); the review still runs.
      this.progress(`check run not created: ${(error as Error).message}`);
    }
  }

  async conclude(conclusion: CheckRunConclusion, output: CheckRunOutput): Promise<void> {
    if (this.id === undefined || this.concluded || !this.gh || !this.repo) return;
    try {
      await this.gh.completeCheckRun(this.repo, this.id, conclusion, output);
      this.concluded = true;
    } catch (error) {
      this.progress(`check run not concluded: ${(error as Error).message}`);
    }
  }

  /** The report's check run fields. */
  fields(): { checkRunId?: number; checkConcluded?: boolean } {
    return this.id !== undefined ? { checkRunId: this.id, checkConcluded: this.concluded } : {};
  }
}
