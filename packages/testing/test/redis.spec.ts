import { connect } from 'node:net';
import { Redis } from 'ioredis';
import { startRedis, type TestRedis } from '../src/redis.js';

describe(startRedis.name, () => {
  let sut: TestRedis;
  let client: Redis;

  beforeAll(async () => {
    sut = await startRedis();
    client = new Redis(sut.url, { maxRetriesPerRequest: null, retryStrategy: () => 50 });
  });
  afterAll(async () => {
    client.disconnect();
    await sut.stop();
  });

  it('stores and returns a value', async () => {
    await client.set('greeting', 'hello');
    await expect(client.get('greeting')).resolves.toBe('hello');
  });

  it('comes back on the same port after restart, without the old data', async () => {
    await client.set('before-restart', '1');
    await sut.restart();
    await expect(client.get('before-restart')).resolves.toBeNull();
    expect(sut.url).toBe(`redis://127.0.0.1:${sut.port}`);
  });

  it('refuses connections after stop', async () => {
    const other = await startRedis();
    await other.stop();
    const refused = await new Promise<string>((resolve) => {
      const socket = connect({ host: '127.0.0.1', port: other.port });
      socket.once('connect', () => resolve('connected'));
      socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error'));
    });
    expect(refused).toBe('ECONNREFUSED');
  });
});
