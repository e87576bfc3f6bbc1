// The worker's one typed configuration: environment variables over the optional YAML file
// (KRITIK_CONFIG), validated at start; an error names every bad variable or key.
import {
  DEFAULT_GITHUB_API_URL,
  DEFAULT_GITLAB_URL,
  DEFAULT_REVIEW_CONCURRENCY,
  ENV,
  type ModelSettings,
  PORTS,
  readModelSettings,
  reviewJobSettingsSchema,
} from '@kritik/core';
import {
  ConfigError,
  type ConfigProblem,
  DEFAULT_HISTORY_SETTINGS,
  DEFAULT_TRIGGER_SETTINGS,
  historyEnv,
  historySettingsSchema,
  intSetting,
  listSetting,
  loadConfig,
  logLevelSetting,
  portSetting,
  redisEnv,
  redisSettingsSchema,
  triggerEnv,
  triggerSettingsSchema,
} from '@kritik/server';
import { z } from 'zod';
import { RUNNER_KINDS, type RunnerKind } from '../runner/review-runner.js';

/** Default port of /health and /ready (and /metrics without a port of their own). */
export const DEFAULT_WORKER_PORT = PORTS.worker;

const positiveInt = () => intSetting().pipe(z.number().int().positive());

export const gatewaySettingsSchema = z
  .object({
    /**
     * Where review Jobs reach the gateway (e.g. the worker Service). Set: Jobs get a per-review
     * gateway token instead of the Anthropic key. Unset: Jobs call the model directly.
     */
    url: z.string().url().optional(),
    port: portSetting().default(PORTS.gateway),
    /** Largest request body a review may send; a review's prompt is a few hundred kilobytes. */
    maxRequestBytes: positiveInt().default(16 * 1024 * 1024),
    /** Largest reply read back from the model. */
    maxResponseBytes: positiveInt().default(16 * 1024 * 1024),
    /** A model call that takes longer fails with 504 (the reviewer retries within its deadline). */
    upstreamTimeoutMs: positiveInt().default(300_000),
  })
  .strict();
export type GatewaySettings = z.infer<typeof gatewaySettingsSchema>;

export const schedulingSettingsSchema = z
  .object({
    /** Reviews running at once across every worker replica. */
    concurrency: positiveInt().default(DEFAULT_REVIEW_CONCURRENCY),
    /**
     * Reviews one replica takes at once (its BullMQ concurrency); `concurrency` when unset. Below
     * `concurrency`, more replicas run more reviews, up to `concurrency`, and reviews beyond what
     * the replicas take wait in the queue, where autoscaling on queue depth sees them.
     */
    replicaConcurrency: positiveInt().optional(),
    /** Reviews of one repository running at once, so a busy repository cannot starve the rest. */
    perRepoConcurrency: positiveInt().default(4),
    /** Life of the per-PR lease and of a concurrency slot without renewal. */
    leaseTtlSeconds: positiveInt().default(30),
    /** How often a running review renews its lease and checks whether a newer SHA superseded it. */
    renewIntervalSeconds: positiveInt().default(5),
    /** Delay before a review whose PR is busy, or whose caps are full, is tried again. */
    busyRetryMs: positiveInt().default(2_000),
    /** BullMQ lock of an active job; a worker that dies holds it this long before recovery. */
    lockDurationMs: positiveInt().default(30_000),
    /** How often BullMQ looks for stalled jobs (those of dead workers) and puts them back. */
    stalledIntervalMs: positiveInt().default(30_000),
    /** Recoveries of one job before BullMQ fails it. */
    maxStalledCount: positiveInt().default(5),
    /** Reconcile of Jobs against the queue: at start and this often. */
    reconcileIntervalSeconds: positiveInt().default(300),
  })
  .strict();
export type SchedulingSettings = z.infer<typeof schedulingSettingsSchema>;

export const commandSettingsSchema = z
  .object({
    /** Comment commands answered at once by one worker replica. */
    concurrency: positiveInt().default(4),
    /** Tries of a command whose GitHub calls fail transiently (5xx, 429, network), the first included. */
    attempts: positiveInt().default(5),
    /** Delay before the second try; it doubles for each further one, up to maxBackoffMs. */
    backoffMs: positiveInt().default(2_000),
    maxBackoffMs: positiveInt().default(60_000),
  })
  .strict();
export type CommandSettings = z.infer<typeof commandSettingsSchema>;

