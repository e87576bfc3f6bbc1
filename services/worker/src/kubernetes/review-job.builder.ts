// Pure builders of the Kubernetes objects of one review: the ephemeral Secret carrying the payload
// and the repository token, and the hardened Job running the reviewer. No I/O here.
import {
  ANNOTATIONS,
  APP_NAME,
  CA_BUNDLE_DIR,
  CODE_HOST_ENV,
  ENV,
  LABELS,
  PROVIDER_ENV,
  REVIEW_DEADLINE_ENV,
  type ReviewJobSettings,
  type ReviewPayload,
  type ReviewRequest,
  repoFullName,
  reviewerDeadlineSeconds,
  reviewJobName,
  reviewRequestSchema,
  sanitizeLabelValue,
  WORKSPACE_MOUNT,
} from '@kritik/core';
import type { V1EnvVar, V1Job, V1OwnerReference, V1Secret, V1Toleration, V1Volume } from '@kubernetes/client-node';
import type { ModelAccess } from '../runner/review-runner.js';

/** Value of the managed-by label on every object the worker creates; the reconciler lists by it. */
export const MANAGED_BY = `${APP_NAME}-worker`;
export const REVIEWER_COMPONENT = 'reviewer';
export const REVIEWER_CONTAINER = 'reviewer';
/** The review job (no credentials) as JSON, so the reconciler can finish a Job it finds orphaned. */
export const REVIEW_ANNOTATION = 'kritik.dev/review';

export const REVIEW_SELECTOR = `${LABELS.managedBy}=${MANAGED_BY},${LABELS.component}=${REVIEWER_COMPONENT}`;

/**
 * Keys of the ephemeral Secret; each becomes one env variable of the reviewer (the token under its
 * platform's name, CODE_HOST_ENV; the key stays one name so an adopted Secret is refreshed alike).
 */
export const SECRET_KEYS = { review: ENV.review, token: ENV.githubToken, model: ENV.anthropicApiKey } as const;

/**
 * Model settings the Job's own env may not carry through the gateway: the builder sets them from
 * {@link ModelAccess}, and no provider setting may send the review around the gateway.
 */
const MODEL_ENV: ReadonlySet<string> = new Set([ENV.anthropicApiKey, ENV.anthropicBaseUrl, ...PROVIDER_ENV]);

export interface ReviewObjectsInput {
  readonly namespace: string;
  readonly payload: ReviewPayload;
  readonly settings: ReviewJobSettings;
  readonly model: ModelAccess;
}

/** What a review's Secret carries: the repository token, and the gateway token when there is one. */
export interface ReviewCredentials {
  readonly token: string;
  readonly model: ModelAccess;
}

/** The Job (and Secret) name of a review, from core: the dashboard names it too. */
export { reviewJobName };

export function reviewLabels(payload: ReviewPayload): Record<string, string> {
  return {
    [LABELS.name]: APP_NAME,
    [LABELS.component]: REVIEWER_COMPONENT,
    [LABELS.managedBy]: MANAGED_BY,
    [LABELS.reviewId]: payload.reviewId,
    [LABELS.repo]: sanitizeLabelValue(repoFullName(payload.repo)),
    [LABELS.pr]: String(payload.pr),
    [LABELS.sha]: sanitizeLabelValue(payload.headSha),
  };
}

function objectLabels(input: ReviewObjectsInput): Record<string, string> {
  // Configured labels first: they may add to ours, never replace the ones the worker selects by.
  return { ...input.settings.labels, ...reviewLabels(input.payload) };
}

function objectAnnotations(input: ReviewObjectsInput): Record<string, string> {
  return {
    ...input.settings.annotations,
    [ANNOTATIONS.repo]: repoFullName(input.payload.repo),
    [ANNOTATIONS.headSha]: input.payload.headSha,
  };
}

/**
 * The review's Secret, owned by its Job from the start: the garbage collector removes it with the
 * Job, so no crash of the worker at any step can leave a token behind (the Job is created
 * suspended first, and resumed once its Secret exists).
 */
