// Readiness of the shared Redis connection, for the /ready endpoint of every service.
import { Inject, Injectable } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import { Redis } from 'ioredis';
import type { ReadinessCheck } from './health.module.js';
import { REDIS } from './redis.js';

/** Usable directly as a readiness check: `HealthModule.register({ checks: [RedisHealthIndicator] })`. */
@Injectable()
export class RedisHealthIndicator implements ReadinessCheck {
  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    private readonly indicators: HealthIndicatorService,
  ) {}

  check() {
    return this.isHealthy();
  }

  async isHealthy(key = 'redis', timeoutMs = 1_000) {
    const indicator = this.indicators.check(key);
    if (this.redis.status !== 'ready') return indicator.down({ message: `connection is ${this.redis.status}` });
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.redis.ping(),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no reply within ${timeoutMs} ms`)), timeoutMs);
        }),
      ]);
      return indicator.up();
    } catch (error) {
      return indicator.down({ message: (error as Error).message });
    } finally {
      clearTimeout(timer);
    }
  }
}
