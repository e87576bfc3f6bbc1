import { createLogger, REVIEW_QUEUE_PROVIDES } from '@kritik/server';
import { startRedis, type TestRedis } from '@kritik/testing';
import type { INestApplication } from '@nestjs/common';
import { createApp } from './app.js';
import { AppModule } from './app.module.js';
import { loadBackendConfig } from './config/backend.config.js';

describe(AppModule.name, () => {
  let redis: TestRedis;
  let sut: INestApplication;

  beforeAll(async () => {
    redis = await startRedis();
    const config = loadBackendConfig({ REDIS_URL: redis.url, GITHUB_WEBHOOK_SECRET: 'a test webhook secret' });
    sut = await createApp(config, { logger: createLogger({ name: 'backend', level: 'silent' }) });
    await sut.init();
  });
  afterAll(async () => {
    await sut?.close();
    await redis?.stop();
  });

  // The intake and the reviews API share one set (ReviewQueueModule), as the worker does.
  it.each(REVIEW_QUEUE_PROVIDES.map((token) => [typeof token === 'string' ? token : token.name, token] as const))(
    'provides %s once, shared by every feature',
    (_, token) => {
      expect(sut.get(token as never, { each: true, strict: false })).toHaveLength(1);
    },
  );
});
