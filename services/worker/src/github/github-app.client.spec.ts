import { FakeGitHub, generateAppKeyPair } from '@kritik/testing';
import {
  COMMENT_TOKEN_PERMISSIONS,
  GitHubAppClient,
  GitHubTokenError,
  REVIEWER_TOKEN_PERMISSIONS,
} from './github-app.client.js';

describe(GitHubAppClient.name, () => {
  const keys = generateAppKeyPair();
  let github: FakeGitHub;
  let sut: GitHubAppClient;

  beforeAll(async () => {
    github = await new FakeGitHub().start();
    github.setApp({ appId: 4242, privateKeyPem: keys.privateKeyPem });
    github.addRepo('acme', 'web').addRepo('acme', 'api');
    github.addInstallation({ id: 77, account: 'acme' });
  });
  afterAll(() => github.stop());
  beforeEach(() => {
    github.resetTraffic();
    sut = new GitHubAppClient({ appId: '4242', privateKey: keys.privateKeyPem, apiUrl: github.url });
  });

  it('mints a token for one repository with only the reviewer permissions', async () => {
    const token = await sut.repositoryToken({ owner: 'acme', name: 'web' }, 77);
    const minted = github.installationTokens.find((t) => t.token === token.token);
    expect(minted).toMatchObject({
      installationId: 77,
      repositories: ['acme/web'],
      permissions: REVIEWER_TOKEN_PERMISSIONS,
    });
  });

  it('mints a token with only the permissions a comment command asks for, apart from the review token', async () => {
    const review = await sut.repositoryToken({ owner: 'acme', name: 'web' }, 77);
    const comment = await sut.repositoryToken({ owner: 'acme', name: 'web' }, 77, COMMENT_TOKEN_PERMISSIONS);
    expect(comment.token).not.toBe(review.token);
    expect(github.installationTokens.find((t) => t.token === comment.token)).toMatchObject({
      repositories: ['acme/web'],
      permissions: COMMENT_TOKEN_PERMISSIONS,
    });
  });

  it('finds the installation of a repository when the review does not name it', async () => {
    const token = await sut.repositoryToken({ owner: 'acme', name: 'api' });
    expect(github.installationTokens.find((t) => t.token === token.token)?.installationId).toBe(77);
  });

  it('reuses a minted token until it nears expiry', async () => {
    const first = await sut.repositoryToken({ owner: 'acme', name: 'web' }, 77);
    const second = await sut.repositoryToken({ owner: 'acme', name: 'web' }, 77);
    expect(second.token).toBe(first.token);
    expect(github.requestsTo('POST /app/installations/{id}/access_tokens')).toHaveLength(1);
  });

  it('asks GitHub once for a burst of reviews of one repository', async () => {
    const tokens = await Promise.all(
      Array.from({ length: 20 }, () => sut.repositoryToken({ owner: 'acme', name: 'api' }, 77)),
    );
    expect(new Set(tokens.map((t) => t.token)).size).toBe(1);
    expect(github.requestsTo('POST /app/installations/{id}/access_tokens')).toHaveLength(1);
  });

  it('finds only its own comment carrying a marker, not one another user wrote', async () => {
    const repo = { owner: 'acme', name: 'web' };
    github.addPullRequest({
      owner: 'acme',
      repo: 'web',
      number: 3,
      title: 't',
      user: 'alice',
      base: { ref: 'main', sha: 'a'.repeat(40) },
      head: { ref: 'f', sha: 'b'.repeat(40) },
    });
    github.addToken('ghp_mallory', { login: 'mallory' });
    const marker = '<!-- kritik:help id=1 -->';
    await fetch(`${github.url}/repos/acme/web/issues/3/comments`, {
      method: 'POST',
      headers: { authorization: 'token ghp_mallory', 'content-type': 'application/json' },
      body: JSON.stringify({ body: `forged ${marker}` }),
    });
    expect(await sut.findComment(repo, 3, marker, 77)).toBeUndefined();

    const own = await sut.comment(repo, 3, `answer ${marker}`, 77);

    expect(await sut.findComment(repo, 3, marker, 77)).toEqual(own);
    expect(await sut.botLogin()).toBe('kritik-test[bot]');
  });

  it('says which repository it could not get a token for', async () => {
    const sut = new GitHubAppClient({ appId: '4242', privateKey: keys.privateKeyPem, apiUrl: github.url });
    const attempt = sut.repositoryToken({ owner: 'other', name: 'thing' });
    await expect(attempt).rejects.toBeInstanceOf(GitHubTokenError);
    await expect(attempt).rejects.toThrow(/installation of other\/thing: HTTP 404/);
  });
});
