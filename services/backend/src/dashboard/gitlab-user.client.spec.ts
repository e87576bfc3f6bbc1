// GitLabUserClient against the GitLab fake's OAuth application: the PKCE code exchange, the
// refresh, the member projects (subgroups, Reporter and up, bounded pages) and the admin group.
import { createHash } from 'node:crypto';
import { FakeGitLab } from '@kritik/testing';
import { GitLabUserClient } from './gitlab-user.client.js';
import { MAX_PAGES, UserTokenRefused } from './identity.provider.js';

const APP = { clientId: 'gl-app-spec', clientSecret: 'gloas-spec-secret-0123456789' };
const REDIRECT = 'https://kritik.example.com/api/auth/gitlab/callback';
const VERIFIER = 'spec-verifier-0123456789-0123456789-0123456789';

describe(GitLabUserClient.name, () => {
  let gitlab: FakeGitLab;
  let sut: GitLabUserClient;

  beforeEach(async () => {
    gitlab = await new FakeGitLab().start();
    gitlab.setOAuthApplication(APP.clientId, APP.clientSecret);
    sut = new GitLabUserClient(`${gitlab.url}/`, { ...APP, adminGroup: 'acme/platform' });
  });
  afterEach(() => gitlab.stop());

  async function signIn(username: string, verifier = VERIFIER) {
    gitlab.signInAs(username);
    const challenge = createHash('sha256').update(VERIFIER).digest('base64url');
    const page = await fetch(sut.authorizeUrl(REDIRECT, 'st4te', challenge), { redirect: 'manual' });
    const code = new URL(page.headers.get('location')!).searchParams.get('code')!;
    return sut.exchangeCode(code, REDIRECT, verifier);
  }

  it('exchanges a code with its PKCE verifier for a token that expires in two hours', async () => {
    const before = Date.now();
    const tokens = await signIn('alice');
    expect(await sut.user(tokens.token)).toBe('alice');
    expect(tokens.refreshToken).toMatch(/^[0-9a-f]{64}$/);
    expect(tokens.tokenExpiresAt! - before).toBeGreaterThanOrEqual(7_200_000);
    expect(tokens.tokenExpiresAt! - Date.now()).toBeLessThanOrEqual(7_200_000);
  });

  it('refuses a code with the wrong verifier, and a spent refresh token, as UserTokenRefused', async () => {
    await expect(signIn('alice', 'not-the-verifier-0123456789-0123456789-012345')).rejects.toThrow(UserTokenRefused);
    const tokens = await signIn('alice');
    const next = await sut.refresh(tokens.refreshToken!);
    expect(await sut.user(next.token)).toBe('alice');
    await expect(sut.refresh(tokens.refreshToken!)).rejects.toThrow(UserTokenRefused);
  });

  it('lists projects of subgroups where the user is Reporter or more, never Guest-only ones', async () => {
    gitlab
      .addProject('acme/platform/api')
      .addProject('acme/docs')
      .addMember('acme/platform/api', 'alice', 40)
      .addMember('acme/docs', 'alice', 10);
    expect(await sut.repositories((await signIn('alice')).token)).toEqual(['acme/platform/api']);
  });

  it(`follows at most ${MAX_PAGES} pages of 100 projects`, async () => {
    for (let i = 0; i < MAX_PAGES * 100 + 5; i++) gitlab.addProject(`big/p${i}`).addMember(`big/p${i}`, 'bob', 20);
    const repos = await sut.repositories((await signIn('bob')).token);
    expect(repos).toHaveLength(MAX_PAGES * 100);
    expect(gitlab.requestsTo('GET /api/v4/projects')).toHaveLength(MAX_PAGES);
  });

  it('tells members of the admin group from others', async () => {
    gitlab.addGroup('acme/platform', ['lead']);
    expect(await sut.isAdmin((await signIn('lead')).token)).toBe(true);
    expect(await sut.isAdmin((await signIn('alice')).token)).toBe(false);
  });

  it('answers UserTokenRefused once the token is revoked', async () => {
    const tokens = await signIn('alice');
    gitlab.revokeUserTokens('alice');
    await expect(sut.repositories(tokens.token)).rejects.toThrow(UserTokenRefused);
  });
});
