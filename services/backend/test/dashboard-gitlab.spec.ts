// Sign-in with GitLab over real HTTP against a real Redis and the GitLab fake's OAuth application:
// the PKCE round trip, member projects only (a GitHub repository of the same path stays 404),
// state and consent failures, refresh and refusal of the 2-hour tokens, admins by group and list.
import { createHash, randomBytes } from 'node:crypto';
import { DASHBOARD_API, type Platform, type ReviewRecord, type ReviewRequest, reviewIdFor } from '@kritik/core';
import { ReviewStore } from '@kritik/server';
import { AuthController } from '../src/dashboard/auth.controller.js';
import { SESSION_COOKIE, sign } from '../src/dashboard/session.cookie.js';
import { reviewRequest } from './backend.harness.js';
import { cookieOf, type DashboardHarness, SESSION_SECRET, startDashboard } from './dashboard.harness.js';

const sha = (n: number) => n.toString(16).padStart(40, '0');
const REPORTER = 20;
const GUEST = 10;

function request(platform: Platform, repo: string, pr: number): ReviewRequest {
  const [owner, name] = repo.split('/') as [string, string];
  return {
    ...reviewRequest(repo, pr, sha(pr)),
    platform,
    reviewId: reviewIdFor(platform, { owner, name }, pr, sha(pr)),
  };
}

