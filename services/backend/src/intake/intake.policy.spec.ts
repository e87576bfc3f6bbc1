import type { IntakeEvent, PullRequestState } from './intake.event.js';
import { IntakePolicy, type IntakePolicyOptions } from './intake.policy.js';

const defaults: IntakePolicyOptions = {
  botName: 'kritik',
  triggerLabel: 'kritik:review',
  reviewBots: false,
  allowedOrgs: [],
  allowedRepos: [],
  allowedUsers: [],
};

const pr = (over: Partial<PullRequestState> = {}): PullRequestState => ({
  platform: 'github',
  repo: { owner: 'acme', name: 'api' },
  number: 7,
  headSha: 'a'.repeat(40),
  draft: false,
  open: true,
  author: { login: 'alice', bot: false },
  ...over,
});

const opened = (over: Partial<PullRequestState> = {}): IntakeEvent => ({
  type: 'pull-request',
  change: 'opened',
  pullRequest: pr(over),
  sender: { login: 'alice', bot: false },
});

const comment = (body: string, login = 'bob', open = true, maintainer = false): IntakeEvent => ({
  type: 'comment',
  created: true,
  pullRequest: { platform: 'github', repo: { owner: 'acme', name: 'api' }, number: 7, open },
  commentId: 1,
  body,
  author: { login, bot: false },
  maintainer,
});

describe(IntakePolicy.name, () => {
  it('reviews an opened pull request', () => {
    const sut = new IntakePolicy(defaults);
    expect(sut.decide(opened())).toMatchObject({ action: 'review', trigger: 'opened', sender: 'alice' });
  });

  it("leaves drafts to the reviewer, which reads the repository's review_drafts", () => {
    expect(new IntakePolicy(defaults).decide(opened({ draft: true }))).toMatchObject({ action: 'review' });
  });

  it('skips pull requests by bots unless bots are reviewed', () => {
    const event = opened({ author: { login: 'renovate[bot]', bot: true } });
    expect(new IntakePolicy(defaults).decide(event).action).toBe('ignore');
    expect(new IntakePolicy({ ...defaults, reviewBots: true }).decide(event).action).toBe('review');
  });

  it('reviews when the trigger label is among several added at once', () => {
    const labeled = (labels: string[]): IntakeEvent => ({
      type: 'pull-request',
      change: 'labeled',
      labels,
      pullRequest: pr(),
      sender: { login: 'alice', bot: false },
    });
    const event = labeled(['bug', 'kritik:review']);
    expect(new IntakePolicy(defaults).decide(event)).toMatchObject({ action: 'review', trigger: 'labeled' });
    expect(new IntakePolicy(defaults).decide(event)).toMatchObject({ automatic: false });
    expect(new IntakePolicy(defaults).decide(event)).not.toHaveProperty('addedLabels');
  });

  it('passes other labels on as an automatic review with the labels added: the reviewer knows the policies', () => {
    const event: IntakeEvent = {
      type: 'pull-request',
      change: 'labeled',
      labels: ['bug', 'needs-review'],
      pullRequest: pr(),
      sender: { login: 'alice', bot: false },
    };
    expect(new IntakePolicy(defaults).decide(event)).toMatchObject({
      action: 'review',
      trigger: 'labeled',
      automatic: true,
      addedLabels: ['bug', 'needs-review'],
    });
    expect(new IntakePolicy(defaults).decide({ ...event, labels: [] })).toEqual({
      action: 'ignore',
      reason: 'no label was added',
    });
  });

  it('admits every repository when the allow-lists are empty', () => {
    expect(new IntakePolicy(defaults).repositoryAllowed(pr({ repo: { owner: 'x', name: 'y' } }))).toBe(true);
  });

  it('admits repositories of an allowed organisation, in any case', () => {
    const sut = new IntakePolicy({ ...defaults, allowedOrgs: ['ACME'] });
    expect(sut.repositoryAllowed(pr())).toBe(true);
    expect(sut.repositoryAllowed(pr({ repo: { owner: 'other', name: 'api' } }))).toBe(false);
  });

  it('admits repositories matching a glob', () => {
    const sut = new IntakePolicy({ ...defaults, allowedRepos: ['acme/service-*', 'labs/**'] });
    expect(sut.repositoryAllowed(pr({ repo: { owner: 'acme', name: 'service-billing' } }))).toBe(true);
    expect(sut.repositoryAllowed(pr({ repo: { owner: 'labs', name: 'anything' } }))).toBe(true);
    expect(sut.repositoryAllowed(pr())).toBe(false);
  });

  it('names the repository it refuses', () => {
    const sut = new IntakePolicy({ ...defaults, allowedOrgs: ['other'] });
    expect(sut.decide(opened())).toEqual({ action: 'ignore', reason: 'repository acme/api is not allowed' });
  });

  it('turns a comment command into a command decision', () => {
    expect(new IntakePolicy(defaults).decide(comment('@kritik help'))).toMatchObject({
      action: 'command',
      command: 'help',
      sender: 'bob',
      pullRequest: { number: 7 },
    });
  });

  it('refuses commands of users outside the user allow-list', () => {
    const sut = new IntakePolicy({ ...defaults, allowedUsers: ['alice'] });
    expect(sut.decide(comment('@kritik review'))).toEqual({
      action: 'ignore',
      reason: 'user bob may not use commands',
    });
    expect(sut.decide(comment('@kritik review', 'Alice')).action).toBe('command');
  });

  it('answers help but does not review on a closed pull request', () => {
    const sut = new IntakePolicy(defaults);
    expect(sut.decide(comment('@kritik help', 'bob', false)).action).toBe('command');
    expect(sut.decide(comment('@kritik review', 'bob', false))).toEqual({
      action: 'ignore',
      reason: 'pull request is closed',
    });
  });

  it('takes no command from a comment written as the bot itself, whatever the account type', () => {
    expect(new IntakePolicy(defaults).decide(comment('@kritik review', 'Kritik'))).toEqual({
      action: 'ignore',
      reason: 'comment by bot Kritik',
    });
  });

  it('uses the configured bot name', () => {
    const sut = new IntakePolicy({ ...defaults, botName: 'reviewer' });
    expect(sut.decide(comment('@kritik review')).action).toBe('ignore');
    expect(sut.decide(comment('@reviewer review')).action).toBe('command');
  });

  it('takes a full review only from a maintainer or an allowed user', () => {
    expect(new IntakePolicy(defaults).decide(comment('@kritik full review'))).toEqual({
      action: 'ignore',
      reason: 'user bob may not ask for a full review',
    });
    expect(new IntakePolicy(defaults).decide(comment('@kritik full  review', 'bob', true, true))).toMatchObject({
      action: 'command',
      command: 'full-review',
    });
    const allowed = new IntakePolicy({ ...defaults, allowedUsers: ['bob'] });
    expect(allowed.decide(comment('@kritik FULL review')).action).toBe('command');
  });

  it('hands a full review by a commenter of unknown role (GitLab) to the worker to ask the host, unless allow-listed', () => {
    const gitlab = (login: string, authorId?: number, body = '@kritik full review'): IntakeEvent => ({
      type: 'comment',
      created: true,
      pullRequest: { platform: 'gitlab', repo: { owner: 'acme/platform', name: 'api' }, number: 7, open: true },
      commentId: 1,
      body,
      author: { login, bot: false },
      maintainer: 'unknown',
      ...(authorId !== undefined ? { authorId } : {}),
    });
    const sut = new IntakePolicy(defaults);
    expect(sut.decide(gitlab('dana', 52))).toEqual({
      action: 'command',
      command: 'full-review',
      pullRequest: { platform: 'gitlab', repo: { owner: 'acme/platform', name: 'api' }, number: 7 },
      commentId: 1,
      sender: 'dana',
      senderRoleUnknown: { userId: 52 },
    });
    expect(sut.decide(gitlab('dana'))).toEqual({
      action: 'ignore',
      reason: 'the role of dana is unknown and cannot be asked for: no full review',
    });
    // The allow-list answers at once; other commands need no role.
    const allowed = new IntakePolicy({ ...defaults, allowedUsers: ['dana'] });
    expect(allowed.decide(gitlab('dana', 52))).not.toHaveProperty('senderRoleUnknown');
    expect(sut.decide(gitlab('dana', 52, '@kritik review'))).not.toHaveProperty('senderRoleUnknown');
  });
});

