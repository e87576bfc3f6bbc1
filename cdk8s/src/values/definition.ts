// The one definition of the chart's values: type, default and description of each. values.yaml,
// values.schema.json, the README's parameters table and the constructs' accessor all come from it.
import {
  DEFAULT_GITHUB_API_URL,
  DEFAULT_GITHUB_WEB_URL,
  DEFAULT_GITLAB_URL,
  ENV,
  GITHUB_LOGIN,
  MAX_DEBOUNCE_MS,
  MODEL_PROVIDERS,
  REVIEW_RETENTION_DAYS,
  type Resources,
  resourcesSchema,
  reviewJobSettingsSchema,
  TRIGGER_DEFAULTS,
  tolerationSchema,
} from '@kritik/core';
import { type Accessor, accessorOf, bool, group, int, list, num, object, str, stringMap, stringOrInt } from './dsl.js';
import { jsonSchemaOf } from './zod-schema.js';

const reviewJobDefaults = reviewJobSettingsSchema.parse({});
const reviewJobShape = reviewJobSettingsSchema.shape;

const PULL_POLICIES = ['Always', 'IfNotPresent', 'Never'];
const resourcesJsonSchema = jsonSchemaOf(resourcesSchema);
const tolerationsJsonSchema = jsonSchemaOf(tolerationSchema);
const affinityJsonSchema = { type: 'object' };

/** Private address ranges review pods may not reach (RFC 1918, carrier-grade NAT, link-local incl. cloud metadata). */
export const PRIVATE_RANGES = ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '100.64.0.0/10', '169.254.0.0/16'];

const image = (repository: string, what: string) =>
  group(`Container image of the ${what}.`, {
    repository: str(repository, 'Image repository.'),
    tag: str('', "Image tag; the chart's appVersion when empty."),
    digest: str('', 'Image digest (sha256:...); used instead of the tag when set.', {
      schema: { pattern: '^(sha256:[0-9a-f]{64})?$' },
    }),
    pullPolicy: str('IfNotPresent', 'Image pull policy.', { schema: { enum: PULL_POLICIES } }),
  });

const envVarSchema = {
  type: 'object',
  required: ['name'],
  properties: { name: { type: 'string', minLength: 1 }, value: { type: 'string' }, valueFrom: { type: 'object' } },
  additionalProperties: false,
};

const CONFIG_DESCRIPTIONS = {
  backend:
    "Settings of the backend's config file (KRITIK_CONFIG, see services/backend/src/config/backend.config.ts), e.g. allow.repos, commands.perUserPerPr (the trigger settings come from `triggers`). Environment variables the chart sets win; secrets do not belong here. Unknown keys stop the backend.",
  worker:
    "Settings of the worker's config file beside `reviewJob` (KRITIK_CONFIG, see services/worker/src/config/worker.config.ts), e.g. scheduling.concurrency, scheduling.perRepoConcurrency. Unknown keys stop the worker.",
} as const;

/** The backend rests at ~130 MiB resident (the unverified-bodies spec reads it): 512 MiB leaves room for 64 MiB of bodies. */
const WORKLOAD_RESOURCES: Record<'backend' | 'worker', Resources> = {
  backend: { requests: { cpu: '100m', memory: '192Mi' }, limits: { memory: '512Mi' } },
  worker: { requests: { cpu: '100m', memory: '192Mi' }, limits: { memory: '512Mi' } },
};

/** Up at once by up to 4 pods or doubling a minute; down by at most half a minute after 5 quiet minutes. */
const HPA_BEHAVIOR = {
  scaleUp: {
    stabilizationWindowSeconds: 0,
    selectPolicy: 'Max',
    policies: [
      { type: 'Pods', value: 4, periodSeconds: 60 },
      { type: 'Percent', value: 100, periodSeconds: 60 },
    ],
  },
  scaleDown: {
    stabilizationWindowSeconds: 300,
    selectPolicy: 'Max',
    policies: [{ type: 'Percent', value: 50, periodSeconds: 60 }],
  },
};

