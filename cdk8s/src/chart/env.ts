// The environment of backend and worker: the names come from @kritik/core, secrets come from
// Secrets by reference, and Redis is the bundled one or `externalRedis`.
import { CA_BUNDLE_DIR, ENV, PORTS } from '@kritik/core';
import type { k8s } from 'cdk8s-plus-28';
import { expr, spliceYaml, value, whenItem } from '../helm/expr.js';
import { values } from '../values/definition.js';
import { configFileOf } from './config-file.js';

type EnvVar = k8s.EnvVar;

/** Port of the worker's HTTP server (health, readiness). */
export const WORKER_PORT = PORTS.worker;
export const BACKEND_PORT = PORTS.backend;
/** Port of /metrics in backend and worker pods: scrapers reach it, not the public port. */
export const METRICS_PORT = PORTS.metrics;
/** Port of the worker's model gateway: review pods reach it, nothing else. */
export const GATEWAY_PORT = PORTS.gateway;
/** Holds the Redis password, read by backend and worker as it is (no URL encoding needed). */
export const REDIS_PASSWORD_ENV = ENV.redisPassword;
/** Key of the password in the bundled Redis's generated Secret. */
export const REDIS_PASSWORD_KEY = 'password';
/** Where the CA bundle of `externalRedis.caSecret` is mounted in backend and worker pods. */
export const REDIS_CA_DIR = '/etc/kritik/redis-ca';

const fromSecret = (name: string, secret: string, key: string): EnvVar => ({
  name,
  valueFrom: { secretKeyRef: { name: secret, key } },
});

const githubSecret = expr('include "kritik.githubSecretName" . | quote');
const github = values.github;

/** Conditions on the Redis values, shared by the env, the CA volume and the NetworkPolicies. */
export const redisMode = {
  sentinel: `(and (not ${values.redis.enabled}) ${values.externalRedis.sentinels})`,
  ca: `(and (not ${values.redis.enabled}) ${values.externalRedis.caSecret})`,
};

function redisEnv(): EnvVar[] {
  const r = values.externalRedis;
  const external = (condition: string) => `and (not ${values.redis.enabled}) ${condition}`;
  return [
    whenItem(
      values.redis.enabled,
      fromSecret(REDIS_PASSWORD_ENV, expr('include "kritik.redisSecretName" . | quote'), REDIS_PASSWORD_KEY),
    ),
    whenItem(`not ${redisMode.sentinel}`, { name: ENV.redisUrl, value: expr('include "kritik.redisUrl" . | quote') }),
    whenItem(redisMode.sentinel, { name: ENV.redisSentinels, value: expr(`join "," ${r.sentinels} | quote`) }),
    whenItem(redisMode.sentinel, { name: ENV.redisSentinelName, value: value(r.sentinelMasterName) }),
    whenItem(redisMode.sentinel, { name: ENV.redisDb, value: expr(`${r.database} | quote`) }),
    whenItem(external(String(r.tls)), { name: ENV.redisTls, value: 'true' }),
    whenItem(external(String(r.username)), { name: ENV.redisUsername, value: value(r.username) }),
    whenItem(
      external(String(r.existingSecret)),
      fromSecret(REDIS_PASSWORD_ENV, value(r.existingSecret), value(r.existingSecretPasswordKey)),
    ),
    whenItem(
      `and ${redisMode.sentinel} ${r.existingSecret} ${r.sentinelPasswordKey}`,
      fromSecret(ENV.redisSentinelPassword, value(r.existingSecret), value(r.sentinelPasswordKey)),
    ),
    whenItem(redisMode.ca, {
      name: ENV.redisCaFile,
      value: expr(`printf "${REDIS_CA_DIR}/%s" ${r.caSecretKey} | quote`),
    }),
  ];
}

/** The trigger settings: both services read them, so both get the same values. */
function triggerEnv(): EnvVar[] {
  const t = values.triggers;
  return [
    { name: ENV.botName, value: value(t.botName) },
    { name: ENV.triggerLabel, value: value(t.label) },
    { name: ENV.debounceMs, value: expr(`${t.debounceMs} | quote`) },
    { name: ENV.reviewDrafts, value: expr(`${t.reviewDrafts} | quote`) },
    { name: ENV.reviewBots, value: expr(`${t.reviewBots} | quote`) },
  ];
}

const gitlab = values.gitlab;
const gitlabSecret = value(gitlab.existingSecret);

/** Whether `caBundle` names a Secret or ConfigMap: shared by the env, the volume and the review Jobs. */
export const caBundleSet = `(or ${values.caBundle.secret} ${values.caBundle.configMap})`;

/** Node reads the extra CAs at start-up; the bundle is mounted at CA_BUNDLE_DIR. */
const caBundleEnv = (): EnvVar =>
  whenItem(caBundleSet, {
    name: ENV.extraCaCerts,
    value: expr(`printf "${CA_BUNDLE_DIR}/%s" ${values.caBundle.key} | quote`),
  });

/** GitLab's URL, and the key of `gitlab.existingSecret` the service needs. */
const gitlabEnv = (secretKey: EnvVar): EnvVar[] => [
  whenItem(gitlab.enabled, { name: ENV.gitlabUrl, value: value(gitlab.url) }),
  whenItem(gitlab.enabled, secretKey),
];

