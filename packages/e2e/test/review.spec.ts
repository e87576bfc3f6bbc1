// A pull request reviewed end to end on the platform as the chart installs it: webhook, queue,
// worker, review Job run by the test kubelet, review posted on GitHub, record in the API, cleanup.
import { LABELS, reviewJobName } from '@kritik/core';
import { findingsReply, JOBS_NAMESPACE, OWNER, Platform } from '@kritik/e2e';
import { FakeAnthropic, waitUntil } from '@kritik/testing';
import { BatchV1Api, CoreV1Api } from '@kubernetes/client-node';

jest.setTimeout(300_000);

describe('Kritik end to end', () => {
  let sut: Platform;

  beforeAll(async () => {
    sut = await Platform.start();
  });
  afterAll(async () => {
    await sut?.stop();
  });

  it('reviews an opened pull request through a Job and cleans the Job and its Secret up', async () => {
    const pr = sut.world.openPullRequest();

    const answer = await sut.webhook(sut.pullRequestEvent('opened', pr));
    expect(answer).toMatchObject({ status: 202, body: { status: 'queued', reviewId: expect.any(String) } });
    const reviewId = answer.body.reviewId as string;

    const record = await sut.waitForReview(reviewId);
    expect({ status: record.status, reason: record.reason }).toEqual({ status: 'posted' });
    expect(record).toMatchObject({ id: reviewId, headSha: pr.headSha, pr: pr.number });
    expect(record.timeline.map((t) => t.status)).toEqual(['queued', 'running', 'posted']);
    expect(record.result?.tokens.input).toBeGreaterThan(0);
    expect(record.result?.tokens.output).toBeGreaterThan(0);
    expect(record.result?.costUsd).toBeGreaterThan(0);

    const [review, ...more] = sut.world.reviews(pr);
    expect(more).toHaveLength(0);
    expect(review).toMatchObject({ state: 'COMMENTED', commit_id: pr.headSha, user: { login: 'kritik-test[bot]' } });
    expect(review?.comments).toEqual([expect.objectContaining({ path: 'src/app.ts', line: 2 })]);
    expect(sut.world.checkRuns(pr)).toEqual([
      expect.objectContaining({ name: 'Kritik', status: 'completed', conclusion: 'neutral' }),
    ]);

    const job = sut.recorder.jobs.get(reviewJobName(reviewId))?.object;
    expect(job?.metadata?.labels?.[LABELS.reviewId]).toBe(reviewId);
    expect(job?.spec?.template.spec?.containers[0]?.image).toMatch(/^ghcr\.io\/kritik-dev\/kritik-reviewer:/);
    const secret = sut.recorder.secrets.get(reviewJobName(reviewId))?.object;
    expect(secret?.metadata?.ownerReferences).toEqual([
      expect.objectContaining({ kind: 'Job', name: reviewJobName(reviewId) }),
    ]);

    const batch = sut.plane.adminKubeConfig().makeApiClient(BatchV1Api);
    const core = sut.plane.adminKubeConfig().makeApiClient(CoreV1Api);
    const gone = (read: () => Promise<unknown>) => () =>
      read().then(
        () => undefined,
        (error: { code?: number }) => (error.code === 404 ? true : Promise.reject(error)),
      );
    await waitUntil(
      'the review Job to be deleted after its TTL',
      gone(() => batch.readNamespacedJob({ namespace: JOBS_NAMESPACE, name: reviewJobName(reviewId) })),
      { timeoutMs: 60_000, intervalMs: 500 },
    );
    await waitUntil(
      'the review Secret to be garbage-collected',
      gone(() => core.readNamespacedSecret({ namespace: JOBS_NAMESPACE, name: reviewJobName(reviewId) })),
      { timeoutMs: 60_000, intervalMs: 500 },
    );
  });

  it('checks the head out from the tarball into the Job workspace and lets the model explore it', async () => {
    const pr = sut.world.openPullRequest();
    sut.world.github.setFiles(OWNER, pr.repo, `feature-${pr.number}-0`, {
      'src/app.ts': "const a = 'x';\nrun(input);\nexport {};\n",
      'src/run.ts': 'export function run(input: string) {\n  return eval(input);\n}\n',
    });
    sut.world.anthropic.script(
      FakeAnthropic.toolUse('search', { pattern: 'function run', path_glob: 'src/**' }),
      FakeAnthropic.toolUse('read_file', { path: 'src/run.ts' }),
      findingsReply(),
      FakeAnthropic.toolUse('submit_verdicts', { verdicts: [{ id: 0, verdict: 'keep', reason: 'run evals it' }] }),
    );

    const answer = await sut.webhook(sut.pullRequestEvent('opened', pr));
    const reviewId = answer.body.reviewId as string;
    const record = await sut.waitForReview(reviewId);

    const requests = sut.world.anthropic.messageRequests().slice(-4);
    const read = FakeAnthropic.toolResults(requests[2]!)[0];
    const usage = sut.kubelet.volumeUsage(reviewJobName(reviewId), 'workspace');
    expect({ status: record.status, reason: record.reason }).toEqual({ status: 'posted' });
    expect(sut.world.github.requestsTo('GET /repos/{owner}/{repo}/tarball/{ref+}').map((r) => r.path)).toContain(
      `/repos/${OWNER}/${pr.repo}/tarball/${pr.headSha}`,
    );
    expect(read).toMatchObject({ isError: false, content: expect.stringContaining('2:   return eval(input);') });
    expect(sut.world.reviews(pr)[0]!.body).toContain('1 file read beyond the diff');
    expect(usage?.peakBytes).toBeGreaterThan(0);
    expect(usage!.peakBytes).toBeLessThanOrEqual(usage!.sizeLimitBytes!);
  });

  it('reviews only the last of three pushes made within a second', async () => {
    const opened = sut.world.openPullRequest();
    const heads = [1, 2, 3].map((n) => sut.world.push(opened, n));
    const answers = [];
    for (const head of heads) answers.push(await sut.webhook(sut.pullRequestEvent('synchronize', head)));

    expect(answers.map((a) => a.status)).toEqual([202, 202, 202]);
    const last = await sut.waitForReview(answers[2]!.body.reviewId as string);
    expect(last).toMatchObject({ status: 'posted', headSha: heads[2]!.headSha });
    for (const earlier of answers.slice(0, 2)) {
      await expect(sut.waitForReview(earlier.body.reviewId as string)).resolves.toMatchObject({ status: 'skipped' });
    }
    expect(sut.world.reviews(opened).map((r) => r.commit_id)).toEqual([heads[2]!.headSha]);
  });

  it('reviews once when the same delivery arrives a hundred times', async () => {
    const pr = sut.world.openPullRequest();
    const repeated = sut.pullRequestEvent('opened', pr);

    const answers = await Promise.all(Array.from({ length: 100 }, () => sut.webhook(repeated)));

    const statuses = answers.map((a) => a.status);
    expect(statuses.filter((s) => s === 202)).toHaveLength(1);
    expect(statuses.every((s) => s === 202 || s === 200 || s === 409)).toBe(true);
    const reviewId = answers.find((a) => a.status === 202)!.body.reviewId as string;
    await expect(sut.waitForReview(reviewId)).resolves.toMatchObject({ status: 'posted' });
    expect(sut.world.reviews(pr)).toHaveLength(1);
    expect(sut.recorder.jobCreations.get(reviewJobName(reviewId))).toBe(1);
  });
});