describe(`${AuthController.name} with GitLab`, () => {
  let sut: DashboardHarness;
  let store: ReviewStore;
  const get = (path: string, cookie?: string) => sut.backend.get(path, cookie ? { cookie } : {});

  beforeAll(async () => {
    sut = await startDashboard({ KRITIK_DASHBOARD_ADMINS: 'ops-lead,gitlab:gl-ops' }, { gitlab: true });
    store = new ReviewStore(sut.backend.client);
  });
  afterAll(() => sut?.stop());
  beforeEach(() => sut.backend.client.flushall());

  /** Starts a GitLab sign-in; answers the authorize URL and the state cookie. */
  async function startSignIn(): Promise<{ authorize: URL; stateCookie: string }> {
    const login = await fetch(`${sut.backend.url}${DASHBOARD_API.signIn.gitlab.login}`, { redirect: 'manual' });
    expect(login.status).toBe(302);
    return { authorize: new URL(login.headers.get('location')!), stateCookie: cookieOf(login, 'kritik_oauth_state') };
  }

  it('lists both sign-in providers without a session', async () => {
    expect(await get(DASHBOARD_API.providers)).toMatchObject({
      status: 200,
      body: {
        providers: [
          { platform: 'github', label: 'GitHub', login: '/api/auth/login' },
          { platform: 'gitlab', label: 'GitLab', login: '/api/auth/gitlab/login' },
        ],
      },
    });
  });

  it('sends the browser to GitLab with scope read_api, a state and an S256 PKCE challenge', async () => {
    const { authorize } = await startSignIn();
    expect(`${authorize.origin}${authorize.pathname}`).toBe(`${sut.gitlab!.url}/oauth/authorize`);
    const q = authorize.searchParams;
    expect(q.get('redirect_uri')).toBe(`${sut.backend.url}/api/auth/gitlab/callback`);
    expect(q.get('scope')).toBe('read_api');
    expect(q.get('response_type')).toBe('code');
    expect(q.get('state')).toMatch(/^[\w-]{22}$/);
    expect(q.get('code_challenge_method')).toBe('S256');
    expect(q.get('code_challenge')).toMatch(/^[\w-]{43}$/);
  });

  it('signs a GitLab user in and names the projects they reach with at least Reporter access', async () => {
    const cookie = await sut.signInGitLab('alice', { 'acme/api': REPORTER, 'acme/web': GUEST });
    expect(cookie).toMatch(/^kritik_session=[\w-]+\.[\w-]+$/);
    expect(await get(DASHBOARD_API.session, cookie)).toMatchObject({
      status: 200,
      // Links go to the instance signed in with, never gitlab.com.
      body: { platform: 'gitlab', login: 'alice', admin: false, repos: ['acme/api'], hostUrl: sut.gitlab!.url },
    });
  });

  it("shows only the member projects' GitLab reviews; a GitHub repository of the same path stays 404", async () => {
    const gitlabApi = (await store.create(request('gitlab', 'acme/api', 1))).record;
    const githubApi = (await store.create(request('github', 'acme/api', 2))).record;
    await store.create(request('gitlab', 'other/lib', 3));
    const cookie = await sut.signInGitLab('bea', { 'acme/api': REPORTER });

    const list = await get(DASHBOARD_API.reviews, cookie);
    expect(list.body.reviews.map((r: ReviewRecord) => [r.platform, r.repo, r.pr])).toEqual([['gitlab', 'acme/api', 1]]);
    expect((await get(DASHBOARD_API.review(gitlabApi.id), cookie)).status).toBe(200);
    const hidden = await get(DASHBOARD_API.review(githubApi.id), cookie);
    expect(hidden.status).toBe(404);
    expect(JSON.stringify(hidden.body)).not.toContain('acme/api');
    // And the other way round: GitHub's acme/api user does not see GitLab's acme/api.
    const github = await sut.signIn('gh-user', ['acme/api']);
    expect((await get(DASHBOARD_API.review(gitlabApi.id), github)).status).toBe(404);
    expect((await get(DASHBOARD_API.review(githubApi.id), github)).status).toBe(200);
  });

  it('refuses a callback whose state is not the one it sent, and a state sent for GitHub', async () => {
    sut.gitlab!.signInAs('alice');
    const { authorize, stateCookie } = await startSignIn();
    const back = new URL((await fetch(authorize, { redirect: 'manual' })).headers.get('location')!);
    const forged = await fetch(
      `${sut.backend.url}${back.pathname}?code=${back.searchParams.get('code')}&state=forged`,
      {
        redirect: 'manual',
        headers: { cookie: stateCookie },
      },
    );
    expect(forged.headers.get('location')).toBe('/?signin=failed');
    expect(forged.headers.getSetCookie().some((c) => c.startsWith(`${SESSION_COOKIE}=`))).toBe(false);

    // GitHub's state cookie does not open GitLab's callback, even with GitHub's state.
    const github = await fetch(`${sut.backend.url}${DASHBOARD_API.login}`, { redirect: 'manual' });
    const githubState = new URL(github.headers.get('location')!).searchParams.get('state')!;
    const crossed = await fetch(`${sut.backend.url}${back.pathname}?code=x&state=${githubState}`, {
      redirect: 'manual',
      headers: { cookie: cookieOf(github, 'kritik_oauth_state') },
    });
    expect(crossed.headers.get('location')).toBe('/?signin=failed');
  });

  it('says the sign-in was cancelled when the user denies the application', async () => {
    sut.gitlab!.signInAs(undefined);
    const { authorize, stateCookie } = await startSignIn();
    const back = new URL((await fetch(authorize, { redirect: 'manual' })).headers.get('location')!);
    expect(back.searchParams.get('error')).toBe('access_denied');
    const reply = await fetch(`${sut.backend.url}${back.pathname}${back.search}`, {
      redirect: 'manual',
      headers: { cookie: stateCookie },
    });
    expect(reply.headers.get('location')).toBe('/?signin=denied');
    expect(reply.headers.getSetCookie().some((c) => c.startsWith(`${SESSION_COOKIE}=`))).toBe(false);
  });

  it('answers 404 at the login of a host that is unknown', async () => {
    expect((await get('/api/auth/bitbucket/login')).status).toBe(404);
    expect((await get('/api/auth/github/callback')).status).toBe(404);
    expect((await fetch(`${sut.backend.url}/api/auth/github/login`, { redirect: 'manual' })).status).toBe(302);
  });

  it('shows the platform page to the admin group and to gitlab: admins, not to a GitHub login of the same name', async () => {
    expect((await get(DASHBOARD_API.platform, await sut.signInGitLab('group-lead'))).status).toBe(200);
    expect((await get(DASHBOARD_API.platform, await sut.signInGitLab('gl-ops'))).status).toBe(200);
    expect((await get(DASHBOARD_API.platform, await sut.signInGitLab('carl', { 'acme/api': 50 }))).status).toBe(404);
    // `ops-lead` in the list is GitHub's ops-lead: GitLab's ops-lead is someone else.
    expect((await get(DASHBOARD_API.platform, await sut.signInGitLab('ops-lead'))).status).toBe(404);
    expect((await get(DASHBOARD_API.platform, await sut.signIn('ops-lead'))).status).toBe(200);
  });

  it('keeps a GitHub session stored before sessions had a platform', async () => {
    await store.create(request('github', 'acme/api', 1));
    await store.create(request('gitlab', 'acme/api', 2));
    const id = randomBytes(24).toString('base64url');
    const old = {
      login: 'old-timer',
      token: 'ghu_unused',
      csrf: randomBytes(24).toString('base64url'),
      repos: ['acme/api'],
      teamAdmin: false,
      reposCheckedAt: Date.now(),
      expiresAt: Date.now() + 3_600_000,
    };
    const key = `kritik:session:${createHash('sha256').update(id).digest('hex')}`;
    await sut.backend.client.set(key, JSON.stringify(old), 'EX', 3600);
    const cookie = `${SESSION_COOKIE}=${sign(SESSION_SECRET, id)}`;
    expect(await get(DASHBOARD_API.session, cookie)).toMatchObject({
      status: 200,
      body: { platform: 'github', login: 'old-timer' },
    });
    const list = await get(DASHBOARD_API.reviews, cookie);
    expect(list.body.reviews.map((r: ReviewRecord) => [r.platform, r.pr])).toEqual([['github', 1]]);
  });
});