export function buildReviewSecret(input: ReviewObjectsInput, credentials: ReviewCredentials, owner: V1Job): V1Secret {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: {
      name: reviewJobName(input.payload.reviewId),
      namespace: input.namespace,
      ownerReferences: [ownerReferenceTo(owner)],
      labels: objectLabels(input),
      annotations: { [ANNOTATIONS.repo]: repoFullName(input.payload.repo) },
    },
    type: 'Opaque',
    immutable: false,
    stringData: { [SECRET_KEYS.review]: JSON.stringify(input.payload), ...credentialData(credentials) },
  };
}

const credentialData = ({ token, model }: ReviewCredentials): Record<string, string> => ({
  [SECRET_KEYS.token]: token,
  ...(model.kind === 'gateway' ? { [SECRET_KEYS.model]: model.token } : {}),
});

/** The merge patch that refreshes the tokens of an adopted Secret (the old ones may be expired). */
export function secretCredentialsPatch(credentials: ReviewCredentials): V1Secret {
  return { stringData: credentialData(credentials) };
}

export function ownerReferenceTo(job: V1Job): V1OwnerReference {
  const { name, uid } = job.metadata ?? {};
  if (!name || !uid) throw new Error('a Job needs a name and uid to own an object');
  return { apiVersion: 'batch/v1', kind: 'Job', name, uid };
}

/** The merge patch that lets a suspended review Job start, once its Secret exists. */
export const JOB_RESUME_PATCH: V1Job = { spec: { suspend: false } } as V1Job;

