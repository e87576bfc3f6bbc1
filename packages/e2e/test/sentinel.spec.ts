// Redis behind Sentinel as the chart configures it (externalRedis.sentinels): the master is
// killed with SIGKILL, the sentinel promotes the replica, and the platform goes on taking
// webhooks and posting reviews without a restart.
import { Platform } from '@kritik/e2e';
import { waitUntil } from '@kritik/testing';

jest.setTimeout(300_000);

describe('Kritik on Redis Sentinel', () => {
  let sut: Platform;

  beforeAll(async () => {
    sut = await Platform.start({ sentinel: true });
  });
  afterAll(async () => {
    await sut?.stop();
  });

  it('keeps enqueuing and reviewing after the master dies and the replica is promoted', async () => {
    const set = sut.sentinelSet!;
    const before = await sut.openPullRequest();
    expect((await sut.waitForReview(before.reviewId)).status).toBe('posted');

    await set.master.kill();
    await waitUntil(
      'the sentinel to promote the replica',
      async () => ((await set.masterAddress()) === `127.0.0.1:${set.replica.port}` ? true : undefined),
      { timeoutMs: 30_000, intervalMs: 100 },
    );
    // While the connection moves the backend answers 503; GitHub's redelivery sends the same
    // delivery again until it is accepted.
    const pr = sut.world.openPullRequest();
    const delivery = sut.pullRequestEvent('opened', pr);
    const answer = await waitUntil(
      'the backend to accept the delivery',
      async () => {
        const reply = await sut.webhook(delivery);
        if (reply.status !== 202 && reply.status !== 503) throw new Error(`unexpected ${reply.status}`);
        return reply.status === 202 ? reply : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 250 },
    );

    const record = await sut.waitForReview(answer.body.reviewId as string);
    expect({ status: record.status, reason: record.reason }).toEqual({ status: 'posted' });
    expect(sut.world.reviews(pr)).toHaveLength(1);
  });
});
