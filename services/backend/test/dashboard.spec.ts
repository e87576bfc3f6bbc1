// The dashboard's API over real HTTP against a real Redis and the GitHub fake's OAuth: sign-in,
// access per repository (404, never the record), CSRF, session expiry, paging 10,000 records.
import {
  budgetSnapshot,
  budgetsCovering,
  CSRF_HEADER,
  DASHBOARD_API,
  platformStatusSchema,
  type RepositoryStats,
  type ReviewRecord,
  redisKeys,
  reviewIdFor,
  reviewPolicySpecSchema,
  workerStatusKeys,
} from '@kritik/core';
import { BudgetSnapshotStore, PrHeadStore, ReviewLifecycle, ReviewStore, WorkerStatusStore } from '@kritik/server';
import { POSTED_FINDING, postedDetail, postedResult, workerStatus } from '@kritik/testing';
import { BudgetLedger } from '@kritik/worker';
import { DashboardController } from '../src/dashboard/dashboard.controller.js';
import { API_TOKEN, type BackendHarness, reviewRequest as request, startBackend } from './backend.harness.js';
import { type DashboardHarness, startDashboard } from './dashboard.harness.js';

const sha = (n: number) => n.toString(16).padStart(40, '0');

describe(DashboardController.name, () => {
  let sut: DashboardHarness;
  let store: ReviewStore;
  let lifecycle: ReviewLifecycle;
  const get = (path: string, cookie?: string) => sut.backend.get(path, cookie ? { cookie } : {});
  const post = (path: string, headers: Record<string, string>) =>
    fetch(`${sut.backend.url}${path}`, { method: 'POST', headers });

  beforeAll(async () => {
    sut = await startDashboard();
    store = new ReviewStore(sut.backend.client);
    lifecycle = new ReviewLifecycle(store, new PrHeadStore(sut.backend.client));
  });
  afterAll(() => sut?.stop());
  beforeEach(() => sut.backend.client.flushall());

  it('signs a user in through GitHub and names the repositories they reach', async () => {
    const cookie = await sut.signIn('alice', ['acme/api']);
    const session = await get(DASHBOARD_API.session, cookie);
    expect(session).toMatchObject({ status: 200, body: { login: 'alice', admin: false, repos: ['acme/api'] } });
    expect(session.body.csrf).toMatch(/^[\w-]{32}$/);
  });

  it('sets the session cookie HttpOnly, Secure and SameSite=Lax, signed', async () => {
    sut.github.signInAs('alice', ['acme/api']);
    const login = await fetch(`${sut.backend.url}/api/auth/login`, { redirect: 'manual' });
    expect(login.status).toBe(302);
    expect(login.headers.get('location')).toContain(`${sut.github.url}/login/oauth/authorize?client_id=`);
    const cookie = await sut.signIn('alice', ['acme/api']);
    expect(cookie).toMatch(/^kritik_session=[\w-]+\.[\w-]+$/);
    const callbackCookies = login.headers.getSetCookie().join('\n');
    expect(callbackCookies).toMatch(/HttpOnly; Secure; SameSite=Lax/);
  });

  it('refuses a callback whose state is not the one it sent', async () => {
    sut.github.signInAs('alice');
    const reply = await fetch(`${sut.backend.url}/api/auth/callback?code=abc&state=forged`, {
      redirect: 'manual',
      headers: { cookie: 'kritik_oauth_state=forged.bad' },
    });
    expect(reply.headers.get('location')).toBe('/?signin=failed');
    expect(reply.headers.getSetCookie().some((c) => c.startsWith('kritik_session='))).toBe(false);
  });

  it('answers 401 to an altered session cookie', async () => {
    const cookie = await sut.signIn('alice', ['acme/api']);
    const tampered = cookie.replace(/=(.)/, (_, c: string) => `=${c === 'a' ? 'b' : 'a'}`);
    expect((await get(DASHBOARD_API.session, tampered)).status).toBe(401);
    expect((await get(DASHBOARD_API.reviews)).status).toBe(401);
  });

  it('lists only reviews of repositories the user reaches', async () => {
    await store.create(request('acme/api', 1, sha(1)));
    await store.create(request('acme/web', 2, sha(2)));
    await store.create(request('other/lib', 3, sha(3)));
    const cookie = await sut.signIn('alice', ['acme/api']);
    const reply = await get(DASHBOARD_API.reviews, cookie);
    expect(reply.body.reviews.map((r: ReviewRecord) => r.repo)).toEqual(['acme/api']);
  });

  it('answers 404 for a review of a repository the user cannot reach, as for a missing one', async () => {
    const { record } = await store.create(request('acme/web', 2, sha(2)));
    const cookie = await sut.signIn('alice', ['acme/api']);
    const hidden = await get(DASHBOARD_API.review(record.id), cookie);
    const missing = await get(DASHBOARD_API.review('0123456789abcdef0123'), cookie);
    expect(hidden.status).toBe(404);
    expect(JSON.stringify(hidden.body)).not.toContain('acme/web');
    expect(missing.status).toBe(404);
    expect((await get(DASHBOARD_API.review(record.id), await sut.signIn('bob', ['acme/web']))).status).toBe(200);
  });

  it("serves a review's detail as the reviewer reported it, hostile strings untouched", async () => {
    const review = request('acme/api', 4, sha(4));
    await store.create(review);
    const hostile = '<img src=x onerror=alert(1)> "é\\ 😀 \u0000';
    const result = postedResult({
      ...postedDetail(),
      findingList: [{ ...POSTED_FINDING, title: hostile }],
      findingsOmitted: 3,
      skippedFiles: [{ path: `docs/${hostile}.md`, reason: hostile }],
    });
    await lifecycle.end(review, { status: 'posted', result });

    const reply = await get(DASHBOARD_API.review(review.reviewId), await sut.signIn('alice', ['acme/api']));

    expect(reply.status).toBe(200);
    expect(reply.body.result).toEqual(result);
  });

  it('filters by repository, status, author and date', async () => {
    const a = (await store.create(request('acme/api', 1, sha(1), 'alice'))).record;
    await store.create(request('acme/api', 2, sha(2), 'bob'));
    await store.transition(a.id, 'running', { from: ['queued'] });
    const cookie = await sut.signIn('carol');
    const ids = async (query: string) =>
      (await get(`${DASHBOARD_API.reviews}?${query}`, cookie)).body.reviews.map((r: ReviewRecord) => r.pr);
    expect(await ids('status=running')).toEqual([1]);
    expect(await ids('author=BOB')).toEqual([2]);
    expect(await ids('repo=acme/api')).toEqual([1, 2]);
    expect(await ids('from=2999-01-01')).toEqual([]);
    expect(await ids(`to=${new Date().toISOString().slice(0, 10)}`)).toEqual([1, 2]);
    expect((await get(`${DASHBOARD_API.reviews}?status=done`, cookie)).status).toBe(400);
    expect((await get(`${DASHBOARD_API.reviews}?author=${encodeURIComponent('<script>')}`, cookie)).status).toBe(400);
  });

  it('pages through 10,000 records, each once, newest first', async () => {
    const start = Date.UTC(2026, 10, 1);
    for (let i = 0; i < 10_000; i += 500) {
      await Promise.all(
        Array.from({ length: 500 }, (_, j) =>
          store.create(
            request(i + j < 5_000 ? 'acme/api' : 'acme/web', i + j + 1, sha(i + j + 1)),
            new Date(start + (i + j) * 1000),
          ),
        ),
      );
    }
    const cookie = await sut.signIn('carol');
    const seen: number[] = [];
    let cursor: string | undefined;
    let pages = 0;
    const began = Date.now();
    do {
      const reply = await get(`${DASHBOARD_API.reviews}?limit=200${cursor ? `&cursor=${cursor}` : ''}`, cookie);
      expect(reply.status).toBe(200);
      seen.push(...reply.body.reviews.map((r: ReviewRecord) => r.pr));
      cursor = reply.body.next;
      pages++;
    } while (cursor && pages < 100);
    expect(seen).toHaveLength(10_000);
    expect(new Set(seen).size).toBe(10_000);
    expect(seen[0]).toBe(10_000);
    expect(seen.at(-1)).toBe(1);
    expect(Date.now() - began).toBeLessThan(20_000);
    // A user reaching half the repositories pages through their half only.
    const bob = await sut.signIn('bob', ['acme/api']);
    const first = await get(`${DASHBOARD_API.reviews}?limit=200`, bob);
    expect(first.body.reviews).toHaveLength(200);
    expect(first.body.reviews.every((r: ReviewRecord) => r.repo === 'acme/api')).toBe(true);
  });

  it('reviews again only with the session CSRF token', async () => {
    const { record } = await store.create(request('acme/api', 7, sha(7)));
    const cookie = await sut.signIn('alice', ['acme/api']);
    const { csrf } = (await get(DASHBOARD_API.session, cookie)).body;
    expect((await post(DASHBOARD_API.reviewAgain(record.id), { cookie })).status).toBe(403);
    expect((await post(DASHBOARD_API.reviewAgain(record.id), { cookie, [CSRF_HEADER]: 'x'.repeat(32) })).status).toBe(
      403,
    );
    const ok = await post(DASHBOARD_API.reviewAgain(record.id), { cookie, [CSRF_HEADER]: csrf });
    expect(ok.status).toBe(202);
    const { reviewId } = (await ok.json()) as { reviewId: string };
    expect(reviewId).not.toBe(record.id);
    expect(await lifecycle.get(reviewId)).toMatchObject({
      repo: 'acme/api',
      pr: 7,
      trigger: 'full_review',
      author: 'alice',
      status: 'queued',
    });
    expect(await sut.backend.reviews.getJob(reviewId)).toBeDefined();
  });

  it('does not review again a review the user cannot reach', async () => {
    const { record } = await store.create(request('acme/web', 8, sha(8)));
    const cookie = await sut.signIn('alice', ['acme/api']);
    const { csrf } = (await get(DASHBOARD_API.session, cookie)).body;
    expect((await post(DASHBOARD_API.reviewAgain(record.id), { cookie, [CSRF_HEADER]: csrf })).status).toBe(404);
    expect(await sut.backend.reviews.getJobCounts()).toMatchObject({ delayed: 0, waiting: 0 });
  });

  it('ends the session on sign-out', async () => {
    const cookie = await sut.signIn('alice', ['acme/api']);
    expect((await post(DASHBOARD_API.logout, { cookie })).status).toBe(204);
    expect((await get(DASHBOARD_API.session, cookie)).status).toBe(401);
  });

  it('shows the platform page to admins and admin team members only', async () => {
    expect((await get(DASHBOARD_API.platform, await sut.signIn('alice', ['acme/api']))).status).toBe(404);
    expect((await get(DASHBOARD_API.platform, await sut.signIn('team-lead'))).status).toBe(200);
    const admin = await get(DASHBOARD_API.platform, await sut.signIn('ops-lead'));
    expect(admin).toMatchObject({
      status: 200,
      body: {
        queue: { waiting: 0 },
        running: [],
        replicas: [],
        unreadableReplicas: [],
        versions: { backend: '0.1.0', workers: [] },
      },
    });
  });

  it('shows every worker replica: ready, not ready with its missing permission, and stale', async () => {
    const workers = new WorkerStatusStore(sut.backend.client);
    await workers.publish(workerStatus({ replica: 'worker-ready', beatAgoMs: 1_000 }));
    await workers.publish(
      workerStatus({ replica: 'worker-rbac', beatAgoMs: 2_000, version: '0.2.0', missing: ['delete jobs.batch'] }),
    );
    await workers.publish(workerStatus({ replica: 'worker-gone', beatAgoMs: 10 * 60_000 }));

    const res = await get(DASHBOARD_API.platform, await sut.signIn('ops-lead'));
    const body = platformStatusSchema.parse(res.body);
    expect(body.replicas.map((r) => [r.replica, r.ready, r.stale])).toEqual([
      ['worker-ready', true, false],
      ['worker-rbac', false, false],
      ['worker-gone', true, true],
    ]);
    expect(body.replicas[1]!.permissions).toContainEqual({ permission: 'delete jobs.batch', state: 'missing' });
    expect(body.unreadableReplicas).toEqual([]);
    expect(body.versions).toMatchObject({
      backend: '0.1.0',
      workers: ['0.1.0', '0.2.0'],
      reviewerImages: ['ghcr.io/kritik-dev/kritik-reviewer:0.1.0', 'ghcr.io/kritik-dev/kritik-reviewer:0.2.0'],
      mismatched: true,
    });
  });

  it('names a replica whose status it cannot read instead of leaving it out', async () => {
    await sut.backend.client.set(
      workerStatusKeys.replica('worker-next'),
      JSON.stringify({ replica: 'worker-next', v: 2 }),
    );
    await sut.backend.client.zadd(workerStatusKeys.replicas(), Date.now(), 'worker-next');

    const res = await get(DASHBOARD_API.platform, await sut.signIn('ops-lead'));
    const body = platformStatusSchema.parse(res.body);
    expect(body.replicas).toEqual([]);
    expect(body.unreadableReplicas).toEqual([{ replica: 'worker-next', error: expect.stringContaining('version') }]);
  });

  it('flags no mismatch when only a stale replica runs another version', async () => {
    const workers = new WorkerStatusStore(sut.backend.client);
    await workers.publish(workerStatus({ replica: 'worker-old', beatAgoMs: 5 * 60_000, version: '0.0.9' }));

    const res = await get(DASHBOARD_API.platform, await sut.signIn('ops-lead'));
    expect(platformStatusSchema.parse(res.body).versions).toMatchObject({ workers: ['0.0.9'], mismatched: false });
  });

  it('counts reviews and cost per repository and day', async () => {
    const { record } = await store.create(request('acme/api', 9, sha(9)));
    await store.transition(record.id, 'running', { from: ['queued'] });
    await store.transition(record.id, 'failed', { from: ['running'], reason: 'Job deadline exceeded' });
    const reply = await get(DASHBOARD_API.repositories, await sut.signIn('alice', ['acme/api']));
    const [repo] = reply.body.repositories;
    expect(repo.repo).toBe('acme/api');
    expect(repo.days).toHaveLength(30);
    expect(repo.days.at(-1)).toMatchObject({ reviews: 1, failed: 1 });
    expect(repo.lastFailures).toEqual([expect.objectContaining({ id: record.id, reason: 'Job deadline exceeded' })]);
    expect(repo.budgets).toEqual([]);
  });

  describe('budgets', () => {
    const snapshot = budgetSnapshot(
      [
        {
          name: 'spend',
          spec: reviewPolicySpecSchema.parse({
            selector: { orgs: ['acme'] },
            budgets: { repositoryPerDayUsd: 5, orgPerMonthUsd: 100 },
          }),
        },
        {
          name: 'team-web',
          spec: reviewPolicySpecSchema.parse({
            selector: { repositories: ['acme/web'] },
            budgets: { repositoryPerMonthUsd: 20 },
          }),
        },
      ],
      new Date(),
    );
    const subject = (repo: string) => ({
      platform: 'github' as const,
      repo: { owner: repo.split('/')[0]!, name: repo.split('/')[1]! },
    });
    /** Spends as the worker does: reserve before the model is called, settle after (or hold a live reservation). */
    async function spend(reviewId: string, repo: string, usd: number, settled = true) {
      const ledger = new BudgetLedger(sut.backend.client, { reservationTtlMs: 600_000 });
      const budgets = budgetsCovering(snapshot, { platform: 'github', ...subject(repo).repo });
      expect(await ledger.reserve(reviewId, budgets, subject(repo), usd)).toEqual({ ok: true });
      if (settled) await ledger.settle(reviewId, budgets, subject(repo), usd);
    }
    const repositories = async (login: string, repos: string[]) =>
      (await get(DASHBOARD_API.repositories, await sut.signIn(login, repos))).body.repositories as RepositoryStats[];

    beforeEach(() => new BudgetSnapshotStore(sut.backend.client).publish(snapshot));

    it('shows every budget covering a repository, with what was spent and reserved and when it resets', async () => {
      await spend('review-1', 'acme/api', 1.5);
      await spend('review-2', 'acme/api', 0.5, false);
      await spend('review-3', 'acme/web', 3);

      const [repo] = await repositories('alice', ['acme/api']);

      const tomorrow = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);
      expect(repo!.budgets).toEqual([
        {
          id: 'spend/repository-per-day',
          policy: 'spend',
          scope: 'repository',
          period: 'day',
          subject: 'acme/api',
          limitUsd: 5,
          usedUsd: 2,
          resetsAt: `${tomorrow}T00:00:00.000Z`,
        },
        expect.objectContaining({
          id: 'spend/org-per-month',
          scope: 'org',
          subject: 'acme',
          limitUsd: 100,
          usedUsd: 5,
        }),
      ]);
    });

    it("shows no budget of a repository the user cannot reach; an org budget only as its owner's total", async () => {
      await spend('review-3', 'acme/web', 3);

      const alice = await repositories('alice', ['acme/api']);
      const bob = await repositories('bob', ['acme/web']);

      expect(alice.map((r) => r.repo)).toEqual(['acme/api']);
      expect(alice[0]!.budgets!.map((b) => [b.id, b.subject, b.usedUsd])).toEqual([
        ['spend/repository-per-day', 'acme/api', 0],
        ['spend/org-per-month', 'acme', 3],
      ]);
      expect(JSON.stringify(alice)).not.toMatch(/acme\/web|team-web/);
      expect(bob[0]!.budgets!.map((b) => [b.id, b.subject, b.usedUsd])).toEqual([
        ['spend/repository-per-day', 'acme/web', 3],
        ['spend/org-per-month', 'acme', 3],
        ['team-web/repository-per-month', 'acme/web', 3],
      ]);
    });

    it('shows machines every repository on its platform, a GitLab project apart from its GitHub namesake', async () => {
      const gitlab = { ...request('acme/api', 5, sha(5)), platform: 'gitlab' as const };
      await store.create({ ...gitlab, reviewId: reviewIdFor('gitlab', gitlab.repo, 5, sha(5)) });
      await store.create(request('acme/api', 6, sha(6)));
      await new BudgetSnapshotStore(sut.backend.client).publish(
        budgetSnapshot(
          [
            {
              name: 'gitlab-only',
              spec: reviewPolicySpecSchema.parse({
                selector: { platforms: ['gitlab'] },
                budgets: { orgPerMonthUsd: 9 },
              }),
            },
          ],
          new Date(),
        ),
      );

      const reply = await sut.backend.get(DASHBOARD_API.repositories, { authorization: `Bearer ${API_TOKEN}` });

      const shown = (reply.body.repositories as RepositoryStats[]).map((r) => [
        r.platform,
        r.repo,
        r.budgets?.map((b) => b.id),
      ]);
      expect(shown).toEqual(
        expect.arrayContaining([
          ['gitlab', 'acme/api', ['gitlab-only/org-per-month']],
          ['github', 'acme/api', []],
        ]),
      );
      expect(shown).toHaveLength(2);
    });

    it('answers null budgets, and the rest of the page, when the published budgets cannot be read', async () => {
      await sut.backend.client.set(redisKeys.budgetSnapshot(), '{"policies": "<script>"}');

      const [repo] = await repositories('alice', ['acme/api']);

      expect(repo).toMatchObject({ repo: 'acme/api', budgets: null });
      expect(repo!.days).toHaveLength(30);
    });
  });

  it('streams changes of reachable repositories only', async () => {
    const cookie = await sut.signIn('alice', ['acme/api']);
    const controller = new AbortController();
    const response = await fetch(`${sut.backend.url}${DASHBOARD_API.events}`, {
      headers: { cookie },
      signal: controller.signal,
    });
    expect(response.headers.get('content-type')).toContain('text/event-stream');
    const reader = response.body!.getReader();
    const hidden = (await store.create(request('acme/web', 11, sha(11)))).record;
    const shown = (await store.create(request('acme/api', 10, sha(10)))).record;
    let text = '';
    const deadline = Date.now() + 5_000;
    while (!text.includes(shown.id) && Date.now() < deadline)
      text += new TextDecoder().decode((await reader.read()).value);
    controller.abort();
    expect(text).toContain(`event: review`);
    expect(text).toContain(shown.id);
    expect(text).not.toContain(hidden.id);
  });

  it('still serves machines with the bearer token', async () => {
    await store.create(request('other/lib', 3, sha(3)));
    const reply = await sut.backend.get(DASHBOARD_API.reviews, { authorization: `Bearer ${API_TOKEN}` });
    expect(reply.body.reviews).toHaveLength(1);
    expect((await sut.backend.get('/api/reviews', { authorization: `Bearer ${API_TOKEN}` })).status).toBe(200);
  });

  it('serves the app for page paths with a same-origin CSP, and leaves API paths alone', async () => {
    const page = await get('/reviews/0123456789abcdef0123');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("default-src 'self'");
    expect(String(page.body)).toContain('<div id="app">');
    expect((await get('/api/nothing-here')).status).toBe(404);
    expect((await get('/../../etc/passwd')).body).not.toContain('root:');
  });
});