/** What backend and worker share: image, scaling, disruption budget, scheduling, resources. */
const workload = (component: 'backend' | 'worker', what: string) =>
  ({
    image: image(`ghcr.io/kritik-dev/kritik-${component}`, what),
    replicaCount: int(1, 'Number of pods when autoscaling is off.', { schema: { minimum: 0 } }),
    resources: object(
      WORKLOAD_RESOURCES[component],
      'Container resources (requests/limits). No CPU limit by default (throttling slows webhooks more than it protects); the memory limit leaves room for the unverified-body budget (backend) and a burst of reviews (worker).',
      resourcesJsonSchema,
    ),
    autoscaling: group('HorizontalPodAutoscaler (autoscaling/v2) on CPU and memory utilisation of the requests.', {
      enabled: bool(false, 'Create the HorizontalPodAutoscaler; `replicaCount` is then ignored.'),
      minReplicas: int(2, 'Lower bound of replicas.', { schema: { minimum: 1 } }),
      maxReplicas: int(5, 'Upper bound of replicas.', { schema: { minimum: 1 } }),
      targetCPUUtilizationPercentage: int(75, 'Average CPU utilisation to aim for, in percent of the request.', {
        schema: { minimum: 1, maximum: 100 },
      }),
      targetMemoryUtilizationPercentage: int(
        80,
        'Average memory utilisation to aim for, in percent of the request (a webhook burst or a body flood grows memory before CPU).',
        { schema: { minimum: 1, maximum: 100 } },
      ),
      behavior: object(
        HPA_BEHAVIOR,
        'Scaling policies: up fast (a burst of pushes), down slowly (no flapping between bursts).',
        { type: 'object' },
      ),
    }),
    pdb: group('PodDisruptionBudget.', {
      enabled: bool(true, 'Create the PodDisruptionBudget.'),
      maxUnavailable: int(1, 'Pods that may be unavailable during a voluntary disruption.', {
        schema: { minimum: 0 },
      }),
    }),
    podAnnotations: stringMap('Extra pod annotations.'),
    podLabels: stringMap('Extra pod labels.'),
    nodeSelector: stringMap('Node selector.'),
    tolerations: list([], 'Tolerations.', tolerationsJsonSchema),
    affinity: object({}, 'Affinity rules.', affinityJsonSchema),
    topologySpreadConstraints: list([], 'Topology spread constraints.', { type: 'object' }),
    priorityClassName: str('', 'Priority class of the pods.'),
    extraEnv: list([], 'Extra environment variables (Kubernetes EnvVar objects).', envVarSchema),
    config: object({}, CONFIG_DESCRIPTIONS[component], {
      type: 'object',
      propertyNames: { not: { const: 'reviewJob' } },
    }),
  }) as const;

/** The worker's values: a workload's, plus KEDA scaling on the reviews queue beside the HPA. */
const workerValues = () => {
  const base = workload('worker', 'worker');
  const keda = group(
    'A KEDA ScaledObject (keda.sh/v1alpha1, KEDA 2.12 or newer) scaling the worker on the depth of the reviews queue instead of CPU and memory; KEDA creates the HorizontalPodAutoscaler, so `autoscaling.enabled` must be false. See docs/operations.md.',
    {
      enabled: bool(false, 'Create the ScaledObject (and a TriggerAuthentication for the Redis password).'),
      minReplicas: int(
        1,
        'Lower bound of replicas; at least 1, since the worker also follows running review Jobs and answers comment commands.',
        { schema: { minimum: 1 } },
      ),
      maxReplicas: int(
        4,
        'Upper bound of replicas. More than ceil(scheduling.concurrency / scheduling.replicaConcurrency) adds nothing: the fleet never runs more than scheduling.concurrency reviews.',
        { schema: { minimum: 1 } },
      ),
      listLength: int(
        0,
        "Reviews (waiting + running) one replica should carry. 0: the replica's capacity, `config.scheduling.replicaConcurrency`, else `config.scheduling.concurrency`, else the worker's default.",
        { schema: { minimum: 0 } },
      ),
      pollingInterval: int(15, 'Seconds between two reads of the queue depth by KEDA.', { schema: { minimum: 1 } }),
      operator: group(
        "Where KEDA's operator runs: with the NetworkPolicies on, the bundled Redis admits it (it reads the queue depth).",
        {
          namespaceSelector: object(
            { matchLabels: { 'kubernetes.io/metadata.name': 'keda' } },
            "Namespace of KEDA's operator.",
            { type: 'object' },
          ),
          podSelector: object({ matchLabels: { app: 'keda-operator' } }, "Pods of KEDA's operator.", {
            type: 'object',
          }),
        },
      ),
    },
  );
  return {
    ...base,
    autoscaling: group(base.autoscaling.description, { ...base.autoscaling.children, keda }),
  } as const;
};

