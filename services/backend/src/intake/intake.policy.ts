// Decides what an intake event asks for: a review, a comment command, or nothing (with the
// reason, which is logged). Pure: allow-lists and switches come from the config.
import {
  type AnswerThread,
  type Command,
  compileRepoGlobs,
  isConversationCommand,
  type PathMatcher,
  parseCommand,
  readMention,
  repoFullName,
  type Trigger,
} from '@kritik/core';
import type { IntakeEvent, PullRequestRef, PullRequestState } from './intake.event.js';

export interface IntakePolicyOptions {
  readonly botName: string;
  readonly triggerLabel: string;
  readonly reviewBots: boolean;
  readonly allowedOrgs: readonly string[];
  readonly allowedRepos: readonly string[];
  readonly allowedUsers: readonly string[];
}

export type IntakeDecision =
  | {
      readonly action: 'review';
      readonly trigger: Trigger;
      readonly pullRequest: PullRequestRef & Pick<PullRequestState, 'headSha' | 'baseSha'>;
      readonly sender: string;
      /** Nobody asked for it (a push, a label other than the trigger label): `pause` stops it. */
      readonly automatic: boolean;
      /**
       * Labels added that are not the trigger label: one may be what a review policy's
       * `triggers.labels` waits for. The backend does not know the policies, so the head is looked
       * at again when its review was skipped (or there is none) and the reviewer decides.
       */
      readonly addedLabels?: readonly string[];
    }
  | {
      readonly action: 'command';
      readonly command: Command;
      readonly pullRequest: PullRequestRef;
      readonly commentId: number;
      readonly sender: string;
      /** The sender's role is still to be read from the code host before the command runs. */
      readonly senderRoleUnknown?: { readonly userId: number };
    }
  | {
      /** A question to answer in its conversation, by a review Job (trigger `answer`). */
      readonly action: 'answer';
      readonly pullRequest: PullRequestRef;
      /** The head the question is about, when the event names it (a review thread's does). */
      readonly headSha?: string;
      readonly thread: AnswerThread;
      readonly sender: string;
    }
  | { readonly action: 'ignore'; readonly reason: string };

const ignore = (reason: string): IntakeDecision => ({ action: 'ignore', reason });

/** Reviews nobody asked for, the ones `@<bot> pause` stops (the trigger label or a command still reviews). */
const isAutomaticTrigger = (trigger: Trigger) =>
  trigger === 'opened' || trigger === 'synchronize' || trigger === 'reopened' || trigger === 'ready_for_review';

export class IntakePolicy {
  private readonly orgs: ReadonlySet<string>;
  /** Undefined when the allow-list names no repository globs. */
  private readonly repos: PathMatcher | undefined;
  private readonly users: ReadonlySet<string>;

  constructor(private readonly options: IntakePolicyOptions) {
    this.orgs = new Set(options.allowedOrgs.map((o) => o.toLowerCase()));
    this.repos = options.allowedRepos.length > 0 ? compileRepoGlobs(options.allowedRepos) : undefined;
    this.users = new Set(options.allowedUsers.map((u) => u.toLowerCase()));
  }

  decide(event: IntakeEvent): IntakeDecision {
    switch (event.type) {
      case 'pull-request':
        return this.pullRequest(event);
      case 'comment':
        return this.comment(event);
      case 'review-comment':
        return this.reviewComment(event);
      case 'rerun':
        return this.rerun(event);
      case 'rerun-elsewhere':
        return ignore(event.reason);
      case 'issue-comment':
        return ignore('comment on an issue, not a pull request');
      case 'installation':
        return ignore(`${event.action} for ${event.account || 'an unknown account'}`);
      case 'ping':
        return ignore('ping');
      case 'unsupported':
        return ignore(`event ${event.name} is not handled`);
    }
  }

  /** Empty allow-lists admit every repository the App is installed on. */
  repositoryAllowed(pr: PullRequestRef): boolean {
    if (this.orgs.size === 0 && !this.repos) return true;
    const name = repoFullName(pr.repo);
    return this.orgs.has(pr.repo.owner.toLowerCase()) || (this.repos?.(name) ?? false);
  }

  private pullRequest(event: Extract<IntakeEvent, { type: 'pull-request' }>): IntakeDecision {
    const pr = event.pullRequest;
    if (typeof event.change !== 'string') return ignore(`pull_request.${event.change.other} does not request a review`);
    let addedLabels: readonly string[] | undefined;
    if (event.change === 'labeled') {
      const added = event.labels ?? (event.label !== undefined ? [event.label] : []);
      if (added.length === 0) return ignore('no label was added');
      if (!added.includes(this.options.triggerLabel)) addedLabels = added;
    }
    if (!this.repositoryAllowed(pr)) return ignore(`repository ${repoFullName(pr.repo)} is not allowed`);
    if (!pr.open) return ignore('pull request is closed');
    if (pr.author.bot && !this.options.reviewBots) return ignore(`pull request by bot ${pr.author.login}`);
    return {
      action: 'review',
      trigger: event.change,
      pullRequest: pr,
      sender: event.sender.login,
      automatic: isAutomaticTrigger(event.change) || addedLabels !== undefined,
      ...(addedLabels ? { addedLabels } : {}),
    };
  }

