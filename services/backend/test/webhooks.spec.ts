// The webhook endpoint end to end: real HTTP, real Redis, signed fixtures of GitHub's payloads.
import { commandJobSchema, redisKeys, reviewIdFor, reviewRequestSchema } from '@kritik/core';
import { WebhooksController } from '../src/webhooks/webhooks.controller.js';
import { type BackendHarness, fixture, type Json, sign, startBackend } from './backend.harness.js';

const repo = { owner: 'acme', name: 'api' };
const HEAD = '6dcb09b5b57875f334f61aebed695e2e4193db5e';

const withHead = (payload: Record<string, Json>, sha: string) => {
  const copy = structuredClone(payload);
  copy.pull_request.head.sha = sha;
  return copy;
};

describe(WebhooksController.name, () => {
  let sut: BackendHarness;

  beforeAll(async () => {
    sut = await startBackend();
  });
  afterAll(() => sut?.stop());
  beforeEach(() => sut.client.flushall());

  describe.each([
    ['opened', 'pull_request.opened'],
    ['synchronize', 'pull_request.synchronize'],
    ['reopened', 'pull_request.reopened'],
    ['ready_for_review', 'pull_request.ready_for_review'],
    ['labeled', 'pull_request.labeled'],
  ])('pull_request %s', (trigger, name) => {
    it('answers 202 with the review id and queues one delayed review of the head', async () => {
      const reply = await sut.post('pull_request', fixture(name), { deliveryId: `d-${trigger}` });

      const reviewId = reviewIdFor('github', repo, 42, HEAD);
      expect(reply).toMatchObject({ status: 202, body: { status: 'queued', reviewId } });
      const jobs = await sut.reviews.getDelayed();
      expect(jobs).toHaveLength(1);
      expect(reviewRequestSchema.parse(jobs[0]!.data)).toMatchObject({
        reviewId,
        platform: 'github',
        repo,
        pr: 42,
        headSha: HEAD,
        baseSha: '9a8d0c3e25cb4e7a2f1b6d4c8e0f3a5b7c9d1e2f',
        trigger,
        installationId: 51234567,
        deliveryId: `d-${trigger}`,
      });
      expect(jobs[0]!.id).toBe(reviewId);
    });
  });

  it("queues a draft: the reviewer decides with the repository's review_drafts", async () => {
    const reply = await sut.post('pull_request', fixture('pull_request.opened.draft'));
    expect(reply).toMatchObject({ status: 202, body: { status: 'queued' } });
  });

  it('records the queued review for the reviews API', async () => {
    const reply = await sut.post('pull_request', fixture('pull_request.opened'));
    const record = JSON.parse((await sut.client.get(redisKeys.review(reply.body.reviewId)))!);
    expect(record).toMatchObject({ id: reply.body.reviewId, repo: 'acme/api', pr: 42, status: 'queued' });
  });

  it.each([
    ['pull_request', 'pull_request.opened.bot', /bot dependabot\[bot\]/],
    ['pull_request', 'pull_request.closed', /closed/],
    ['pull_request', 'pull_request.converted_to_draft', /converted_to_draft does not request a review/],
    ['issue_comment', 'issue_comment.created.issue', /not a pull request/],
    ['issue_comment', 'issue_comment.created.bot', /comment by bot kritik\[bot\]/],
    ['issue_comment', 'issue_comment.edited.review', /edited or deleted/],
    ['installation', 'installation.created', /installation.created for acme/],
    ['ping', 'ping', /ping/],
  ])('ignores %s %s with its reason and queues nothing', async (event, name, reason) => {
    const reply = await sut.post(event, fixture(name));
    expect(reply.status).toBe(202);
    expect(reply.body).toEqual({ status: 'ignored', reason: expect.stringMatching(reason) });
    expect(await sut.reviews.count()).toBe(0);
  });

  it('passes another label to the reviewer only for a head with no finished review but a skipped one', async () => {
    const payload = fixture('pull_request.labeled');
    payload.label.name = 'needs-review';
    await sut.post('pull_request', fixture('pull_request.opened'), { deliveryId: 'opened-1' });

    const whileQueued = await sut.post('pull_request', payload, { deliveryId: 'label-1' });
    await sut.client.flushall();
    const unseen = await sut.post('pull_request', payload, { deliveryId: 'label-2' });

    expect(whileQueued.body).toEqual({
      status: 'ignored',
      reason: `${HEAD.slice(0, 12)} queued: its review reads the labels`,
    });
    const reviewId = reviewIdFor('github', repo, 42, HEAD, 'labels:needs-review');
    expect(unseen).toMatchObject({ status: 202, body: { status: 'queued', reviewId } });
    const [job] = await sut.reviews.getDelayed();
    expect(reviewRequestSchema.parse(job!.data)).toMatchObject({ reviewId, trigger: 'labeled', headSha: HEAD });
  });

  it('answers an unknown event with 202 ignored', async () => {
    const reply = await sut.post('star', { action: 'created', starred_at: '2026-11-21T10:00:00Z' });
    expect(reply).toMatchObject({ status: 202, body: { status: 'ignored', reason: 'event star is not handled' } });
  });

  it('logs ignored deliveries with the reason and the delivery id', async () => {
    await sut.post('pull_request', fixture('pull_request.closed'), { deliveryId: 'closed-delivery' });
    expect(sut.logs).toContainEqual(
      expect.objectContaining({
        deliveryId: 'closed-delivery',
        reason: 'pull_request.closed does not request a review',
        msg: 'delivery ignored',
      }),
    );
  });

  describe('signature', () => {
    it('rejects a delivery without a signature with 401 and stores nothing', async () => {
      const reply = await sut.post('pull_request', fixture('pull_request.opened'), { signature: null });
      expect(reply.status).toBe(401);
      expect(await sut.client.keys('kritik:*')).toEqual([]);
    });

    it('rejects a signature made with another secret', async () => {
      const body = JSON.stringify(fixture('pull_request.opened'));
      const reply = await sut.post('pull_request', body, { signature: sign(body, 'another secret') });
      expect(reply.status).toBe(401);
    });

    it('rejects a valid signature of different bytes', async () => {
      const body = JSON.stringify(fixture('pull_request.opened'));
      const reply = await sut.post('pull_request', body.replace('"number":42', '"number":43'), {
        signature: sign(JSON.stringify(fixture('pull_request.opened'))),
      });
      expect(reply.status).toBe(401);
    });

    it('rejects the legacy SHA-1 signature header alone', async () => {
      const reply = await sut.post('pull_request', fixture('pull_request.opened'), {
        signature: null,
        headers: { 'x-hub-signature': 'sha1=0000000000000000000000000000000000000000' },
      });
      expect(reply.status).toBe(401);
    });

    it('checks the signature before looking at the body, so malformed JSON unsigned is 401', async () => {
      const reply = await sut.post('pull_request', '{not json', { signature: 'sha256=00' });
      expect(reply.status).toBe(401);
    });

    it('never logs the signature header', async () => {
      const payload = fixture('pull_request.opened');
      const signature = sign(JSON.stringify(payload));
      await sut.post('pull_request', payload);
      await sut.post('pull_request', JSON.stringify(payload), { signature: signature.replace(/.$/, '0') });
      expect(JSON.stringify(sut.logs)).not.toContain(signature.slice(7, 40));
      expect(JSON.stringify(sut.logs)).not.toContain('It is a test webhook secret');
    });
  });

  it.each([
    ['with a query string', '/webhooks/github?source=app'],
    ['with a trailing slash', '/webhooks/github/'],
    ['in other letter case', '/Webhooks/GitHub'],
  ])('handles a delivery posted to the path %s like one to the path itself', async (_, path) => {
    const reply = await sut.post('pull_request', fixture('pull_request.opened'), { path });
    expect(reply).toMatchObject({ status: 202, body: { status: 'queued' } });
    expect(await sut.reviews.count()).toBe(1);
  });

  it('answers deliveries from the HTTP server itself, without Express', async () => {
    const reply = await sut.post('pull_request', fixture('pull_request.opened'));
    expect(reply.headers.get('x-powered-by')).toBeNull();
    expect((await sut.get('/health')).headers.get('x-powered-by')).toBe('Express');
  });

  it('answers another method on the webhook path with 404', async () => {
    const reply = await sut.get('/webhooks/github');
    expect(reply.status).toBe(404);
  });

  it('answers malformed JSON with 400', async () => {
    const reply = await sut.post('pull_request', '{"action": "opened", ');
    expect(reply).toMatchObject({ status: 400, body: { error: 'body is not valid JSON' } });
  });

  it('answers a payload of the wrong shape with 400 naming the field', async () => {
    const payload = fixture('pull_request.opened');
    payload.pull_request.head.sha = 'not-a-sha';
    const reply = await sut.post('pull_request', payload);
    expect(reply.status).toBe(400);
    expect(reply.body.error).toMatch(/pull_request\.head\.sha: must be a commit SHA/);
  });

  it('answers a body over 25 MB with 413', async () => {
    const reply = await sut.post('pull_request', Buffer.alloc(25 * 1024 * 1024 + 1, 0x20));
    expect(reply.status).toBe(413);
    expect(await sut.reviews.count()).toBe(0);
  });

  it('accepts a body of almost 25 MB', async () => {
    const payload = fixture('pull_request.opened');
    const body = JSON.stringify(payload);
    const padded = `${body.slice(0, -1)}, "padding": "${'x'.repeat(25 * 1024 * 1024 - body.length - 20)}"}`;
    const reply = await sut.post('pull_request', padded);
    expect(reply.status).toBe(202);
  });

  it('answers a redelivery with 200 and enqueues nothing more', async () => {
    const first = await sut.post('pull_request', fixture('pull_request.opened'), { deliveryId: 'same' });
    const again = await sut.post('pull_request', fixture('pull_request.opened'), { deliveryId: 'same' });
    expect(again).toMatchObject({ status: 200, body: { status: 'duplicate', accepted: first.body.reviewId } });
    expect(await sut.reviews.count()).toBe(1);
    expect(await sut.client.ttl(redisKeys.delivery('same'))).toBeGreaterThan(71 * 3600);
  });

  it('completes a redelivery whose first attempt was claimed but never queued', async () => {
    const reviewId = reviewIdFor('github', repo, 42, HEAD);
    // What a Redis failure between the claim and the enqueue leaves behind.
    await sut.client.set(redisKeys.delivery('half-done'), reviewId, 'EX', 3600);
    const reply = await sut.post('pull_request', fixture('pull_request.opened'), { deliveryId: 'half-done' });
    expect(reply).toMatchObject({ status: 202, body: { status: 'queued', reviewId } });
    expect(await sut.reviews.getJob(reviewId)).toBeDefined();
  });

  it('turns three pushes within a second into one waiting review of the last head', async () => {
    const shas = [
      '1111111111111111111111111111111111111111',
      '2222222222222222222222222222222222222222',
      '3333333333333333333333333333333333333333',
    ];
    const replies = [];
    for (const sha of shas)
      replies.push(await sut.post('pull_request', withHead(fixture('pull_request.synchronize'), sha)));

    const waiting = [...(await sut.reviews.getDelayed()), ...(await sut.reviews.getWaiting())];
    expect(waiting.map((job) => job.data.headSha)).toEqual([shas[2]]);
    const records = await Promise.all(
      replies.map(async (r) => JSON.parse((await sut.client.get(redisKeys.review(r.body.reviewId)))!)),
    );
    expect(records.map((r) => r.status)).toEqual(['skipped', 'skipped', 'queued']);
    expect(records[0].reason).toBe('superseded by 222222222222');
  });

  it('records the newest head of the pull request for the worker', async () => {
    const reply = await sut.post('pull_request', fixture('pull_request.synchronize'));
    expect(await sut.client.hgetall(redisKeys.prHead('acme/api', 42))).toEqual({
      reviewId: reply.body.reviewId,
      sha: HEAD,
      at: expect.stringMatching(/^\d+$/),
    });
  });

  it('does not review a head again that was already reviewed', async () => {
    const first = await sut.post('pull_request', fixture('pull_request.opened'));
    const record = JSON.parse((await sut.client.get(redisKeys.review(first.body.reviewId)))!);
    await sut.client.set(redisKeys.review(first.body.reviewId), JSON.stringify({ ...record, status: 'posted' }));
    await sut.reviews.obliterate({ force: true });
    const again = await sut.post('pull_request', fixture('pull_request.reopened'));
    expect(again.body).toEqual({ status: 'ignored', reason: `${HEAD.slice(0, 12)} already reviewed (posted)` });
    expect(await sut.reviews.count()).toBe(0);
  });

  describe('conversations', () => {
    it('queues an answer in the thread for a reply that mentions @kritik, beside the waiting review', async () => {
      const opened = await sut.post('pull_request', fixture('pull_request.opened'));
      const reply = await sut.post('pull_request_review_comment', fixture('pull_request_review_comment.created'), {
        deliveryId: 'thread-1',
      });

      expect(reply).toMatchObject({ status: 202, body: { status: 'queued' } });
      expect(reply.body.reviewId).toBe(reviewIdFor('github', repo, 42, HEAD, 'thread-1'));
      const queued = [...(await sut.reviews.getDelayed()), ...(await sut.reviews.getWaiting())];
      const answer = queued.find((j) => j.data.trigger === 'answer')!;
      expect(reviewRequestSchema.parse(answer.data)).toMatchObject({
        headSha: HEAD,
        sender: 'bob',
        thread: { kind: 'review-comment', commentId: 2490000101 },
      });
      // The push's review keeps its place: an answer never replaces a review.
      expect(queued.map((j) => j.id).sort()).toEqual([opened.body.reviewId, reply.body.reviewId].sort());
    });

    it('counts questions against the same per-user limit as commands', async () => {
      const payload = fixture('pull_request_review_comment.created');
      const statuses = [];
      for (let i = 1; i <= 6; i++)
        statuses.push((await sut.post('pull_request_review_comment', payload, { deliveryId: `q-${i}` })).body);
      expect(statuses.slice(0, 5).map((b) => b.status)).toEqual(Array(5).fill('queued'));
      expect(statuses[5]).toEqual({
        status: 'ignored',
        reason: 'user bob gave too many commands on this pull request',
      });
    });

    it('bounds a huge or malformed thread comment: a clear 400 for the wrong shape, the start read of a huge one', async () => {
      const payload = fixture('pull_request_review_comment.created');
      const malformed = await sut.post('pull_request_review_comment', { ...payload, comment: { id: 'x' } });
      const huge = await sut.post('pull_request_review_comment', {
        ...payload,
        comment: { ...payload.comment, body: `${'word '.repeat(20_000)}\n@kritik why?` },
      });
      expect(malformed.status).toBe(400);
      expect(huge.body).toEqual({ status: 'ignored', reason: 'comment does not mention @kritik' });
    });

    it('leaves a thread reply that does not mention the bot alone', async () => {
      const payload = fixture('pull_request_review_comment.created');
      const reply = await sut.post('pull_request_review_comment', {
        ...payload,
        comment: { ...payload.comment, body: 'Fixed in the next push, thanks.' },
      });
      expect(reply.body).toEqual({ status: 'ignored', reason: 'comment does not mention @kritik' });
    });

    it('queues @kritik ask as an answer in the pull request conversation', async () => {
      await sut.post('pull_request', fixture('pull_request.opened'));
      const review = fixture('issue_comment.created.review');
      const reply = await sut.post(
        'issue_comment',
        { ...review, comment: { ...review.comment, body: '@kritik ask why is the retry limit 2?' } },
        { deliveryId: 'ask-1' },
      );
      expect(reply.body).toMatchObject({ status: 'queued', reviewId: reviewIdFor('github', repo, 42, HEAD, 'ask-1') });
      const queued = [...(await sut.reviews.getDelayed()), ...(await sut.reviews.getWaiting())];
      expect(queued.find((j) => j.data.trigger === 'answer')?.data.thread).toEqual({
        kind: 'issue-comment',
        commentId: review.comment.id,
      });
    });
  });

  describe("GitHub's Re-run button", () => {
    it.each(['check_run', 'check_suite'])('queues a fresh review of the head for %s.rerequested', async (event) => {
      const opened = await sut.post('pull_request', fixture('pull_request.opened'));
      // The first review ended failed: a Re-run must still be heard.
      const record = JSON.parse((await sut.client.get(redisKeys.review(opened.body.reviewId)))!);
      await sut.client.set(redisKeys.review(opened.body.reviewId), JSON.stringify({ ...record, status: 'failed' }));
      await sut.reviews.obliterate({ force: true });

      const reply = await sut.post(event, fixture(`${event}.rerequested`), { deliveryId: `rerun-${event}` });

      expect(reply).toMatchObject({ status: 202, body: { status: 'queued' } });
      expect(reply.body.reviewId).toBe(reviewIdFor('github', repo, 42, HEAD, `rerun-${event}`));
      const queued = [...(await sut.reviews.getDelayed()), ...(await sut.reviews.getWaiting())];
      expect(queued.map((j) => [j.data.trigger, j.data.headSha, j.data.sender])).toEqual([
        ['rerequested', HEAD, 'bob'],
      ]);
    });
  });

  describe('comment commands', () => {
    it('queues @kritik help for the worker to answer', async () => {
      const reply = await sut.post('issue_comment', fixture('issue_comment.created.help'), { deliveryId: 'help-1' });
      expect(reply).toMatchObject({ status: 202, body: { status: 'queued', command: 'help' } });
      const [job] = await sut.client.keys('bull:commands:delivery-help-1');
      expect(job).toBeDefined();
      const data = JSON.parse((await sut.client.hget('bull:commands:delivery-help-1', 'data'))!);
      expect(commandJobSchema.parse(data)).toMatchObject({
        command: 'help',
        repo,
        pr: 42,
        commentId: 2490000001,
        sender: 'bob',
      });
    });

    it('queues a fresh review of the known head for @kritik review', async () => {
      const opened = await sut.post('pull_request', fixture('pull_request.opened'));
      const reply = await sut.post('issue_comment', fixture('issue_comment.created.review'), { deliveryId: 'c-1' });
      expect(reply.status).toBe(202);
      expect(reply.body.reviewId).toBe(reviewIdFor('github', repo, 42, HEAD, 'c-1'));
      expect(reply.body.reviewId).not.toBe(opened.body.reviewId);
      const waiting = await sut.reviews.getDelayed();
      expect(waiting.map((j) => [j.data.trigger, j.data.headSha, j.data.sender])).toEqual([['comment', HEAD, 'bob']]);
    });

    it('takes at most 5 commands an hour from one user on one pull request, and counts a redelivery once', async () => {
      const help = fixture('issue_comment.created.help');
      const post = (id: string, body = help) => sut.post('issue_comment', body, { deliveryId: id });
      const statuses = [];
      for (let i = 1; i <= 5; i++) statuses.push((await post(`rate-${i}`)).body.status);

      const sixth = await post('rate-6');
      const redelivered = await post('rate-1');
      const otherUser = await post('rate-7', {
        ...help,
        comment: { ...help.comment, user: { ...help.comment.user, login: 'carol', id: 99 } },
      });

      expect(statuses).toEqual(Array(5).fill('queued'));
      expect(sixth).toMatchObject({
        status: 202,
        body: { status: 'ignored', reason: expect.stringContaining('too many commands') },
      });
      expect(redelivered.body.status).toBe('duplicate');
      expect(otherUser.body.status).toBe('queued');
      expect(await sut.client.exists('bull:commands:delivery-rate-6')).toBe(0);
    });

    it('queues @kritik full review from a maintainer as a full review of the known head', async () => {
      await sut.post('pull_request', fixture('pull_request.opened'));
      const review = fixture('issue_comment.created.review');
      const full = { ...review, comment: { ...review.comment, body: '@kritik full review' } };

      const reply = await sut.post('issue_comment', full, { deliveryId: 'full-1' });
      const outsider = await sut.post(
        'issue_comment',
        { ...full, comment: { ...full.comment, author_association: 'CONTRIBUTOR' } },
        { deliveryId: 'full-2' },
      );

      expect(reply.status).toBe(202);
      expect((await sut.reviews.getDelayed()).map((j) => j.data.trigger)).toEqual(['full_review']);
      expect(outsider.body).toEqual({ status: 'ignored', reason: 'user bob may not ask for a full review' });
    });

    it('stops automatic reviews after @kritik pause until @kritik resume, and still reviews on request', async () => {
      const review = fixture('issue_comment.created.review');
      const say = (body: string, id: string) =>
        sut.post('issue_comment', { ...review, comment: { ...review.comment, body } }, { deliveryId: id });
      await sut.post('pull_request', fixture('pull_request.opened'));
      await sut.reviews.obliterate({ force: true });

      const paused = await say('@kritik pause', 'pause-1');
      const pushed = await sut.post('pull_request', fixture('pull_request.synchronize'), { deliveryId: 'sync-1' });
      const asked = await say('@kritik review', 'asked-1');
      const resumed = await say('@kritik resume', 'resume-1');
      const after = await sut.post('pull_request', fixture('pull_request.synchronize'), { deliveryId: 'sync-2' });

      expect(paused.body).toEqual({ status: 'queued', command: 'pause' });
      expect(pushed.body).toEqual({
        status: 'ignored',
        reason: 'automatic reviews of this pull request are paused by bob',
      });
      expect(asked.body).toMatchObject({
        status: 'queued',
        reviewId: reviewIdFor('github', repo, 42, HEAD, 'asked-1'),
      });
      expect(resumed.body).toEqual({ status: 'queued', command: 'resume' });
      expect(after.body).toMatchObject({ status: 'queued' });
      // The worker acknowledges each switch with a reaction: one command job each.
      expect(await sut.client.exists('bull:commands:delivery-pause-1', 'bull:commands:delivery-resume-1')).toBe(2);
    });

    it('answers an unknown command with help', async () => {
      const review = fixture('issue_comment.created.review');
      const reply = await sut.post(
        'issue_comment',
        { ...review, comment: { ...review.comment, body: '@kritik approve this please' } },
        { deliveryId: 'unknown-1' },
      );
      expect(reply.body).toEqual({ status: 'queued', command: 'help' });
    });

    it('hands @kritik review to the worker when the head is not known yet', async () => {
      const reply = await sut.post('issue_comment', fixture('issue_comment.created.review'));
      expect(reply).toMatchObject({ status: 202, body: { status: 'queued', command: 'review' } });
      expect(await sut.reviews.count()).toBe(0);
    });
  });

  it('tags its log lines with the delivery id and review id', async () => {
    const reply = await sut.post('pull_request', fixture('pull_request.opened'), { deliveryId: 'tagged' });
    expect(sut.logs).toContainEqual(
      expect.objectContaining({
        deliveryId: 'tagged',
        reviewId: reply.body.reviewId,
        msg: 'review queued',
        level: 'info',
      }),
    );
  });
});
