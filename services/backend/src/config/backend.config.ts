// The backend's one typed configuration, validated at boot from the environment and the
// optional YAML file. Without a webhook secret the process refuses to start (fail closed).
import { ENV } from '@kritik/core';
import { boolSetting, intSetting, listSetting, loadConfig, redisEnv, redisSettingsSchema } from '@kritik/server';
import { z } from 'zod';

export const backendConfigSchema = z.object({
  port: intSetting().min(0).max(65535).default(8080),
  /** /metrics on its own port (the chart sets one); on `port` when unset. */
  metricsPort: intSetting().min(0).max(65535).optional(),
  host: z.string().min(1).default('0.0.0.0'),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  redis: redisSettingsSchema,
  github: z.object({
    webhookSecret: z.string().min(1),
    /** The App's login without `[bot]`, as mentioned in comments (`@kritik review`). */
    botName: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9-]*$/)
      .default('kritik'),
  }),
  /** Bearer token of the reviews API; without one the API answers 401 to everyone. */
  apiToken: z.string().min(16).optional(),
  triggers: z
    .object({
      /** Adding this label to a pull request requests a review. */
      label: z.string().min(1).default('kritik:review'),
      reviewBots: boolSetting().default(false),
    })
    .default({ label: 'kritik:review', reviewBots: false }),
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
  /** Comment commands one user may give on one pull request per window (each can cost a review). */
  commands: z
    .object({
      perUserPerPr: intSetting().min(1).default(5),
      windowSeconds: intSetting().min(1).default(3600),
    })
    .default({ perUserPerPr: 5, windowSeconds: 3600 }),
  queue: z
    .object({
      /** A review waits this long for newer pushes to the same pull request, which replace it. */
      debounceMs: intSetting().min(0).max(600_000).default(2_000),
    })
    .default({ debounceMs: 2_000 }),
});

export type BackendConfig = z.output<typeof backendConfigSchema>;

/** Injection token of the validated BackendConfig. */
export const BACKEND_CONFIG = 'KRITIK_BACKEND_CONFIG';

export const BACKEND_ENV = {
  [ENV.port]: 'port',
  KRITIK_HOST: 'host',
  [ENV.metricsPort]: 'metricsPort',
  [ENV.logLevel]: 'logLevel',
  ...redisEnv('redis'),
  [ENV.githubWebhookSecret]: 'github.webhookSecret',
  KRITIK_BOT_NAME: 'github.botName',
  [ENV.apiToken]: 'apiToken',
  KRITIK_TRIGGER_LABEL: 'triggers.label',
  KRITIK_REVIEW_BOTS: 'triggers.reviewBots',
  KRITIK_ALLOWED_ORGS: 'allow.orgs',
  KRITIK_ALLOWED_REPOS: 'allow.repos',
  KRITIK_ALLOWED_USERS: 'allow.users',
  KRITIK_DEBOUNCE_MS: 'queue.debounceMs',
  KRITIK_COMMANDS_PER_USER_PER_PR: 'commands.perUserPerPr',
  KRITIK_COMMANDS_WINDOW_SECONDS: 'commands.windowSeconds',
  KRITIK_WEBHOOK_MAX_UNVERIFIED_BYTES: 'webhooks.maxUnverifiedBytes',
  KRITIK_WEBHOOK_MAX_UNVERIFIED_BODIES: 'webhooks.maxUnverifiedBodies',
  KRITIK_WEBHOOK_BODY_TIMEOUT_MS: 'webhooks.bodyTimeoutMs',
} as const;

export function loadBackendConfig(source: NodeJS.ProcessEnv = process.env): BackendConfig {
  return loadConfig({ schema: backendConfigSchema, env: BACKEND_ENV, source });
}
