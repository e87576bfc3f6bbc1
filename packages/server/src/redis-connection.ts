// Where Redis is and how to log in, validated once into one typed value that both services embed
// in their config; redisClientOptions turns it into the ioredis options every connection uses.
import { readFileSync } from 'node:fs';
import { ENV } from '@kritik/core';
import type { RedisOptions } from 'ioredis';
import { z } from 'zod';
import { boolSetting, intSetting, listSetting } from './config.js';

export interface RedisAddress {
  readonly host: string;
  readonly port: number;
}

/** One Redis server, or the master that a set of sentinels names. */
export type RedisTarget =
  | ({ readonly kind: 'server' } & RedisAddress)
  | {
      readonly kind: 'sentinel';
      readonly sentinels: readonly RedisAddress[];
      /** The master group name the sentinels monitor. */
      readonly masterName: string;
      readonly username?: string;
      readonly password?: string;
    };

export interface RedisConnection {
  readonly target: RedisTarget;
  readonly db: number;
  readonly username?: string;
  readonly password?: string;
  /** Present when connecting with TLS; `ca` replaces the system's CAs when given. */
  readonly tls?: { readonly ca?: string };
}

/** The variables of the Redis settings, mapped into a config object under `at` (e.g. `redis`). */
export function redisEnv(at: string): Readonly<Record<string, string>> {
  return {
    [ENV.redisUrl]: `${at}.url`,
    [ENV.redisSentinels]: `${at}.sentinels`,
    [ENV.redisSentinelName]: `${at}.sentinelName`,
    [ENV.redisSentinelUsername]: `${at}.sentinelUsername`,
    [ENV.redisSentinelPassword]: `${at}.sentinelPassword`,
    [ENV.redisUsername]: `${at}.username`,
    [ENV.redisPassword]: `${at}.password`,
    [ENV.redisDb]: `${at}.db`,
    [ENV.redisTls]: `${at}.tls`,
    [ENV.redisCaFile]: `${at}.caFile`,
  };
}

const DEFAULT_PORT = 6379;
const DEFAULT_SENTINEL_PORT = 26379;

/** `host:port`, `host` or `[v6]:port`. */
function parseAddress(text: string, defaultPort: number): RedisAddress | undefined {
  const match = /^(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9.-]+))(?::(\d{1,5}))?$/.exec(text);
  if (!match) return undefined;
  const port = match[3] === undefined ? defaultPort : Number(match[3]);
  if (port < 1 || port > 65_535) return undefined;
  return { host: (match[1] ?? match[2])!, port };
}

interface ParsedUrl extends RedisAddress {
  readonly tls: boolean;
  readonly username?: string;
  readonly password?: string;
  readonly db?: number;
}

function parseRedisUrl(text: string): ParsedUrl | string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return 'must be a redis:// or rediss:// URL';
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') return 'must be a redis:// or rediss:// URL';
  if (url.search || url.hash)
    return `query and fragment are not read: use the ${ENV.redisTls} and other KRITIK_REDIS_* variables`;
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  if (!host) return 'names no host';
  const path = url.pathname.replace(/^\//, '');
  if (path !== '' && !/^\d+$/.test(path)) return 'path must be a database number';
  let username: string | undefined;
  let password: string | undefined;
  try {
    username = url.username ? decodeURIComponent(url.username) : undefined;
    password = url.password ? decodeURIComponent(url.password) : undefined;
  } catch {
    return 'has a badly percent-encoded user or password';
  }
  return {
    host,
    port: url.port ? Number(url.port) : DEFAULT_PORT,
    tls: url.protocol === 'rediss:',
    ...(username ? { username } : {}),
    ...(password ? { password } : {}),
    ...(path !== '' ? { db: Number(path) } : {}),
  };
}

const addressList = listSetting(z.string().min(1));

/**
 * The Redis settings: `url` (one server), or `sentinels` with `sentinelName`. User, password,
 * database and TLS come from the URL or their own variables; a value given both ways must agree,
 * so a half-edited setup fails at boot instead of logging in with the older value.
 */
