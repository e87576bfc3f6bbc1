// The review's side of its status on the head commit (GitHub's check run, GitLab's commit status):
// the id the worker created queued (or one created here), and whether it was concluded; every
// ending of a review concludes it once, through this handle.
import { type CheckRunConclusion, type CheckRunOutput, checkRunText, type RepoRef } from '@kritik/core';
import type { CodeHost } from '../../code-host/code-host.js';

export class CheckRunHandle {
  id: number | undefined;
  /** The commit the status is on: the requested head until the pull request is read. */
  headSha: string | undefined;
  concluded = false;

  constructor(
    private readonly gh: CodeHost | undefined,
    private readonly repo: RepoRef | undefined,
    private readonly progress: (m: string) => void,
  ) {}

  /** Moves the worker's queued run to in progress; the review goes on if the host refuses. */
  async start(headSha: string): Promise<void> {
    this.headSha = headSha;
    if (this.id === undefined || !this.gh || !this.repo) return;
    try {
      await this.gh.startCheck(this.repo, { id: this.id, headSha }, checkRunText.inProgress(headSha));
    } catch (error) {
      // The run stays queued until the review concludes it; the review itself goes on.
      this.progress(`check run not started: ${(error as Error).message}`);
    }
  }

  /** Creates one in progress when no worker did (the CLI); a user's token cannot, which is fine. */
  async create(headSha: string): Promise<void> {
    this.headSha = headSha;
    if (this.id !== undefined || !this.gh || !this.repo) return;
    try {
      this.id = await this.gh.createCheck(this.repo, headSha, checkRunText.inProgress(headSha));
    } catch (error) {
      // A personal GitHub token cannot write check runs (only GitHub Apps can); the review still runs.
      this.progress(`check run not created: ${(error as Error).message}`);
    }
  }

  /** Ends the status once; `link` is where the reader finds the review. */
  async conclude(conclusion: CheckRunConclusion, output: CheckRunOutput, link?: string): Promise<void> {
    if (this.id === undefined || this.headSha === undefined || this.concluded || !this.gh || !this.repo) return;
    try {
      await this.gh.completeCheck(this.repo, { id: this.id, headSha: this.headSha }, conclusion, output, link);
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
