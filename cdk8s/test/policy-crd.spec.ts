// The ReviewPolicy CRD on a real API server: the chart installs it, and the server itself rejects
// policies the worker's zod definition would (server-side validation, not only ours).

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { POLICY_GROUP, POLICY_PERMISSIONS, POLICY_PLURAL, POLICY_VERSION, reviewPolicySpecSchema } from '@kritik/core';
import { apiMessage, apiStatus, type ControlPlane, startControlPlane } from '@kritik/testing';
import type { KubernetesObject } from '@kubernetes/client-node';
import { ApiextensionsV1Api, AuthorizationV1Api, CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import { parse } from 'yaml';
import { RESTRICTED_NAMESPACE_LABELS } from '../src/constructs/jobs.js';
import { CHART_DIR, expectSuccess, helm, scenario } from './chart.js';
import { ServerSideApply } from './server-side-apply.js';

const namespace = 'kritik';
let controlPlane: ControlPlane;
let objects: CustomObjectsApi;
let kc: KubeConfig;

const policy = (name: string, spec: unknown) => ({
  apiVersion: `${POLICY_GROUP}/${POLICY_VERSION}`,
  kind: 'ReviewPolicy',
  metadata: { name },
  spec,
});

const create = (body: unknown) =>
  objects.createNamespacedCustomObject({
    group: POLICY_GROUP,
    version: POLICY_VERSION,
    namespace,
    plural: POLICY_PLURAL,
    body,
    fieldValidation: 'Strict',
  });

/** The API server's answer to a create: `ok` or its status and message. */
async function attempt(body: unknown): Promise<string> {
  try {
    await create(body);
    return 'ok';
  } catch (err) {
    return `${apiStatus(err)} ${apiMessage(err)}`;
  }
}

beforeAll(async () => {
  controlPlane = await startControlPlane();
  await controlPlane.createNamespace(namespace, RESTRICTED_NAMESPACE_LABELS);
  const install = await helm(
    ['install', 'kritik', CHART_DIR, '--namespace', namespace, '--values', scenario('minimal-values.yaml')],
    { kubeconfig: controlPlane.kubeconfigPath },
  );
  expectSuccess(install, 'helm install');
  kc = controlPlane.adminKubeConfig();
  objects = kc.makeApiClient(CustomObjectsApi);
  const crds = kc.makeApiClient(ApiextensionsV1Api);
  const deadline = Date.now() + 30_000;
  for (;;) {
    const crd = await crds.readCustomResourceDefinition({ name: `${POLICY_PLURAL}.${POLICY_GROUP}` });
    if (crd.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True')) break;
    if (Date.now() > deadline) throw new Error('the ReviewPolicy CRD was not Established in 30 s');
    await new Promise((r) => setTimeout(r, 100));
  }
}, 180_000);

afterAll(async () => {
  await controlPlane?.stop();
});

describe('the ReviewPolicy CRD installed by the chart', () => {
  it('accepts a full policy and keeps every field as written', async () => {
    const spec = {
      selector: { orgs: ['acme'], repositories: ['acme/*'], platforms: ['github'] },
      priority: 10,
      instructions: 'Flag SQL built from strings.',
      pathInstructions: [{ path: 'src/db/**', instructions: 'Queries must be parameterised.' }],
      ignore: ['docs/**'],
      severityThreshold: 'major',
      defaults: { model: 'claude-haiku-4-5', maxCostUsdPerReview: 0.5 },
      triggers: { events: ['opened'], baseBranches: ['main'], drafts: false },
      ceilings: { allowedModels: ['claude-haiku-4-5'], maxCostUsdPerReview: 1, maxInputTokens: 100_000, maxTurns: 8 },
      locked: ['model', 'max_cost_usd'],
      budgets: { repositoryPerDayUsd: 10, repositoryPerMonthUsd: 100, orgPerMonthUsd: 1000 },
    };

    const sut = (await create(policy('security', spec))) as { spec: unknown };

    expect(reviewPolicySpecSchema.parse(sut.spec)).toEqual(reviewPolicySpecSchema.parse(spec));
  });

  it('fills the defaults of the definition in on the server', async () => {
    const sut = (await create(policy('empty', {}))) as { spec: unknown };

    expect(sut.spec).toEqual({ selector: {}, priority: 0 });
  });

  it.each([
    ['a priority that is not a number', { priority: 'high' }, 'spec.priority'],
    ['an unknown severity', { severityThreshold: 'blocker' }, 'spec.severityThreshold'],
    ['a negative budget', { budgets: { repositoryPerDayUsd: -1 } }, 'spec.budgets.repositoryPerDayUsd'],
    ['a lock on a key .kritik.yaml does not have', { locked: ['max_spend'] }, 'spec.locked[0]'],
    ['an unknown platform', { selector: { platforms: ['bitbucket'] } }, 'spec.selector.platforms[0]'],
    ['an empty list of allowed models', { ceilings: { allowedModels: [] } }, 'spec.ceilings.allowedModels'],
    ['a model id with a shell in it', { defaults: { model: '$(rm -rf /)' } }, 'spec.defaults.model'],
    ['a field the definition does not have', { maxSpend: 5 }, 'unknown field "spec.maxSpend"'],
  ])('rejects %s and names the field', async (_, spec, field) => {
    const sut = await attempt(policy('bad', spec));

    expect(sut).toMatch(/^(422|400) /);
    expect(sut).toContain(field);
  });
});

describe("the worker's access to ReviewPolicies, generated from POLICY_PERMISSIONS", () => {
  const can = async (verb: string, subresource?: string) => {
    const review = await kc.makeApiClient(AuthorizationV1Api).createSubjectAccessReview({
      body: {
        spec: {
          user: `system:serviceaccount:${namespace}:kritik-worker`,
          groups: ['system:serviceaccounts', `system:serviceaccounts:${namespace}`, 'system:authenticated'],
          resourceAttributes: { namespace, verb, group: POLICY_GROUP, resource: POLICY_PLURAL, subresource },
        },
      },
    });
    return review.status?.allowed ?? false;
  };

  it.each(
    POLICY_PERMISSIONS.flatMap((p) =>
      ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'].map((verb) => ({
        verb,
        subresource: p.subresource,
        allowed: p.verbs.includes(verb),
      })),
    ),
  )('lets the worker $verb reviewpolicies $subresource: $allowed', async ({ verb, subresource, allowed }) => {
    expect(await can(verb, subresource)).toBe(allowed);
  });
});