function commonEnv(component: 'backend' | 'worker', port: number): EnvVar[] {
  return [
    { name: ENV.port, value: String(port) },
    { name: ENV.metricsPort, value: String(METRICS_PORT) },
    { name: ENV.logLevel, value: value(values.logLevel) },
    { name: ENV.config, value: configFileOf(component).path },
    { name: ENV.githubApiUrl, value: value(github.apiUrl) },
    ...triggerEnv(),
    // Both write review records through the lifecycle: one retention for both.
    { name: ENV.reviewRetentionDays, value: expr(`${values.dashboard.recordDays} | quote`) },
    ...redisEnv(),
    caBundleEnv(),
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
    ...gitlabEnv(fromSecret(ENV.gitlabWebhookSecret, gitlabSecret, value(gitlab.secretKeys.webhookSecret))),
    fromSecret(ENV.apiToken, expr('include "kritik.apiSecretName" . | quote'), value(values.api.secretKey)),
    // The private key reaches the backend only when it answers comment commands itself.
    ...appCredentials().map((env) => whenItem(values.backend.githubAppCredentials, env)),
    ...dashboardEnv(),
    spliceYaml<EnvVar>(values.backend.extraEnv),
  ];
}

/** The dashboard's sign-in: its secrets by reference, its URL, the hosts' pages and the admins. */
function dashboardEnv(): EnvVar[] {
  const d = values.dashboard;
  const secret = expr(
    `required "dashboard.existingSecret is required when dashboard.enabled" ${d.existingSecret} | quote`,
  );
  const withGitHub = `and ${d.enabled} ${d.github.enabled}`;
  const withGitLab = `and ${d.enabled} ${d.gitlab.enabled}`;
  return [
    whenItem(withGitHub, fromSecret(ENV.githubClientId, secret, value(d.secretKeys.clientId))),
    whenItem(withGitHub, fromSecret(ENV.githubClientSecret, secret, value(d.secretKeys.clientSecret))),
    whenItem(withGitLab, fromSecret(ENV.gitlabClientId, secret, value(d.gitlab.secretKeys.clientId))),
    whenItem(withGitLab, fromSecret(ENV.gitlabClientSecret, secret, value(d.gitlab.secretKeys.clientSecret))),
    whenItem(withGitLab, { name: ENV.dashboardGitlabAdminGroup, value: value(d.gitlab.adminGroup) }),
    ...[
      fromSecret(ENV.sessionSecret, secret, value(d.secretKeys.sessionSecret)),
      {
        name: ENV.dashboardUrl,
        value: expr(`required "dashboard.url is required when dashboard.enabled" ${d.url} | quote`),
      },
      { name: ENV.githubWebUrl, value: value(d.webUrl) },
      { name: ENV.dashboardAdmins, value: expr(`join "," ${d.admins} | quote`) },
      { name: ENV.dashboardAdminTeam, value: value(d.adminTeam) },
      { name: ENV.sessionTtlSeconds, value: expr(`${d.sessionTtlSeconds} | quote`) },
      { name: ENV.dashboardHistoryDays, value: expr(`${d.historyDays} | quote`) },
    ].map((env) => whenItem(d.enabled, env)),
  ];
}

/** The model API, and (with the gateway) the key and where review pods reach the gateway. */
function modelEnv(): EnvVar[] {
  const a = values.anthropic;
  return [
    whenItem(a.baseUrl, { name: ENV.anthropicBaseUrl, value: value(a.baseUrl) }),
    whenItem(a.gateway, { name: ENV.gatewayPort, value: String(GATEWAY_PORT) }),
    whenItem(a.gateway, { name: ENV.gatewayUrl, value: expr('include "kritik.gatewayUrl" . | quote') }),
    whenItem(a.gateway, {
      name: ENV.anthropicApiKey,
      // Optional: without a key the worker still starts, and NOTES.txt says reviews will fail.
      valueFrom: {
        secretKeyRef: {
          name: expr('include "kritik.anthropicSecretName" . | quote'),
          key: ENV.anthropicApiKey,
          optional: true,
        },
      },
    }),
  ];
}

/** Where the model runs; the worker validates it at start-up and hands what a review needs to its Job. */
function providerEnv(): EnvVar[] {
  const m = values.model;
  return [
    { name: ENV.modelProvider, value: value(m.provider) },
    whenItem(m.region, { name: ENV.modelRegion, value: value(m.region) }),
    whenItem(m.vertexProjectId, { name: ENV.vertexProjectId, value: value(m.vertexProjectId) }),
    whenItem(`and ${m.endpoint} (eq ${m.provider} "bedrock")`, { name: ENV.bedrockBaseUrl, value: value(m.endpoint) }),
    whenItem(`and ${m.endpoint} (eq ${m.provider} "vertex")`, { name: ENV.vertexBaseUrl, value: value(m.endpoint) }),
    whenItem(m.catalogue, { name: ENV.modelCatalogue, value: expr(`toJson ${m.catalogue} | quote`) }),
    whenItem(m.fallback.model, { name: ENV.fallbackModel, value: value(m.fallback.model) }),
    whenItem(m.fallback.provider, { name: ENV.fallbackProvider, value: value(m.fallback.provider) }),
    { name: ENV.modelMaxConcurrency, value: expr(`${m.maxConcurrency} | quote`) },
  ];
}

export function workerEnv(): EnvVar[] {
  return [
    ...commonEnv('worker', WORKER_PORT),
    { name: ENV.runner, value: 'kubernetes' },
    { name: ENV.jobsNamespace, value: expr('include "kritik.jobsNamespace" . | quote') },
    { name: ENV.policyNamespace, value: expr('.Release.Namespace | quote') },
    ...appCredentials(),
    ...gitlabEnv(fromSecret(ENV.gitlabToken, gitlabSecret, value(gitlab.secretKeys.token))),
    ...modelEnv(),
    ...providerEnv(),
    spliceYaml<EnvVar>(values.worker.extraEnv),
  ];
}
