// Settings of the standalone mode itself (where Redis comes from, the two ports); everything else
// is the backend's and the worker's own configuration, which each process validates as in a cluster.
import { homedir } from 'node:os';
import { join } from 'node:path';
import { ENV, PORTS } from '@kritik/core';
import { listSetting, loadConfig, logLevelSetting, portSetting } from '@kritik/server';
import { z } from 'zod';

export const standaloneConfigSchema = z.object({
  /** An existing Redis; when unset a local redis-server is started. */
  redisUrl: z
    .string()
    .regex(/^rediss?:\/\//, 'must be a redis:// or rediss:// URL')
    .optional(),
  /** Sentinels the services find Redis through (they read the other KRITIK_REDIS_* settings themselves). */
  redisSentinels: listSetting().optional(),
  /** The redis-server binary; looked up on PATH when unset. */
  redisServer: z.string().min(1).optional(),
  /** Where the local redis-server keeps its append-only file, so queued reviews survive a restart. */
  dataDir: z.string().min(1).optional(),
  /** Port of the backend (webhooks and API). */
  port: portSetting().default(PORTS.backend),
  /** Port of the worker's /health, /ready and /metrics. */
  workerPort: portSetting().default(PORTS.worker),
  /** Address both services listen on; loopback by default, since a laptop is not a server. */
  host: z.string().min(1).default('127.0.0.1'),
  logLevel: logLevelSetting(),
});
export type StandaloneConfig = z.infer<typeof standaloneConfigSchema>;

export const STANDALONE_ENV: Readonly<Record<string, string>> = {
  [ENV.redisUrl]: 'redisUrl',
  [ENV.redisSentinels]: 'redisSentinels',
  [ENV.redisServer]: 'redisServer',
  [ENV.dataDir]: 'dataDir',
  [ENV.port]: 'port',
  [ENV.workerPort]: 'workerPort',
  [ENV.host]: 'host',
  [ENV.logLevel]: 'logLevel',
};

/** Reads the standalone settings from `source`; the services read KRITIK_CONFIG, not this. */
export function loadStandaloneConfig(source: NodeJS.ProcessEnv): StandaloneConfig {
  const { [ENV.config]: _serviceFile, ...env } = source;
  return loadConfig({ schema: standaloneConfigSchema, env: STANDALONE_ENV, source: env });
}

/** The data directory: KRITIK_DATA_DIR, else `$XDG_STATE_HOME/kritik` (`~/.local/state/kritik`). */
export function dataDirOf(config: StandaloneConfig, source: NodeJS.ProcessEnv): string {
  return config.dataDir ?? join(source[ENV.xdgStateHome] || join(homedir(), '.local', 'state'), 'kritik');
}
