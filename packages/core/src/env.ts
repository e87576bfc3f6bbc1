// Environment variable names shared by every deployable, so the chart, the worker's Job builder
// and the services agree on one spelling.
export const ENV = {
  port: 'PORT',
  /** Address the backend (and the standalone mode's services) listen on. */
  host: 'KRITIK_HOST',
  /** Serves /metrics on its own port (the chart sets it); on PORT with the rest when unset. */
  metricsPort: 'KRITIK_METRICS_PORT',
  /** `redis://` or `rediss://` (TLS) URL of one Redis server; or use the Sentinel variables below. */
  redisUrl: 'REDIS_URL',
  /** Sentinels to ask for the master, `host:port` separated by commas (instead of REDIS_URL). */
  redisSentinels: 'KRITIK_REDIS_SENTINELS',
  /** The master group name the sentinels monitor. */
  redisSentinelName: 'KRITIK_REDIS_SENTINEL_NAME',
  redisSentinelUsername: 'KRITIK_REDIS_SENTINEL_USERNAME',
  redisSentinelPassword: 'KRITIK_REDIS_SENTINEL_PASSWORD',
  /** ACL user; also read from REDIS_URL (`redis://user:pass@host`). */
  redisUsername: 'KRITIK_REDIS_USERNAME',
  /** Password of the ACL user (or `requirepass`); also read from REDIS_URL. */
  redisPassword: 'KRITIK_REDIS_PASSWORD',
  /** Database number; also read from REDIS_URL's path. */
  redisDb: 'KRITIK_REDIS_DB',
  /** Connect with TLS (implied by a `rediss://` URL). */
  redisTls: 'KRITIK_REDIS_TLS',
  /** PEM bundle of the CAs that sign the Redis servers' certificates (default: the system's). */
  redisCaFile: 'KRITIK_REDIS_CA_FILE',
  githubWebhookSecret: 'GITHUB_WEBHOOK_SECRET',
  githubAppId: 'GITHUB_APP_ID',
  githubAppPrivateKey: 'GITHUB_APP_PRIVATE_KEY',
  githubApiUrl: 'GITHUB_API_URL',
  githubToken: 'GITHUB_TOKEN',
  /** Base URL of the GitLab instance (`https://gitlab.example.com`); its REST API is under `/api/v4`. */
  gitlabUrl: 'GITLAB_URL',
  /** A project or group access token: the worker's, and each GitLab review Job's through its own Secret. */
  gitlabToken: 'GITLAB_TOKEN',
  /** The secret GitLab sends in `X-Gitlab-Token` with each webhook. */
  gitlabWebhookSecret: 'GITLAB_WEBHOOK_SECRET',
  /** PEM bundle of extra CAs Node trusts (a self-managed code host's internal CA); read at start-up. */
  extraCaCerts: 'NODE_EXTRA_CA_CERTS',
  anthropicApiKey: 'ANTHROPIC_API_KEY',
  anthropicBaseUrl: 'ANTHROPIC_BASE_URL',
  // Where the model runs (docs/providers): the provider, its region, and the models' catalogue.
  /** `anthropic` (default), `bedrock` or `vertex`. */
  modelProvider: 'KRITIK_MODEL_PROVIDER',
  /** The AWS region of Bedrock, or the Vertex AI location (`us-east5`, `europe-west1`, `global`). */
  modelRegion: 'KRITIK_MODEL_REGION',
  /** The Google Cloud project that calls Vertex AI. */
  vertexProjectId: 'KRITIK_VERTEX_PROJECT_ID',
  /** Bedrock's endpoint when not the region's default (a VPC endpoint); the SDK's own variable. */
  bedrockBaseUrl: 'ANTHROPIC_BEDROCK_BASE_URL',
  /** Vertex AI's endpoint when not the region's default (Private Service Connect); the SDK's own variable. */
  vertexBaseUrl: 'ANTHROPIC_VERTEX_BASE_URL',
  /** JSON merged over the built-in model catalogue (the chart's `model.catalogue`). */
  modelCatalogue: 'KRITIK_MODEL_CATALOGUE',
  /** The model asked when the primary is overloaded or failing after its retries; unset: no fallback. */
  fallbackModel: 'KRITIK_FALLBACK_MODEL',
  /** The fallback's provider when not the primary's. */
  fallbackProvider: 'KRITIK_FALLBACK_PROVIDER',
  /** Model calls in flight at once per provider, in one process (the gateway's, or a review's). */
  modelMaxConcurrency: 'KRITIK_MODEL_MAX_CONCURRENCY',
  apiToken: 'KRITIK_API_TOKEN',
  runner: 'KRITIK_RUNNER',
  jobsNamespace: 'KRITIK_JOBS_NAMESPACE',
  /** Where the worker watches ReviewPolicies (the release namespace); unset: no policies. */
  policyNamespace: 'KRITIK_POLICY_NAMESPACE',
  config: 'KRITIK_CONFIG',
  terminationLog: 'KRITIK_TERMINATION_LOG',
  /** The review payload (JSON, {@link ReviewPayload}) handed to a review Job. */
  review: 'KRITIK_REVIEW',
  logLevel: 'KRITIK_LOG_LEVEL',
  /** `json` or `pretty`; unset: pretty on a terminal, JSON otherwise. */
  logFormat: 'KRITIK_LOG_FORMAT',
  /** Where review Jobs reach the worker's model gateway; unset: Jobs call Anthropic directly. */
  gatewayUrl: 'KRITIK_GATEWAY_URL',
  gatewayPort: 'KRITIK_GATEWAY_PORT',

  // What asks for a review, read alike by backend and worker (one value configures both).
  /** The App's login without `[bot]`, as mentioned in comments (`@kritik review`). */
  botName: 'KRITIK_BOT_NAME',
  /** Adding this label to a pull request requests a review. */
  triggerLabel: 'KRITIK_TRIGGER_LABEL',
  /** A review waits this long for newer pushes to its pull request, which replace it. */
  debounceMs: 'KRITIK_DEBOUNCE_MS',
  /** Whether drafts are reviewed where a repository's `.kritik.yaml` does not say. */
  reviewDrafts: 'KRITIK_REVIEW_DRAFTS',
  /** Whether pull requests opened by bots are reviewed. */
  reviewBots: 'KRITIK_REVIEW_BOTS',

  // The backend's intake.
  allowedOrgs: 'KRITIK_ALLOWED_ORGS',
  allowedRepos: 'KRITIK_ALLOWED_REPOS',
  allowedUsers: 'KRITIK_ALLOWED_USERS',
  commandsPerUserPerPr: 'KRITIK_COMMANDS_PER_USER_PER_PR',
  commandsPerPr: 'KRITIK_COMMANDS_PER_PR',
  commandsWindowSeconds: 'KRITIK_COMMANDS_WINDOW_SECONDS',
  webhookMaxUnverifiedBytes: 'KRITIK_WEBHOOK_MAX_UNVERIFIED_BYTES',
  webhookMaxUnverifiedBodies: 'KRITIK_WEBHOOK_MAX_UNVERIFIED_BODIES',
  webhookBodyTimeoutMs: 'KRITIK_WEBHOOK_BODY_TIMEOUT_MS',

  // The web dashboard (backend): off unless sign-in is configured (a provider's client id and secret, session secret, URL).
  /** The GitHub App's OAuth client id and secret (user-to-server sign-in). */
  githubClientId: 'GITHUB_CLIENT_ID',
  githubClientSecret: 'GITHUB_CLIENT_SECRET',
  /** Where GitHub's sign-in pages live (`https://github.com`; a GitHub Enterprise Server's URL). */
  githubWebUrl: 'GITHUB_WEB_URL',
  /** The OAuth application's id and secret on the GitLab instance of GITLAB_URL (sign-in with GitLab, scope `read_api`). */
  gitlabClientId: 'GITLAB_CLIENT_ID',
  gitlabClientSecret: 'GITLAB_CLIENT_SECRET',
  /** A GitLab group (full path, `platform/sre`) whose members see the platform page, besides the admins. */
  dashboardGitlabAdminGroup: 'KRITIK_DASHBOARD_GITLAB_ADMIN_GROUP',
  /** Signs session cookies; 32 characters or more. */
  sessionSecret: 'KRITIK_SESSION_SECRET',
  /** How long a dashboard session lasts. */
  sessionTtlSeconds: 'KRITIK_SESSION_TTL_SECONDS',
  /** The dashboard's public URL (`https://kritik.example.com`): GitHub sends users back under it. */
  dashboardUrl: 'KRITIK_DASHBOARD_URL',
  /** Logins that see the platform page, separated by commas: `alice` or `github:alice` on GitHub, `gitlab:alice` on GitLab. */
  dashboardAdmins: 'KRITIK_DASHBOARD_ADMINS',
  /** An organization team (`org/team-slug`) whose members see the platform page, besides the admins. */
  dashboardAdminTeam: 'KRITIK_DASHBOARD_ADMIN_TEAM',
  /** How long a user's repository access, read from GitHub, is trusted before it is read again. */
  dashboardAccessCacheSeconds: 'KRITIK_DASHBOARD_ACCESS_CACHE_SECONDS',
  /** Days each repository's daily figures (reviews, cost) are kept, past the records themselves. */
  dashboardHistoryDays: 'KRITIK_DASHBOARD_HISTORY_DAYS',
  /** Days a review record (and its index entries) is kept after its last change; backend and worker alike. */
  reviewRetentionDays: 'KRITIK_REVIEW_RETENTION_DAYS',
  /** The built single-page app (default: the @kritik/dashboard package's dist/). */
  dashboardDir: 'KRITIK_DASHBOARD_DIR',

  // Set by Kubernetes and kubectl's conventions; the worker picks its runner and client from them.
  kubernetesServiceHost: 'KUBERNETES_SERVICE_HOST',
  kubeconfig: 'KUBECONFIG',

  // The standalone mode (`npm start`).
  /** The redis-server binary started when no Redis is configured. */
  redisServer: 'KRITIK_REDIS_SERVER',
  /** Where the local redis-server keeps its data. */
  dataDir: 'KRITIK_DATA_DIR',
  /** The worker's port beside the backend's PORT. */
  workerPort: 'KRITIK_WORKER_PORT',
  /** The XDG base directory the data directory defaults under. */
  xdgStateHome: 'XDG_STATE_HOME',

  // A review Job's checkout.
  /** Directory of a review Job where the pull request's head is checked out (the workspace volume). */
  workspace: 'KRITIK_WORKSPACE',
  /** Limits of that checkout: bytes of files in all, files, bytes of one file. */
  checkoutMaxBytes: 'KRITIK_CHECKOUT_MAX_BYTES',
  checkoutMaxFiles: 'KRITIK_CHECKOUT_MAX_FILES',
  checkoutMaxFileBytes: 'KRITIK_CHECKOUT_MAX_FILE_BYTES',
} as const;

