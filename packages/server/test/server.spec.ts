// The shared modules wired into one real Nest application over real HTTP and a real Redis.
import { connect } from 'node:net';
import {
  HealthModule,
  MetricsModule,
  MetricsServer,
  RedisHealthIndicator,
  RedisModule,
  redisSettingsSchema,
} from '@kritik/server';
import { startRedis, type TestRedis } from '@kritik/testing';
import { type INestApplication, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';

describe('server infrastructure', () => {
  let redis: TestRedis;
  let app: INestApplication;
  let base: string;

  beforeAll(async () => {
    redis = await startRedis();
    @Module({
      imports: [
        RedisModule.forRoot({ connection: redisSettingsSchema.parse({ url: redis.url }), name: 'test' }),
        MetricsModule.forRoot({ service: 'test' }),
        HealthModule.register({ checks: [RedisHealthIndicator] }),
      ],
    })
    class AppModule {}
    app = await NestFactory.create(AppModule, { logger: false, forceCloseConnections: true });
    await app.listen(0, '127.0.0.1');
    base = await app.getUrl();
  });
  afterAll(async () => {
    await app?.close();
    await redis?.stop();
  });

  /** Stops the server for real (restart() starts it again on the same port). */
  function shutdown(server: TestRedis) {
    return new Promise<void>((resolve) => {
      const socket = connect({ host: server.host, port: server.port }, () => socket.end('SHUTDOWN NOSAVE\r\n'));
      socket.on('close', () => resolve());
      socket.on('error', () => undefined);
    });
  }

  const ready = async () => {
    const response = await fetch(`${base}/ready`);
    return {
      status: response.status,
      body: (await response.json()) as { status: string; error?: Record<string, { status: string }> },
    };
  };

  async function eventually<T>(fn: () => Promise<T>, ok: (value: T) => boolean, timeoutMs = 10_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = await fn();
      if (ok(value) || Date.now() > deadline) return value;
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  it('answers liveness without touching any dependency', async () => {
    const response = await fetch(`${base}/health`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ok' });
  });

  it('is ready while Redis answers', async () => {
    const sut = await eventually(ready, (r) => r.status === 200);
    expect(sut).toEqual({
      status: 200,
      body: expect.objectContaining({ status: 'ok', info: { redis: expect.objectContaining({ status: 'up' }) } }),
    });
  });

  it('is not ready while Redis is down and ready again once it is back, without a restart', async () => {
    await eventually(ready, (r) => r.status === 200);
    await shutdown(redis);
    const down = await eventually(ready, (r) => r.status === 503);
    expect(down.body.error?.redis?.status).toBe('down');
    await redis.restart();
    const up = await eventually(ready, (r) => r.status === 200);
    expect(up.status).toBe(200);
  });

  it('serves process metrics in the Prometheus text format with the kritik_ prefix', async () => {
    const response = await fetch(`${base}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0.0.4/);
    const text = await response.text();
    expect(text).toMatch(/^kritik_process_cpu_seconds_total\{service="test"\} /m);
    expect(text).toMatch(/^kritik_nodejs_heap_size_used_bytes\{service="test"\} /m);
  });

  it('serves metrics on their own port only, when one is configured', async () => {
    @Module({ imports: [MetricsModule.forRoot({ service: 'own', port: 0, host: '127.0.0.1' })] })
    class OwnPortModule {}
    const own = await NestFactory.create(OwnPortModule, { logger: false, forceCloseConnections: true });
    try {
      await own.listen(0, '127.0.0.1');
      const port = own.get(MetricsServer).address;

      const [metrics, other, onApp] = await Promise.all([
        fetch(`http://127.0.0.1:${port}/metrics`),
        fetch(`http://127.0.0.1:${port}/health`),
        fetch(`${await own.getUrl()}/metrics`),
      ]);

      expect([metrics.status, other.status, onApp.status]).toEqual([200, 404, 404]);
      expect(await metrics.text()).toMatch(/^kritik_process_cpu_seconds_total\{service="own"\} /m);
    } finally {
      await own.close();
    }
  });
});
