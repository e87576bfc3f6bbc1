// Failure drills on the platform as the chart installs it: each ends with nothing lost and a
// visible outcome on the pull request (a posted review, or a check run concluded `failure`).
// GitLab runs beside GitHub on the same platform for the drills that must hold on both.
import { reviewJobName } from '@kritik/core';
import { findingsReply, gitlabDelivery, mergeRequestHook, Platform, stormThenFindings } from '@kritik/e2e';
import { waitUntil } from '@kritik/testing';

jest.setTimeout(300_000);

const DEADLINE_SECONDS = 40;
const MESSAGES = 'POST /v1/messages';

describe('Kritik failure drills', () => {
  let sut: Platform;

  beforeAll(async () => {
    sut = await Platform.start({
      persistRedis: true,
      gitlab: true,
      values: { reviewJob: { activeDeadlineSeconds: DEADLINE_SECONDS } },
    });
  });
  afterAll(async () => {
    await sut?.stop();
  });
  beforeEach(() => {
    sut.github.resetTraffic();
    sut.gitlabWorld!.gitlab.resetTraffic();
    sut.anthropic.resetTraffic();
    sut.anthropic.setDefaultReply(findingsReply());
  });

  const modelCalls = () => sut.anthropic.requestsTo(MESSAGES);
  const outcome = (record: { status: string; reason?: string }) => ({ status: record.status, reason: record.reason });

  it('posts every review once an Anthropic 429 storm has passed', async () => {
    sut.anthropic.setDefaultReply(stormThenFindings());

    const opened = await Promise.all([1, 2, 3].map(() => sut.openPullRequest()));

    for (const { pr, reviewId } of opened) {
      const record = await sut.waitForReview(reviewId);
      expect(outcome(record)).toEqual({ status: 'posted' });
      expect(sut.world.reviews(pr)).toHaveLength(1);
    }
    expect(modelCalls().filter((r) => r.status === 429).length).toBeGreaterThan(0);
    expect(modelCalls().filter((r) => r.status === 200)).toHaveLength(3);
  });

  it('fails the review visibly and stops asking when Anthropic is down', async () => {
    sut.anthropic.setDefaultReply({ error: { status: 500 } });

    const { pr, reviewId } = await sut.openPullRequest();

    const record = await sut.waitForReview(reviewId);
    expect(record.status).toBe('failed');
    expect(record.reason).toMatch(/Anthropic|model/i);
    expect(sut.world.checkRuns(pr)).toEqual([expect.objectContaining({ status: 'completed', conclusion: 'failure' })]);
    expect(sut.world.reviews(pr)).toHaveLength(0);
    const calls = modelCalls().length;
    await new Promise((settle) => setTimeout(settle, 5_000));
    expect(modelCalls().length).toBe(calls);
    expect(calls).toBeLessThanOrEqual(3);
    expect(sut.recorder.jobCreations.get(reviewJobName(reviewId))).toBe(1);
  });

  /** A change opened on each code host: its review, and what the host shows of it. */
  const openOn = {
    github: async () => {
      const { pr, reviewId } = await sut.openPullRequest();
      return {
        reviewId,
        posted: () => sut.world.reviews(pr).length,
        ending: () => sut.world.checkRuns(pr).map((r) => r.conclusion),
      };
    },
    gitlab: async () => {
      const gl = sut.gitlabWorld!;
      const mr = gl.openMergeRequest();
      const answer = await sut.gitlabWebhook(gitlabDelivery('Merge Request Hook', mergeRequestHook('open', mr)));
      if (typeof answer.body.reviewId !== 'string') throw new Error(`MR hook got ${JSON.stringify(answer)}`);
      return {
        reviewId: answer.body.reviewId,
        posted: () => gl.discussions(mr).length,
        ending: () => gl.statuses(mr).map((s) => s.status),
      };
    },
  };

  it.each([
    ['github', 'neutral'],
    ['gitlab', 'success'],
  ] as const)(
    'posts exactly one review on %s when the worker is killed with SIGKILL mid-review',
    async (host, ended) => {
      sut.anthropic.setLatency(4_000, MESSAGES);
      const change = await openOn[host]();
      await waitUntil('the reviewer to ask the model', async () => (modelCalls().length > 0 ? true : undefined), {
        timeoutMs: 60_000,
        intervalMs: 100,
      });

      await sut.killAndRestartWorker();

      const record = await sut.waitForReview(change.reviewId);
      expect(outcome(record)).toEqual({ status: 'posted' });
      expect(change.posted()).toBe(1);
      expect(change.ending()).toEqual([ended]);
      expect(sut.recorder.jobCreations.get(reviewJobName(change.reviewId))).toBe(1);
    },
  );

  it('completes every queued review across a Redis restart', async () => {
    const opened = await Promise.all([1, 2, 3].map(() => sut.openPullRequest()));

    await sut.redis.restart();

    for (const { pr, reviewId } of opened) {
      const record = await sut.waitForReview(reviewId);
      expect(outcome(record)).toEqual({ status: 'posted' });
      expect(sut.world.reviews(pr)).toHaveLength(1);
    }
  });

  it('fails a review whose pod passes its deadline as a timeout', async () => {
    const pr = sut.world.openPullRequest();
    // GitHub hangs on this PR: the reviewer cannot bound that wait itself, the Job deadline must.
    sut.github.setLatency((DEADLINE_SECONDS + 120) * 1000, {
      method: 'GET',
      path: `/repos/${pr.owner}/${pr.repo}/pulls/${pr.number}`,
    });

    const answer = await sut.webhook(sut.pullRequestEvent('opened', pr));

    const record = await sut.waitForReview(answer.body.reviewId as string, {
      timeoutMs: (DEADLINE_SECONDS + 90) * 1000,
    });
    expect(outcome(record)).toEqual({ status: 'failed', reason: 'timeout' });
    expect(sut.world.checkRuns(pr)).toEqual([expect.objectContaining({ status: 'completed', conclusion: 'failure' })]);
    expect(sut.world.reviews(pr)).toHaveLength(0);
  });
});
