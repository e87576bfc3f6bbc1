// A real redis-server on a free loopback port for tests, in its own temp dir, with no
// persistence unless asked; restart() brings it back on the same port to test reconnects.
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, retryOnPortClash } from './ports.js';
import { type ManagedProcess, startProcess, waitUntil } from './process.js';
import { requireTool } from './tools.js';

export interface RedisOptions {
  /** Keep data across restart() through an append-only file (default: no persistence at all). */
  persist?: boolean;
  /** How long to wait for the server to accept connections (default 10 s). */
  startTimeoutMs?: number;
  /** More redis-server arguments, e.g. the `--requirepass` a chart gives its Redis. */
  extraArgs?: readonly string[];
}

export interface TestRedis {
  /** `redis://127.0.0.1:<port>` */
  readonly url: string;
  readonly port: number;
  readonly host: string;
  /** Stops the server (SIGTERM, then SIGKILL) and deletes its temp dir. */
  stop(): Promise<void>;
  /** Stops the server and starts it again on the same port. */
  restart(): Promise<void>;
}

/** Answers true once the server on `port` answers a PING (+PONG, or NOAUTH with a password). */
function ping(port: number): Promise<true | undefined> {
  return new Promise((resolvePing) => {
    const socket = connect({ host: '127.0.0.1', port });
    let reply = '';
    const finish = (ok: boolean) => {
      socket.destroy();
      resolvePing(ok ? true : undefined);
    };
    socket.setTimeout(1_000, () => finish(false));
    socket.once('error', () => finish(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      reply += chunk.toString();
      // A server with a password answers NOAUTH: it is up all the same.
      if (reply.includes('\r\n')) finish(reply.startsWith('+PONG') || reply.startsWith('-NOAUTH'));
    });
  });
}

/** Starts redis-server on a free loopback port (retried on a fresh one if it is taken). */
export function startRedis(options: RedisOptions = {}): Promise<TestRedis> {
  return retryOnPortClash(() => startOnce(options));
}

async function startOnce(options: RedisOptions): Promise<TestRedis> {
  const binary = requireTool('redis-server');
  const dir = mkdtempSync(join(tmpdir(), 'kritik-redis-'));
  const port = await freePort();
  const persistence = options.persist ? ['--appendonly', 'yes', '--appendfsync', 'always'] : ['--appendonly', 'no'];
  const args = [
    ...['--port', String(port), '--bind', '127.0.0.1', '--protected-mode', 'no'],
    ...['--save', '', ...persistence, '--dir', dir, '--daemonize', 'no', '--logfile', ''],
    ...(options.extraArgs ?? []),
  ];
  let proc: ManagedProcess | undefined;
  let generation = 0;

  const launch = async () => {
    generation += 1;
    proc = startProcess('redis-server', binary, args, { logFile: join(dir, `redis-${generation}.log`), cwd: dir });
    await waitUntil(`redis-server on port ${port}`, () => ping(port), {
      timeoutMs: options.startTimeoutMs ?? 10_000,
      intervalMs: 25,
      proc,
    });
  };
  const kill = async () => {
    await proc?.stop(2_000);
    proc = undefined;
  };

  try {
    await launch();
  } catch (error) {
    await kill();
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    url: `redis://127.0.0.1:${port}`,
    host: '127.0.0.1',
    port,
    async stop() {
      await kill();
      rmSync(dir, { recursive: true, force: true });
    },
    async restart() {
      await kill();
      await launch();
    },
  };
}
