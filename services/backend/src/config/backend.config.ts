// The backend's one typed configuration, validated at boot from the environment and the
// optional YAML file. Without a webhook secret for each configured code host the process refuses
// to start (fail closed).
import { DEFAULT_GITHUB_API_URL, DEFAULT_GITHUB_WEB_URL, ENV, type Platform, PORTS } from '@kritik/core';
import {
  DAILY_FIGURES_RETENTION_DAYS,
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

type SignInInput = {
  github?: Record<string, unknown>;
  gitlab?: Record<string, unknown>;
  sessionSecret?: unknown;
  url?: unknown;
};

/** A provider's section counts once its client id or secret is given (URLs are shared with other settings). */
const providerGiven = (p: Record<string, unknown> | undefined) =>
  p !== undefined && (p.clientId !== undefined || p.clientSecret !== undefined);

/**
 * The dashboard is on once any sign-in setting is given; then every one of them must be valid.
 * The API URL alone does not count: the worker's GITHUB_API_URL is often set beside the backend's.
 * A provider without its client id or secret is dropped (off), so GitLab alone can be configured.
 */
function signInSettings(value: unknown): unknown {
  const d = (value ?? {}) as SignInInput;
  const github = providerGiven(d.github);
  const gitlab = providerGiven(d.gitlab) || d.gitlab?.adminGroup !== undefined;
  if (!github && !gitlab && d.sessionSecret === undefined && d.url === undefined) return undefined;
  const { github: gh, gitlab: gl, ...rest } = d;
  return { ...rest, ...(github ? { github: gh } : {}), ...(gitlab ? { gitlab: gl } : {}) };
}

/** An admin list entry: `login` or `github:login` (GitHub), `gitlab:username` (GitLab). */
const adminEntry = z
  .string()
  .regex(/^(?:(?:github|gitlab):)?[\w.[\]-]+$/, 'each admin must be login, github:login or gitlab:username');

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
    history: historySettingsSchema.default(DEFAULT_HISTORY_SETTINGS),
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
    /** The web dashboard; absent (off) unless sign-in is configured. */
    dashboard: z.preprocess(
      signInSettings,
      z
        .object({
          /** Sign-in with GitHub through the App's user-to-server OAuth. */
          github: z
            .object({
              clientId: z.string().min(1),
              clientSecret: z.string().min(1),
              apiUrl: z.string().url().default(DEFAULT_GITHUB_API_URL),
              webUrl: z.string().url().default(DEFAULT_GITHUB_WEB_URL),
            })
            .strict()
            .optional(),
          /** Sign-in with GitLab: an OAuth application on the instance of `gitlab.url` (ADR 0039). */
          gitlab: z
            .object({
              clientId: z.string().min(1),
              clientSecret: z.string().min(1),
              /** Full path of a group whose members are admins too (read with the user's token, cached like access). */
              adminGroup: z
                .string()
                .regex(/^\w[\w.-]*(?:\/\w[\w.-]*)*$/, 'must be a group path (group/subgroup)')
                .optional(),
            })
            .strict()
            .optional(),
          sessionSecret: z.string().min(32, 'must be at least 32 characters'),
          sessionTtlSeconds: intSetting()
            .min(1)
            .max(30 * 24 * 3600)
            .default(8 * 3600),
          /** Public base URL; the OAuth callbacks are `<url>/api/auth/callback` (GitHub) and `<url>/api/auth/gitlab/callback`. */
          url: z.string().url(),
          admins: listSetting(adminEntry).default([]),
          /** `org/team-slug`: its members are admins too (read with the user's token, cached like access). */
          adminTeam: z
            .string()
            .regex(/^[\w.-]+\/[\w.-]+$/, 'must be org/team-slug')
            .optional(),
          accessCacheSeconds: intSetting().min(0).max(3600).default(60),
          /** Days each repository's daily figures are kept (ADR 0032). */
          historyDays: intSetting().min(31).max(3660).default(DAILY_FIGURES_RETENTION_DAYS),
          dir: z.string().min(1).optional(),
        })
        .strict()
        .refine((d) => d.github !== undefined || d.gitlab !== undefined, {
          path: ['github', 'clientId'],
          message: `needs a sign-in provider: ${ENV.githubClientId} and ${ENV.githubClientSecret}, or ${ENV.gitlabClientId} and ${ENV.gitlabClientSecret}`,
        })
        .optional(),
    ),
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
  ...historyEnv('history'),
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
  [ENV.githubClientId]: 'dashboard.github.clientId',
  [ENV.githubClientSecret]: 'dashboard.github.clientSecret',
  [ENV.githubApiUrl]: 'dashboard.github.apiUrl',
  [ENV.githubWebUrl]: 'dashboard.github.webUrl',
  [ENV.gitlabClientId]: 'dashboard.gitlab.clientId',
  [ENV.gitlabClientSecret]: 'dashboard.gitlab.clientSecret',
  [ENV.dashboardGitlabAdminGroup]: 'dashboard.gitlab.adminGroup',
  [ENV.sessionSecret]: 'dashboard.sessionSecret',
  [ENV.sessionTtlSeconds]: 'dashboard.sessionTtlSeconds',
  [ENV.dashboardUrl]: 'dashboard.url',
  [ENV.dashboardAdmins]: 'dashboard.admins',
  [ENV.dashboardAdminTeam]: 'dashboard.adminTeam',
  [ENV.dashboardAccessCacheSeconds]: 'dashboard.accessCacheSeconds',
  [ENV.dashboardHistoryDays]: 'dashboard.historyDays',
  [ENV.dashboardDir]: 'dashboard.dir',
} as const;

export function loadBackendConfig(source: NodeJS.ProcessEnv = process.env): BackendConfig {
  return loadConfig({ schema: backendConfigSchema, env: BACKEND_ENV, source });
}