describe('an upgrade that changes the CRD (helm leaves crds/ alone after the first install)', () => {
  type Crd = KubernetesObject & {
    spec: {
      versions: { schema: { openAPIV3Schema: { properties: { spec: { properties: Record<string, unknown> } } } } }[];
    };
  };
  const current = () =>
    parse(readFileSync(join(CHART_DIR, 'crds', `${POLICY_PLURAL}.${POLICY_GROUP}.yaml`), 'utf8')) as Crd;
  const withBudgets = (name: string) => policy(name, { budgets: { repositoryPerDayUsd: 5 } });

  beforeAll(async () => {
    // An earlier release's CRD, without `budgets`, as a cluster installed before budgets existed has it.
    const old = current();
    delete old.spec.versions[0]!.schema.openAPIV3Schema.properties.spec.properties.budgets;
    const applied = await new ServerSideApply(kc).apply(old, { dryRun: false });
    if (!applied.ok) throw new Error(applied.message);
  }, 60_000);

  it('keeps the old CRD through helm upgrade, so a policy with a new field is refused', async () => {
    const upgrade = await helm(
      ['upgrade', 'kritik', CHART_DIR, '--namespace', namespace, '--values', scenario('minimal-values.yaml')],
      { kubeconfig: controlPlane.kubeconfigPath },
    );
    expectSuccess(upgrade, 'helm upgrade');

    expect(await attempt(withBudgets('before-crd-upgrade'))).toMatch(/^400 .*unknown field "spec.budgets"/);
  }, 120_000);

  it('accepts the new field once charts/kritik/crds is applied server-side, as docs/gitops.md says', async () => {
    const applied = await new ServerSideApply(kc).apply(current(), { dryRun: false });

    expect(applied).toMatchObject({ ok: true });
    expect(await attempt(withBudgets('after-crd-upgrade'))).toBe('ok');
  });
});
