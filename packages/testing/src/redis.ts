// A real redis-server on a free loopback port for tests, in its own temp dir, with no
// persistence unless asked; restart() brings it back on the same port to test reconnects.
// startSentinelSet runs a master, a replica and a sentinel watching them, for failover tests.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  freePort,
  type ManagedProcess,
  redisAnswers,
  requireTool,
  retryOnPortClash,
  startProcess,
  waitUntil,
} from '@kritik/control-plane';
import { Redis } from 'ioredis';
import { type CertificateFiles, selfSignedCertificate } from './certificates.js';

export interface RedisOptions {
  /** Keep data across restart() through an append-only file (default: no persistence at all). */
  persist?: boolean;
  /** How long to wait for the server to accept connections (default 10 s). */
  startTimeoutMs?: number;
  /** More redis-server arguments, e.g. the `--requirepass` a chart gives its Redis. */
  extraArgs?: readonly string[];
  /**
   * Serve TLS only, with a self-signed certificate for 127.0.0.1 and localhost made at start or
   * the one given (the URL becomes `rediss://`, `tls` holds the certificate to trust). Replication
   * uses TLS too.
   */
  tls?: boolean | CertificateFiles;
}

export interface TestRedis {
  /** `redis://127.0.0.1:<port>` (`rediss://` with TLS) */
  readonly url: string;
  readonly port: number;
  readonly host: string;
  /** With `tls`: the server's self-signed certificate (PEM) and the file holding it. */
  readonly tls?: { readonly ca: string; readonly caFile: string };
  /** Stops the server (SIGTERM, then SIGKILL) and deletes its temp dir. */
  stop(): Promise<void>;
  /** Ends the server with SIGKILL (a crash: no shutdown, no goodbye to clients); stop() still cleans up. */
  kill(): Promise<void>;
  /** Stops the server and starts it again on the same port. */
  restart(): Promise<void>;
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
  const tls = options.tls === true ? selfSignedCertificate(dir, 'redis') : options.tls || undefined;
  const listen = tls
    ? ['--port', '0', '--tls-port', String(port), '--tls-cert-file', tls.certFile, '--tls-key-file', tls.keyFile]
    : ['--port', String(port)];
  const tlsArgs = tls
    ? ['--tls-ca-cert-file', tls.certFile, '--tls-auth-clients', 'no', '--tls-replication', 'yes']
    : [];
  const args = [
    ...listen,
    ...tlsArgs,
    ...['--bind', '127.0.0.1', '--protected-mode', 'no'],
    ...['--save', '', ...persistence, '--dir', dir, '--daemonize', 'no', '--logfile', ''],
    ...(options.extraArgs ?? []),
  ];
  let proc: ManagedProcess | undefined;
  let generation = 0;

  const launch = async () => {
    generation += 1;
    proc = startProcess('redis-server', binary, args, { logFile: join(dir, `redis-${generation}.log`), cwd: dir });
    await waitUntil(
      `redis-server on port ${port}`,
      async () => (await redisAnswers(port, { tls: tls !== undefined })) || undefined,
      {
        timeoutMs: options.startTimeoutMs ?? 10_000,
        intervalMs: 25,
        proc,
      },
    );
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
    url: `${tls ? 'rediss' : 'redis'}://127.0.0.1:${port}`,
    host: '127.0.0.1',
    port,
    ...(tls ? { tls: { ca: readFileSync(tls.certFile, 'utf8'), caFile: tls.certFile } } : {}),
    async stop() {
      await kill();
      rmSync(dir, { recursive: true, force: true });
    },
    async kill() {
      await proc?.stop(0);
      proc = undefined;
    },
    async restart() {
      await kill();
      await launch();
    },
  };
}

export interface SentinelSetOptions {
  /** Master group name (default `kritik-master`). */
  masterName?: string;
  /** `requirepass` of master and replica (and the replica's `masterauth`, the sentinel's `auth-pass`). */
  password?: string;
  /** `requirepass` of the sentinel itself. */
  sentinelPassword?: string;
  /** How long the master may be silent before the sentinel calls it down (default 500 ms). */
  downAfterMs?: number;
  /** Everything (clients, replication, sentinel) over TLS with one self-signed certificate. */
  tls?: boolean;
}

export interface TestSentinelSet {
  readonly masterName: string;
  /** The sentinel, as `host:port`. */
  readonly sentinel: string;
  readonly master: TestRedis;
  readonly replica: TestRedis;
  /** With `tls`: the certificate that servers and sentinel share (PEM) and its file. */
  readonly tls?: { readonly ca: string; readonly caFile: string };
  /** The master's `host:port` as the sentinel names it now. */
  masterAddress(): Promise<string>;
  /** Stops the sentinel and both servers, deleting their temp dirs. */
  stop(): Promise<void>;
}

/**
 * A master, a replica (`--replicaof`, synced before this resolves) and one sentinel (quorum 1)
 * that knows both, all on loopback: enough to kill the master and watch a real promotion.
 */
