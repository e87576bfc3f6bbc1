import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { permissionResource, REQUIRED_PERMISSIONS } from '@kritik/core';
import { type ControlPlane, startControlPlane } from '@kritik/testing';
import {
  ApiextensionsV1Api,
  AppsV1Api,
  AuthorizationV1Api,
  CoreV1Api,
  type KubeConfig,
  NetworkingV1Api,
  type V1CustomResourceDefinition,
  type V1Deployment,
  type V1Pod,
} from '@kubernetes/client-node';
import { parse } from 'yaml';
import { RESTRICTED_NAMESPACE_LABELS } from '../src/constructs/jobs.js';
import {
  CHART_DIR,
  expectSuccess,
  FIXTURES,
  findManifest,
  helm,
  type RunResult,
  render,
  SCENARIOS,
  scenario,
} from './chart.js';
import { ServerSideApply } from './server-side-apply.js';

const RELEASE = 'kritik';
const VERBS = ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete', 'deletecollection'] as const;

let controlPlane: ControlPlane;
let kc: KubeConfig;
let core: CoreV1Api;

async function ensureNamespace(name: string, labels: Record<string, string> = {}): Promise<void> {
  try {
    await core.readNamespace({ name });
  } catch {
    await controlPlane.createNamespace(name, labels);
  }
}

