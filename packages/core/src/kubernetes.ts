// What the worker may do in the jobs namespace and how review Jobs are shaped. The chart's Role
// is generated from REQUIRED_PERMISSIONS and the worker checks each at start, so code, chart
// and cluster cannot drift apart.
import { z } from 'zod';
import { ENV } from './env.js';
import { APP_NAME } from './labels.js';
import { DEFAULT_REVIEW_CEILINGS, reviewCeilingsSchema } from './review.js';

const JOB_NAME_PREFIX = `${APP_NAME}-review-`;
const JOB_NAME_MAX = 63;

/**
 * The Job (and Secret) name of a review: stable per review id, so a retry finds the same objects
 * and the dashboard can name the Job a review ran in.
 */
export function reviewJobName(reviewId: string): string {
  const name = `${JOB_NAME_PREFIX}${reviewId}`;
  if (name.length > JOB_NAME_MAX || !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(name)) {
    throw new Error(`review id ${JSON.stringify(reviewId)} does not give a valid Job name`);
  }
  return name;
}

/** Variables a review gets from its own Secret (or the Anthropic one), never from plain settings. */
const CREDENTIAL_ENV: readonly string[] = [ENV.anthropicApiKey, ENV.githubToken, ENV.gitlabToken, ENV.review];

export interface Permission {
  readonly group: string;
  readonly resource: string;
  readonly subresource?: string;
  readonly verbs: readonly string[];
}

/** Exactly the verbs the worker's Kubernetes runner uses, all in the jobs namespace. */
/** How RBAC and our errors spell one verb of a permission: `create jobs.batch`, `get pods/log`. */
export function describePermission(verb: string, p: Pick<Permission, 'group' | 'resource' | 'subresource'>): string {
  const resource = p.subresource ? `${p.resource}/${p.subresource}` : p.resource;
  return `${verb} ${resource}${p.group ? `.${p.group}` : ''}`;
}

export const REQUIRED_PERMISSIONS: readonly Permission[] = [
  { group: 'batch', resource: 'jobs', verbs: ['create', 'get', 'list', 'watch', 'patch', 'delete'] },
  { group: '', resource: 'secrets', verbs: ['create', 'get', 'patch'] },
  { group: '', resource: 'pods', verbs: ['get', 'list'] },
  { group: '', resource: 'pods', subresource: 'log', verbs: ['get'] },
];

/**
 * What the worker's policy watcher does in the release namespace, where ReviewPolicies live: the
 * chart's policy Role is generated from it.
 */
export const POLICY_PERMISSIONS: readonly Permission[] = [
  { group: 'kritik.dev', resource: 'reviewpolicies', verbs: ['get', 'list', 'watch'] },
  { group: 'kritik.dev', resource: 'reviewpolicies', subresource: 'status', verbs: ['update'] },
];

/** The Role rule form of a permission (resource "pods/log" for a subresource). */
export const permissionResource = (p: Permission) => (p.subresource ? `${p.resource}/${p.subresource}` : p.resource);

const quantity = z.union([z.string().regex(/^[0-9.]+[A-Za-z]*$/), z.number()]);
const resourceList = z.record(z.string(), quantity);

export const resourcesSchema = z
  .object({ requests: resourceList.optional(), limits: resourceList.optional() })
  .strict();
export type Resources = z.infer<typeof resourcesSchema>;

export const tolerationSchema = z
  .object({
    key: z.string().optional(),
    operator: z.enum(['Exists', 'Equal']).optional(),
    value: z.string().optional(),
    effect: z.enum(['NoSchedule', 'PreferNoSchedule', 'NoExecute']).optional(),
    tolerationSeconds: z.number().int().optional(),
  })
  .strict();

/** Settings of every review Job; the chart renders them into the worker's config file. */
export const reviewJobSettingsSchema = z
  .object({
    image: z.string().min(1).default('ghcr.io/kritik-dev/kritik-reviewer:latest'),
    imagePullPolicy: z.enum(['Always', 'IfNotPresent', 'Never']).default('IfNotPresent'),
    /** Command of the reviewer container; the image's entrypoint when empty. */
    command: z.array(z.string()).default([]),
    activeDeadlineSeconds: z.number().int().positive().default(600),
    ttlSecondsAfterFinished: z.number().int().nonnegative().default(3600),
    tmpSizeLimit: z.string().default('1Gi'),
    /** Size limit of the workspace emptyDir the pull request is checked out into. */
    workspaceSizeLimit: z.string().default('1Gi'),
    /** The checkout stops (and the review says so) past these; keep maxBytes under the size limit. */
    checkoutMaxBytes: z
      .number()
      .int()
      .positive()
      .default(256 * 1024 * 1024),
    checkoutMaxFiles: z.number().int().positive().default(20_000),
    checkoutMaxFileBytes: z
      .number()
      .int()
      .positive()
      .default(1024 * 1024),
    runAsUser: z.number().int().positive().default(1000),
    runAsGroup: z.number().int().positive().default(1000),
    fsGroup: z.number().int().positive().default(1000),
    serviceAccountName: z.string().default('kritik-reviewer'),
    /** Secret holding ANTHROPIC_API_KEY, mounted with envFrom. */
    anthropicSecretName: z.string().default('kritik-anthropic'),
    resources: resourcesSchema.default({
      requests: { cpu: '100m', memory: '256Mi' },
      limits: { memory: '512Mi' },
    }),
    nodeSelector: z.record(z.string(), z.string()).default({}),
    tolerations: z.array(tolerationSchema).default([]),
    affinity: z.record(z.string(), z.unknown()).default({}),
    imagePullSecrets: z.array(z.string()).default([]),
    annotations: z.record(z.string(), z.string()).default({}),
    labels: z.record(z.string(), z.string()).default({}),
    priorityClassName: z.string().optional(),
    /** Extra env for the reviewer (non-secret), e.g. ANTHROPIC_BASE_URL for a proxy. */
    env: z
      .record(z.string(), z.string())
      .refine((env) => !CREDENTIAL_ENV.some((name) => name in env), {
        message: `must not set ${CREDENTIAL_ENV.join(', ')}: credentials reach a review through its Secret`,
      })
      .default({}),
    /** What one review may spend at most, whatever its repository's `.kritik.yaml` sets. */
    ceilings: reviewCeilingsSchema.default(DEFAULT_REVIEW_CEILINGS),
    /**
     * Extra CAs the reviewer trusts (a self-managed code host's internal CA): a Secret or, when no
     * Secret is named, a ConfigMap in the jobs namespace, mounted at CA_BUNDLE_DIR.
     */
    caBundle: z
      .object({
        secret: z.string().default(''),
        configMap: z.string().default(''),
        key: z.string().min(1).default('ca.crt'),
      })
      .default({ secret: '', configMap: '', key: 'ca.crt' }),
  })
  .strict();
export type ReviewJobSettings = z.infer<typeof reviewJobSettingsSchema>;