export const valuesDefinition = group('Kritik', {
  global: object({}, 'Reserved for parent charts; unused by Kritik.'),
  fullnameOverride: str(
    '',
    'Prefix of every resource name; `<release>-kritik` (or the release name if it holds "kritik") when empty.',
    {
      schema: { pattern: '^([a-z0-9]([-a-z0-9]{0,38}[a-z0-9])?)?$' },
    },
  ),
  commonLabels: stringMap(
    "Labels added to every object. The app.kubernetes.io/ labels are the chart's own.",
    {},
    {
      schema: { propertyNames: { not: { pattern: '^app\\.kubernetes\\.io/' } } },
    },
  ),
  imagePullSecrets: list([], 'Names of image pull Secrets, for every pod including review Jobs.', {
    type: 'string',
    minLength: 1,
  }),
  logLevel: str('info', 'Log level of backend and worker (KRITIK_LOG_LEVEL).', {
    schema: { enum: ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] },
  }),
  securityContext: group(
    'User and group of the backend and worker pods (they run as non-root with a read-only root filesystem).',
    {
      runAsUser: int(1000, 'User id.', { schema: { minimum: 1 } }),
      runAsGroup: int(1000, 'Group id.', { schema: { minimum: 1 } }),
      fsGroup: int(1000, 'Group owning mounted volumes.', { schema: { minimum: 1 } }),
    },
  ),

  github: group('GitHub App credentials and API endpoint.', {
    apiUrl: str(DEFAULT_GITHUB_API_URL, 'GitHub REST API URL (GitHub Enterprise: https://HOST/api/v3).', {
      schema: { format: 'uri', pattern: '^https?://' },
    }),
    existingSecret: str(
      '',
      'Secret holding the App id, private key and webhook secret (keys below). When empty the chart creates one from the values below.',
    ),
    secretKeys: group('Keys inside the Secret (`existingSecret` or the one the chart creates).', {
      appId: str('app-id', 'Key of the App id.'),
      privateKey: str('private-key', 'Key of the App private key (PEM).'),
      webhookSecret: str('webhook-secret', 'Key of the webhook secret.'),
    }),
    appId: stringOrInt('', 'App id, for the chart-created Secret (quick start only, not for production).'),
    privateKey: str('', 'App private key (PEM), for the chart-created Secret (quick start only, not for production).'),
    webhookSecret: str(
      '',
      'Webhook secret, for the chart-created Secret; generated (and kept across upgrades) when empty.',
    ),
  }),
  // GitLab and the CA bundle of a self-managed code host: one block (docs/adr/0023).
  gitlab: group(
    'One GitLab instance (gitlab.com or self-managed): merge request webhooks at /webhooks/gitlab, reviews with an access token.',
    {
      enabled: bool(false, `Take GitLab webhooks and review merge requests (${ENV.gitlabUrl}, ${ENV.gitlabToken}).`),
      url: str(DEFAULT_GITLAB_URL, `Base URL of the instance; the API is under /api/v4 (${ENV.gitlabUrl}).`, {
        schema: { format: 'uri', pattern: '^https?://' },
      }),
      existingSecret: str(
        '',
        'Secret holding the access token (scope `api`) and the webhook secret (keys below); required when enabled. The chart never creates it.',
      ),
      secretKeys: group('Keys inside `existingSecret`.', {
        token: str('token', `Key of the project or group access token (${ENV.gitlabToken}).`),
        webhookSecret: str('webhook-secret', `Key of the webhook secret (${ENV.gitlabWebhookSecret}).`),
      }),
      egress: group(
        'Where the worker and review pods reach a GitLab inside private ranges (review pods reach only port 443 outside them otherwise).',
        {
          cidrs: list([], 'Addresses of the GitLab instance, e.g. 10.20.0.15/32; none when empty.', {
            type: 'string',
            minLength: 1,
          }),
          ports: list([443], 'Ports of the instance.', { type: 'integer', minimum: 1, maximum: 65535 }),
        },
      ),
    },
  ),
  caBundle: group(
    `Extra CA certificates (PEM) trusted by backend, worker and review Jobs (${ENV.extraCaCerts}), e.g. a self-managed GitLab's internal CA. Name a Secret or a ConfigMap; review Jobs read it in the jobs namespace.`,
    {
      secret: str('', 'Secret holding the bundle.'),
      configMap: str('', 'ConfigMap holding the bundle (when no Secret is named).'),
      key: str('ca.crt', 'Key of the bundle inside the Secret or ConfigMap.'),
    },
  ),
  anthropic: group(
    "The model API. With the gateway (the default) only the worker holds the key and review Jobs get a per-review token for the worker's gateway; without it every review Job reads the key from a Secret in the jobs namespace.",
    {
      gateway: bool(
        true,
        "Review Jobs reach the model through the worker's gateway (per-review tokens, metered against `reviewJob.ceilings.maxCostUsd`, refused once the review ends). false: each review Job gets the key itself.",
      ),
      existingSecret: str(
        '',
        'Secret with the key ANTHROPIC_API_KEY, in the release namespace with the gateway, in the jobs namespace without it. When empty the chart creates one from `apiKey`.',
      ),
      apiKey: str('', 'API key for the chart-created Secret (quick start only, not for production).'),
      baseUrl: str('', 'Model API URL (ANTHROPIC_BASE_URL), e.g. a proxy; empty: https://api.anthropic.com.', {
        schema: { pattern: '^(https?://.+)?$' },
      }),
    },
  ),
  // Where the model runs (docs/providers): one block, read by the worker and handed to review Jobs.
  model: group(
    'Where the model runs and what it costs. With the gateway, the worker calls the provider with its own identity; without it, review Jobs call the provider with theirs (docs/providers).',
    {
      provider: str('anthropic', `Model provider (${ENV.modelProvider}): anthropic, bedrock or vertex.`, {
        schema: { enum: [...MODEL_PROVIDERS] },
      }),
      region: str(
        '',
        `Bedrock's AWS region or Vertex AI's location (${ENV.modelRegion}); required for bedrock and vertex.`,
        {
          schema: { pattern: '^[a-z0-9-]*$' },
        },
      ),
      vertexProjectId: str('', `Google Cloud project that calls Vertex AI (${ENV.vertexProjectId}).`),
      endpoint: str(
        '',
        "The provider's endpoint when not the region's default (a VPC / Private Service Connect endpoint); for vertex include `/v1`.",
        { schema: { pattern: '^(https://.+)?$' } },
      ),
      catalogue: object(
        {},
        `Merged over the built-in model catalogue (${ENV.modelCatalogue}): per model name, \`ids\` (anthropic/bedrock/vertex), \`contextWindow\`, \`price\` (USD per million input/output/cacheWrite/cacheRead tokens), \`promptCaching\` (supported, minTokens). A price change needs no release.`,
        { type: 'object', additionalProperties: { type: 'object' } },
      ),
      fallback: group(
        'Asked when the primary answers 529/overloaded or 5xx after its retries; recorded in the review result.',
        {
          model: str('', `Fallback model (${ENV.fallbackModel}); empty: no fallback.`),
          provider: str('', `Its provider (${ENV.fallbackProvider}) when not \`model.provider\`.`, {
            schema: { enum: ['', ...MODEL_PROVIDERS] },
          }),
        },
      ),
      maxConcurrency: int(
        4,
        `Model calls in flight at once per provider, across all worker replicas through the gateway (per review Job without it) (${ENV.modelMaxConcurrency}).`,
        {
          schema: { minimum: 1, maximum: 1000 },
        },
      ),
      serviceAccountAnnotations: group(
        'Workload identity: annotations of the ServiceAccounts (eks.amazonaws.com/role-arn for IRSA, iam.gke.io/gcp-service-account for GKE). Nothing secret is mounted.',
        {
          worker: stringMap("The worker's ServiceAccount: it calls the provider when the gateway is on."),
          reviewer: stringMap("The review Jobs' ServiceAccount: they call the provider when the gateway is off."),
        },
      ),
    },
  ),
  triggers: group(
    "What asks for a review. Backend and worker both get these, so the worker's `@<botName> help` reply names the bot and label the backend answers to.",
    {
      botName: str(
        TRIGGER_DEFAULTS.botName,
        `The GitHub App's login without \`[bot]\`: \`@<botName> review\` in a comment is a command (${ENV.botName}).`,
        { schema: { pattern: GITHUB_LOGIN.source } },
      ),
      label: str(
        TRIGGER_DEFAULTS.label,
        `Adding this label to a pull request requests a review (${ENV.triggerLabel}).`,
        {
          schema: { minLength: 1 },
        },
      ),
      debounceMs: int(
        TRIGGER_DEFAULTS.debounceMs,
        `A review waits this long for newer pushes to its pull request, which replace it (${ENV.debounceMs}).`,
        { schema: { minimum: 0, maximum: MAX_DEBOUNCE_MS } },
      ),
      reviewDrafts: bool(
        TRIGGER_DEFAULTS.reviewDrafts,
        `Review draft pull requests where a repository's \`.kritik.yaml\` does not say (${ENV.reviewDrafts}).`,
      ),
      reviewBots: bool(TRIGGER_DEFAULTS.reviewBots, `Review pull requests opened by bots (${ENV.reviewBots}).`),
    },
  ),
  api: group('Bearer token of the reviews API (KRITIK_API_TOKEN).', {
    existingSecret: str('', 'Secret holding the token. When empty the chart creates one.'),
    secretKey: str('api-token', 'Key of the token inside the Secret (`existingSecret` or the one the chart creates).'),
    token: str('', 'Token for the chart-created Secret; generated (and kept across upgrades) when empty.'),
  }),

  dashboard: group(
    'Web dashboard the backend serves under `/`, with sign-in with GitHub through the App (user-to-server OAuth) and/or GitLab (an OAuth application). Off unless enabled: it is never open without sign-in.',
    {
      enabled: bool(false, 'Serve the dashboard and its sign-in.'),
      url: str(
        '',
        "Public URL of the dashboard; GitHub sends users back to `<url>/api/auth/callback` (the App's callback URL).",
        {
          schema: { pattern: '^(https?://.+)?$' },
        },
      ),
      existingSecret: str(
        '',
        "Secret holding the App's OAuth client id and secret, GitLab's (with `gitlab.enabled` below) and the session secret (keys below); required when enabled.",
      ),
      secretKeys: group('Keys inside `existingSecret`.', {
        clientId: str('client-id', "Key of the App's OAuth client id."),
        clientSecret: str('client-secret', "Key of the App's OAuth client secret."),
        sessionSecret: str('session-secret', 'Key of the secret that signs session cookies (32 characters or more).'),
      }),
      admins: list(
        [],
        'Logins that see the platform page: `alice` or `github:alice` on GitHub, `gitlab:alice` on GitLab.',
        { type: 'string', pattern: '^((github|gitlab):)?[\\w.\\[\\]-]+$' },
      ),
      adminTeam: str('', 'An organization team (`org/team-slug`) whose members see the platform page too.', {
        schema: { pattern: '^([\\w.-]+/[\\w.-]+)?$' },
      }),
      github: group('Sign-in with GitHub through the App (client id and secret: the keys above).', {
        enabled: bool(true, `Offer "Sign in with GitHub" (${ENV.githubClientId}, ${ENV.githubClientSecret}).`),
      }),
      gitlab: group(
        'Sign-in with GitLab: an OAuth application on the instance of `gitlab.url` (needs `gitlab.enabled`), scope `read_api`, callback `<url>/api/auth/gitlab/callback`.',
        {
          enabled: bool(false, `Offer "Sign in with GitLab" (${ENV.gitlabClientId}, ${ENV.gitlabClientSecret}).`),
          secretKeys: group('Keys inside `dashboard.existingSecret`.', {
            clientId: str('gitlab-client-id', "Key of the OAuth application's id."),
            clientSecret: str('gitlab-client-secret', "Key of the OAuth application's secret."),
          }),
          adminGroup: str('', 'A GitLab group (full path, `platform/sre`) whose members see the platform page too.', {
            schema: { pattern: '^(\\w[\\w.-]*(/\\w[\\w.-]*)*)?$' },
          }),
        },
      ),
      webUrl: str(
        DEFAULT_GITHUB_WEB_URL,
        "Where GitHub's sign-in pages live (GitHub Enterprise Server: https://HOST).",
        {
          schema: { format: 'uri', pattern: '^https?://' },
        },
      ),
      sessionTtlSeconds: int(28800, 'How long a sign-in lasts.', { schema: { minimum: 60 } }),
      historyDays: int(400, "Days each repository's daily figures (reviews, cost) are kept, past the records.", {
        schema: { minimum: 31, maximum: 3660 },
      }),
      recordDays: int(
        REVIEW_RETENTION_DAYS.default,
        `Days each review record is kept after its last change, by the backend and the worker alike, dashboard on or off (${ENV.reviewRetentionDays}; Redis: about 14 MiB per 10,000 records).`,
        { schema: { minimum: REVIEW_RETENTION_DAYS.min, maximum: REVIEW_RETENTION_DAYS.max } },
      ),
      ingressPath: str(
        '/',
        'Path routed to the backend for the dashboard on every `backend.ingress` host, when enabled.',
      ),
    },
  ),

  backend: group('Backend: webhook intake and reviews API.', {
    ...workload('backend', 'backend'),
    githubAppCredentials: bool(
      false,
      'Also give the backend GITHUB_APP_ID and GITHUB_APP_PRIVATE_KEY (only needed to answer comment commands itself).',
    ),
    service: group('Service in front of the backend.', {
      type: str('ClusterIP', 'Service type.', { schema: { enum: ['ClusterIP', 'NodePort', 'LoadBalancer'] } }),
      port: int(80, 'Service port.', { schema: { minimum: 1, maximum: 65535 } }),
      annotations: stringMap('Service annotations.'),
    }),
    ingress: group('Ingress for GitHub webhooks and the API.', {
      enabled: bool(false, 'Create the Ingress.'),
      className: str('', 'IngressClass name.'),
      annotations: stringMap('Ingress annotations, e.g. cert-manager.io/cluster-issuer.'),
      hosts: list(
        [
          {
            host: 'kritik.example.com',
            paths: [
              { path: '/webhooks', pathType: 'Prefix' },
              { path: '/api', pathType: 'Prefix' },
            ],
          },
        ],
        'Hosts and paths routed to the backend.',
        {
          type: 'object',
          required: ['host', 'paths'],
          additionalProperties: false,
          properties: {
            host: { type: 'string', minLength: 1 },
            paths: {
              type: 'array',
              minItems: 1,
              items: {
                type: 'object',
                required: ['path'],
                additionalProperties: false,
                properties: {
                  path: { type: 'string', pattern: '^/' },
                  pathType: { type: 'string', enum: ['Prefix', 'Exact', 'ImplementationSpecific'] },
                },
              },
            },
          },
        },
      ),
      tls: list([], 'TLS settings: Secret names and their hosts.', {
        type: 'object',
        additionalProperties: false,
        properties: { secretName: { type: 'string' }, hosts: { type: 'array', items: { type: 'string' } } },
      }),
    }),
  }),
  worker: group('Worker: runs one review Job per pull request.', workerValues()),

  jobs: group('Namespace of the review Jobs.', {
    namespace: str(
      '',
      'Namespace of review Jobs; `<release namespace>-jobs` when empty. Must differ from the release namespace when `createNamespace` is true.',
    ),
    createNamespace: bool(true, 'Create the namespace, labelled to enforce PodSecurity `restricted`.'),
  }),
  reviewJob: group("Every review Job (rendered into the worker's config file).", {
    image: image('ghcr.io/kritik-dev/kritik-reviewer', 'reviewer'),
    command: list(reviewJobDefaults.command, 'Command of the reviewer container; the image entrypoint when empty.', {
      type: 'string',
    }),
    activeDeadlineSeconds: int(reviewJobDefaults.activeDeadlineSeconds, 'Deadline of one review.', {
      schema: { minimum: 1 },
    }),
    ttlSecondsAfterFinished: int(reviewJobDefaults.ttlSecondsAfterFinished, 'How long a finished Job is kept.', {
      schema: { minimum: 0 },
    }),
    tmpSizeLimit: str(reviewJobDefaults.tmpSizeLimit, 'Size limit of the /tmp emptyDir (scratch files).', {
      schema: { pattern: '^[0-9]+(\\.[0-9]+)?([KMGTPE]i?)?$' },
    }),
    workspaceSizeLimit: str(
      reviewJobDefaults.workspaceSizeLimit,
      "Size limit of the /workspace emptyDir the pull request's head is checked out into.",
      { schema: { pattern: '^[0-9]+(\\.[0-9]+)?([KMGTPE]i?)?$' } },
    ),
    checkoutMaxBytes: int(
      reviewJobDefaults.checkoutMaxBytes,
      'Bytes of files the checkout writes at most (keep under workspaceSizeLimit); past it the review explores a partial checkout and says so.',
      { schema: { minimum: 1 } },
    ),
    checkoutMaxFiles: int(reviewJobDefaults.checkoutMaxFiles, 'Files the checkout writes at most.', {
      schema: { minimum: 1 },
    }),
    checkoutMaxFileBytes: int(
      reviewJobDefaults.checkoutMaxFileBytes,
      'A larger file is left out of the checkout (and named in the review).',
      { schema: { minimum: 1 } },
    ),
    runAsUser: int(reviewJobDefaults.runAsUser, 'User id of the reviewer.', { schema: { minimum: 1 } }),
    runAsGroup: int(reviewJobDefaults.runAsGroup, 'Group id of the reviewer.', { schema: { minimum: 1 } }),
    fsGroup: int(reviewJobDefaults.fsGroup, "Group owning the reviewer's volumes.", { schema: { minimum: 1 } }),
    resources: object(
      reviewJobDefaults.resources,
      'Resources of the reviewer container.',
      jsonSchemaOf(reviewJobShape.resources),
    ),
    nodeSelector: stringMap('Node selector of review pods.', reviewJobDefaults.nodeSelector),
    tolerations: list(reviewJobDefaults.tolerations, 'Tolerations of review pods.', tolerationsJsonSchema),
    affinity: object(reviewJobDefaults.affinity, 'Affinity of review pods.', affinityJsonSchema),
    annotations: stringMap('Extra annotations of review Jobs and pods.', reviewJobDefaults.annotations),
    labels: stringMap('Extra labels of review Jobs and pods.', reviewJobDefaults.labels),
    priorityClassName: str('', 'Priority class of review pods.'),
    env: stringMap(
      'Extra (non-secret) environment of the reviewer. The model URL is `anthropic.baseUrl`; with the gateway, ANTHROPIC_* here is ignored.',
      reviewJobDefaults.env,
    ),
    ceilings: group("What one review may spend at most, whatever its repository's .kritik.yaml sets.", {
      maxCostUsd: num(reviewJobDefaults.ceilings.maxCostUsd, 'Highest max_cost_usd a repository gets (USD).', {
        schema: { exclusiveMinimum: 0 },
      }),
      maxInputTokens: int(
        reviewJobDefaults.ceilings.maxInputTokens,
        'Highest max_input_tokens a repository gets (tokens per model request).',
        { schema: { minimum: 1 } },
      ),
    }),
  }),
  redis: group(
    'A single small Redis for evaluation (no persistence; a generated password, kept across upgrades, in the Secret <release>-kritik-redis). Use `externalRedis` in production.',
    {
      enabled: bool(true, 'Run the bundled Redis. Set false and configure `externalRedis` for production.'),
      image: group('Redis image.', {
        repository: str('docker.io/library/redis', 'Image repository.'),
        tag: str('7.4.2-alpine', 'Image tag.'),
        pullPolicy: str('IfNotPresent', 'Image pull policy.', { schema: { enum: PULL_POLICIES } }),
      }),
      maxMemory: str('200mb', 'Redis maxmemory (the eviction policy is noeviction, as BullMQ requires).', {
        schema: { pattern: '^[0-9]+(b|kb|mb|gb)$' },
      }),
      resources: object(
        { requests: { cpu: '50m', memory: '64Mi' }, limits: { memory: '256Mi' } },
        'Resources of the Redis container.',
        resourcesJsonSchema,
      ),
    },
  ),
  externalRedis: group(
    'A Redis run elsewhere (managed or operator-run): `url`, or `host`/`port`, or `sentinels` with `sentinelMasterName`; the password in a Secret. See docs/operations.md, "Redis in production".',
    {
      url: str('', 'Full Redis URL without a password, e.g. rediss://redis.example.com:6380/0.', {
        schema: { pattern: '^(rediss?://.+)?$' },
      }),
      host: str('', 'Redis host.'),
      port: int(6379, 'Redis port (with `sentinels`: the port of the data nodes, for the NetworkPolicy).', {
        schema: { minimum: 1, maximum: 65535 },
      }),
      sentinels: list(
        [],
        'Redis Sentinel addresses (`host:port`); backend and worker ask them for the master and follow failovers. Replaces `url`/`host`.',
        { type: 'string', pattern: '^(\\[[0-9A-Fa-f:.]+\\]|[A-Za-z0-9.-]+):[0-9]{1,5}$' },
      ),
      sentinelMasterName: str('', 'Master group name the sentinels monitor (required with `sentinels`).', {
        schema: { pattern: '^[A-Za-z0-9._-]*$' },
      }),
      sentinelPasswordKey: str(
        '',
        "Key of the sentinels' own password inside `existingSecret`; empty when the sentinels need none.",
      ),
      tls: bool(false, 'Connect with TLS (rediss://; with `sentinels`, to sentinels and data nodes alike).'),
      caSecret: str(
        '',
        'Secret holding the CA bundle (PEM) that signs the Redis certificates, mounted into backend and worker; empty: the system CAs.',
      ),
      caSecretKey: str('ca.crt', 'Key of the CA bundle inside `caSecret`.'),
      username: str('', 'ACL user name (see docs/operations.md for the permissions Kritik needs).', {
        schema: { pattern: '^[A-Za-z0-9._-]*$' },
      }),
      database: int(0, 'Database number.', { schema: { minimum: 0 } }),
      existingSecret: str('', 'Secret holding the password (any characters: it is passed as is, not inside a URL).'),
      existingSecretPasswordKey: str('redis-password', 'Key of the password inside `existingSecret`.'),
    },
  ),

  networkPolicy: group('NetworkPolicies for every component (need a CNI that enforces them).', {
    enabled: bool(true, 'Create the NetworkPolicies.'),
    ingressNamespaceSelector: object(
      {},
      'Namespaces allowed to reach the backend port (your ingress controller); {} allows every namespace.',
      { type: 'object' },
    ),
    metricsNamespaceSelector: object({}, 'Namespaces allowed to scrape metrics; {} allows every namespace.', {
      type: 'object',
    }),
    kubeApi: group('Where the worker reaches the Kubernetes API server.', {
      cidrs: list([], 'API server addresses; any address when empty.', { type: 'string' }),
      ports: list([443, 6443], 'API server ports (the endpoint port, not only the Service port).', {
        type: 'integer',
        minimum: 1,
        maximum: 65535,
      }),
    }),
    externalRedisCidrs: list([], 'Addresses of `externalRedis`; any address when empty.', { type: 'string' }),
    reviewerDns: group(
      'The only DNS servers review pods may ask (the pods hold untrusted code: DNS elsewhere is a way out).',
      {
        namespaceSelector: object(
          { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } },
          'Namespace of the cluster DNS.',
          { type: 'object' },
        ),
        podSelector: object(
          { matchLabels: { 'k8s-app': 'kube-dns' } },
          'Pods of the cluster DNS (CoreDNS keeps this label).',
          {
            type: 'object',
          },
        ),
      },
    ),
    privateCidrs: list(PRIVATE_RANGES, 'Ranges that review pods may not reach on port 443.', { type: 'string' }),
    reviewerExtraEgress: list(
      [],
      'Extra destinations of review pods, e.g. GitHub Enterprise or a proxy in a private range.',
      {
        type: 'object',
        required: ['cidr', 'ports'],
        additionalProperties: false,
        properties: {
          cidr: { type: 'string', minLength: 1 },
          ports: { type: 'array', minItems: 1, items: { type: 'integer', minimum: 1, maximum: 65535 } },
        },
      },
    ),
  }),

  metrics: group('Prometheus metrics (backend /metrics on its port, worker /metrics on its health port).', {
    serviceMonitor: group('ServiceMonitor for the Prometheus Operator.', {
      enabled: bool(false, 'Create the ServiceMonitor (needs the monitoring.coreos.com CRDs).'),
      interval: str('30s', 'Scrape interval.', { schema: { pattern: '^[0-9]+(ms|s|m|h)$' } }),
      scrapeTimeout: str('10s', 'Scrape timeout.', { schema: { pattern: '^[0-9]+(ms|s|m|h)$' } }),
      labels: stringMap('Extra labels, e.g. the one your Prometheus selects ServiceMonitors by.'),
    }),
    dashboard: group('Grafana dashboard as a ConfigMap for the Grafana sidecar.', {
      enabled: bool(false, 'Create the dashboard ConfigMap.'),
      namespace: str('', 'Namespace of the ConfigMap; the release namespace when empty.'),
      labels: stringMap('Labels the Grafana sidecar looks for.', { grafana_dashboard: '1' }),
    }),
  }),
});

export type ValuesDefinition = typeof valuesDefinition;
export type Values = Accessor<ValuesDefinition>;

/** The typed accessor the constructs read values through. */
export const values: Values = accessorOf(valuesDefinition);
