// A conversation end to end through the worker: a reply in a finding's thread, queued as a review
// request with trigger `answer`, runs the real reviewer as a Job-like local process with the
// review's token and model gateway, and the answer lands in that same thread.
import { type ReviewRequest, reviewIdFor } from '@kritik/core';
import { LearnedRulesStore } from '@kritik/server';
import { FakeAnthropic, startRedis, type TestRedis } from '@kritik/testing';
import { Producer, startWorker, type WorkerUnderTest } from './support/worker-app.js';
import {
  type Fakes,
  OWNER,
  openPullRequest,
  pushCommit,
  REPO,
  reviewerCommand,
  reviewJobSettings,
  startFakes,
} from './support/world.js';

jest.setTimeout(120_000);

describe('worker conversations', () => {
  let redis: TestRedis;
  let fakes: Fakes;
  let producer: Producer;
  let sut: WorkerUnderTest;

  beforeAll(async () => {
    [redis, fakes] = await Promise.all([startRedis(), startFakes()]);
    producer = new Producer(redis.url);
    sut = await startWorker({
      redisUrl: redis.url,
      fakes,
      runner: 'local',
      reviewJob: reviewJobSettings(fakes.anthropic),
      local: { command: reviewerCommand() },
      settings: { anthropic: { apiKey: 'sk-ant-local' } },
    });
  });
  afterAll(async () => {
    await sut?.close();
    await producer?.close();
    await Promise.all([redis?.stop(), fakes?.stop()]);
  });

  /** A person's reply in a thread, through GitHub's REST API as the web page sends it. */
  async function replyTo(pr: number, commentId: number, body: string): Promise<number> {
    const response = await fetch(
      `${fakes.github.url}/repos/${OWNER}/${REPO}/pulls/${pr}/comments/${commentId}/replies`,
      {
        method: 'POST',
        headers: { authorization: `token ${fakes.github.token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ body }),
      },
    );
    expect(response.status).toBe(201);
    return ((await response.json()) as { id: number }).id;
  }

  const answerTo = (review: ReviewRequest, commentId: number, delivery: string): ReviewRequest => ({
    ...review,
    reviewId: reviewIdFor('github', review.repo, review.pr, review.headSha, delivery),
    trigger: 'answer',
    thread: { kind: 'review-comment', commentId },
  });

  it('learns from `ignore`: the next push and the next pull request do not repeat it, and the prompt carries the rule', async () => {
    const review = openPullRequest(fakes.github, 'ignored');
    await producer.enqueue(review);
    await expect(producer.ended(review.reviewId)).resolves.toMatchObject({ status: 'posted' });
    const [finding] = fakes.github.reviewComments(OWNER, REPO, review.pr);
    const asked = await replyTo(review.pr, finding!.id, '@kritik-test ignore we validate input at the gateway');
    const modelCalls = fakes.anthropic.messageRequests().length;

    const answer = answerTo(review, asked, 'ignore-delivery-1');
    await producer.enqueue(answer);
    const answered = await producer.ended(answer.reviewId);

    expect(answered).toMatchObject({
      status: 'posted',
      result: { dismissed: [{ rule: expect.stringContaining('we validate input at the gateway'), via: 'ignore' }] },
    });
    expect(fakes.anthropic.messageRequests()).toHaveLength(modelCalls);
    const rules = await new LearnedRulesStore(producer.redis).list(review.platform, review.repo);
    expect(rules.map((r) => r.rule)).toEqual(['Unchecked input (in src/app.ts) — we validate input at the gateway']);

    const pushed = pushCommit(fakes.github, review, 'ignored-2');
    await producer.enqueue(pushed);
    await expect(producer.ended(pushed.reviewId)).resolves.toMatchObject({
      status: 'posted',
      result: { commentsPosted: 0 },
    });
    expect(JSON.stringify(fakes.anthropic.messageRequests().at(-1)!.messages)).toContain(
      'we validate input at the gateway',
    );

    const other = openPullRequest(fakes.github, 'ignored-elsewhere');
    await producer.enqueue(other);
    await expect(producer.ended(other.reviewId)).resolves.toMatchObject({
      status: 'posted',
      result: { commentsPosted: 0 },
    });
    expect(fakes.github.reviews(OWNER, REPO, other.pr)[0]!.body).toContain('Learned rules applied (1)');
    // The repository is shared by every test here: what it learned is forgotten again.
    expect(
      await new LearnedRulesStore(producer.redis).remove(review.platform, review.repo, rules[0]!.fingerprint),
    ).toBe(true);
  });

  it('answers a reply in the same thread from a review Job, with the thread in the prompt and no check run', async () => {
    const review = openPullRequest(fakes.github, 'conversation');
    await producer.enqueue(review);
    await expect(producer.ended(review.reviewId)).resolves.toMatchObject({ status: 'posted' });
    const [finding] = fakes.github.reviewComments(OWNER, REPO, review.pr);
    const runsBefore = fakes.github.checkRuns(OWNER, REPO, review.headSha).length;
    const asked = await replyTo(review.pr, finding!.id, '@kritik-test is this really reachable from the handler?');
    fakes.anthropic.script(
      FakeAnthropic.toolUse('submit_answer', { answer: 'Yes: the handler calls it on every retry.' }),
    );

    const answer = {
      ...review,
      reviewId: reviewIdFor('github', review.repo, review.pr, review.headSha, 'thread-delivery-1'),
      trigger: 'answer' as const,
      thread: { kind: 'review-comment' as const, commentId: asked },
    };
    await producer.enqueue(answer);

    await expect(producer.ended(answer.reviewId)).resolves.toMatchObject({
      status: 'posted',
      result: { commentsPosted: 1 },
    });
    const thread = fakes.github.reviewComments(OWNER, REPO, review.pr);
    expect(thread.at(-1)).toMatchObject({ in_reply_to_id: finding!.id, user: { type: 'Bot' } });
    expect(thread.at(-1)!.body).toContain('Yes: the handler calls it on every retry.');
    expect(JSON.stringify(fakes.anthropic.messageRequests().at(-1)!.messages)).toContain(
      'is this really reachable from the handler?',
    );
    expect(fakes.github.checkRuns(OWNER, REPO, review.headSha)).toHaveLength(runsBefore);
  });
});