export const workerConfigSchema = z
  .object({
    port: portSetting().default(DEFAULT_WORKER_PORT),
    /** Address /health, /ready and /metrics listen on (the backend's variable: one bind address for both). */
    host: z.string().min(1).default('0.0.0.0'),
    /** /metrics on its own port (the chart sets one); on `port` when unset. */
    metricsPort: portSetting().optional(),
    logLevel: logLevelSetting(),
    redis: redisSettingsSchema,
    /** The GitHub App; GitHub reviews are taken when its id or key is set. */
    github: z
      .object({
        appId: z.string().regex(/^\d+$/, 'must be the numeric App id').optional(),
        privateKey: z
          .string()
          .includes('PRIVATE KEY', { message: 'must be the PEM private key of the App' })
          .optional(),
        apiUrl: z.string().url().default(DEFAULT_GITHUB_API_URL),
      })
      .strict()
      .default({ apiUrl: DEFAULT_GITHUB_API_URL }),
    /** One GitLab instance; GitLab reviews are taken when its token is set (or its URL, which then needs one). */
    gitlab: z
      .object({
        url: z.string().url().optional(),
        /** A project or group access token with the `api` scope (docs/install.md). */
        token: z.string().min(1).optional(),
      })
      .strict()
      .default({}),
    /** Bot name, trigger label, debounce: the backend's section of the same name and variables. */
    triggers: triggerSettingsSchema.default(DEFAULT_TRIGGER_SETTINGS),
    history: historySettingsSchema.default(DEFAULT_HISTORY_SETTINGS),
    commands: commandSettingsSchema.default(commandSettingsSchema.parse({})),
    /** kubernetes or local; unset: kubernetes inside a cluster, local elsewhere. */
    runner: z.enum(RUNNER_KINDS).optional(),
    kubernetes: z
      .object({
        /** Set inside a cluster (KUBERNETES_SERVICE_HOST); only used to pick the default runner. */
        serviceHost: z.string().optional(),
        /** A kubeconfig file (KUBECONFIG); unset: the in-cluster ServiceAccount. */
        kubeconfig: z.string().optional(),
        namespace: z
          .string()
          .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'must be a namespace name')
          .optional(),
        deadlineMarginSeconds: intSetting().pipe(z.number().int().nonnegative()).default(30),
        accessCheckIntervalSeconds: positiveInt().default(15),
        retry: z
          .object({
            attempts: positiveInt().default(6),
            baseDelayMs: positiveInt().default(200),
            maxDelayMs: positiveInt().default(5_000),
          })
          .strict()
          .default({ attempts: 6, baseDelayMs: 200, maxDelayMs: 5_000 }),
      })
      .strict()
      .default({
        deadlineMarginSeconds: 30,
        accessCheckIntervalSeconds: 15,
        retry: { attempts: 6, baseDelayMs: 200, maxDelayMs: 5_000 },
      }),
    local: z
      .object({
        /** The reviewer command; default: node with the reviewer's dist/main.js and `job`. */
        command: listSetting().optional(),
      })
      .strict()
      .default({}),
    /**
     * The model API: the gateway forwards to it with this key; without a gateway, local reviewer
     * processes get the key and every review gets the URL (Jobs read the key from their Secret).
     */
    anthropic: z
      .object({ apiKey: z.string().min(1).optional(), baseUrl: z.string().url().optional() })
      .strict()
      .default({}),
    gateway: gatewaySettingsSchema.default(gatewaySettingsSchema.parse({})),
    /** Provider, region, catalogue and fallback, read from their variables by core's readModelSettings. */
    model: z.custom<ModelSettings>((v) => typeof v === 'object' && v !== null).optional(),
    /** ReviewPolicies: watched in `namespace` (the release namespace); none without one. */
    policies: z
      .object({
        namespace: z
          .string()
          .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'must be a namespace name')
          .optional(),
        resyncSeconds: positiveInt().default(60),
      })
      .strict()
      .default({ resyncSeconds: 60 }),
    reviewJob: reviewJobSettingsSchema.default(reviewJobSettingsSchema.parse({})),
    scheduling: schedulingSettingsSchema.default(schedulingSettingsSchema.parse({})),
  })
  .strict()
  .superRefine(
    (parsed, ctx) => {
      // Also run when other settings are bad, so every missing credential is named with them: the
      // sections may then be raw input.
      const gh: { appId?: unknown; privateKey?: unknown } = parsed.github ?? {};
      const gl: { url?: unknown; token?: unknown } = parsed.gitlab ?? {};
      const gitlab = gl.url !== undefined || gl.token !== undefined;
      if (gh.appId !== undefined || gh.privateKey !== undefined || !gitlab) {
        // Without GitLab the App is required; with part of the App, all of it.
        for (const key of ['appId', 'privateKey'] as const) {
          if (gh[key] === undefined) ctx.addIssue({ code: 'custom', path: ['github', key], message: 'is required' });
        }
      }
      if (gitlab && gl.token === undefined) {
        ctx.addIssue({ code: 'custom', path: ['gitlab', 'token'], message: 'is required when GitLab is configured' });
      }
    },
    { when: () => true },
  )
  .superRefine((config, ctx) => {
    if (effectiveRunner(config) === 'kubernetes' && !config.kubernetes.namespace) {
      ctx.addIssue({
        code: 'custom',
        path: ['kubernetes', 'namespace'],
        message: 'is required for the kubernetes runner',
      });
    }
    if (config.scheduling.renewIntervalSeconds * 2 > config.scheduling.leaseTtlSeconds) {
      ctx.addIssue({
        code: 'custom',
        path: ['scheduling', 'renewIntervalSeconds'],
        message: 'must be at most half of scheduling.leaseTtlSeconds, or leases lapse between renewals',
      });
    }
  });