describe('GitLab dashboard sessions', () => {
  let sut: DashboardHarness;
  beforeAll(async () => {
    sut = await startDashboard({ KRITIK_DASHBOARD_ACCESS_CACHE_SECONDS: '0' }, { gitlab: true });
  });
  afterAll(() => sut?.stop());

  it('refresh an expired GitLab token with the refresh token and carry on', async () => {
    const cookie = await sut.signInGitLab('erin', { 'acme/api': REPORTER });
    sut.gitlab!.expireUserTokens('erin');
    sut.gitlab!.resetTraffic();
    const reply = await sut.backend.get(DASHBOARD_API.session, { cookie });
    expect(reply).toMatchObject({ status: 200, body: { platform: 'gitlab', repos: ['acme/api'] } });
    const refreshes = sut.gitlab!.requestsTo('POST /oauth/token');
    expect(refreshes).toHaveLength(1);
    expect(JSON.parse(refreshes[0]!.rawBody)).toMatchObject({ grant_type: 'refresh_token' });
    // The refreshed token serves the next access check without another refresh.
    expect((await sut.backend.get(DASHBOARD_API.reviews, { cookie })).status).toBe(200);
    expect(sut.gitlab!.requestsTo('POST /oauth/token')).toHaveLength(1);
  });

  it('end when GitLab no longer accepts the token or its refresh token', async () => {
    const cookie = await sut.signInGitLab('fred', { 'acme/api': REPORTER });
    expect((await sut.backend.get(DASHBOARD_API.reviews, { cookie })).status).toBe(200);
    sut.gitlab!.revokeUserTokens('fred');
    const refused = await sut.backend.get(DASHBOARD_API.reviews, { cookie });
    expect(refused.status).toBe(401);
    expect(refused.body.message).toMatch(/GitLab no longer accepts this sign-in/);
    expect((await sut.backend.get(DASHBOARD_API.session, { cookie })).status).toBe(401);
  });

  it('drop a project the user has left at the next access check', async () => {
    const cookie = await sut.signInGitLab('gina', { 'acme/api': REPORTER, 'acme/web': REPORTER });
    expect((await sut.backend.get(DASHBOARD_API.session, { cookie })).body.repos).toEqual(['acme/api', 'acme/web']);
    sut.gitlab!.addMember('acme/web', 'gina', GUEST);
    expect((await sut.backend.get(DASHBOARD_API.session, { cookie })).body.repos).toEqual(['acme/api']);
  });
});

describe('dashboard with GitLab sign-in only', () => {
  let sut: DashboardHarness;
  beforeAll(async () => {
    sut = await startDashboard({ GITHUB_CLIENT_ID: '', GITHUB_CLIENT_SECRET: '' }, { gitlab: true });
  });
  afterAll(() => sut?.stop());

  it("offers GitLab's button only, and GitHub's sign-in answers 404", async () => {
    expect((await sut.backend.get(DASHBOARD_API.providers)).body).toEqual({
      providers: [{ platform: 'gitlab', label: 'GitLab', login: '/api/auth/gitlab/login' }],
    });
    expect((await sut.backend.get(DASHBOARD_API.login)).status).toBe(404);
    const cookie = await sut.signInGitLab('hana', { 'acme/api': REPORTER });
    expect((await sut.backend.get(DASHBOARD_API.session, { cookie })).body.platform).toBe('gitlab');
  });
});
