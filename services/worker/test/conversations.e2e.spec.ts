// A conversation end to end through the worker: a reply in a finding's thread, queued as a review
// request with trigger `answer`, runs the real reviewer as a Job-like local process with the
// review's token and model gateway, and the answer lands in that same thread.
import { reviewIdFor } from '@kritik/core';
import { FakeAnthropic, startRedis, type TestRedis } from '@kritik/testing';
import { Producer, startWorker, type WorkerUnderTest } from './support/worker-app.js';
import {
  type Fakes,
  OWNER,
  openPullRequest,
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

  it('answers a reply in the same thread from a review Job, with the thread in the prompt and no check run', async () => {
    const review = openPullRequest(fakes.github, 'conversation');
    await producer.enqueue(review);
    await expect(producer.ended(review.reviewId)).resolves.toMatchObject({ status: 'posted' });
    const [finding] = fakes.github.reviewComments(OWNER, REPO, review.pr);
    const runsBefore = fakes.github.checkRuns(OWNER, REPO, review.headSha).length;
    const asked = await replyTo(review.pr, finding!.id, '@kritik-test is this really reachable from the handler?');
    fakes.anthropic.script(FakeAnthropic.text('Yes: the handler calls it on every retry.'));

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