export type WorkerConfig = z.infer<typeof workerConfigSchema>;

/** The GitHub App's settings, when the worker is configured for GitHub. */
export function gitHubApp(config: WorkerConfig): { appId: string; privateKey: string; apiUrl: string } | undefined {
  const { appId, privateKey, apiUrl } = config.github;
  return appId && privateKey ? { appId, privateKey, apiUrl } : undefined;
}

/** The GitLab instance's settings, when the worker is configured for GitLab. */
export function gitLabInstance(config: WorkerConfig): { url: string; token: string } | undefined {
  const { url, token } = config.gitlab;
  return token ? { url: url ?? DEFAULT_GITLAB_URL, token } : undefined;
}

/** Environment variables the worker reads, and where each lands in the config. */
export const WORKER_ENV: Readonly<Record<string, string>> = {
  [ENV.port]: 'port',
  [ENV.host]: 'host',
  [ENV.metricsPort]: 'metricsPort',
  [ENV.logLevel]: 'logLevel',
  ...redisEnv('redis'),
  [ENV.githubAppId]: 'github.appId',
  [ENV.githubAppPrivateKey]: 'github.privateKey',
  [ENV.githubApiUrl]: 'github.apiUrl',
  [ENV.gitlabUrl]: 'gitlab.url',
  [ENV.gitlabToken]: 'gitlab.token',
  ...triggerEnv('triggers'),
  ...historyEnv('history'),
  [ENV.runner]: 'runner',
  [ENV.jobsNamespace]: 'kubernetes.namespace',
  [ENV.policyNamespace]: 'policies.namespace',
  [ENV.kubernetesServiceHost]: 'kubernetes.serviceHost',
  [ENV.kubeconfig]: 'kubernetes.kubeconfig',
  [ENV.anthropicApiKey]: 'anthropic.apiKey',
  [ENV.anthropicBaseUrl]: 'anthropic.baseUrl',
  [ENV.gatewayUrl]: 'gateway.url',
  [ENV.gatewayPort]: 'gateway.port',
};

/** The runner in use: the configured one, else kubernetes inside a cluster and local elsewhere. */
export function effectiveRunner(config: Pick<WorkerConfig, 'runner' | 'kubernetes'>): RunnerKind {
  return config.runner ?? (config.kubernetes.serviceHost ? 'kubernetes' : 'local');
}

export function loadWorkerConfig(source: NodeJS.ProcessEnv = process.env, file?: string): WorkerConfig {
  const problems: ConfigProblem[] = [];
  let config: WorkerConfig | undefined;
  try {
    config = loadConfig({ schema: workerConfigSchema, env: WORKER_ENV, source, ...(file ? { file } : {}) });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    problems.push(...error.problems);
  }
  const model = readModelSettings(source);
  if ('problems' in model) {
    // Each problem starts with the variable it is about, as every other problem names its source.
    for (const p of model.problems) {
      const at = p.search(/[ :]/);
      problems.push({ source: p.slice(0, at), message: p.slice(at + 1).trim() });
    }
  }
  if (problems.length > 0 || !config || 'problems' in model) throw new ConfigError(problems);
  return { ...config, model: model.settings };
}
