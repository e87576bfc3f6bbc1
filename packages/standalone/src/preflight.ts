// Every configuration problem of the standalone and of both services, found before anything
// starts, so one round of `export` lines fixes them all; and the optional settings whose absence
// changes what Kritik does, said once at start-up.
import { loadBackendConfig } from '@kritik/backend';
import { ENV } from '@kritik/core';
import { ConfigError, type ConfigProblem, type ServiceProblems } from '@kritik/server';
import { loadWorkerConfig } from '@kritik/worker';
import { SERVICES, type ServiceName, serviceEnv } from './services.js';
import { loadStandaloneConfig, type StandaloneConfig } from './standalone.config.js';

const LOADERS: Record<ServiceName, (env: NodeJS.ProcessEnv) => unknown> = {
  backend: loadBackendConfig,
  worker: loadWorkerConfig,
};

function problemsOf(load: () => unknown): readonly ConfigProblem[] {
  try {
    load();
    return [];
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    return [{ source: '(configuration)', message: (error as Error).message }];
  }
}

export type Preflight =
  | { readonly ok: true; readonly config: StandaloneConfig; readonly warnings: readonly string[] }
  | { readonly ok: false; readonly problems: readonly ServiceProblems[] };

/** Validates the standalone's settings and each service's as it will receive them. */
export function preflight(source: NodeJS.ProcessEnv): Preflight {
  let config: StandaloneConfig | undefined;
  const own = problemsOf(() => {
    config = loadStandaloneConfig(source);
  });
  // The services' view needs the standalone's ports; with bad ones, their defaults stand in.
  const shape = config ?? loadStandaloneConfig({});
  // A Redis URL the standalone will provide when none is given.
  const redisUrl = shape.redisUrl ?? (shape.redisSentinels?.length ? undefined : 'redis://127.0.0.1:6379');
  const problems: ServiceProblems[] = [
    { service: 'standalone', problems: own },
    ...SERVICES.map((service) => ({
      service,
      problems: problemsOf(() => LOADERS[service](serviceEnv(service, shape, redisUrl, source))),
    })),
  ];
  if (!config || problems.some((entry) => entry.problems.length > 0)) return { ok: false, problems };
  return { ok: true, config, warnings: optionalWarnings(source) };
}

/** Optional settings whose absence changes behaviour: started anyway, but said. */
export function optionalWarnings(source: NodeJS.ProcessEnv): string[] {
  const warnings: string[] = [];
  if (!source[ENV.anthropicApiKey])
    warnings.push(
      `${ENV.anthropicApiKey} is not set: reviews run the deterministic checks only (secrets, conflict markers), no model`,
    );
  if (!source[ENV.apiToken])
    warnings.push(
      `${ENV.apiToken} is not set: the reviews API answers 401 to everyone (openssl rand -hex 16 makes one)`,
    );
  return warnings;
}