describe('dashboard without sign-in configured', () => {
  let backend: BackendHarness;
  beforeAll(async () => {
    backend = await startBackend();
  });
  afterAll(() => backend?.stop());

  it('is off: no pages, no dashboard API, no sign-in', async () => {
    expect((await backend.get('/')).status).toBe(404);
    expect((await backend.get(DASHBOARD_API.session)).status).toBe(404);
    expect((await backend.get('/api/auth/login')).status).toBe(404);
  });
});

describe('dashboard sessions', () => {
  let sut: DashboardHarness;
  beforeAll(async () => {
    sut = await startDashboard({ KRITIK_SESSION_TTL_SECONDS: '1', KRITIK_DASHBOARD_ACCESS_CACHE_SECONDS: '0' });
  });

  it('end when GitHub no longer accepts the user token at the next access check', async () => {
    const cookie = await sut.signIn('dave', ['acme/api']);
    expect((await sut.backend.get(DASHBOARD_API.reviews, { cookie })).status).toBe(200);
    sut.github.revokeUserTokens('dave');
    expect((await sut.backend.get(DASHBOARD_API.reviews, { cookie })).status).toBe(401);
    expect((await sut.backend.get(DASHBOARD_API.session, { cookie })).status).toBe(401);
  });
  afterAll(() => sut?.stop());

  it('expire after their time to live', async () => {
    const cookie = await sut.signIn('alice', ['acme/api']);
    expect((await sut.backend.get(DASHBOARD_API.session, { cookie })).status).toBe(200);
    await new Promise((r) => setTimeout(r, 1_200));
    expect((await sut.backend.get(DASHBOARD_API.session, { cookie })).status).toBe(401);
  });
});
