// The GitLab webhook endpoint end to end: real HTTP, real Redis, fixtures in GitLab's hook shapes.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { commandJobSchema, redisKeys, reviewIdFor, reviewRequestSchema } from '@kritik/core';
import { WebhooksController } from '../src/webhooks/webhooks.controller.js';
import { type BackendHarness, fixture, GITLAB_SECRET, type Json, startBackend } from './backend.harness.js';

const repo = { owner: 'acme/platform', name: 'api' };
const HEAD = 'da1560886d4f094c3e6c9ef40349f7d38b5d27d7';
const PUSHED = '4f2c1e5a9b3d7c6e8a0b1c2d3e4f5a6b7c8d9e0f';
const MR = 'Merge Request Hook';
const NOTE = 'Note Hook';
const gitlab = (name: string) => fixture(`gitlab/${name}`);

const pushed = (sha: string, oldrev: string) => {
  const payload = structuredClone(gitlab('merge_request.update.push'));
  payload.object_attributes.last_commit.id = sha;
  payload.object_attributes.oldrev = oldrev;
  return payload;
};

describe(`${WebhooksController.name} on GitLab`, () => {
  let sut: BackendHarness;

  beforeAll(async () => {
    sut = await startBackend({ GITLAB_WEBHOOK_SECRET: GITLAB_SECRET, GITLAB_URL: 'https://gitlab.example.com' });
  });
  afterAll(() => sut?.stop());
  beforeEach(() => sut.client.flushall());

  describe.each([
    ['opened', 'merge_request.open', HEAD],
    ['synchronize', 'merge_request.update.push', PUSHED],
    ['ready_for_review', 'merge_request.update.ready', HEAD],
    ['labeled', 'merge_request.update.labeled', HEAD],
  ])('Merge Request Hook (%s)', (trigger, name, head) => {
    it('answers 202 with the review id and queues one review of the last commit', async () => {
      const reply = await sut.postGitLab(MR, gitlab(name), { eventUuid: `e-${trigger}` });

      const reviewId = reviewIdFor('gitlab', repo, 12, head);
      expect(reply).toMatchObject({ body: { status: 'queued', reviewId }, status: 202 });
      const jobs = await sut.reviews.getDelayed();
      expect(jobs.map((j) => j.id)).toEqual([reviewId]);
      const job = reviewRequestSchema.parse(jobs[0]!.data);
      expect(job).toMatchObject({ platform: 'gitlab', repo, pr: 12, headSha: head, trigger, sender: 'alice' });
      expect(job.deliveryId).toBe(`gitlab-e-${trigger}`);
      expect(job.installationId).toBeUndefined();
    });
  });

  it('passes labels added that are not the trigger label to the reviewer, once per set of labels', async () => {
    const payload = gitlab('merge_request.update.labeled');
    payload.changes.labels.current = [{ title: 'review::needed' }, { title: 'backend' }];
    payload.changes.labels.previous = [];
    const reply = await sut.postGitLab(MR, payload, { eventUuid: 'labels-1' });

    const reviewId = reviewIdFor('gitlab', repo, 12, HEAD, 'labels:backend,review::needed');
    expect(reply.body).toEqual({ status: 'queued', reviewId });
    expect((await sut.reviews.getDelayed()).map((j) => [j.id, j.data.trigger])).toEqual([[reviewId, 'labeled']]);
  });

  it("queues a draft: the reviewer decides with the repository's review_drafts", async () => {
    const reply = await sut.postGitLab(MR, gitlab('merge_request.open.draft'));
    expect(reply).toMatchObject({ status: 202, body: { status: 'queued' } });
  });

  it.each([
    [MR, 'merge_request.update.title', /update does not request a review/],
    [MR, 'merge_request.close', /close does not request a review/],
    [MR, 'merge_request.open.bot', /bot project_14_bot_5f1c2a/],
    [NOTE, 'note.issue.help', /not a pull request/],
    [NOTE, 'note.merge_request.review.updated', /edited or deleted/],
  ])('ignores %s %s with its reason and queues nothing', async (event, name, reason) => {
    const reply = await sut.postGitLab(event, gitlab(name));
    expect(reply).toMatchObject({ status: 202, body: { status: 'ignored', reason: expect.stringMatching(reason) } });
    expect(await sut.reviews.count()).toBe(0);
  });

  it('answers an event it does not handle with 202 ignored', async () => {
    const reply = await sut.postGitLab('Pipeline Hook', { object_kind: 'pipeline' });
    expect(reply.body).toEqual({ status: 'ignored', reason: 'event Pipeline Hook is not handled' });
  });

  it('queues `@kritik help` on a merge request as a command for the worker', async () => {
    const reply = await sut.postGitLab(NOTE, gitlab('note.merge_request.help'), { eventUuid: 'note-help' });

    expect(reply).toMatchObject({ status: 202, body: { status: 'queued', command: 'help' } });
    const data = JSON.parse((await sut.client.hget('bull:commands:delivery-gitlab-note-help', 'data'))!);
    expect(commandJobSchema.parse(data)).toMatchObject({
      command: 'help',
      platform: 'gitlab',
      repo,
      pr: 12,
      commentId: 1244,
      sender: 'bob',
    });
  });

  it('reviews the head last seen on the merge request when a note says `@kritik review`', async () => {
    await sut.postGitLab(MR, gitlab('merge_request.open'));
    const reply = await sut.postGitLab(NOTE, gitlab('note.merge_request.review'), { eventUuid: 'note-review' });

    const reviewId = reviewIdFor('gitlab', repo, 12, HEAD, 'gitlab-note-review');
    expect(reply).toMatchObject({ status: 202, body: { status: 'queued', reviewId } });
  });

  it('queues an answer in the discussion for a reply on the diff that mentions @kritik, with the note as thread', async () => {
    const reply = await sut.postGitLab(NOTE, gitlab('note.merge_request.diff_reply'), { eventUuid: 'diff-reply' });

    expect(reply).toMatchObject({ status: 202, body: { status: 'queued' } });
    expect(reply.body.reviewId).toBe(reviewIdFor('gitlab', repo, 12, HEAD, 'gitlab-diff-reply'));
    const queued = [...(await sut.reviews.getDelayed()), ...(await sut.reviews.getWaiting())];
    expect(reviewRequestSchema.parse(queued.find((j) => j.data.trigger === 'answer')!.data)).toMatchObject({
      platform: 'gitlab',
      headSha: HEAD,
      sender: 'bob',
      thread: { kind: 'review-comment', commentId: 1250 },
    });
  });

  it("queues `@kritik ask` in a discussion as an answer that names the asker's discussion", async () => {
    await sut.postGitLab(MR, gitlab('merge_request.open'));
    const reply = await sut.postGitLab(NOTE, gitlab('note.merge_request.ask_reply'), { eventUuid: 'ask-reply' });

    expect(reply).toMatchObject({ status: 202, body: { status: 'queued' } });
    const queued = [...(await sut.reviews.getDelayed()), ...(await sut.reviews.getWaiting())];
    expect(reviewRequestSchema.parse(queued.find((j) => j.data.trigger === 'answer')!.data)).toMatchObject({
      platform: 'gitlab',
      sender: 'bob',
      thread: { kind: 'issue-comment', commentId: 1262, discussionId: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4' },
    });
  });

  it('still queues the answer when the discussion id is not one, only without the discussion', async () => {
    await sut.postGitLab(MR, gitlab('merge_request.open'));
    const payload = gitlab('note.merge_request.ask_reply');
    payload.object_attributes.discussion_id = '../../notes?x=<script>';
    const reply = await sut.postGitLab(NOTE, payload, { eventUuid: 'ask-hostile' });

    expect(reply).toMatchObject({ status: 202, body: { status: 'queued' } });
    const queued = [...(await sut.reviews.getDelayed()), ...(await sut.reviews.getWaiting())];
    const job = reviewRequestSchema.parse(queued.find((j) => j.data.trigger === 'answer')!.data);
    expect(job.thread).toEqual({ kind: 'issue-comment', commentId: 1262 });
  });

  it('never takes a command from a note GitLab wrote itself or from the bot', async () => {
    const system = gitlab('note.merge_request.review');
    system.object_attributes.system = true;
    const own = gitlab('note.merge_request.review');
    own.user.username = 'kritik';
    expect((await sut.postGitLab(NOTE, system)).body.status).toBe('ignored');
    expect((await sut.postGitLab(NOTE, own)).body).toEqual({ status: 'ignored', reason: 'comment by bot kritik' });
  });

  it('hands a full review to the worker to ask GitLab for the commenter’s role: the hook does not carry it', async () => {
    // The head of !12 is known: still no review is queued here, only the command.
    await sut.postGitLab(MR, gitlab('merge_request.open'));
    const payload = gitlab('note.merge_request.review');
    payload.object_attributes.note = '@kritik full review';
    const reply = await sut.postGitLab(NOTE, payload, { eventUuid: 'note-full' });
    expect(reply).toMatchObject({ status: 202, body: { status: 'queued', command: 'full-review' } });
    const data = JSON.parse((await sut.client.hget('bull:commands:delivery-gitlab-note-full', 'data'))!);
    expect(commandJobSchema.parse(data)).toMatchObject({
      command: 'full-review',
      platform: 'gitlab',
      sender: 'bob',
      senderRoleUnknown: { userId: payload.user.id },
    });
  });

  it('limits the commands one user gives on one merge request', async () => {
    const statuses = [];
    for (let i = 0; i < 6; i++) statuses.push((await sut.postGitLab(NOTE, gitlab('note.merge_request.help'))).body);
    expect(statuses.slice(0, 5).every((b: Json) => b.status === 'queued')).toBe(true);
    expect(statuses[5]).toEqual({ status: 'ignored', reason: 'user bob gave too many commands on this pull request' });
  });

  describe('token', () => {
    it('rejects a delivery without X-Gitlab-Token with 401 and stores nothing', async () => {
      const reply = await sut.postGitLab(MR, gitlab('merge_request.open'), { token: null });
      expect(reply).toMatchObject({ status: 401, body: { error: 'missing or invalid X-Gitlab-Token' } });
      expect(await sut.client.keys('kritik:*')).toEqual([]);
    });

    it.each([
      ['another secret', 'It is another GitLab webhook token'],
      ['a prefix of the secret', GITLAB_SECRET.slice(0, -1)],
      ['the secret and more', `${GITLAB_SECRET}x`],
      ['the GitHub secret', 'It is a test webhook secret, 32+'],
    ])('rejects %s with 401', async (_, token) => {
      expect((await sut.postGitLab(MR, gitlab('merge_request.open'), { token })).status).toBe(401);
    });

    it('checks the token before the body, so malformed JSON without it is 401', async () => {
      expect((await sut.postGitLab(MR, '{not json', { token: 'wrong' })).status).toBe(401);
    });

    it('refuses a wrong token before reading the body: 401 even for a body over the limit', async () => {
      const reply = await sut.postGitLab(MR, Buffer.alloc(25 * 1024 * 1024 + 1, 0x20), { token: 'wrong' });
      expect(reply).toMatchObject({ status: 401, headers: expect.any(Headers) });
      expect(reply.headers.get('connection')).toBe('close');
    });

    it('never logs the token', async () => {
      await sut.postGitLab(MR, gitlab('merge_request.open'));
      await sut.postGitLab(MR, gitlab('merge_request.open'), { token: `${GITLAB_SECRET}x` });
      expect(JSON.stringify(sut.logs)).not.toContain('test GitLab webhook token');
    });
  });

  it('answers malformed JSON with 400', async () => {
    const reply = await sut.postGitLab(MR, '{"object_kind": "merge_request", ');
    expect(reply).toMatchObject({ status: 400, body: { error: 'body is not valid JSON' } });
  });

  it('answers a payload of the wrong shape with 400 naming the field', async () => {
    const payload = gitlab('merge_request.open');
    payload.object_attributes.last_commit.id = '$(curl evil)';
    payload.project.path_with_namespace = 'no-namespace';
    const reply = await sut.postGitLab(MR, payload);
    expect(reply.status).toBe(400);
    expect(reply.body.error).toMatch(/object_attributes\.last_commit\.id: must be a commit SHA/);
    expect(reply.body.error).toMatch(/project\.path_with_namespace: must be namespace\/project/);
  });

  it('answers a delivery without an event id with 400', async () => {
    const reply = await sut.postGitLab(MR, gitlab('merge_request.open'), { headers: { 'x-gitlab-event-uuid': '' } });
    expect(reply).toMatchObject({ status: 400, body: { error: expect.stringMatching(/X-Gitlab-Event-UUID/) } });
  });

  it('refuses an event id that could name another key', async () => {
    const reply = await sut.postGitLab(MR, gitlab('merge_request.open'), { eventUuid: 'a:b' });
    expect(reply.status).toBe(400);
  });

  it('answers a body over 25 MB with 413', async () => {
    const reply = await sut.postGitLab(MR, Buffer.alloc(25 * 1024 * 1024 + 1, 0x20));
    expect(reply.status).toBe(413);
  });

  it('answers a redelivery of the same event with 200 and enqueues nothing more', async () => {
    const first = await sut.postGitLab(MR, gitlab('merge_request.open'), { eventUuid: 'same-event' });
    const again = await sut.postGitLab(MR, gitlab('merge_request.open'), { eventUuid: 'same-event' });
    expect(again).toMatchObject({ status: 200, body: { status: 'duplicate', accepted: first.body.reviewId } });
    expect(await sut.client.exists(redisKeys.delivery('gitlab-same-event'))).toBe(1);
  });

  it("dedupes GitLab's retries on their Idempotency-Key though each has its own event id", async () => {
    const note = gitlab('note.merge_request.help');
    const first = await sut.postGitLab(NOTE, note, { idempotencyKey: 'retry-key' });
    const retry = await sut.postGitLab(NOTE, note, { idempotencyKey: 'retry-key' });
    expect(first.status).toBe(202);
    expect(retry).toMatchObject({ status: 200, body: { status: 'duplicate' } });
    expect(await sut.client.keys('bull:commands:delivery-*')).toEqual(['bull:commands:delivery-gitlab-retry-key']);
  });

  it('turns three pushes within a second into one waiting review of the last head', async () => {
    const shas = ['1', '2', '3'].map((c) => c.repeat(40));
    const replies = [];
    let previous = HEAD;
    for (const sha of shas) {
      replies.push(await sut.postGitLab(MR, pushed(sha, previous)));
      previous = sha;
    }

    const waiting = [...(await sut.reviews.getDelayed()), ...(await sut.reviews.getWaiting())];
    expect(waiting.map((job) => job.data.headSha)).toEqual([shas[2]]);
    const records = await Promise.all(
      replies.map(async (r) => JSON.parse((await sut.client.get(redisKeys.review(r.body.reviewId)))!)),
    );
    expect(records.map((r) => r.status)).toEqual(['skipped', 'skipped', 'queued']);
  });
});

describe('a backend configured for GitHub only', () => {
  let sut: BackendHarness;
  beforeAll(async () => {
    sut = await startBackend();
  });
  afterAll(() => sut?.stop());
  beforeEach(() => sut.client.flushall());

  it('answers GitLab deliveries with 404 and stores nothing', async () => {
    const reply = await sut.postGitLab(MR, gitlab('merge_request.open'));
    expect(reply).toMatchObject({ status: 404, body: { error: 'gitlab webhooks are not configured' } });
    expect(await sut.reviews.count()).toBe(0);
  });
});

describe('a backend configured for GitLab only', () => {
  let sut: BackendHarness;
  beforeAll(async () => {
    sut = await startBackend({ GITHUB_WEBHOOK_SECRET: '', GITLAB_WEBHOOK_SECRET: GITLAB_SECRET });
  });
  afterAll(() => sut?.stop());
  beforeEach(() => sut.client.flushall());

  it('takes GitLab deliveries and answers GitHub ones with 404', async () => {
    const reply = await sut.postGitLab(MR, gitlab('merge_request.open'));
    expect(reply.status).toBe(202);
    expect((await sut.post('pull_request', fixture('pull_request.opened'))).status).toBe(404);
  });
});

describe('the backend process', () => {
  const main = join(__dirname, '..', 'dist', 'main.js');
  const start = (env: Record<string, string>) =>
    spawnSync(process.execPath, [main], {
      env: { PATH: process.env.PATH ?? '', REDIS_URL: 'redis://127.0.0.1:1', ...env },
      encoding: 'utf8',
      timeout: 20_000,
    });

  it('refuses to start with GitLab configured but no GitLab webhook secret, naming the variable', () => {
    const sut = start({ GITLAB_URL: 'https://gitlab.example.com', GITHUB_WEBHOOK_SECRET: 'set' });

    expect(sut.status).toBe(2);
    const fatal = JSON.parse(sut.stdout.trim().split('\n').at(-1)!);
    expect(fatal.problems).toEqual([
      { source: 'GITLAB_WEBHOOK_SECRET', message: 'is required when GitLab is configured (GITLAB_URL is set)' },
    ]);
  });

  it('refuses to start with no code host at all', () => {
    const sut = start({});

    expect(sut.status).toBe(2);
    expect(JSON.parse(sut.stdout.trim().split('\n').at(-1)!).problems).toEqual([
      { source: 'GITHUB_WEBHOOK_SECRET', message: expect.stringContaining('GITLAB_WEBHOOK_SECRET') },
    ]);
  });
});
