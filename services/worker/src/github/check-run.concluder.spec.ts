import { createHash } from 'node:crypto';
import { type ReviewPayload, reviewIdFor } from '@kritik/core';
import { CHECK_RUN_NAME } from '@kritik/reviewer';
import { FakeGitHub, generateAppKeyPair } from '@kritik/testing';
import { ReviewerCheckRunConcluder } from './check-run.concluder.js';
import { GitHubAppClient } from './github-app.client.js';

const sha = (text: string) => createHash('sha1').update(text).digest('hex');

describe(ReviewerCheckRunConcluder.name, () => {
  const keys = generateAppKeyPair();
  const repo = { owner: 'acme', name: 'web' };
  let github: FakeGitHub;
  let app: GitHubAppClient;
  let sut: ReviewerCheckRunConcluder;
  let pr = 1;

  beforeAll(async () => {
    github = await new FakeGitHub().start();
    github.setApp({ appId: 4242, privateKeyPem: keys.privateKeyPem });
    github.addRepo('acme', 'web');
    github.addInstallation({ id: 77, account: 'acme' });
    app = new GitHubAppClient({ appId: '4242', privateKey: keys.privateKeyPem, apiUrl: github.url });
    sut = new ReviewerCheckRunConcluder((token) => app.octokitFor(token));
  });
  afterAll(() => github.stop());

  /** A PR whose reviewer started its check run on the head and then stopped. */
  async function reviewWithOpenCheckRun(): Promise<{ payload: ReviewPayload; token: string }> {
    const number = pr++;
    const headSha = sha(`head-${number}`);
    github.addPullRequest({
      owner: 'acme',
      repo: 'web',
      number,
      base: { ref: 'main', sha: sha(`base-${number}`) },
      head: { ref: `feature-${number}`, sha: headSha },
    });
    const { token } = await app.repositoryToken(repo, 77);
    await app.octokitFor(token).request('POST /repos/{owner}/{repo}/check-runs', {
      owner: 'acme',
      repo: 'web',
      name: CHECK_RUN_NAME,
      head_sha: headSha,
      status: 'in_progress',
    });
    const payload: ReviewPayload = {
      reviewId: reviewIdFor('github', repo, number, headSha),
      platform: 'github',
      repo,
      pr: number,
      headSha,
      trigger: 'synchronize',
      installationId: 77,
      enqueuedAt: new Date().toISOString(),
      apiUrl: github.url,
    };
    return { payload, token };
  }

  it('concludes a superseded review’s running check run as cancelled with the newer SHA', async () => {
    const { payload, token } = await reviewWithOpenCheckRun();
    const newer = sha('newer');

    await sut.conclude({ payload, token, conclusion: 'cancelled', reason: `superseded by ${newer}` });

    const runs = github.checkRuns('acme', 'web', payload.headSha);
    expect(runs).toEqual([expect.objectContaining({ status: 'completed', conclusion: 'cancelled' })]);
    expect(runs[0]!.output.summary).toBe(`superseded by ${newer}`);
  });

  it('concludes a crashed review’s running check run as failure', async () => {
    const { payload, token } = await reviewWithOpenCheckRun();

    await sut.conclude({ payload, token, conclusion: 'failure', reason: 'the reviewer crashed' });

    expect(github.checkRuns('acme', 'web', payload.headSha)).toEqual([
      expect.objectContaining({ status: 'completed', conclusion: 'failure' }),
    ]);
  });
});
