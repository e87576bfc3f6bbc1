// The GitHub fake's user-to-server OAuth of a GitHub App, reached through Octokit's own OAuth
// methods and REST client: the authorize redirect, the code exchange with GitHub's error
// answers, and what the signed-in user reaches through the App's installations.
import { exchangeWebFlowCode, getWebFlowAuthorizationUrl } from '@octokit/oauth-methods';
import { request } from '@octokit/request';
import { Octokit } from '@octokit/rest';
import { FakeGitHub } from '../src/fakes/index.js';

const CLIENT = { clientId: 'Iv23liFakeClient', clientSecret: 'fake-client-secret-0123456789' };
const REDIRECT = 'https://kritik.example.com/api/auth/callback';

describe('FakeGitHub user-to-server OAuth', () => {
  let sut: FakeGitHub;
  let oauthRequest: typeof request;

  beforeEach(async () => {
    sut = await new FakeGitHub().start();
    sut
      .addRepo('acme', 'api')
      .addRepo('acme', 'web')
      .addRepo('other', 'lib')
      .addInstallation({ id: 7, account: 'acme', repositories: ['api', 'web'] })
      .addInstallation({ id: 8, account: 'other' })
      .setOAuthClient(CLIENT.clientId, CLIENT.clientSecret);
    oauthRequest = request.defaults({ baseUrl: sut.url });
  });
  afterEach(() => sut.stop());

  /** Follows the authorize page as a browser would; answers the query GitHub sends back. */
  async function authorize(state = 'st4te'): Promise<URLSearchParams> {
    const { url } = getWebFlowAuthorizationUrl({
      clientType: 'github-app',
      clientId: CLIENT.clientId,
      redirectUrl: REDIRECT,
      state,
      request: oauthRequest,
    });
    const reply = await fetch(url, { redirect: 'manual' });
    expect(reply.status).toBe(302);
    const back = new URL(reply.headers.get('location')!);
    expect(`${back.origin}${back.pathname}`).toBe(REDIRECT);
    return back.searchParams;
  }

  const exchange = (code: string, overrides: Partial<typeof CLIENT> = {}) =>
    exchangeWebFlowCode({
      clientType: 'github-app',
      ...CLIENT,
      ...overrides,
      code,
      redirectUrl: REDIRECT,
      request: oauthRequest,
    });

  it('signs a user in and lets the token reach only their repositories through the installations', async () => {
    sut.signInAs('alice', ['acme/api', 'other/lib']);
    const back = await authorize();
    expect(back.get('state')).toBe('st4te');

    const { authentication } = await exchange(back.get('code')!);
    expect(authentication.token).toMatch(/^ghu_/);
    const octokit = new Octokit({ auth: authentication.token, baseUrl: sut.url });
    expect((await octokit.request('GET /user')).data.login).toBe('alice');
    const installations = (await octokit.request('GET /user/installations')).data;
    expect(installations.installations.map((i) => i.id).sort()).toEqual([7, 8]);
    const repos = (
      await octokit.request('GET /user/installations/{installation_id}/repositories', { installation_id: 7 })
    ).data;
    expect(repos.repositories.map((r) => r.full_name)).toEqual(['acme/api']);
  });

  it('answers 404 for an installation the user reaches nothing through', async () => {
    sut.signInAs('bob', ['acme/web']);
    const { authentication } = await exchange((await authorize()).get('code')!);
    const octokit = new Octokit({ auth: authentication.token, baseUrl: sut.url });
    await expect(
      octokit.request('GET /user/installations/{installation_id}/repositories', { installation_id: 8 }),
    ).rejects.toMatchObject({ status: 404 });
  });

  it('sends the user back with access_denied when nobody signs in', async () => {
    sut.signInAs(undefined);
    const back = await authorize();
    expect(back.get('error')).toBe('access_denied');
    expect(back.has('code')).toBe(false);
  });

  it('accepts a code once, and only with the right client secret', async () => {
    sut.signInAs('alice');
    const code = (await authorize()).get('code')!;
    await expect(exchange(code, { clientSecret: 'wrong' })).rejects.toThrow(/incorrect_client_credentials/);
    const again = (await authorize()).get('code')!;
    await exchange(again);
    await expect(exchange(again)).rejects.toThrow(/bad_verification_code/);
  });

  it('answers a form-encoded exchange in form encoding, as GitHub does without Accept: json', async () => {
    sut.signInAs('alice');
    const code = (await authorize()).get('code')!;
    const reply = await fetch(`${sut.url}/login/oauth/access_token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ client_id: CLIENT.clientId, client_secret: CLIENT.clientSecret, code }).toString(),
    });
    const form = new URLSearchParams(await reply.text());
    expect(form.get('access_token')).toMatch(/^ghu_/);
    expect(form.get('token_type')).toBe('bearer');
  });

  it('refuses installation listings without a valid user token', async () => {
    const octokit = new Octokit({ auth: 'not-a-token', baseUrl: sut.url });
    await expect(octokit.request('GET /user/installations')).rejects.toMatchObject({ status: 401 });
  });
});