/** Creates a CRD from a fixture file and waits until the API server serves it. */
async function installCrd(file: string): Promise<void> {
  const crd = parse(readFileSync(join(FIXTURES, file), 'utf8')) as V1CustomResourceDefinition;
  const api = kc.makeApiClient(ApiextensionsV1Api);
  // Applied as raw JSON: the typed client drops schema keys it spells differently (x-kubernetes-*).
  const created = await new ServerSideApply(kc).apply(crd, { dryRun: false });
  if (!created.ok) throw new Error(`the CRD ${crd.metadata?.name} was refused: ${created.message}`);
  const deadline = Date.now() + 30_000;
  for (;;) {
    const current = await api.readCustomResourceDefinition({ name: crd.metadata!.name! });
    if (current.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True')) return;
    if (Date.now() > deadline) throw new Error(`the CRD ${crd.metadata!.name} did not become Established in 30 s`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

beforeAll(async () => {
  controlPlane = await startControlPlane();
  kc = controlPlane.adminKubeConfig();
  core = kc.makeApiClient(CoreV1Api);
  for (const file of ['servicemonitor-crd.yaml', 'keda/scaledobjects.yaml', 'keda/triggerauthentications.yaml']) {
    await installCrd(file);
  }
}, 120_000);

afterAll(async () => {
  await controlPlane?.stop();
});

/** Each scenario as is, plus branches no scenario takes: policies with an external Redis, extra egress. */
const variants: [string, string[]][] = [
  ...SCENARIOS.map((file): [string, string[]] => [file, []]),
  ['production-values.yaml', ['networkPolicy.enabled=true', 'networkPolicy.externalRedisCidrs={10.1.0.0/16}']],
  [
    'minimal-values.yaml',
    [
      'networkPolicy.reviewerExtraEgress[0].cidr=10.2.0.0/16',
      'networkPolicy.reviewerExtraEgress[0].ports={443,3128}',
      'networkPolicy.kubeApi.cidrs={10.0.0.1/32}',
    ],
  ],
  // KEDA with an external Redis: host/port with a password Secret and an ACL user, then a URL.
  [
    'keda-values.yaml',
    [
      'redis.enabled=false',
      'externalRedis.host=redis.example.internal',
      'externalRedis.tls=true',
      'externalRedis.username=kritik',
      'externalRedis.existingSecret=kritik-redis',
    ],
  ],
  ['keda-values.yaml', ['redis.enabled=false', 'externalRedis.url=rediss://kritik@redis.example.internal:6380/2']],
];

describe('the rendered scenarios', () => {
  it.each(variants)(
    '%s %j applies with server-side dry-run, strict field validation and no warnings',
    async (file, set) => {
      const namespace = `dry-${file.replace(/-values\.yaml$/, '')}`;
      const manifests = await render({ release: RELEASE, namespace, valuesFiles: [scenario(file)], set });
      // A dry-run creates nothing, so the namespaces the objects go to must exist already.
      const namespaces = new Set(manifests.flatMap((m) => (m.metadata.namespace ? [m.metadata.namespace] : [])));
      for (const name of namespaces) await ensureNamespace(name, RESTRICTED_NAMESPACE_LABELS);
      const sut = new ServerSideApply(kc);

      const outcomes = await Promise.all(
        manifests.map(async (m) => ({ m, outcome: await sut.apply(m, { dryRun: true }) })),
      );

      const problems = outcomes
        .filter(({ outcome }) => !outcome.ok || outcome.warnings.length > 0)
        .map(({ m, outcome }) => `${m.kind}/${m.metadata.name}: ${[outcome.message, ...outcome.warnings].join(' | ')}`);
      expect(problems).toEqual([]);
    },
    60_000,
  );
});

describe(ServerSideApply.name, () => {
  it('rejects a misspelt field with strict validation (the check has teeth)', async () => {
    await ensureNamespace('dry-typo');
    const configMap = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'typo', namespace: 'dry-typo' },
      dta: {},
    };

    const sut = await new ServerSideApply(kc).apply(configMap, { dryRun: true });

    expect([sut.ok, sut.message]).toEqual([false, expect.stringContaining('.dta: field not declared in schema')]);
  });

  it("rejects a misspelt field of a ScaledObject with KEDA's CRD (the check has teeth there too)", async () => {
    await ensureNamespace('dry-typo');
    const manifests = await render({
      release: RELEASE,
      namespace: 'dry-typo',
      valuesFiles: [scenario('keda-values.yaml')],
    });
    const scaledObject = findManifest(manifests, 'ScaledObject');
    const spec = scaledObject.spec as { triggers: Record<string, unknown>[] };
    const { metadata, ...trigger } = spec.triggers[0]!;
    spec.triggers[0] = { ...trigger, metdata: metadata };

    const sut = await new ServerSideApply(kc).apply(scaledObject, { dryRun: true });

    expect([sut.ok, sut.message]).toEqual([false, expect.stringContaining('metdata: field not declared in schema')]);
  });
});

describe('helm install into a namespace enforcing PodSecurity restricted', () => {
  const namespace = 'kritik';
  const jobsNamespace = `${namespace}-jobs`;
  const worker = `system:serviceaccount:${namespace}:${RELEASE}-worker`;
  let install: RunResult;

  const canWorker = async (namespace: string, verb: string, group: string, resource: string, subresource?: string) => {
    const review = await kc.makeApiClient(AuthorizationV1Api).createSubjectAccessReview({
      body: {
        spec: {
          user: worker,
          groups: ['system:serviceaccounts', `system:serviceaccounts:${namespace}`, 'system:authenticated'],
          resourceAttributes: { namespace, verb, group, resource, subresource },
        },
      },
    });
    return review.status?.allowed ?? false;
  };

  beforeAll(async () => {
    await ensureNamespace(namespace, RESTRICTED_NAMESPACE_LABELS);
    install = await helm(
      ['install', RELEASE, CHART_DIR, '--namespace', namespace, '--values', scenario('minimal-values.yaml')],
      { kubeconfig: controlPlane.kubeconfigPath },
    );
    expectSuccess(install, 'helm install');
  }, 120_000);

  it('prints the next steps: where to send webhooks, the App settings and the generated secrets', () => {
    const sut = install.stdout;

    expect(sut).toEqual(
      expect.stringMatching(
        new RegExp(
          [
            `port-forward svc/${RELEASE}-backend`,
            'http://localhost:8080/webhooks/github',
            `get secret ${RELEASE}-github -o jsonpath='\\{.data.webhook-secret\\}'`,
            'Subscribe to events: +Pull request, Issue comment',
            `get secret ${RELEASE}-api -o jsonpath='\\{.data.api-token\\}'`,
          ].join(String.raw`[\s\S]*`),
        ),
      ),
    );
  });

  it('installs without PodSecurity warnings', () => {
    const sut = `${install.stdout}\n${install.stderr}`;

    expect(sut).not.toMatch(/would violate PodSecurity/);
  });

  it.each(['backend', 'worker', 'redis'])(
    'gets the %s pod spec admitted where restricted is enforced',
    async (component) => {
      const deployment = await kc.makeApiClient(AppsV1Api).readNamespacedDeployment({
        namespace,
        name: `${RELEASE}-${component}`,
      });
      const pod: V1Pod = {
        metadata: { name: `${RELEASE}-${component}-admission`, labels: deployment.spec?.template.metadata?.labels },
        spec: deployment.spec?.template.spec,
      };

      const sut = core.createNamespacedPod({ namespace, body: pod, dryRun: 'All' });

      await expect(sut).resolves.toMatchObject({ metadata: { name: pod.metadata?.name } });
    },
  );

  it('rejects a pod spec that is not restricted there (the check has teeth)', async () => {
    const pod: V1Pod = {
      metadata: { name: 'privileged-admission' },
      spec: { containers: [{ name: 'c', image: 'busybox', securityContext: { privileged: true } }] },
    };

    const sut = core.createNamespacedPod({ namespace, body: pod, dryRun: 'All' });

    await expect(sut).rejects.toMatchObject({ code: 403 });
  });

  it('creates the jobs namespace enforcing restricted', async () => {
    const sut = await core.readNamespace({ name: jobsNamespace });

    expect(sut.metadata?.labels).toMatchObject(RESTRICTED_NAMESPACE_LABELS);
  });

  const grants = REQUIRED_PERMISSIONS.flatMap((p) =>
    VERBS.map((verb) => ({ ...p, verb, allowed: p.verbs.includes(verb), name: permissionResource(p) })),
  );

  it.each(grants)('lets the worker $verb $name in the jobs namespace: $allowed', async (grant) => {
    const sut = await canWorker(jobsNamespace, grant.verb, grant.group, grant.resource, grant.subresource);

    expect(sut).toBe(grant.allowed);
  });

  it.each([
    { namespace: 'kritik', verb: 'get', group: '', resource: 'secrets', what: 'secrets' },
    { namespace: 'default', verb: 'get', group: '', resource: 'secrets', what: 'secrets' },
    { namespace: 'kritik', verb: 'create', group: 'batch', resource: 'jobs', what: 'jobs' },
    { namespace: 'kritik-jobs', verb: 'create', group: '', resource: 'pods', subresource: 'exec', what: 'pods/exec' },
    { namespace: 'kritik-jobs', verb: 'create', group: '', resource: 'pods', what: 'pods' },
  ])('denies the worker $verb $what in $namespace', async (attempt) => {
    const sut = await canWorker(attempt.namespace, attempt.verb, attempt.group, attempt.resource, attempt.subresource);

    expect(sut).toBe(false);
  });

  describe('then helm upgrade with changed values', () => {
    let checksumBefore: string | undefined;
    let webhookSecretBefore: string | undefined;

    const deploymentOf = (name: string) =>
      kc.makeApiClient(AppsV1Api).readNamespacedDeployment({ namespace, name: `${RELEASE}-${name}` });
    const checksumOf = (d: V1Deployment) => d.spec?.template.metadata?.annotations?.['checksum/config'];
    const webhookSecret = async () =>
      (await core.readNamespacedSecret({ namespace, name: `${RELEASE}-github` })).data?.['webhook-secret'];

    beforeAll(async () => {
      checksumBefore = checksumOf(await deploymentOf('worker'));
      webhookSecretBefore = await webhookSecret();
      const upgrade = await helm(
        [
          'upgrade',
          RELEASE,
          CHART_DIR,
          '--namespace',
          namespace,
          '--values',
          scenario('minimal-values.yaml'),
          ...['--set', 'backend.replicaCount=2'],
          ...['--set', 'reviewJob.activeDeadlineSeconds=1200'],
          ...['--set', 'backend.ingress.enabled=true'],
          ...['--set', 'networkPolicy.enabled=false'],
        ],
        { kubeconfig: controlPlane.kubeconfigPath },
      );
      expectSuccess(upgrade, 'helm upgrade');
    }, 120_000);

    it('applies the new replica count', async () => {
      const sut = await deploymentOf('backend');

      expect(sut.spec?.replicas).toBe(2);
    });

    it('rolls the worker pods through the config checksum', async () => {
      const sut = checksumOf(await deploymentOf('worker'));

      expect([sut, sut === checksumBefore]).toEqual([expect.any(String), false]);
    });

    it('adds the Ingress and removes the NetworkPolicies', async () => {
      const networking = kc.makeApiClient(NetworkingV1Api);

      const sut = [
        (await networking.listNamespacedIngress({ namespace })).items.map((i) => i.metadata?.name),
        (await networking.listNamespacedNetworkPolicy({ namespace })).items.length,
      ];

      expect(sut).toEqual([[`${RELEASE}-backend`], 0]);
    });

    it('keeps the generated webhook secret', async () => {
      const sut = await webhookSecret();

      expect([sut, sut === webhookSecretBefore]).toEqual([expect.any(String), true]);
    });
  });
});