export async function startSentinelSet(options: SentinelSetOptions = {}): Promise<TestSentinelSet> {
  const masterName = options.masterName ?? 'kritik-master';
  const auth = options.password ? ['--requirepass', options.password, '--masterauth', options.password] : [];
  const started: { stop(): Promise<void> }[] = [];
  let certificate: (CertificateFiles & { ca: string }) | undefined;
  if (options.tls) {
    const dir = mkdtempSync(join(tmpdir(), 'kritik-sentinel-tls-'));
    started.push({ stop: async () => rmSync(dir, { recursive: true, force: true }) });
    const files = selfSignedCertificate(dir, 'redis');
    certificate = { ...files, ca: readFileSync(files.certFile, 'utf8') };
  }
  const tls = certificate ? { tls: certificate } : {};
  try {
    const master = await startRedis({ extraArgs: auth, ...tls });
    started.push(master);
    const replica = await startRedis({
      extraArgs: [...auth, '--replicaof', master.host, String(master.port)],
      ...tls,
    });
    started.push(replica);
    await waitUntil(
      'the replica to sync with the master',
      () =>
        withClient(replica.port, options.password, certificate?.ca, async (c) =>
          /master_link_status:up/.test(await c.info('replication')) ? true : undefined,
        ),
      { timeoutMs: 15_000 },
    );
    const sentinel = await retryOnPortClash(() => startSentinel(masterName, master, options, certificate));
    started.push(sentinel);
    const ask = (command: string, ...args: string[]) =>
      withClient(sentinel.port, options.sentinelPassword, certificate?.ca, (c) => c.call('SENTINEL', command, ...args));
    await waitUntil(
      'the sentinel to see the replica',
      async () => {
        const replicas = (await ask('REPLICAS', masterName)) as string[][];
        const seen = replicas.some(
          (fields) =>
            fieldOf(fields, 'port') === String(replica.port) &&
            !/down|disconnected/.test(fieldOf(fields, 'flags') ?? ''),
        );
        return seen ? true : undefined;
      },
      { timeoutMs: 20_000, intervalMs: 100 },
    );
    return {
      masterName,
      sentinel: `127.0.0.1:${sentinel.port}`,
      master,
      replica,
      ...(certificate ? { tls: { ca: certificate.ca, caFile: certificate.certFile } } : {}),
      async masterAddress() {
        const [host, port] = (await ask('GET-MASTER-ADDR-BY-NAME', masterName)) as [string, string];
        return `${host}:${port}`;
      },
      async stop() {
        await Promise.all(started.slice(1).map((part) => part.stop()));
        await started[0]?.stop();
      },
    };
  } catch (error) {
    await Promise.all(started.map((part) => part.stop()));
    throw error;
  }
}

const fieldOf = (fields: string[], name: string) => fields[fields.indexOf(name) + 1];

/** Runs `use` on a short-lived client of the server on `port` (over TLS trusting `ca` when given). */
async function withClient<T>(
  port: number,
  password: string | undefined,
  ca: string | undefined,
  use: (client: Redis) => Promise<T>,
) {
  const client = new Redis({
    host: '127.0.0.1',
    port,
    ...(password ? { password } : {}),
    ...(ca ? { tls: { ca } } : {}),
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  client.on('error', () => {});
  try {
    await client.connect();
    return await use(client);
  } finally {
    client.disconnect();
  }
}

/** A redis.conf string argument, quoted so that any password survives. */
const confString = (text: string) => `"${text.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;

async function startSentinel(
  masterName: string,
  master: TestRedis,
  options: SentinelSetOptions,
  tls: CertificateFiles | undefined,
): Promise<{ port: number; stop(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'kritik-sentinel-'));
  const port = await freePort();
  const conf = join(dir, 'sentinel.conf');
  // The sentinel rewrites this file as it learns the topology, so it lives in the temp dir.
  writeFileSync(
    conf,
    [
      ...(tls
        ? [
            'port 0',
            `tls-port ${port}`,
            `tls-cert-file ${tls.certFile}`,
            `tls-key-file ${tls.keyFile}`,
            `tls-ca-cert-file ${tls.certFile}`,
            'tls-auth-clients no',
            // The sentinel reaches the master and replica over TLS as well.
            'tls-replication yes',
          ]
        : [`port ${port}`]),
      'bind 127.0.0.1',
      'protected-mode no',
      `dir ${dir}`,
      'logfile ""',
      `sentinel monitor ${masterName} ${master.host} ${master.port} 1`,
      `sentinel down-after-milliseconds ${masterName} ${options.downAfterMs ?? 500}`,
      `sentinel failover-timeout ${masterName} 5000`,
      ...(options.password ? [`sentinel auth-pass ${masterName} ${confString(options.password)}`] : []),
      ...(options.sentinelPassword ? [`requirepass ${confString(options.sentinelPassword)}`] : []),
      '',
    ].join('\n'),
  );
  const proc = startProcess('redis-sentinel', requireTool('redis-server'), [conf, '--sentinel'], {
    logFile: join(dir, 'sentinel.log'),
    cwd: dir,
  });
  const stop = async () => {
    await proc.stop(2_000);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitUntil(
      `redis-sentinel on port ${port}`,
      async () => (await redisAnswers(port, { tls: tls !== undefined })) || undefined,
      {
        timeoutMs: 10_000,
        intervalMs: 25,
        proc,
      },
    );
  } catch (error) {
    await stop();
    throw error;
  }
  return { port, stop };
}
