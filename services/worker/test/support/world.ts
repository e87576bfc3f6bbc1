// What the worker's end-to-end tests share: the GitHub and Anthropic fakes set up with an App,
// its installation and pull requests to review, review jobs for them, and a Role generated from
// REQUIRED_PERMISSIONS for the worker's ServiceAccount.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  type Permission,
  POLICY_GROUP,
  POLICY_PLURAL,
  permissionResource,
  REQUIRED_PERMISSIONS,
  type ReviewJobSettings,
  type ReviewRequest,
  reviewIdFor,
  reviewJobSettingsSchema,
} from '@kritik/core';
import {
  addPullRequest,
  type ControlPlane,
  type FakeAnthropic,
  type FakeGitHub,
  FakeGitLab,
  INSTALLATION_ID,
  OWNER,
  pushHead,
  REPO,
  repoRoot,
  startRedis,
  type TestRedis,
  APP_ID as WORLD_APP_ID,
  World,
  waitUntil,
} from '@kritik/testing';
import {
  ApiextensionsV1Api,
  CoreV1Api,
  type KubeConfig,
  RbacAuthorizationV1Api,
  type V1CustomResourceDefinition,
} from '@kubernetes/client-node';
import { parse } from 'yaml';

export { findingsReply, INSTALLATION_ID, OWNER, REPO, shaOf } from '@kritik/testing';
/** The App's id as the worker's config reads it. */
export const APP_ID = String(WORLD_APP_ID);

/** The reviewer as the kubelet and the local runner start it: built JS, `job` mode. */
export function reviewerCommand(): string[] {
  const main = join(repoRoot(), 'services/reviewer/dist/main.js');
  if (!existsSync(main)) throw new Error(`${main} is missing: run \`npm run build\` first`);
  return [process.execPath, main, 'job'];
}

export interface Fakes {
  readonly github: FakeGitHub;
  readonly anthropic: FakeAnthropic;
  readonly privateKey: string;
  stop(): Promise<void>;
}

/** The harness's World (App, installation, repository, model answer), as the worker's specs use it. */
export async function startFakes(): Promise<Fakes> {
  const world = await World.start();
  return {
    github: world.github,
    anthropic: world.anthropic,
    privateKey: world.privateKeyPem,
    stop: () => world.stop(),
  };
}

/** The GitLab project the worker's GitLab specs review, and the repository it is. */
export const GITLAB_PROJECT = 'acme/platform/web';
export const GITLAB_REPO = { owner: 'acme/platform', name: 'web' };

/** Redis, the fakes and a GitLab fake with GITLAB_PROJECT, posting as a project access token's bot. */
export async function startGitLabWorld(): Promise<{ redis: TestRedis; fakes: Fakes; gitlab: FakeGitLab }> {
  const [redis, fakes, gitlab] = await Promise.all([
    startRedis(),
    startFakes(),
    new FakeGitLab({ user: 'project_9_bot_kritik' }).start(),
  ]);
  gitlab.addProject(GITLAB_PROJECT);
  return { redis, fakes, gitlab };
}

let prNumbers = 100;

/** Opens a pull request on the fake and returns the review job of its head. */
export function openPullRequest(github: FakeGitHub, label: string): ReviewRequest {
  const pr = addPullRequest(github, { number: prNumbers++, label });
  return reviewRequestFor(pr.number, pr.headSha, pr.baseSha);
}

/** Pushes a new head to a pull request and returns its review job. */
export function pushCommit(github: FakeGitHub, previous: ReviewRequest, label: string): ReviewRequest {
  const headSha = pushHead(github, { number: previous.pr }, label);
  return reviewRequestFor(previous.pr, headSha, previous.baseSha);
}

export function reviewRequestFor(pr: number, headSha: string, baseSha?: string): ReviewRequest {
  const repo = { owner: OWNER, name: REPO };
  return {
    reviewId: reviewIdFor('github', repo, pr, headSha),
    platform: 'github',
    repo,
    pr,
    ...(baseSha ? { baseSha } : {}),
    headSha,
    trigger: 'synchronize',
    installationId: INSTALLATION_ID,
    enqueuedAt: new Date().toISOString(),
  };
}

