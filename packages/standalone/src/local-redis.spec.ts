import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { requireTool } from '@kritik/testing';
import { Redis } from 'ioredis';
import { provideRedis, RedisUnavailableError } from './local-redis.js';

describe(provideRedis.name, () => {
  let dataDir: string;
  beforeEach(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'kritik-standalone-'));
  });
  afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

  it('uses the given URL without starting a server', async () => {
    const sut = await provideRedis({ url: 'redis://10.1.2.3:6379', path: '', dataDir });

    expect(sut).toMatchObject({ url: 'redis://10.1.2.3:6379', started: false });
  });

  it('starts nothing when sentinels are configured: the services connect through them', async () => {
    const sut = await provideRedis({ sentinels: true, path: dirname(requireTool('redis-server')), dataDir });

    expect(sut).toMatchObject({ url: undefined, started: false });
  });

  it('starts redis-server from PATH on a loopback port when no URL is given', async () => {
    const sut = await provideRedis({ path: dirname(requireTool('redis-server')), dataDir });
    const client = new Redis(sut.url!, { lazyConnect: true });
    try {
      await client.connect();
      await expect(client.ping()).resolves.toBe('PONG');
      expect(sut.url).toMatch(/^redis:\/\/127\.0\.0\.1:\d+$/);
    } finally {
      client.disconnect();
      await sut.stop();
    }
  });

  it('keeps what was stored across a restart in the same data directory', async () => {
    const path = dirname(requireTool('redis-server'));
    const first = await provideRedis({ path, dataDir });
    const writer = new Redis(first.url!);
    await writer.set('kritik:test', 'kept');
    await writer.quit();
    await first.stop();

    const sut = await provideRedis({ path, dataDir });
    const reader = new Redis(sut.url!);
    try {
      await expect(reader.get('kritik:test')).resolves.toBe('kept');
    } finally {
      await reader.quit();
      await sut.stop();
    }
  });

  it('fails with the install command when there is no URL and no redis-server', async () => {
    const start = provideRedis({ path: '/nonexistent', dataDir });

    await expect(start).rejects.toThrow(RedisUnavailableError);
    await expect(start).rejects.toThrow(
      /REDIS_URL is not set and redis-server is not on PATH: install it \(Debian\/Ubuntu: apt-get install redis-server/,
    );
  });
});
