// The worker's one typed configuration: environment variables over the optional YAML file
// (KRITIK_CONFIG), validated at start; an error names every bad variable or key.
import { DEFAULT_GITHUB_API_URL, DEFAULT_REVIEW_CONCURRENCY, ENV, PORTS, reviewJobSettingsSchema } from '@kritik/core';
import {
  DEFAULT_TRIGGER_SETTINGS,
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
    /** /metrics on its own port (the chart sets one); on `port` when unset. */
    metricsPort: portSetting().optional(),
    logLevel: logLevelSetting(),
    redis: redisSettingsSchema,
    github: z
      .object({
        appId: z.string().regex(/^\d+$/, 'must be the numeric App id'),
        privateKey: z.string().includes('PRIVATE KEY', { message: 'must be the PEM private key of the App' }),
        apiUrl: z.string().url().default(DEFAULT_GITHUB_API_URL),
      })
      .strict(),
    /** Bot name, trigger label, debounce: the backend's section of the same name and variables. */
    triggers: triggerSettingsSchema.default(DEFAULT_TRIGGER_SETTINGS),
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

/** Environment variables the worker reads, and where each lands in the config. */
export const WORKER_ENV: Readonly<Record<string, string>> = {
  [ENV.port]: 'port',
  [ENV.metricsPort]: 'metricsPort',
  [ENV.logLevel]: 'logLevel',
  ...redisEnv('redis'),
  [ENV.githubAppId]: 'github.appId',
  [ENV.githubAppPrivateKey]: 'github.privateKey',
  [ENV.githubApiUrl]: 'github.apiUrl',
  ...triggerEnv('triggers'),
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
  return loadConfig({ schema: workerConfigSchema, env: WORKER_ENV, source, ...(file ? { file } : {}) });
}