describe('IntakePolicy in review threads', () => {
  const inThread = (body: string, login = 'bob', bot = false): IntakeEvent => ({
    type: 'review-comment',
    created: true,
    pullRequest: {
      platform: 'github',
      repo: { owner: 'acme', name: 'api' },
      number: 7,
      open: true,
      headSha: 'a'.repeat(40),
    },
    commentId: 9,
    body,
    author: { login, bot },
    maintainer: false,
  });

  it('answers a question to the bot in the thread, whatever its first word', () => {
    const sut = new IntakePolicy(defaults);
    for (const body of ['@kritik why?', '@kritik explain', 'see @kritik', '@kritik ask more'])
      expect(sut.decide(inThread(body))).toMatchObject({
        action: 'answer',
        headSha: 'a'.repeat(40),
        thread: { kind: 'review-comment', commentId: 9 },
      });
  });

  it('gives a command written in a thread as in the conversation', () => {
    expect(new IntakePolicy(defaults).decide(inThread('@kritik pause'))).toMatchObject({
      action: 'command',
      command: 'pause',
    });
  });

  it('ignores bots, outsiders and replies that do not mention the bot, without a reply', () => {
    const sut = new IntakePolicy({ ...defaults, allowedUsers: ['alice'] });
    expect(sut.decide(inThread('@kritik why?'))).toEqual({ action: 'ignore', reason: 'user bob may not use commands' });
    expect(sut.decide(inThread('@kritik why?', 'kritik[bot]', true)).action).toBe('ignore');
    expect(sut.decide(inThread('looks good', 'alice'))).toEqual({
      action: 'ignore',
      reason: 'comment does not mention @kritik',
    });
  });
});
