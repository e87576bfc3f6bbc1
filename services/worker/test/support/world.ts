// What the worker's end-to-end tests share: the GitHub and Anthropic fakes set up with an App,
// its installation and pull requests to review, review jobs for them, and a Role generated from
// REQUIRED_PERMISSIONS for the worker's ServiceAccount.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  type Permission,
  permissionResource,
  REQUIRED_PERMISSIONS,
  type ReviewJob,
  type ReviewJobSettings,
  reviewIdFor,
  reviewJobSettingsSchema,
} from '@kritik/core';
import { type ControlPlane, FakeAnthropic, FakeGitHub, generateAppKeyPair, repoRoot } from '@kritik/testing';
import { CoreV1Api, type KubeConfig, RbacAuthorizationV1Api } from '@kubernetes/client-node';

export const APP_ID = '4242';
export const INSTALLATION_ID = 77;
export const OWNER = 'acme';
export const REPO = 'web';

export const shaOf = (text: string) => createHash('sha1').update(text).digest('hex');

/** The reviewer as the kubelet and the local runner start it: built JS, `job` mode. */
export function reviewerCommand(): string[] {
  const main = join(repoRoot(), 'services/reviewer/dist/main.js');
  if (!existsSync(main)) throw new Error(`${main} is missing: run \`npm run build\` first`);
  return [process.execPath, main, 'job'];
}

export function findingsReply() {
  return FakeAnthropic.toolUse('submit_review', {
    summary: 'One thing to look at.',
    findings: [
      {
        path: 'src/app.ts',
        line: 2,
        severity: 'major',
        title: 'Unchecked input',
        body: 'The value is used without validation.',
      },
    ],
  });
}

export interface Fakes {
  readonly github: FakeGitHub;
  readonly anthropic: FakeAnthropic;
  readonly privateKey: string;
  stop(): Promise<void>;
}

export async function startFakes(): Promise<Fakes> {
  const keys = generateAppKeyPair();
  const github = await new FakeGitHub().start();
  const anthropic = await new FakeAnthropic().start();
  github.setApp({ appId: APP_ID, privateKeyPem: keys.privateKeyPem });
  github.addRepo(OWNER, REPO, { files: { main: { 'README.md': '# web\n' } } });
  github.addInstallation({ id: INSTALLATION_ID, account: OWNER });
  anthropic.setDefaultReply(findingsReply());
  return {
    github,
    anthropic,
    privateKey: keys.privateKeyPem,
    async stop() {
      await Promise.all([github.stop(), anthropic.stop()]);
    },
  };
}

let prNumbers = 100;

/** Opens a pull request on the fake and returns the review job of its head. */
export function openPullRequest(github: FakeGitHub, label: string): ReviewJob {
  const number = prNumbers++;
  const baseSha = shaOf(`base-${label}`);
  const headSha = shaOf(`head-${label}`);
  github.addPullRequest({
    owner: OWNER,
    repo: REPO,
    number,
    title: `Change ${label}`,
    base: { ref: 'main', sha: baseSha },
    head: { ref: `feature-${label}`, sha: headSha },
    files: [{ filename: 'src/app.ts', patch: '@@ -0,0 +1,3 @@\n+const a = 1;\n+run(input);\n+export {};' }],
  });
  return reviewJobFor(number, headSha, baseSha);
}

/** Pushes a new head to a pull request and returns its review job. */
export function pushCommit(github: FakeGitHub, previous: ReviewJob, label: string): ReviewJob {
  const headSha = shaOf(`head-${label}`);
  github.pushHead(OWNER, REPO, previous.pr, headSha, [
    { filename: 'src/app.ts', patch: '@@ -0,0 +1,3 @@\n+const a = 2;\n+run(input);\n+export {};' },
  ]);
  return reviewJobFor(previous.pr, headSha, previous.baseSha);
}

export function reviewJobFor(pr: number, headSha: string, baseSha?: string): ReviewJob {
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