/** Where a review Job mounts its workspace volume. */
export const WORKSPACE_MOUNT = '/workspace';

/** Where backend, worker and review pods mount the extra CA bundle (the chart's `caBundle`). */
export const CA_BUNDLE_DIR = '/etc/kritik/ca';

/** Default ports; the chart's Services and NetworkPolicies use the same numbers. */
export const PORTS = {
  /** Webhooks, the reviews API, health. */
  backend: 8080,
  /** The worker's health and readiness. */
  worker: 8081,
  /** The worker's model gateway, reached by review Jobs only. */
  gateway: 8082,
  /** /metrics of backend and worker, reached by scrapers only. */
  metrics: 9090,
} as const;

export type EnvName = (typeof ENV)[keyof typeof ENV];

/** The public GitHub REST API, used when GITHUB_API_URL is not set. */
export const DEFAULT_GITHUB_API_URL = 'https://api.github.com';

/** github.com, used when GITHUB_WEB_URL is not set. */
export const DEFAULT_GITHUB_WEB_URL = 'https://github.com';

/** gitlab.com, used when GITLAB_URL is not set. */
export const DEFAULT_GITLAB_URL = 'https://gitlab.com';

/** The Anthropic API, used when ANTHROPIC_BASE_URL is not set. */
export const DEFAULT_ANTHROPIC_BASE_URL = 'https://api.anthropic.com';

/**
 * Where a review (a Job, a local reviewer process) finds its code host: the token variable and
 * the URL variable, per platform. The worker sets them from the review's platform; the reviewer
 * reads them. The URL is the review payload's `apiUrl`: GitHub's REST API URL, or GitLab's base URL.
 */
export const CODE_HOST_ENV = {
  github: { token: ENV.githubToken, url: ENV.githubApiUrl },
  gitlab: { token: ENV.gitlabToken, url: ENV.gitlabUrl },
} as const satisfies Record<'github' | 'gitlab', { token: EnvName; url: EnvName }>;
