// The reviews API, probes and metrics over real HTTP against a real Redis.
import { LearnedRulesStore, ReviewStore } from '@kritik/server';
import { postedResult } from '@kritik/testing';
import { ReviewsController } from '../src/reviews/reviews.controller.js';
import { API_TOKEN, type BackendHarness, fixture, reviewRequest as job, startBackend } from './backend.harness.js';

const auth = { authorization: `Bearer ${API_TOKEN}` };

describe(ReviewsController.name, () => {
  let sut: BackendHarness;
  let store: ReviewStore;

  beforeAll(async () => {
    sut = await startBackend();
    store = new ReviewStore(sut.client);
  });
  afterAll(() => sut?.stop());
  beforeEach(() => sut.client.flushall());

  it('refuses a request without a token with 401 and no data', async () => {
    await store.create(job('acme/api', 1, 'a'.repeat(40)));
    const reply = await sut.get('/api/reviews');
    expect(reply.status).toBe(401);
    expect(JSON.stringify(reply.body)).not.toContain('acme/api');
  });

  it('refuses a wrong token', async () => {
    expect((await sut.get('/api/reviews', { authorization: 'Bearer not-the-token' })).status).toBe(401);
  });

  it('lists reviews filtered by repository, pull request and status', async () => {
    const a = (await store.create(job('acme/api', 1, 'a'.repeat(40)))).record;
    const b = (await store.create(job('acme/api', 2, 'b'.repeat(40)))).record;
    await store.create(job('acme/web', 1, 'c'.repeat(40)));
    await store.transition(b.id, 'running', { from: ['queued'] });
    await store.transition(b.id, 'posted', {
      from: ['running'],
      result: postedResult({ costUsd: 0.0435, tokens: { input: 10_000, output: 900, cacheRead: 0, cacheWrite: 0 } }),
    });

    const byPr = await sut.get('/api/reviews?repo=acme/api&pr=1', auth);
    expect(byPr).toMatchObject({ status: 200, body: { reviews: [{ id: a.id, status: 'queued' }] } });
    const byStatus = await sut.get('/api/reviews?status=posted', auth);
    expect(byStatus.body.reviews).toEqual([
      expect.objectContaining({
        id: b.id,
        timeline: [
          expect.objectContaining({ status: 'queued' }),
          expect.objectContaining({ status: 'running' }),
          expect.objectContaining({ status: 'posted' }),
        ],
        result: expect.objectContaining({ costUsd: 0.0435, tokens: expect.objectContaining({ input: 10_000 }) }),
      }),
    ]);
    expect((await sut.get('/api/reviews?repo=acme/api', auth)).body.reviews).toHaveLength(2);
  });

  it('serves one review by id and 404 for an unknown one', async () => {
    const { record } = await store.create(job('acme/api', 3, 'd'.repeat(40)));
    expect(await sut.get(`/api/reviews/${record.id}`, auth)).toMatchObject({ status: 200, body: record });
    expect((await sut.get('/api/reviews/0123456789abcdef0123', auth)).status).toBe(404);
  });

  it('answers 400 for a bad filter', async () => {
    const reply = await sut.get('/api/reviews?status=done', auth);
    expect(reply.status).toBe(400);
    expect(JSON.stringify(reply.body)).toMatch(/status/);
  });

  it('serves the review a webhook queued', async () => {
    const queued = await sut.post('pull_request', fixture('pull_request.opened'));
    const reply = await sut.get(`/api/reviews/${queued.body.reviewId}`, auth);
    expect(reply.body).toMatchObject({ status: 'queued', repo: 'acme/api', pr: 42, trigger: 'opened' });
  });

  describe('without a configured token', () => {
    let open: BackendHarness;
    beforeAll(async () => {
      open = await startBackend({ KRITIK_API_TOKEN: '' }, sut.redis);
    });
    afterAll(() => open?.stop());

    it('refuses every request, saying the API is disabled', async () => {
      const reply = await open.get('/api/reviews', { authorization: 'Bearer anything-at-all-here' });
      expect(reply.status).toBe(401);
      expect(reply.body.message).toMatch(/KRITIK_API_TOKEN is not set/);
    });
  });
});

