// One ioredis connection per process, shared by BullMQ and our own keys. It never gives up
// reconnecting, and with the offline queue off a command fails at once while Redis is away,
// so callers can answer "unavailable" instead of hanging.

import { backoffDelay, ENV } from '@kritik/core';
import { type DynamicModule, Global, Inject, Injectable, Module, type OnApplicationShutdown } from '@nestjs/common';
import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from './logger.js';
import { describeRedis, type RedisConnection, redisClientOptions } from './redis-connection.js';

/** Injection token of the shared ioredis client. */
export const REDIS = 'KRITIK_REDIS';

export interface RedisConnectionOptions {
  /** The validated Redis settings of the service's config. */
  readonly connection: RedisConnection;
  /** Connection name shown by CLIENT LIST. */
  readonly name?: string;
  /**
   * Fail a command that gets no reply within this many milliseconds. Only for request paths:
   * never for a connection that BullMQ workers duplicate for blocking commands.
   */
  readonly commandTimeoutMs?: number;
  readonly logger?: Logger;
}

export function createRedis(options: RedisConnectionOptions): Redis {
  const extra: RedisOptions = {
    ...redisClientOptions(options.connection),
    // BullMQ requires this; a command sent while connected is retried over reconnects.
    maxRetriesPerRequest: null,
    enableOfflineQueue: false,
    lazyConnect: true,
    connectionName: options.name,
    retryStrategy: (attempt) => backoffDelay(attempt, { baseDelayMs: 50, maxDelayMs: 2_000 }),
    // A master demoted by a failover answers writes with READONLY while the connection lives:
    // reconnecting reaches the new master (through Sentinel, or a managed endpoint's DNS). The
    // refused command fails like any Redis error (callers retry); resending it instead would
    // loop unseen against a URL that names a replica.
    reconnectOnError: (error) => error.message.startsWith('READONLY'),
    ...(options.commandTimeoutMs ? { commandTimeout: options.commandTimeoutMs } : {}),
  };
  const redis = new Redis(extra);
  let lastWarning = 0;
  redis.on('error', (error: Error) => {
    // Reconnect attempts fail every few hundred milliseconds while Redis is down; one line
    // every ten seconds is enough to see it.
    const now = Date.now();
    if (now - lastWarning < 10_000) return;
    lastWarning = now;
    const refused = loginRefusal(error);
    if (refused) options.logger?.error({ err: error }, refused);
    else options.logger?.warn({ err: error }, 'redis connection error');
  });
  redis.on('ready', () => {
    // After a failover this names the new master.
    const { remoteAddress, remotePort } = redis.stream ?? {};
    options.logger?.info(
      { redis: describeRedis(options.connection), at: `${remoteAddress}:${remotePort}` },
      'redis connection ready',
    );
  });
  redis.connect().catch(() => {
    // retryStrategy keeps trying; readiness reports the outage meanwhile.
  });
  return redis;
}

/**
 * What to tell the operator when Redis refuses the login: these errors do not heal by retrying,
 * so they name the settings to fix (never their values).
 */
export function loginRefusal(error: Error): string | undefined {
  // ioredis wraps some of them ("Ready check failed: NOPERM ...").
  const code = /\b(WRONGPASS|NOAUTH|NOPERM)\b/.exec(error.message)?.[1];
  const login = `${ENV.redisUsername}/${ENV.redisPassword} or the user and password in ${ENV.redisUrl}`;
  if (code === 'WRONGPASS') return `redis refused the login: wrong user or password (check ${login})`;
  if (code === 'NOAUTH') return `redis requires a password (set ${login})`;
  if (code === 'NOPERM')
    return `the redis ACL user lacks a permission Kritik needs (see docs/operations.md, "Redis in production")`;
  return undefined;
}

@Injectable()
class RedisLifecycle implements OnApplicationShutdown {
  constructor(@Inject(REDIS) private readonly redis: Redis) {}

  async onApplicationShutdown() {
    // quit() waits for a reply that never comes while Redis is down.
    if (this.redis.status === 'ready') await this.redis.quit().catch(() => this.redis.disconnect());
    else this.redis.disconnect();
  }
}

export interface RedisModuleAsyncOptions {
  readonly imports?: DynamicModule['imports'];
  readonly inject?: unknown[];
  readonly useFactory: (...args: never[]) => RedisConnectionOptions | Promise<RedisConnectionOptions>;
}

/** Provides {@link REDIS} application-wide and closes it on shutdown. */
@Global()
@Module({})
export class RedisModule {
  static forRoot(options: RedisConnectionOptions): DynamicModule {
    return RedisModule.forRootAsync({ useFactory: () => options });
  }

  static forRootAsync(options: RedisModuleAsyncOptions): DynamicModule {
    return {
      module: RedisModule,
      imports: options.imports ?? [],
      providers: [
        {
          provide: REDIS,
          inject: (options.inject ?? []) as never[],
          useFactory: async (...args: never[]) => createRedis(await options.useFactory(...args)),
        },
        RedisLifecycle,
      ],
      exports: [REDIS],
    };
  }
}

/**
 * Runs `issue`, which sends several independent commands synchronously, with the connection's
 * socket corked, so they leave in one write: a system call per command is the main cost of a
 * round trip under load.
 */
export function inOneWrite<T>(redis: Redis, issue: () => T): T {
  const stream = redis.status === 'ready' ? redis.stream : undefined;
  if (!stream) return issue();
  stream.cork();
  try {
    return issue();
  } finally {
    stream.uncork();
  }
}
