// A queue whose first connection set-up failed once must not stay broken: BullMQ runs that
// set-up (wait for the connection, INFO for the server version) once per Queue object.
import { startRedis, type TestRedis } from '@kritik/testing';
import { Redis } from 'ioredis';
import { type BackendHarness, eventually, fixture, startBackend } from './backend.harness.js';

describe('queue set-up failing once', () => {
  let redis: TestRedis;
  let admin: Redis;
  let sut: BackendHarness | undefined;

  beforeEach(async () => {
    redis = await startRedis();
    admin = new Redis(redis.url, { maxRetriesPerRequest: null });
    // INFO refused: BullMQ's first INFO fails, as it does when it times out or the connection
    // drops just after connecting; every other command works.
    await admin.call('ACL', 'SETUSER', 'default', '-info');
    sut = await startBackend({ KRITIK_DEBOUNCE_MS: '50' }, redis);
  });
  afterEach(async () => {
    await sut?.stop();
    admin.disconnect();
    await redis.stop();
  });

  const allowInfo = () => admin.call('ACL', 'SETUSER', 'default', '+info');

  it('reports not ready while the queues cannot be used', async () => {
    const ready = await eventually(
      () => sut!.get('/ready'),
      (r) => r.status === 503,
      5_000,
    );
    expect(ready.status).toBe(503);
    expect(ready.body.error).toHaveProperty('queues');
  });

  it('accepts a delivery once the set-up can succeed, without a restart', async () => {
    const during = await sut!.post('pull_request', fixture('pull_request.opened'), { deliveryId: 'first-info-failed' });
    expect(during.status).toBe(503);
    await allowInfo();

    const reply = await eventually(
      () => sut!.post('pull_request', fixture('pull_request.opened'), { deliveryId: 'first-info-failed' }),
      (r) => r.status !== 503,
    );
    expect(reply).toMatchObject({ status: 202, body: { status: 'queued' } });
    expect(await sut!.client.exists(`bull:reviews:${reply.body.reviewId}`)).toBe(1);
    expect((await sut!.get('/ready')).status).toBe(200);
  });
});