  /** A Re-run is a `review` command given with GitHub's button: the same allow-lists apply. */
  private rerun(event: Extract<IntakeEvent, { type: 'rerun' }>): IntakeDecision {
    if (event.sender.bot) return ignore(`re-run by bot ${event.sender.login}`);
    if (this.users.size > 0 && !this.users.has(event.sender.login.toLowerCase())) {
      return ignore(`user ${event.sender.login} may not ask for reviews`);
    }
    if (!this.repositoryAllowed(event.pullRequest)) {
      return ignore(`repository ${repoFullName(event.pullRequest.repo)} is not allowed`);
    }
    return {
      action: 'review',
      trigger: 'rerequested',
      pullRequest: event.pullRequest,
      sender: event.sender.login,
      automatic: false,
    };
  }

  /**
   * In a review thread a mention of the bot is a question to answer, unless it names a command
   * that is not a question (`review`, `pause`...), which is given as in the conversation.
   */
  private reviewComment(event: Extract<IntakeEvent, { type: 'review-comment' }>): IntakeDecision {
    if (!event.created) return ignore('comment edited or deleted');
    if (event.author.bot) return ignore(`comment by bot ${event.author.login}`);
    const mention = readMention(event.body, this.options.botName);
    if (!mention) return ignore(`comment does not mention @${this.options.botName}`);
    if (mention.command && !isConversationCommand(mention.command)) {
      const { headSha: _head, ...pullRequest } = event.pullRequest;
      return this.comment({ ...event, type: 'comment', pullRequest });
    }
    const refused = this.refuseCommenter(event.author.login, event.pullRequest);
    if (refused) return refused;
    if (!event.pullRequest.open) return ignore('pull request is closed');
    const { open: _open, headSha, ...pullRequest } = event.pullRequest;
    return {
      action: 'answer',
      pullRequest,
      headSha,
      thread: { kind: 'review-comment', commentId: event.commentId },
      sender: event.author.login,
    };
  }

  /** Why a commenter is not heard (allow-lists), or undefined when they are. */
  private refuseCommenter(login: string, pr: PullRequestRef): IntakeDecision | undefined {
    if (this.users.size > 0 && !this.users.has(login.toLowerCase()))
      return ignore(`user ${login} may not use commands`);
    if (!this.repositoryAllowed(pr)) return ignore(`repository ${repoFullName(pr.repo)} is not allowed`);
    return undefined;
  }

  private comment(event: Extract<IntakeEvent, { type: 'comment' }>): IntakeDecision {
    if (!event.created) return ignore('comment edited or deleted');
    // Bots never command us, which also keeps our own replies from triggering anything; on GitLab
    // the token Kritik posts with may belong to a plain user, named as the bot.
    if (event.author.bot || event.author.login.toLowerCase() === this.options.botName.toLowerCase()) {
      return ignore(`comment by bot ${event.author.login}`);
    }
    const command = parseCommand(event.body, this.options.botName);
    if (!command) return ignore('comment has no command');
    const refused = this.refuseCommenter(event.author.login, event.pullRequest);
    if (refused) return refused;
    if (isConversationCommand(command)) {
      if (!event.pullRequest.open) return ignore('pull request is closed');
      const { open: _open, ...pullRequest } = event.pullRequest;
      return {
        action: 'answer',
        pullRequest,
        // On GitLab the answer goes into the asker's discussion.
        thread: {
          kind: 'issue-comment',
          commentId: event.commentId,
          ...(event.discussionId ? { discussionId: event.discussionId } : {}),
        },
        sender: event.author.login,
      };
    }
    // A full review re-runs the whole model cost at will: for those who may change the repository
    // (or are allow-listed). When the event does not say, the worker asks the code host.
    const askRole =
      command === 'full-review' && event.maintainer !== true && !this.users.has(event.author.login.toLowerCase());
    if (askRole && event.maintainer === false)
      return ignore(`user ${event.author.login} may not ask for a full review`);
    if (askRole && event.authorId === undefined) {
      return ignore(`the role of ${event.author.login} is unknown and cannot be asked for: no full review`);
    }
    if (command !== 'help' && !event.pullRequest.open) return ignore('pull request is closed');
    const { open: _open, ...pullRequest } = event.pullRequest;
    return {
      action: 'command',
      command,
      pullRequest,
      commentId: event.commentId,
      sender: event.author.login,
      ...(askRole && event.authorId !== undefined ? { senderRoleUnknown: { userId: event.authorId } } : {}),
    };
  }
}
