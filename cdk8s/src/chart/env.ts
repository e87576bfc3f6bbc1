// The environment of backend and worker: the names come from @kritik/core, secrets come from
// Secrets by reference, and Redis is the bundled one or `externalRedis`.
import { ENV } from '@kritik/core';
import type { k8s } from 'cdk8s-plus-28';
import { expr, spliceYaml, value, whenItem } from '../helm/expr.js';
import { values } from '../values/definition.js';
import { configFileOf } from './config-file.js';

type EnvVar = k8s.EnvVar;

/** Port of the worker's HTTP server (health, readiness, metrics). */
export const WORKER_PORT = 8081;
export const BACKEND_PORT = 8080;
/** Port of /metrics in backend and worker pods: scrapers reach it, not the public port. */
export const METRICS_PORT = 9090;
/** Holds the Redis password; REDIS_URL refers to it as $(KRITIK_REDIS_PASSWORD). */
export const REDIS_PASSWORD_ENV = 'KRITIK_REDIS_PASSWORD';
/** Key of the password in the bundled Redis's generated Secret. */
export const REDIS_PASSWORD_KEY = 'password';

const fromSecret = (name: string, secret: string, key: string): EnvVar => ({
  name,
  valueFrom: { secretKeyRef: { name: secret, key } },
});

const githubSecret = expr('include "kritik.githubSecretName" . | quote');
const github = values.github;

function redisEnv(): EnvVar[] {
  const r = values.externalRedis;
  return [
    whenItem(
      `and (not ${values.redis.enabled}) (not ${r.url}) ${r.existingSecret}`,
      fromSecret(REDIS_PASSWORD_ENV, value(r.existingSecret), value(r.existingSecretPasswordKey)),
    ),
    whenItem(
      values.redis.enabled,
      fromSecret(REDIS_PASSWORD_ENV, expr('include "kritik.redisSecretName" . | quote'), REDIS_PASSWORD_KEY),
    ),
    { name: ENV.redisUrl, value: expr('include "kritik.redisUrl" . | quote') },
  ];
}

function commonEnv(component: 'backend' | 'worker', port: number): EnvVar[] {
  return [
    { name: ENV.port, value: String(port) },
    { name: ENV.metricsPort, value: String(METRICS_PORT) },
    { name: ENV.logLevel, value: value(values.logLevel) },
    { name: ENV.config, value: configFileOf(component).path },
    { name: ENV.githubApiUrl, value: value(github.apiUrl) },
    ...redisEnv(),
  ];
}

const appCredentials = (): EnvVar[] => [
  fromSecret(ENV.githubAppId, githubSecret, value(github.secretKeys.appId)),
  fromSecret(ENV.githubAppPrivateKey, githubSecret, value(github.secretKeys.privateKey)),
];

export function backendEnv(): EnvVar[] {
  return [
    ...commonEnv('backend', BACKEND_PORT),
    fromSecret(ENV.githubWebhookSecret, githubSecret, value(github.secretKeys.webhookSecret)),
    fromSecret(ENV.apiToken, expr('include "kritik.apiSecretName" . | quote'), value(values.api.secretKey)),
    // The private key reaches the backend only when it answers comment commands itself.
    ...appCredentials().map((env) => whenItem(values.backend.githubAppCredentials, env)),
    spliceYaml<EnvVar>(values.backend.extraEnv),
  ];
}

export function workerEnv(): EnvVar[] {
  return [
    ...commonEnv('worker', WORKER_PORT),
    { name: ENV.runner, value: 'kubernetes' },
    { name: ENV.jobsNamespace, value: expr('include "kritik.jobsNamespace" . | quote') },
    ...appCredentials(),
    spliceYaml<EnvVar>(values.worker.extraEnv),
  ];
}
