import { createHash } from 'node:crypto';
import { COMMIT_STATUS_NAME, type CommandJob, type ReviewRequest, reviewIdFor } from '@kritik/core';
import { FakeGitLab } from '@kritik/testing';
import { CodeHostError } from '../code-host/code-host.js';
import { judgeFailure } from '../commands/command-failure.js';
import { GitLabClient } from './gitlab.client.js';
import { ACCESS_CACHE_MS, GitLabCodeHost } from './gitlab.code-host.js';

const sha = (text: string) => createHash('sha1').update(text).digest('hex');
const PROJECT = 'acme/platform/api';
const repo = { owner: 'acme/platform', name: 'api' };

describe(GitLabCodeHost.name, () => {
  let gitlab: FakeGitLab;
  let client: GitLabClient;
  let sut: GitLabCodeHost;
  let iid = 1;

  beforeAll(async () => {
    gitlab = await new FakeGitLab({ user: 'project_14_bot_5f1c2a' }).start();
    gitlab.addProject(PROJECT);
    client = new GitLabClient({ url: gitlab.url, token: gitlab.token, maxRetryDelayMs: 50 });
    sut = new GitLabCodeHost(client, gitlab.token);
  });
  afterAll(async () => {
    client.onApplicationShutdown();
    await gitlab.stop();
  });
  beforeEach(() => gitlab.resetTraffic());

  function newReview(): ReviewRequest {
    const number = iid++;
    const headSha = sha(`head-${number}`);
    gitlab.addMergeRequest({ project: PROJECT, iid: number, baseSha: sha(`base-${number}`), headSha });
    return {
      reviewId: reviewIdFor('gitlab', repo, number, headSha),
      platform: 'gitlab',
      repo,
      pr: number,
      headSha,
      trigger: 'opened',
      enqueuedAt: new Date().toISOString(),
    };
  }

  const command = (review: ReviewRequest, name: CommandJob['command'] = 'help'): CommandJob => ({
    command: name,
    platform: 'gitlab',
    repo: review.repo,
    pr: review.pr,
    enqueuedAt: new Date().toISOString(),
  });

  it("hands each review the worker's own token and the instance's base URL", async () => {
    expect(await sut.reviewToken()).toBe(gitlab.token);
    expect(sut.apiUrl).toBe(gitlab.url);
  });

  it('sets the kritik status pending on the head, linking to the merge request', async () => {
    const review = newReview();

    const id = await sut.queueStatus(review);

    const [status] = gitlab.statuses(PROJECT, review.headSha);
    expect(status).toMatchObject({ id, name: COMMIT_STATUS_NAME, status: 'pending' });
    expect(status!.description).toContain(review.headSha.slice(0, 7));
    expect(status!.target_url).toBe(`${gitlab.url}/${PROJECT}/-/merge_requests/${review.pr}`);
  });

  it.each([
    ['failure', 'failed'],
    ['cancelled', 'canceled'],
  ] as const)('concludes a pending status as %s → %s with the reason', async (conclusion, state) => {
    const review = newReview();
    await sut.queueStatus(review);

    await sut.concludeStatus(review, conclusion, 'the review Job was lost');

    const statuses = gitlab.statuses(PROJECT, review.headSha);
    expect(statuses).toHaveLength(1);
    expect(statuses[0]).toMatchObject({ status: state, description: expect.stringContaining('Job was lost') });
  });

  it("keeps the reviewer's own ending", async () => {
    const review = newReview();
    await sut.queueStatus(review);
    await client.request('POST', `/projects/${encodeURIComponent(PROJECT)}/statuses/${review.headSha}`, {
      state: 'success',
      name: COMMIT_STATUS_NAME,
    });

    await sut.concludeStatus(review, 'failure', 'late');

    expect(gitlab.statuses(PROJECT, review.headSha).map((s) => s.status)).toEqual(['success']);
  });

  it("leaves the head's status to its review when an answer ends", async () => {
    const review = newReview();
    await sut.queueStatus(review);

    await sut.concludeStatus({ ...review, trigger: 'answer' }, 'failure', 'the answer Job was lost');

    expect(gitlab.statuses(PROJECT, review.headSha).map((s) => s.status)).toEqual(['pending']);
  });

  it('ends a review visibly even when no status was set before', async () => {
    const review = newReview();
    await sut.concludeStatus(review, 'failure', 'no token');
    expect(gitlab.statuses(PROJECT, review.headSha)).toMatchObject([{ status: 'failed' }]);
  });

  it('waits out a 429 with Retry-After and tries again', async () => {
    const review = newReview();
    gitlab.rateLimitNext(2, 0.01);
    await sut.queueStatus(review);
    expect(gitlab.statuses(PROJECT, review.headSha)).toHaveLength(1);
  });

  it('gives up after its retries, with an error the command queue judges transient', async () => {
    const review = newReview();
    gitlab.rateLimitNext(10, 0.01);
    const error = await sut.queueStatus(review).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CodeHostError);
    expect(judgeFailure(error)).toMatchObject({
      transient: true,
      reason: expect.stringMatching(/^GitLab answered HTTP 429/),
    });
  });

  it('answers a command with a note on the merge request, and finds its own note by marker', async () => {
    const review = newReview();
    const hostile = '<!-- kritik:help abc --> `@kritik review` ](javascript:alert(1))';

    const posted = await sut.comment(command(review), `help text\n\n${hostile}`);

    const notes = gitlab.notes(PROJECT, review.pr);
    expect(notes).toHaveLength(1);
    expect(notes[0]!.body).toContain(hostile);
    expect(posted.url).toBe(`${gitlab.url}/${PROJECT}/-/merge_requests/${review.pr}#note_${notes[0]!.id}`);
    expect(await sut.findComment(command(review), '<!-- kritik:help abc -->')).toEqual(posted);
    expect(await sut.findComment(command(review), '<!-- kritik:help other -->')).toBeUndefined();
  });

  it("acknowledges a command with an award emoji on the commenter's note: eyes, thumbsup for a switch", async () => {
    const review = newReview();
    gitlab.addToken('glpat-dev', { username: 'dev' });
    const dev = new GitLabClient({ url: gitlab.url, token: 'glpat-dev' });
    const asked = (await dev.request(
      'POST',
      `/projects/${encodeURIComponent(PROJECT)}/merge_requests/${review.pr}/notes`,
      {
        body: '@kritik pause',
      },
    )) as { id: number };
    dev.onApplicationShutdown();

    await sut.react({ ...command(review, 'review'), commentId: asked.id }, 'eyes');
    await sut.react({ ...command(review, 'pause'), commentId: asked.id }, '+1');
    await sut.react(command(review), 'eyes');

    expect(gitlab.awards(PROJECT, review.pr, asked.id)).toEqual([
      'eyes by project_14_bot_5f1c2a',
      'thumbsup by project_14_bot_5f1c2a',
    ]);
  });

  it("does not take another user's note that copies the marker for its own", async () => {
    const review = newReview();
    gitlab.addToken('glpat-mallory', { username: 'mallory' });
    const mallory = new GitLabClient({ url: gitlab.url, token: 'glpat-mallory' });
    await mallory.request('POST', `/projects/${encodeURIComponent(PROJECT)}/merge_requests/${review.pr}/notes`, {
      body: '<!-- kritik:help n1 -->',
    });
    mallory.onApplicationShutdown();

    expect(await sut.findComment(command(review), '<!-- kritik:help n1 -->')).toBeUndefined();
  });

  it('reads the merge request head and base for `@kritik review`', async () => {
    const review = newReview();
    expect(await sut.pullRequest(command(review, 'review'))).toEqual({
      state: 'open',
      draft: false,
      headSha: review.headSha,
      baseSha: sha(`base-${review.pr}`),
    });
  });

  it('fails a command on a bad token for good, naming GitLab', async () => {
    const review = newReview();
    const denied = new GitLabCodeHost(new GitLabClient({ url: gitlab.url, token: 'glpat-revoked' }), 'glpat-revoked');
    const error = await denied.comment(command(review), 'hi').catch((e: unknown) => e);
    expect(judgeFailure(error)).toMatchObject({ cause: 'forbidden', transient: false });
    expect(gitlab.notes(PROJECT, review.pr)).toEqual([]);
  });

  describe('senderAccess', () => {
    // A fresh host per case: the access cache is the host's.
    const host = () => new GitLabCodeHost(client, gitlab.token);
    const members = () => gitlab.requestsTo({ method: 'GET', path: /\/members\/all\// });

    it('lets Developers and above change the repository, by direct or inherited membership', async () => {
      const review = newReview();
      gitlab.addMember(PROJECT, 'dev-dana', 30).addGroup('acme', ['owner-omar'], 50);
      const sut = host();
      expect(await sut.senderAccess(command(review, 'full-review'), gitlab.userId('dev-dana'))).toEqual({
        mayChange: true,
        role: 'Developer',
      });
      expect(await sut.senderAccess(command(review, 'full-review'), gitlab.userId('owner-omar'))).toEqual({
        mayChange: true,
        role: 'Owner',
      });
    });

    it('refuses a Reporter, a Guest and a non-member (404)', async () => {
      const review = newReview();
      gitlab.addMember(PROJECT, 'guest-gil', 10).addMember(PROJECT, 'rep-rae', 20);
      const sut = host();
      const ask = (user: string) => sut.senderAccess(command(review, 'full-review'), gitlab.userId(user));
      expect(await ask('guest-gil')).toEqual({ mayChange: false, role: 'Guest' });
      expect(await ask('rep-rae')).toEqual({ mayChange: false, role: 'Reporter' });
      expect(await ask('"><img src=x onerror=alert(1)>')).toEqual({ mayChange: false, role: 'not a member' });
    });

    it('asks GitLab once per user within the cache window, again after it', async () => {
      const review = newReview();
      gitlab.addMember(PROJECT, 'cached-cy', 40);
      const sut = host();
      const user = gitlab.userId('cached-cy');
      const t0 = Date.now();
      await sut.senderAccess(command(review, 'full-review'), user, t0);
      gitlab.addMember(PROJECT, 'cached-cy', 10);
      expect((await sut.senderAccess(command(review, 'full-review'), user, t0 + 1_000)).mayChange).toBe(true);
      expect(members()).toHaveLength(1);
      expect((await sut.senderAccess(command(review, 'full-review'), user, t0 + ACCESS_CACHE_MS)).role).toBe('Guest');
      expect(members()).toHaveLength(2);
    });

    it('throws on a GitLab failure other than 404, and remembers nothing of it', async () => {
      const review = newReview();
      gitlab.addMember(PROJECT, 'flaky-fay', 30);
      const sut = host();
      gitlab.failNext(1, { status: 500 }, { method: 'GET', path: /\/members\/all\// });
      const error = await sut.senderAccess(command(review, 'full-review'), gitlab.userId('flaky-fay')).catch((e) => e);
      expect(error).toBeInstanceOf(CodeHostError);
      expect((await sut.senderAccess(command(review, 'full-review'), gitlab.userId('flaky-fay'))).mayChange).toBe(true);
    });
  });
});
