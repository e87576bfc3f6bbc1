// GitHub as a code host: installation tokens minted by the App, the Kritik check run, and comments
// in the pull request's conversation (issue comments).
import type { CheckRunConclusion, CommandJob, ReviewRequest } from '@kritik/core';
import type { CodeHost, CommentReaction, PostedComment, PullRequestHead } from '../code-host/code-host.js';
import type { CheckRuns } from './check-runs.js';
import type { GitHubAppClient } from './github-app.client.js';

export class GitHubCodeHost implements CodeHost {
  readonly platform = 'github' as const;

  constructor(
    private readonly app: GitHubAppClient,
    private readonly checkRuns: CheckRuns,
  ) {}

  get apiUrl(): string {
    return this.app.apiUrl;
  }

  async reviewToken(review: ReviewRequest): Promise<string> {
    return (await this.app.repositoryToken(review.repo, review.installationId)).token;
  }

  botLogin(): Promise<string> {
    return this.app.botLogin();
  }

  queueStatus(review: ReviewRequest): Promise<number> {
    return this.checkRuns.queue(review);
  }

  async concludeStatus(review: ReviewRequest, conclusion: CheckRunConclusion, reason: string): Promise<void> {
    await this.checkRuns.conclude(review, conclusion, reason);
  }

  pullRequest(command: CommandJob): Promise<PullRequestHead> {
    return this.app.pullRequest(command.repo, command.pr, command.installationId);
  }

  comment(command: CommandJob, body: string): Promise<PostedComment> {
    return this.app.comment(command.repo, command.pr, body, command.installationId);
  }

  async react(command: CommandJob, content: CommentReaction): Promise<void> {
    if (command.commentId === undefined) return;
    await this.app.react(command.repo, command.commentId, content, command.installationId);
  }

  findComment(command: CommandJob, marker: string): Promise<PostedComment | undefined> {
    return this.app.findComment(command.repo, command.pr, marker, command.installationId);
  }
}