describe('probes and metrics', () => {
  let sut: BackendHarness;

  beforeAll(async () => {
    sut = await startBackend();
  });
  afterAll(() => sut?.stop());

  it('answers liveness and readiness', async () => {
    expect(await sut.get('/health')).toMatchObject({ status: 200, body: { status: 'ok' } });
    expect(await sut.get('/ready')).toMatchObject({ status: 200, body: { info: { redis: { status: 'up' } } } });
  });

  it('counts deliveries by event and outcome, times them and reports queue depth', async () => {
    await sut.post('pull_request', fixture('pull_request.opened'));
    await sut.post('pull_request', fixture('pull_request.opened'), { signature: null });
    const text = (await sut.get('/metrics')).body as string;
    expect(text).toMatch(
      /^kritik_webhook_deliveries_total\{event="pull_request",outcome="queued",service="backend"\} 1$/m,
    );
    expect(text).toMatch(
      /^kritik_webhook_deliveries_total\{event="unverified",outcome="unauthorized",service="backend"\} 1$/m,
    );
    expect(text).toMatch(/^kritik_webhook_handling_duration_seconds_count\{service="backend",outcome="queued"\} 1$/m);
    expect(text).toMatch(/^kritik_queue_jobs\{queue="reviews",state="delayed",service="backend"\} 1$/m);
    expect(text).toMatch(/^kritik_process_resident_memory_bytes\{service="backend"\} \d+/m);
  });
});

describe('learned rules API', () => {
  let sut: BackendHarness;
  let store: LearnedRulesStore;
  const repo = { owner: 'acme', name: 'api' };

  beforeAll(async () => {
    sut = await startBackend();
    store = new LearnedRulesStore(sut.client);
  });
  afterAll(() => sut?.stop());
  beforeEach(() => sut.client.flushall());

  const del = (path: string, headers: Record<string, string> = auth) =>
    fetch(`${sut.url}${path}`, { method: 'DELETE', headers });

  it('lists a repository’s rules newest first with its acceptance, and removes one', async () => {
    await store.record(
      'github',
      repo,
      [{ fingerprint: '0123456789abcdef', rule: 'Error ignored (in src/a.go)' }],
      new Date(1_000),
    );
    await store.record(
      'github',
      repo,
      [{ fingerprint: 'fedcba9876543210', rule: 'Shadowed x (in src/b.go) — intended' }],
      new Date(2_000),
    );
    await store.addResolved('github', repo, 2);

    const listed = await sut.get('/api/repos/acme/api/rules', auth);
    const removed = await del('/api/repos/acme/api/rules/0123456789abcdef');
    const again = await del('/api/repos/acme/api/rules/0123456789abcdef');

    expect(listed.status).toBe(200);
    expect(listed.body).toMatchObject({
      repo: 'acme/api',
      rules: [{ fingerprint: 'fedcba9876543210' }, { fingerprint: '0123456789abcdef' }],
      acceptance: { resolved: 2, dismissed: 2, rate: 0.5 },
    });
    expect([removed.status, again.status]).toEqual([204, 404]);
    expect((await store.learnedFor('github', repo)).fingerprints).toEqual(['fedcba9876543210']);
  });

  it('names a GitLab project with ?platform=gitlab, apart from the GitHub repository of the same path', async () => {
    await store.record('gitlab', repo, [{ fingerprint: 'aaaaaaaaaaaaaaaa', rule: 'GitLab only (in a.ts)' }]);

    const gitlab = await sut.get('/api/repos/acme/api/rules?platform=gitlab', auth);
    const github = await sut.get('/api/repos/acme/api/rules', auth);
    const crossRemove = await del('/api/repos/acme/api/rules/aaaaaaaaaaaaaaaa');

    expect(gitlab.body).toMatchObject({ rules: [{ fingerprint: 'aaaaaaaaaaaaaaaa' }], acceptance: { dismissed: 1 } });
    expect(github.body).toMatchObject({ rules: [], acceptance: { dismissed: 0 } });
    expect(crossRemove.status).toBe(404);
    expect((await sut.get('/api/repos/acme/api/rules?platform=bitbucket', auth)).status).toBe(400);
  });

  it('refuses a request without the token, and malformed names with 400', async () => {
    expect((await sut.get('/api/repos/acme/api/rules')).status).toBe(401);
    expect((await del('/api/repos/acme/api/rules/not-a-fingerprint')).status).toBe(400);
    expect((await sut.get('/api/repos/acme/a%20b/rules', auth)).status).toBe(400);
  });
});
