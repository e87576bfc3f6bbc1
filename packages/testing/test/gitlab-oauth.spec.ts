// The GitLab fake's OAuth2 sign-in: the authorize redirect, the token endpoint's authorization_code
// (with PKCE) and refresh_token grants and their errors, and what the user's token lists, read
// through @gitbeaker/rest with the OAuth token as the dashboard's client would.
import { createHash } from 'node:crypto';
import { Gitlab } from '@gitbeaker/rest';
import { FakeGitLab } from '../src/fakes/index.js';

const APP = { id: 'gl-app-0123456789abcdef', secret: 'gloas-0123456789abcdef0123456789' };
const REDIRECT = 'https://kritik.example.com/api/auth/gitlab/callback';
const VERIFIER = 'a-verifier-of-forty-three-characters-or-more-0123';
const CHALLENGE = createHash('sha256').update(VERIFIER).digest('base64url');

describe('FakeGitLab OAuth sign-in', () => {
  let sut: FakeGitLab;

  beforeEach(async () => {
    sut = await new FakeGitLab().start();
    sut
      .addProject('acme/api')
      .addProject('acme/web')
      .addProject('acme/docs')
      .addProject('other/lib')
      .addMember('acme/api', 'alice', 30)
      .addMember('acme/web', 'alice', 20)
      .addMember('acme/docs', 'alice', 10)
      .addGroup('acme/platform', ['lead'])
      .setOAuthApplication(APP.id, APP.secret);
  });
  afterEach(() => sut.stop());

  async function authorize(query: Record<string, string> = {}): Promise<URLSearchParams> {
    const url = new URL(`${sut.url}/oauth/authorize`);
    for (const [k, v] of Object.entries({
      client_id: APP.id,
      redirect_uri: REDIRECT,
      response_type: 'code',
      scope: 'read_api',
      state: 'st4te',
      code_challenge: CHALLENGE,
      code_challenge_method: 'S256',
      ...query,
    }))
      url.searchParams.set(k, v);
    const reply = await fetch(url, { redirect: 'manual' });
    expect(reply.status).toBe(302);
    const back = new URL(reply.headers.get('location')!);
    expect(`${back.origin}${back.pathname}`).toBe(REDIRECT);
    return back.searchParams;
  }

  async function token(body: Record<string, string>): Promise<{ status: number; body: Record<string, unknown> }> {
    const reply = await fetch(`${sut.url}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ client_id: APP.id, client_secret: APP.secret, ...body }),
    });
    return { status: reply.status, body: (await reply.json()) as Record<string, unknown> };
  }

  const exchange = (code: string, verifier = VERIFIER) =>
    token({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT, code_verifier: verifier });

  async function signIn(username = 'alice'): Promise<Record<string, unknown>> {
    sut.signInAs(username);
    const { body } = await exchange((await authorize()).get('code')!);
    return body;
  }

  const client = (oauthToken: string) => new Gitlab({ host: sut.url, oauthToken });

  it('redirects back with a code and the state, and the code buys a two-hour token and a refresh token', async () => {
    sut.signInAs('alice');
    const back = await authorize();
    expect(back.get('state')).toBe('st4te');
    const reply = await exchange(back.get('code')!);
    expect(reply).toMatchObject({
      status: 200,
      body: { token_type: 'Bearer', expires_in: 7200, scope: 'read_api', created_at: expect.any(Number) },
    });
    expect(reply.body.access_token).toMatch(/^[0-9a-f]{64}$/);
    expect(reply.body.refresh_token).toMatch(/^[0-9a-f]{64}$/);
    expect((await client(String(reply.body.access_token)).Users.showCurrentUser()).username).toBe('alice');
  });

  it('redirects back with access_denied and the state when the user denies the application', async () => {
    sut.signInAs(undefined);
    const back = await authorize();
    expect(back.get('error')).toBe('access_denied');
    expect(back.get('state')).toBe('st4te');
    expect(back.get('code')).toBeNull();
  });

  it('refuses a code exchanged with the wrong PKCE verifier, and a code used twice', async () => {
    sut.signInAs('alice');
    const wrong = await exchange((await authorize()).get('code')!, 'another-verifier-of-forty-three-characters-xx');
    expect(wrong).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
    const code = (await authorize()).get('code')!;
    expect((await exchange(code)).status).toBe(200);
    expect(await exchange(code)).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
  });

  it('refuses a wrong client secret with invalid_client', async () => {
    sut.signInAs('alice');
    const code = (await authorize()).get('code')!;
    const reply = await token({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT, client_secret: 'x' });
    expect(reply).toMatchObject({ status: 401, body: { error: 'invalid_client' } });
  });

  it('redirects back with invalid_scope for a scope GitLab does not know', async () => {
    sut.signInAs('alice');
    expect((await authorize({ scope: 'admin_everything' })).get('error')).toBe('invalid_scope');
  });

  it('rotates the refresh token: the new tokens work, the old refresh token is spent', async () => {
    const first = await signIn();
    sut.expireUserTokens('alice');
    const expired = await fetch(`${sut.apiUrl}/user`, { headers: { authorization: `Bearer ${first.access_token}` } });
    expect(expired.status).toBe(401);
    expect(await expired.json()).toMatchObject({ error: 'invalid_token' });

    const refreshed = await token({ grant_type: 'refresh_token', refresh_token: String(first.refresh_token) });
    expect(refreshed).toMatchObject({ status: 200, body: { expires_in: 7200, token_type: 'Bearer' } });
    expect(refreshed.body.refresh_token).not.toBe(first.refresh_token);
    expect((await client(String(refreshed.body.access_token)).Users.showCurrentUser()).username).toBe('alice');
    const again = await token({ grant_type: 'refresh_token', refresh_token: String(first.refresh_token) });
    expect(again).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
  });

  it('refuses access and refresh tokens the user revoked', async () => {
    const tokens = await signIn();
    sut.revokeUserTokens('alice');
    const user = await fetch(`${sut.apiUrl}/user`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
    expect(user.status).toBe(401);
    const refreshed = await token({ grant_type: 'refresh_token', refresh_token: String(tokens.refresh_token) });
    expect(refreshed).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
  });

  it('lists the projects the user is a member of with at least the access level asked, paginated', async () => {
    const api = client(String((await signIn()).access_token));
    const reporter = await api.Projects.all({ membership: true, minAccessLevel: 20 });
    expect(reporter.map((p) => p.path_with_namespace).sort()).toEqual(['acme/api', 'acme/web']);
    const guest = await api.Projects.all({ membership: true, minAccessLevel: 10 });
    expect(guest.map((p) => p.path_with_namespace).sort()).toEqual(['acme/api', 'acme/docs', 'acme/web']);

    const page = await fetch(`${sut.apiUrl}/projects?membership=true&min_access_level=10&per_page=2&page=1`, {
      headers: { authorization: `Bearer ${(await signIn()).access_token}` },
    });
    expect(page.headers.get('x-total')).toBe('3');
    expect(page.headers.get('x-next-page')).toBe('2');
    expect(((await page.json()) as unknown[]).length).toBe(2);
  });

  it("answers a group's member, inherited ones included, and 404 for anyone else", async () => {
    const lead = client(String((await signIn('lead')).access_token));
    const leadId = (await lead.Users.showCurrentUser()).id;
    const aliceId = (await client(String((await signIn('alice')).access_token)).Users.showCurrentUser()).id;
    expect(await lead.GroupMembers.show('acme/platform', leadId, { includeInherited: true })).toMatchObject({
      username: 'lead',
      state: 'active',
    });
    await expect(lead.GroupMembers.show('acme/platform', aliceId, { includeInherited: true })).rejects.toThrow();
  });
});
