import { createHash } from 'node:crypto';
import { CHECK_RUN_NAME, type ReviewRequest, reviewIdFor } from '@kritik/core';
import { FakeGitHub, generateAppKeyPair } from '@kritik/testing';
import { CheckRuns } from './check-runs.js';
import { CHECKS_TOKEN_PERMISSIONS, GitHubAppClient } from './github-app.client.js';

const sha = (text: string) => createHash('sha1').update(text).digest('hex');

describe(CheckRuns.name, () => {
  const keys = generateAppKeyPair();
  const repo = { owner: 'acme', name: 'web' };
  let github: FakeGitHub;
  let app: GitHubAppClient;
  let sut: CheckRuns;
  let pr = 1;

  beforeAll(async () => {
    github = await new FakeGitHub().start();
    github.setApp({ appId: 4242, privateKeyPem: keys.privateKeyPem });
    github.addRepo('acme', 'web');
    github.addInstallation({ id: 77, account: 'acme' });
    app = new GitHubAppClient({ appId: '4242', privateKey: keys.privateKeyPem, apiUrl: github.url });
    sut = new CheckRuns(app);
  });
  afterAll(() => github.stop());

  /** A review of a new pull request's head, not yet accepted. */
  function newReview(): ReviewRequest {
    const number = pr++;
    const headSha = sha(`head-${number}`);
    github.addPullRequest({
      owner: 'acme',
      repo: 'web',
      number,
      base: { ref: 'main', sha: sha(`base-${number}`) },
      head: { ref: `feature-${number}`, sha: headSha },
    });
    return {
      reviewId: reviewIdFor('github', repo, number, headSha),
      platform: 'github',
      repo,
      pr: number,
      headSha,
      trigger: 'synchronize',
      installationId: 77,
      enqueuedAt: new Date().toISOString(),
    };
  }

  /** A check run on the review's head as another writer (the reviewer) leaves it. */
  async function runOf(review: ReviewRequest, body: Record<string, unknown>): Promise<number> {
    const { token } = await app.repositoryToken(repo, 77);
    const { data } = await app.octokitFor(token).request('POST /repos/{owner}/{repo}/check-runs', {
      owner: 'acme',
      repo: 'web',
      name: CHECK_RUN_NAME,
      head_sha: review.headSha,
      ...body,
    });
    return Number(data.id);
  }

  const runs = (review: ReviewRequest) => github.checkRuns('acme', 'web', review.headSha);

  it('creates the review’s check run queued on its head', async () => {
    const review = newReview();

    const id = await sut.queue(review);

    expect(runs(review)).toEqual([
      expect.objectContaining({ id, name: CHECK_RUN_NAME, status: 'queued', conclusion: null }),
    ]);
    expect(runs(review)[0]!.output.title).toBe('Review queued');
  });

  it('writes check runs with a token that can do nothing else', async () => {
    const review = newReview();
    const fresh = new CheckRuns(
      new GitHubAppClient({ appId: '4242', privateKey: keys.privateKeyPem, apiUrl: github.url }),
    );
    const before = github.installationTokens.length;

    const checkRunId = await fresh.queue(review);
    await fresh.conclude({ ...review, checkRunId }, 'failure', 'crashed');

    expect(github.installationTokens.slice(before)).toEqual([
      expect.objectContaining({ repositories: ['acme/web'], permissions: CHECKS_TOKEN_PERMISSIONS }),
    ]);
  });

  it('concludes a queued run by its id with the reason', async () => {
    const review = newReview();
    const checkRunId = await sut.queue(review);

    const outcome = await sut.conclude({ ...review, checkRunId }, 'failure', 'the review Job could not be created');

    expect(outcome).toEqual({ checkRunId, action: 'updated' });
    expect(runs(review)).toEqual([
      expect.objectContaining({ id: checkRunId, status: 'completed', conclusion: 'failure' }),
    ]);
    expect(runs(review)[0]!.output).toMatchObject({
      title: 'Kritik review failed',
      summary: 'the review Job could not be created',
    });
  });

  it('concludes only the run with its id, not another open Kritik run on the same commit', async () => {
    const review = newReview();
    const other = await runOf(review, { status: 'in_progress' });
    const checkRunId = await sut.queue(review);

    await sut.conclude({ ...review, checkRunId }, 'cancelled', `superseded by ${sha('newer')}`);

    expect(runs(review)).toEqual([
      expect.objectContaining({ id: other, status: 'in_progress' }),
      expect.objectContaining({ id: checkRunId, status: 'completed', conclusion: 'cancelled' }),
    ]);
  });

  it('leaves a run the reviewer already concluded alone', async () => {
    const review = newReview();
    const checkRunId = await runOf(review, { status: 'completed', conclusion: 'success' });

    const outcome = await sut.conclude({ ...review, checkRunId }, 'failure', 'late');

    expect(outcome?.action).toBe('already-completed');
    expect(runs(review)).toEqual([expect.objectContaining({ conclusion: 'success' })]);
  });

  it('without an id, concludes the open Kritik run on the head found by name', async () => {
    const review = newReview();
    const open = await runOf(review, { status: 'in_progress' });

    const outcome = await sut.conclude(review, 'cancelled', 'superseded');

    expect(outcome).toEqual({ checkRunId: open, action: 'updated' });
    expect(runs(review)).toEqual([expect.objectContaining({ status: 'completed', conclusion: 'cancelled' })]);
    expect(runs(review)[0]!.output.title).toBe('Kritik review cancelled');
  });

  it("leaves the head's run alone when an answer ends, since an answer has none", async () => {
    const review = { ...newReview(), trigger: 'answer' as const };
    await runOf(review, { status: 'in_progress' });

    const outcome = await sut.conclude(review, 'failure', 'model unavailable');

    expect(outcome).toBeUndefined();
    expect(runs(review)).toEqual([expect.objectContaining({ status: 'in_progress' })]);
  });

  it('without an id or a run, creates one completed so the review still ends visibly', async () => {
    const review = newReview();

    const outcome = await sut.conclude(review, 'failure', 'OOMKilled');

    expect(outcome?.action).toBe('created');
    expect(runs(review)).toEqual([
      expect.objectContaining({ name: CHECK_RUN_NAME, status: 'completed', conclusion: 'failure' }),
    ]);
  });

  it('titles the run after the conclusion it gives', async () => {
    const review = newReview();
    const checkRunId = await sut.queue(review);

    await sut.conclude({ ...review, checkRunId }, 'skipped', 'pull request is closed');

    expect(runs(review)[0]).toMatchObject({
      conclusion: 'skipped',
      output: { title: 'Kritik review skipped', summary: 'pull request is closed' },
    });
  });

  it('keeps a hostile reason verbatim and within GitHub’s summary limit', async () => {
    const review = newReview();
    const checkRunId = await sut.queue(review);
    const hostile = `@octocat <img src=x onerror=alert(1)> \`\`\` ${'x'.repeat(70_000)}`;

    await sut.conclude({ ...review, checkRunId }, 'failure', hostile);

    const summary = runs(review)[0]!.output.summary!;
    expect(summary.length).toBeLessThanOrEqual(65_535);
    expect(summary.startsWith(hostile.slice(0, 65_000))).toBe(true);
    expect(summary.endsWith('…truncated')).toBe(true);
  });
});
