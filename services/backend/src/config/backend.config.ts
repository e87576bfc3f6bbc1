// The backend's one typed configuration, validated at boot from the environment and the
// optional YAML file. Without a webhook secret for each configured code host the process refuses
// to start (fail closed).
import { ENV, type Platform, PORTS } from '@kritik/core';
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

export const backendConfigSchema = z
  .object({
    port: portSetting().default(PORTS.backend),
    /** /metrics on its own port (the chart sets one); on `port` when unset. */
    metricsPort: portSetting().optional(),
    host: z.string().min(1).default('0.0.0.0'),
    logLevel: logLevelSetting(),
    redis: redisSettingsSchema,
    /** GitHub's deliveries are taken when its webhook secret is set. */
    github: z
      .object({ webhookSecret: z.string().min(1).optional() })
      .strict()
      .default({}),
    /** GitLab's deliveries are taken when its URL or webhook secret is set; then the secret is required. */
    gitlab: z
      .object({ url: z.string().url().optional(), webhookSecret: z.string().min(1).optional() })
      .strict()
      .default({}),
    /** Bearer token of the reviews API; without one the API answers 401 to everyone. */
    apiToken: z.string().min(16).optional(),
    /** Bot name, trigger label, debounce: the worker's section of the same name and variables. */
    triggers: triggerSettingsSchema.default(DEFAULT_TRIGGER_SETTINGS),
    /** Empty lists allow everything the App is installed on. */
    allow: z
      .object({
        orgs: listSetting().default([]),
        /** `owner/name` globs: `*` within a segment, `**` across, `?` one character. */
        repos: listSetting().default([]),
        /** Who may use comment commands. */
        users: listSetting().default([]),
      })
      .default({ orgs: [], repos: [], users: [] }),
    /**
     * What unauthenticated senders can make the backend hold: a body is only verified once all of it
     * has arrived, so bodies in flight share these bounds.
     */
    webhooks: z
      .object({
        maxUnverifiedBytes: intSetting()
          .min(1024 * 1024)
          .default(64 * 1024 * 1024),
        maxUnverifiedBodies: intSetting().min(1).default(32),
        /** A whole request (headers and body) must arrive within this time. */
        bodyTimeoutMs: intSetting().min(100).max(300_000).default(20_000),
      })
      .default({ maxUnverifiedBytes: 64 * 1024 * 1024, maxUnverifiedBodies: 32, bodyTimeoutMs: 20_000 }),
    /** Comment commands one user, and all users, may give on one pull request per window (each can cost a review). */
    commands: z
      .object({
        perUserPerPr: intSetting().min(1).default(5),
        perPr: intSetting().min(1).default(20),
        windowSeconds: intSetting().min(1).default(3600),
      })
      .default({ perUserPerPr: 5, perPr: 20, windowSeconds: 3600 }),
  })
  // Unknown keys stop the backend, as they stop the worker: a misspelt or moved setting in the
  // file is an error, not a default silently kept.
  .strict()
  .superRefine(
    (parsed, ctx) => {
      // Also run when other settings are bad (so every missing secret is named with them): then
      // the sections may be raw input, not yet validated.
      const config = { github: parsed.github ?? {}, gitlab: parsed.gitlab ?? {} };
      const gitlab = gitlabEnabled(config);
      if (gitlab && !config.gitlab.webhookSecret) {
        ctx.addIssue({
          code: 'custom',
          path: ['gitlab', 'webhookSecret'],
          message: `is required when GitLab is configured (${ENV.gitlabUrl} is set)`,
        });
      }
      if (!gitlab && !config.github.webhookSecret) {
        ctx.addIssue({
          code: 'custom',
          path: ['github', 'webhookSecret'],
          message: `is required (or configure GitLab: ${ENV.gitlabUrl} and ${ENV.gitlabWebhookSecret})`,
        });
      }
    },
    { when: () => true },
  );

export type BackendConfig = z.output<typeof backendConfigSchema>;

/** GitLab is configured by its URL or its webhook secret; either one asks for the other's checks. */
function gitlabEnabled(config: { gitlab: { url?: string | undefined; webhookSecret?: string | undefined } }): boolean {
  return config.gitlab.url !== undefined || config.gitlab.webhookSecret !== undefined;
}

/** The code hosts whose webhooks the backend takes, each with the secret that proves a delivery is its. */
export function webhookSecrets(config: BackendConfig): Partial<Record<Platform, string>> {
  return {
    ...(config.github.webhookSecret ? { github: config.github.webhookSecret } : {}),
    ...(config.gitlab.webhookSecret ? { gitlab: config.gitlab.webhookSecret } : {}),
  };
}

/** Injection token of the validated BackendConfig. */
export const BACKEND_CONFIG = 'KRITIK_BACKEND_CONFIG';

export const BACKEND_ENV = {
  [ENV.port]: 'port',
  [ENV.host]: 'host',
  [ENV.metricsPort]: 'metricsPort',
  [ENV.logLevel]: 'logLevel',
  ...redisEnv('redis'),
  ...triggerEnv('triggers'),
  [ENV.githubWebhookSecret]: 'github.webhookSecret',
  [ENV.gitlabUrl]: 'gitlab.url',
  [ENV.gitlabWebhookSecret]: 'gitlab.webhookSecret',
  [ENV.apiToken]: 'apiToken',
  [ENV.allowedOrgs]: 'allow.orgs',
  [ENV.allowedRepos]: 'allow.repos',
  [ENV.allowedUsers]: 'allow.users',
  [ENV.commandsPerUserPerPr]: 'commands.perUserPerPr',
  [ENV.commandsPerPr]: 'commands.perPr',
  [ENV.commandsWindowSeconds]: 'commands.windowSeconds',
  [ENV.webhookMaxUnverifiedBytes]: 'webhooks.maxUnverifiedBytes',
  [ENV.webhookMaxUnverifiedBodies]: 'webhooks.maxUnverifiedBodies',
  [ENV.webhookBodyTimeoutMs]: 'webhooks.bodyTimeoutMs',
} as const;

export function loadBackendConfig(source: NodeJS.ProcessEnv = process.env): BackendConfig {
  return loadConfig({ schema: backendConfigSchema, env: BACKEND_ENV, source });
}