export function buildReviewJob(input: ReviewObjectsInput): V1Job {
  const { settings, payload } = input;
  const name = reviewJobName(payload.reviewId);
  const labels = objectLabels(input);
  const annotations = objectAnnotations(input);
  const { apiUrl: _apiUrl, ...reviewJob } = payload;
  const secretEnv = (envName: string, key: string) => ({
    name: envName,
    valueFrom: { secretKeyRef: { name, key, optional: false } },
  });
  const { model } = input;
  const caBundle = caBundleVolume(settings);
  const modelEnv = model.env ?? {};
  const env: V1EnvVar[] = [
    ...Object.entries(settings.env)
      // Through the gateway, the model is the gateway: no configured URL may send the token elsewhere.
      // The worker's validated model settings win over the same names set by hand.
      .filter(([key]) => !Object.hasOwn(modelEnv, key) && (model.kind === 'direct' || !MODEL_ENV.has(key)))
      .map(([key, value]) => ({ name: key, value })),
    ...Object.entries(modelEnv).map(([key, value]) => ({ name: key, value })),
    { name: CODE_HOST_ENV[payload.platform].url, value: payload.apiUrl },
    { name: REVIEW_DEADLINE_ENV, value: String(reviewerDeadlineSeconds(settings.activeDeadlineSeconds)) },
    { name: ENV.workspace, value: WORKSPACE_MOUNT },
    { name: ENV.checkoutMaxBytes, value: String(settings.checkoutMaxBytes) },
    { name: ENV.checkoutMaxFiles, value: String(settings.checkoutMaxFiles) },
    { name: ENV.checkoutMaxFileBytes, value: String(settings.checkoutMaxFileBytes) },
    secretEnv(ENV.review, SECRET_KEYS.review),
    secretEnv(CODE_HOST_ENV[payload.platform].token, SECRET_KEYS.token),
    ...(caBundle ? [{ name: ENV.extraCaCerts, value: `${CA_BUNDLE_DIR}/${settings.caBundle.key}` }] : []),
    ...(model.baseUrl ? [{ name: ENV.anthropicBaseUrl, value: model.baseUrl }] : []),
    // Through the gateway the Job holds a token only the gateway accepts, never the Anthropic key.
    ...(model.kind === 'gateway' ? [secretEnv(ENV.anthropicApiKey, SECRET_KEYS.model)] : []),
  ];
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {
      name,
      namespace: input.namespace,
      labels,
      annotations: { ...annotations, [REVIEW_ANNOTATION]: JSON.stringify(reviewJob) },
    },
    spec: {
      // Created suspended: no pod starts before the Secret it reads exists (see buildReviewSecret).
      suspend: true,
      backoffLimit: 0,
      completions: 1,
      parallelism: 1,
      activeDeadlineSeconds: settings.activeDeadlineSeconds,
      ttlSecondsAfterFinished: settings.ttlSecondsAfterFinished,
      template: {
        metadata: { labels, annotations },
        spec: {
          restartPolicy: 'Never',
          serviceAccountName: settings.serviceAccountName,
          automountServiceAccountToken: false,
          enableServiceLinks: false,
          ...(settings.priorityClassName ? { priorityClassName: settings.priorityClassName } : {}),
          nodeSelector: settings.nodeSelector,
          tolerations: settings.tolerations as V1Toleration[],
          ...(Object.keys(settings.affinity).length > 0 ? { affinity: settings.affinity } : {}),
          imagePullSecrets: settings.imagePullSecrets.map((secret) => ({ name: secret })),
          securityContext: {
            runAsNonRoot: true,
            runAsUser: settings.runAsUser,
            runAsGroup: settings.runAsGroup,
            fsGroup: settings.fsGroup,
            seccompProfile: { type: 'RuntimeDefault' },
          },
          containers: [
            {
              name: REVIEWER_CONTAINER,
              image: settings.image,
              imagePullPolicy: settings.imagePullPolicy,
              ...(settings.command.length > 0 ? { command: settings.command } : {}),
              env,
              ...(model.kind === 'direct'
                ? { envFrom: [{ secretRef: { name: settings.anthropicSecretName, optional: true } }] }
                : {}),
              resources: {
                ...(settings.resources.requests ? { requests: quantities(settings.resources.requests) } : {}),
                ...(settings.resources.limits ? { limits: quantities(settings.resources.limits) } : {}),
              },
              securityContext: {
                runAsNonRoot: true,
                readOnlyRootFilesystem: true,
                allowPrivilegeEscalation: false,
                capabilities: { drop: ['ALL'] },
              },
              volumeMounts: [
                { name: 'tmp', mountPath: '/tmp' },
                { name: 'workspace', mountPath: WORKSPACE_MOUNT },
                ...(caBundle ? [{ name: caBundle.name, mountPath: CA_BUNDLE_DIR, readOnly: true }] : []),
              ],
              terminationMessagePath: '/dev/termination-log',
              terminationMessagePolicy: 'FallbackToLogsOnError',
            },
          ],
          volumes: [
            { name: 'tmp', emptyDir: { sizeLimit: settings.tmpSizeLimit } },
            // The pull request's head tree: untrusted files, read by the reviewer's tools only.
            { name: 'workspace', emptyDir: { sizeLimit: settings.workspaceSizeLimit } },
            ...(caBundle ? [caBundle] : []),
          ],
        },
      },
    },
  };
}

/** The volume of the extra CA bundle (only its key), when one is configured. */
function caBundleVolume(settings: ReviewJobSettings): V1Volume | undefined {
  const { secret, configMap, key } = settings.caBundle;
  const items = [{ key, path: key }];
  if (secret) return { name: 'ca-bundle', secret: { secretName: secret, items } };
  if (configMap) return { name: 'ca-bundle', configMap: { name: configMap, items } };
  return undefined;
}

/** Quantities as the API types them (strings); config may give plain numbers such as `cpu: 1`. */
const quantities = (list: Record<string, string | number>) =>
  Object.fromEntries(Object.entries(list).map(([key, value]) => [key, String(value)]));

/** Reads back the review job a Job was built for (undefined when it is not one of ours). */
export function reviewOfJob(job: V1Job): ReviewRequest | undefined {
  const raw = job.metadata?.annotations?.[REVIEW_ANNOTATION];
  if (!raw) return undefined;
  try {
    const parsed = reviewRequestSchema.safeParse(JSON.parse(raw));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