/** Review Job settings that run the real reviewer (built) against the Anthropic fake. */
export function reviewJobSettings(anthropic: FakeAnthropic, overrides: Partial<ReviewJobSettings> = {}) {
  return reviewJobSettingsSchema.parse({
    image: 'kritik-reviewer:test',
    command: reviewerCommand(),
    env: { ANTHROPIC_BASE_URL: anthropic.url },
    ...overrides,
  });
}

/** Rules of a Role granting `permissions`, in the shape the chart generates from the same constant. */
export function roleRules(permissions: readonly Permission[] = REQUIRED_PERMISSIONS) {
  return permissions.map((p) => ({ apiGroups: [p.group], resources: [permissionResource(p)], verbs: [...p.verbs] }));
}

/** REQUIRED_PERMISSIONS without one verb of one resource. */
export function withoutVerb(resource: string, verb: string): Permission[] {
  return REQUIRED_PERMISSIONS.map((p) =>
    permissionResource(p) === resource ? { ...p, verbs: p.verbs.filter((v) => v !== verb) } : p,
  );
}

export interface WorkerIdentity {
  readonly kubeConfig: KubeConfig;
  readonly serviceAccount: string;
}

/**
 * A ServiceAccount bound to a Role of `permissions` in `namespace`, and a client config acting as it.
 * The reviewer's own ServiceAccount and the Anthropic Secret are created too, as the chart does.
 */
export async function workerIdentity(
  plane: ControlPlane,
  namespace: string,
  name: string,
  permissions: readonly Permission[] = REQUIRED_PERMISSIONS,
): Promise<WorkerIdentity> {
  const admin = plane.adminKubeConfig();
  const rbac = admin.makeApiClient(RbacAuthorizationV1Api);
  await rbac.createNamespacedRole({ namespace, body: { metadata: { name }, rules: roleRules(permissions) } });
  await rbac.createNamespacedRoleBinding({
    namespace,
    body: {
      metadata: { name },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name },
      subjects: [{ kind: 'ServiceAccount', name, namespace }],
    },
  });
  return { kubeConfig: await plane.kubeConfigFor(namespace, name), serviceAccount: name };
}

/** A namespace for review Jobs as the chart sets it up: PodSecurity restricted, reviewer SA, Anthropic key. */
export async function jobsNamespace(
  plane: ControlPlane,
  name: string,
  anthropicKey = 'sk-ant-test-key',
): Promise<void> {
  await plane.createNamespace(name, {
    'pod-security.kubernetes.io/enforce': 'restricted',
    'pod-security.kubernetes.io/enforce-version': 'latest',
  });
  const core = plane.adminKubeConfig().makeApiClient(CoreV1Api);
  await core.createNamespacedServiceAccount({
    namespace: name,
    body: { metadata: { name: 'kritik-reviewer' }, automountServiceAccountToken: false },
  });
  await core.createNamespacedSecret({
    namespace: name,
    body: { metadata: { name: 'kritik-anthropic' }, stringData: { ANTHROPIC_API_KEY: anthropicKey } },
  });
}

/** Installs the chart's ReviewPolicy CRD and waits until the API server serves it. */
export async function installPolicyCrd(plane: ControlPlane): Promise<void> {
  const crd = parse(
    readFileSync(join(repoRoot(), 'charts/kritik/crds', `${POLICY_PLURAL}.${POLICY_GROUP}.yaml`), 'utf8'),
  ) as V1CustomResourceDefinition;
  const crds = plane.adminKubeConfig().makeApiClient(ApiextensionsV1Api);
  await crds.createCustomResourceDefinition({ body: crd });
  await waitUntil(
    'the ReviewPolicy CRD to be Established',
    async () =>
      (await crds.readCustomResourceDefinition({ name: crd.metadata!.name! })).status?.conditions?.some(
        (c) => c.type === 'Established' && c.status === 'True',
      ) || undefined,
    { timeoutMs: 30_000, intervalMs: 100 },
  );
}
