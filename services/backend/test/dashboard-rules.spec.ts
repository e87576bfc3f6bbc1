// The dashboard's learned rules over real HTTP against a real Redis and the code hosts' OAuth fakes:
// listing with acceptance, removing with and without the session's CSRF token, 404 for a
// repository the user cannot see, and a GitLab project's rules apart from a GitHub repository's.
import { CSRF_HEADER, DASHBOARD_API } from '@kritik/core';
import { LearnedRulesStore } from '@kritik/server';
import { DashboardRulesController } from '../src/dashboard/dashboard-rules.controller.js';
import { type DashboardHarness, startDashboard } from './dashboard.harness.js';

const REPORTER = 20;
const repo = { owner: 'acme', name: 'api' };
const hostile = {
  fingerprint: '0123456789abcdef',
  rule: 'Unchecked input (in src/a.ts) — <img src=x onerror="alert(1)"> {{constructor.constructor("alert(2)")()}} \u202e',
  via: 'ignore' as const,
};
const older = { fingerprint: 'fedcba9876543210', rule: 'Shadowed x (in src/b.ts)', via: 'reaction' as const };

describe(DashboardRulesController.name, () => {
  let sut: DashboardHarness;
  let store: LearnedRulesStore;
  const rulesOf = (platform: string, name: string) =>
    `${DASHBOARD_API.rules}?${new URLSearchParams({ platform, repo: name })}`;
  const remove = (platform: string, name: string, fp: string, headers: Record<string, string>) =>
    fetch(`${sut.backend.url}${DASHBOARD_API.rule(fp)}?${new URLSearchParams({ platform, repo: name })}`, {
      method: 'DELETE',
      headers,
    });

  beforeAll(async () => {
    sut = await startDashboard({}, { gitlab: true });
    store = new LearnedRulesStore(sut.backend.client);
  });
  afterAll(() => sut?.stop());
  beforeEach(async () => {
    await sut.backend.client.flushall();
    await store.record('github', repo, [older], new Date(1_000));
    await store.record('github', repo, [hostile], new Date(2_000));
    await store.addResolved('github', repo, 6);
  });

  it('lists a visible repository’s rules newest first, as stored, with its acceptance', async () => {
    const cookie = await sut.signIn('alice', ['acme/api']);

    const reply = await sut.backend.get(rulesOf('github', 'acme/api'), { cookie });

    expect(reply.status).toBe(200);
    expect(reply.body).toEqual({
      platform: 'github',
      repo: 'acme/api',
      rules: [
        { ...hostile, learnedAt: new Date(2_000).toISOString() },
        { ...older, learnedAt: new Date(1_000).toISOString() },
      ],
      acceptance: { resolved: 6, dismissed: 2, rate: 0.75 },
    });
  });

  it('removes a rule with the session’s CSRF token, and refuses one without it', async () => {
    const cookie = await sut.signIn('alice', ['acme/api']);
    const { csrf } = (await sut.backend.get(DASHBOARD_API.session, { cookie })).body as { csrf: string };

    const without = await remove('github', 'acme/api', hostile.fingerprint, { cookie });
    const wrong = await remove('github', 'acme/api', hostile.fingerprint, { cookie, [CSRF_HEADER]: 'x'.repeat(32) });
    expect([without.status, wrong.status]).toEqual([403, 403]);
    expect(await store.list('github', repo)).toHaveLength(2);

    const removed = await remove('github', 'acme/api', hostile.fingerprint, { cookie, [CSRF_HEADER]: csrf });
    const again = await remove('github', 'acme/api', hostile.fingerprint, { cookie, [CSRF_HEADER]: csrf });
    expect([removed.status, again.status]).toEqual([204, 404]);
    expect((await store.learnedFor('github', repo)).fingerprints).toEqual([older.fingerprint]);
  });

  it('answers 404 to a user who cannot see the repository, and neither lists nor removes', async () => {
    const cookie = await sut.signIn('mallory', ['mallory/tools']);
    const { csrf } = (await sut.backend.get(DASHBOARD_API.session, { cookie })).body as { csrf: string };

    const listed = await sut.backend.get(rulesOf('github', 'acme/api'), { cookie });
    const removed = await remove('github', 'acme/api', hostile.fingerprint, { cookie, [CSRF_HEADER]: csrf });

    expect([listed.status, removed.status]).toEqual([404, 404]);
    expect(JSON.stringify(listed.body)).not.toContain(hostile.fingerprint);
    expect(await store.list('github', repo)).toHaveLength(2);
  });

  it('keeps a GitLab project’s rules apart from the GitHub repository of the same path', async () => {
    await store.record('gitlab', repo, [{ fingerprint: 'aaaaaaaaaaaaaaaa', rule: 'GitLab only', via: 'resolved' }]);
    const gitlab = await sut.signInGitLab('gina', { 'acme/api': REPORTER });
    const { csrf } = (await sut.backend.get(DASHBOARD_API.session, { cookie: gitlab })).body as { csrf: string };

    const own = await sut.backend.get(rulesOf('gitlab', 'acme/api'), { cookie: gitlab });
    const githubs = await sut.backend.get(rulesOf('github', 'acme/api'), { cookie: gitlab });
    const crossRemove = await remove('github', 'acme/api', hostile.fingerprint, {
      cookie: gitlab,
      [CSRF_HEADER]: csrf,
    });

    expect(own.body).toMatchObject({
      platform: 'gitlab',
      rules: [{ fingerprint: 'aaaaaaaaaaaaaaaa', rule: 'GitLab only', via: 'resolved' }],
      acceptance: { resolved: 0, dismissed: 1, rate: 0 },
    });
    expect([githubs.status, crossRemove.status]).toEqual([404, 404]);
    expect(await store.list('github', repo)).toHaveLength(2);
  });

  it('refuses a malformed repository, platform or fingerprint with 400', async () => {
    const cookie = await sut.signIn('alice', ['acme/api']);
    const { csrf } = (await sut.backend.get(DASHBOARD_API.session, { cookie })).body as { csrf: string };

    expect((await sut.backend.get(rulesOf('bitbucket', 'acme/api'), { cookie })).status).toBe(400);
    expect((await sut.backend.get(rulesOf('github', 'acme api'), { cookie })).status).toBe(400);
    expect((await remove('github', 'acme/api', 'not-hex', { cookie, [CSRF_HEADER]: csrf })).status).toBe(400);
  });
});