export const redisSettingsSchema = z
  .object({
    url: z.string().min(1).optional(),
    sentinels: addressList.optional(),
    sentinelName: z.string().min(1).optional(),
    sentinelUsername: z.string().min(1).optional(),
    sentinelPassword: z.string().min(1).optional(),
    username: z.string().min(1).optional(),
    password: z.string().min(1).optional(),
    db: intSetting().pipe(z.number().int().min(0)).optional(),
    tls: boolSetting().optional(),
    caFile: z.string().min(1).optional(),
  })
  .strict()
  .transform((settings, ctx): RedisConnection => {
    const problem = (path: keyof typeof settings, message: string) => {
      ctx.addIssue({ code: 'custom', path: [path], message });
    };
    const sentinels = settings.sentinels?.length ? settings.sentinels : undefined;
    let target: RedisTarget | undefined;
    let fromUrl: ParsedUrl | undefined;
    if (settings.url !== undefined && sentinels) {
      problem('sentinels', `cannot be combined with ${ENV.redisUrl}: set one of them`);
    } else if (settings.url !== undefined) {
      const parsed = parseRedisUrl(settings.url);
      if (typeof parsed === 'string') problem('url', parsed);
      else {
        fromUrl = parsed;
        target = { kind: 'server', host: parsed.host, port: parsed.port };
      }
    } else if (sentinels) {
      const addresses: RedisAddress[] = [];
      for (const [index, text] of sentinels.entries()) {
        const address = parseAddress(text, DEFAULT_SENTINEL_PORT);
        // The entry is not echoed: a misplaced secret must not reach the log.
        if (address) addresses.push(address);
        else problem('sentinels', `entry ${index + 1} is not host:port`);
      }
      if (!settings.sentinelName) problem('sentinelName', `is required with ${ENV.redisSentinels}`);
      else if (addresses.length === sentinels.length) {
        target = {
          kind: 'sentinel',
          sentinels: addresses,
          masterName: settings.sentinelName,
          ...(settings.sentinelUsername ? { username: settings.sentinelUsername } : {}),
          ...(settings.sentinelPassword ? { password: settings.sentinelPassword } : {}),
        };
      }
    } else {
      problem('url', `is required (or ${ENV.redisSentinels} with ${ENV.redisSentinelName})`);
    }
    if (!sentinels) {
      for (const key of ['sentinelName', 'sentinelUsername', 'sentinelPassword'] as const) {
        if (settings[key] !== undefined) problem(key, `is only read with ${ENV.redisSentinels}`);
      }
    }

    const agreed = <K extends 'username' | 'password' | 'db'>(key: K) => {
      const own = settings[key];
      const inUrl = fromUrl?.[key];
      if (own !== undefined && inUrl !== undefined && own !== inUrl) {
        problem(key, `differs from the one in ${ENV.redisUrl}: give it once`);
      }
      return own ?? inUrl;
    };
    const username = agreed('username');
    const password = agreed('password');
    const db = agreed('db') ?? 0;
    if (username !== undefined && password === undefined) {
      problem('password', `is required with an ACL user (${ENV.redisUsername} or the user in ${ENV.redisUrl})`);
    }

    if (settings.tls === false && fromUrl?.tls) problem('tls', `is false but ${ENV.redisUrl} is rediss://`);
    const tls = settings.tls ?? fromUrl?.tls ?? false;
    let ca: string | undefined;
    if (settings.caFile !== undefined) {
      if (!tls) problem('caFile', `needs TLS: set ${ENV.redisTls}=true or use a rediss:// URL`);
      try {
        ca = readFileSync(settings.caFile, 'utf8');
        if (!ca.includes('-----BEGIN CERTIFICATE-----')) problem('caFile', 'holds no PEM certificate');
      } catch (error) {
        problem('caFile', `cannot be read: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
      }
    }
    if (!target) return z.NEVER;
    return {
      target,
      db,
      ...(username !== undefined ? { username } : {}),
      ...(password !== undefined ? { password } : {}),
      ...(tls ? { tls: ca !== undefined ? { ca } : {} } : {}),
    };
  });

export type RedisSettings = z.input<typeof redisSettingsSchema>;

/** Where the connection goes, for logs: never a secret. */
export function describeRedis(connection: RedisConnection): string {
  const { target } = connection;
  const scheme = connection.tls ? 'rediss' : 'redis';
  const user = connection.username ? `${connection.username}@` : '';
  if (target.kind === 'server') return `${scheme}://${user}${hostPort(target)}/${connection.db}`;
  return `${scheme}://${user}${target.masterName}/${connection.db} via sentinels ${target.sentinels.map(hostPort).join(',')}`;
}

/** A Redis URL fit for a log: its password replaced by `***`. */
export function redactRedisUrl(text: string): string {
  try {
    const url = new URL(text);
    if (url.password) url.password = '***';
    return url.toString();
  } catch {
    return '(not a URL)';
  }
}

const hostPort = (a: RedisAddress) => (a.host.includes(':') ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`);

/**
 * The ioredis options of a connection (without our retry and queue policy, which createRedis
 * adds). ioredis's `duplicate()` copies them, so BullMQ's blocking connections get them too.
 */
export function redisClientOptions(connection: RedisConnection): RedisOptions {
  const { target } = connection;
  const tls = connection.tls ? { ...(connection.tls.ca !== undefined ? { ca: connection.tls.ca } : {}) } : undefined;
  const login = {
    db: connection.db,
    ...(connection.username !== undefined ? { username: connection.username } : {}),
    ...(connection.password !== undefined ? { password: connection.password } : {}),
  };
  if (target.kind === 'server') {
    return { host: target.host, port: target.port, ...login, ...(tls ? { tls } : {}) };
  }
  return {
    sentinels: target.sentinels.map((s) => ({ host: s.host, port: s.port })),
    name: target.masterName,
    role: 'master',
    ...login,
    ...(target.username !== undefined ? { sentinelUsername: target.username } : {}),
    ...(target.password !== undefined ? { sentinelPassword: target.password } : {}),
    // Managed Sentinel setups serve sentinels and data nodes with the same TLS.
    ...(tls ? { tls, sentinelTLS: tls, enableTLSForSentinelMode: true } : {}),
    // Subscribes to +switch-master, so a promotion is followed at once rather than at the next
    // broken connection.
    failoverDetector: true,
  };
}
