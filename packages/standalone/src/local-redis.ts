// The Redis of the standalone mode: the given REDIS_URL, or a redis-server started here on a free
// loopback port, keeping its append-only file in the data directory so queued reviews survive.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { findExecutable, freePort, redisAnswers } from '@kritik/control-plane';
import { ENV } from '@kritik/core';
import { PDEATHSIG } from './services.js';

export class RedisUnavailableError extends Error {
  override readonly name = 'RedisUnavailableError';
}

export interface LocalRedis {
  /** Undefined when the services find Redis through Sentinel (their own KRITIK_REDIS_* settings). */
  readonly url: string | undefined;
  /** True when this process started the server (and stop() ends it). */
  readonly started: boolean;
  /** Settles when a started server exits on its own; never for a given URL. */
  readonly exited: Promise<number | null>;
  stop(): Promise<void>;
}

export interface RedisOptions {
  readonly url?: string;
  /** Sentinels are configured: nothing to start, the services connect through them. */
  readonly sentinels?: boolean;
  /** The binary; `redis-server` on `path` when unset. */
  readonly binary?: string;
  /** The PATH to search. */
  readonly path: string;
  readonly dataDir: string;
  readonly startTimeoutMs?: number;
}

export const REDIS_INSTALL_HINT =
  'install it (Debian/Ubuntu: apt-get install redis-server; macOS: brew install redis) and put it on PATH, ' +
  `set ${ENV.redisServer} to its path, or set ${ENV.redisUrl} to a running Redis (redis://host:6379)`;

/**
 * The Redis to use: `options.url` as is, the services' own Sentinel settings, else a redis-server
 * started now (clear error when there is none).
 */
export async function provideRedis(options: RedisOptions): Promise<LocalRedis> {
  if (options.url || options.sentinels) {
    return { url: options.url, started: false, exited: new Promise(() => {}), stop: async () => {} };
  }
  const binary = findExecutable(options.binary ?? 'redis-server', options.path);
  if (!binary) {
    const what = options.binary
      ? `${ENV.redisServer} (${options.binary}) is not an executable`
      : 'redis-server is not on PATH';
    throw new RedisUnavailableError(`${ENV.redisUrl} is not set and ${what}: ${REDIS_INSTALL_HINT}`);
  }
  const dir = join(options.dataDir, 'redis');
  mkdirSync(dir, { recursive: true });
  const port = await freePort();
  // Its own process group, so the terminal's Ctrl-C reaches the services but not Redis: the
  // standalone stops the services first and Redis last, and no service sees Redis vanish. Where
  // setpriv exists the kernel still ends it if the standalone dies.
  const pdeathsig = existsSync(PDEATHSIG) ? [PDEATHSIG, '--pdeathsig', 'SIGTERM', '--'] : [];
  const child: ChildProcess = spawn(
    pdeathsig[0] ?? binary,
    [
      ...pdeathsig.slice(1),
      ...(pdeathsig.length ? [binary] : []),
      ...['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', ''],
      ...['--appendonly', 'yes', '--appendfsync', 'everysec', '--daemonize', 'no'],
      // BullMQ must never lose keys to eviction.
      ...['--maxmemory-policy', 'noeviction', '--loglevel', 'warning'],
    ],
    { stdio: ['ignore', 'ignore', 'inherit'], detached: true },
  );
  const exited = new Promise<number | null>((resolveExit) => {
    child.once('exit', (code) => resolveExit(code));
    child.once('error', () => resolveExit(-1));
  });
  let gone = false;
  void exited.then(() => {
    gone = true;
  });
  const stop = async () => {
    if (gone) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  };

  const deadline = Date.now() + (options.startTimeoutMs ?? 10_000);
  while (!(await redisAnswers(port))) {
    if (gone) throw new RedisUnavailableError(`${binary} exited while starting (its error is above)`);
    if (Date.now() > deadline) {
      await stop();
      throw new RedisUnavailableError(`${binary} did not answer on port ${port} within its start timeout`);
    }
    await sleep(50);
  }
  return { url: `redis://127.0.0.1:${port}`, started: true, exited, stop };
}
