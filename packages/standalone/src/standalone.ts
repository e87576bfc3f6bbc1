// Kritik on one machine: Redis (given or started), then the backend and the worker with the local
// runner, each validated and run exactly as in a cluster; stops everything when one part ends.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '@kritik/server';
import { type LocalRedis, provideRedis } from './local-redis.js';
import {
  locateServiceMain,
  SERVICES,
  type ServiceName,
  type ServiceProcess,
  serviceEnv,
  startService,
} from './services.js';
import { dataDirOf, type StandaloneConfig } from './standalone.config.js';

export interface StandaloneOptions {
  readonly config: StandaloneConfig;
  /** The environment the services inherit (and read their own settings from). */
  readonly source: NodeJS.ProcessEnv;
  readonly logger: Logger;
  /** Where the services' packages are looked up from (the entry point's directory). */
  readonly from: string;
  readonly startTimeoutMs?: number;
  /** Where the services' logs go: this process's stdout and stderr by default, or a file descriptor. */
  readonly output?: number;
}

export interface RunningStandalone {
  readonly backendUrl: string;
  readonly workerUrl: string;
  /** The Redis URL the services were given (it may hold a password); undefined with Sentinel. */
  readonly redisUrl: string | undefined;
  /** Settles when a part ends on its own, naming it. */
  readonly ended: Promise<{ part: ServiceName | 'redis'; code: number | null; signal?: NodeJS.Signals | null }>;
  stop(): Promise<void>;
}

export class StartupError extends Error {
  override readonly name = 'StartupError';
}

const urlOf = (host: string, port: number) => `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`;

async function healthy(url: string): Promise<boolean> {
  try {
    const response = await fetch(`${url}/health`, { signal: AbortSignal.timeout(1_000) });
    return response.ok;
  } catch {
    return false;
  }
}

export async function startStandalone(options: StandaloneOptions): Promise<RunningStandalone> {
  const { config, source, logger } = options;
  // Both are located before anything starts, so a missing build is reported first and alone.
  const mains = Object.fromEntries(SERVICES.map((name) => [name, locateServiceMain(name, options.from)])) as Record<
    ServiceName,
    string
  >;
  const redis: LocalRedis = await provideRedis({
    ...(config.redisUrl ? { url: config.redisUrl } : {}),
    sentinels: Boolean(config.redisSentinels?.length),
    ...(config.redisServer ? { binary: config.redisServer } : {}),
    path: source.PATH ?? '',
    dataDir: dataDirOf(config, source),
  });
  if (redis.started) logger.info({ redisUrl: redis.url }, 'started a local redis-server');

  const services: ServiceProcess[] = SERVICES.map((name) =>
    startService(name, mains[name], serviceEnv(name, config, redis.url, source), options.output),
  );
  let stopping = false;
  const stop = async () => {
    stopping = true;
    await Promise.all(services.map((service) => service.stop()));
    await redis.stop();
  };
  const ended = Promise.race([
    ...services.map((service) => service.exited.then((exit) => ({ part: service.name, ...exit }))),
    redis.exited.then((code) => ({ part: 'redis' as const, code })),
  ]);

  const urls = { backend: urlOf(config.host, config.port), worker: urlOf(config.host, config.workerPort) };
  const deadline = Date.now() + (options.startTimeoutMs ?? 60_000);
  for (const service of services) {
    while (!(await healthy(urls[service.name]))) {
      const dead = services.find((s) => !s.running());
      if (dead || Date.now() > deadline) {
        await stop();
        const { code, signal } = dead ? await dead.exited : { code: null, signal: null };
        throw new StartupError(
          dead
            ? `the ${dead.name} exited while starting (${signal ? `signal ${signal}` : `exit code ${code}`}); its log is above`
            : `the ${service.name} did not answer ${urls[service.name]}/health in time`,
        );
      }
      await sleep(100);
    }
  }
  void ended.then(({ part }) => {
    if (!stopping) logger.error({ part }, `the ${part} ended; stopping Kritik`);
  });
  return { backendUrl: urls.backend, workerUrl: urls.worker, redisUrl: redis.url, ended, stop };
}
