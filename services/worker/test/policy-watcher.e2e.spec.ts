// The policy watcher against a real API server with the chart's ReviewPolicy CRD: a policy
// created or edited through the API reaches the next review's layer within seconds; an invalid
// one is marked Ready=False and ignored while the others keep applying. The budgets it publishes
// to Redis for the dashboard follow every create, edit and delete.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  budgetsCovering,
  POLICY_GROUP,
  POLICY_PLURAL,
  POLICY_VERSION,
  type ReviewPolicyStatus,
  redisKeys,
} from '@kritik/core';
import { BudgetSnapshotStore } from '@kritik/server';
import { type ControlPlane, startControlPlane, startRedis, type TestRedis } from '@kritik/testing';
import {
  ApiextensionsV1Api,
  CustomObjectsApi,
  PatchStrategy,
  setHeaderOptions,
  type V1CustomResourceDefinition,
} from '@kubernetes/client-node';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { parse } from 'yaml';
import { PolicyWatcher } from '../src/policies/policy-watcher.js';

const namespace = 'kritik';
const CRD = join(__dirname, '..', '..', '..', 'charts', 'kritik', 'crds', `${POLICY_PLURAL}.${POLICY_GROUP}.yaml`);
const target = { platform: 'github' as const, owner: 'acme', name: 'api' };
let controlPlane: ControlPlane;
let objects: CustomObjectsApi;
let sut: PolicyWatcher;
let redisServer: TestRedis;
let redis: Redis;
let snapshots: BudgetSnapshotStore;

const ref = { group: POLICY_GROUP, version: POLICY_VERSION, namespace, plural: POLICY_PLURAL };
const create = (name: string, spec: unknown) =>
  objects.createNamespacedCustomObject({
    ...ref,
    body: { apiVersion: `${POLICY_GROUP}/${POLICY_VERSION}`, kind: 'ReviewPolicy', metadata: { name }, spec },
  });
const statusOf = async (name: string) =>
  ((await objects.getNamespacedCustomObject({ ...ref, name })) as { status?: ReviewPolicyStatus }).status;

/** Polls `read` until `accept` holds or `ms` pass; returns how long it took. */
async function within<T>(ms: number, read: () => T | Promise<T>, accept: (v: T) => boolean): Promise<number> {
  const start = Date.now();
  for (;;) {
    const value = await read();
    if (accept(value)) return Date.now() - start;
    if (Date.now() - start > ms) throw new Error(`not within ${ms} ms; last: ${JSON.stringify(value)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

beforeAll(async () => {
  redisServer = await startRedis();
  redis = new Redis(redisServer.url);
  snapshots = new BudgetSnapshotStore(redis);
  controlPlane = await startControlPlane();
  await controlPlane.createNamespace(namespace);
  const kc = controlPlane.adminKubeConfig();
  const crds = kc.makeApiClient(ApiextensionsV1Api);
  await crds.createCustomResourceDefinition({ body: parse(readFileSync(CRD, 'utf8')) as V1CustomResourceDefinition });
  await within(
    30_000,
    () => crds.readCustomResourceDefinition({ name: `${POLICY_PLURAL}.${POLICY_GROUP}` }),
    (crd) => crd.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True') ?? false,
  );
  objects = kc.makeApiClient(CustomObjectsApi);
  sut = new PolicyWatcher(
    kc,
    { namespace, resyncMs: 1_000, matchWindowMs: 3600_000, maxBackoffMs: 1_000 },
    pino({ level: 'silent' }),
    undefined,
    snapshots,
  );
  await sut.start();
}, 120_000);

afterAll(async () => {
  await sut?.stop();
  await controlPlane?.stop();
  redis?.disconnect();
  await redisServer?.stop();
});

describe(PolicyWatcher.name, () => {
  it('applies a policy created through the API to the next review within 5 seconds, and marks it Ready', async () => {
    await create('security', { selector: { orgs: ['acme'] }, instructions: 'Flag SQL built from strings.' });

    await within(
      5_000,
      () => sut.layerFor(target).instructions,
      (i) => i.some((x) => x.policy === 'security'),
    );
    await within(
      5_000,
      () => statusOf('security'),
      (s) => s?.conditions?.[0]?.status === 'True',
    );
    const status = await statusOf('security');
    expect(status).toMatchObject({ observedGeneration: 1, conditions: [{ type: 'Ready', reason: 'Applied' }] });
  });

  it('applies an edit through the API to the next review within 5 seconds', async () => {
    await objects.patchNamespacedCustomObject(
      { ...ref, name: 'security', body: { spec: { instructions: 'Flag every eval().' } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );

    const took = await within(
      5_000,
      () => sut.layerFor(target).instructions.map((i) => i.text),
      (texts) => texts.includes('Flag every eval().'),
    );
    expect(took).toBeLessThan(5_000);
  });

  it('ignores a policy with a bad glob, says why in its status, and keeps applying the others', async () => {
    await create('broken', { selector: { repositories: ['acme/[api'] }, locked: ['model'] });

    await within(
      5_000,
      () => statusOf('broken'),
      (s) => s?.conditions?.[0]?.status === 'False',
    );
    const status = await statusOf('broken');
    expect(status?.conditions?.[0]).toMatchObject({
      reason: 'InvalidSpec',
      message: expect.stringContaining('acme/[api'),
    });
    expect(sut.layerFor(target)).toMatchObject({ policies: ['security'], locked: [] });
  });

  it('counts the repositories a policy applied to recently in its status', async () => {
    sut.layerFor({ ...target, name: 'web' });

    await within(
      5_000,
      () => statusOf('security'),
      (s) => (s?.matchedRepositories ?? 0) >= 2,
    );
  });

  it('stops applying a deleted policy', async () => {
    await objects.deleteNamespacedCustomObject({ ...ref, name: 'security' });

    await within(
      5_000,
      () => sut.layerFor(target).policies,
      (p) => p.length === 0,
    );
  });
});

describe('the budgets published for the dashboard', () => {
  const published = async () => {
    const snapshot = await snapshots.read();
    return {
      acme: budgetsCovering(snapshot, target).map((b) => `${b.id}=${b.limitUsd}`),
      other: budgetsCovering(snapshot, { platform: 'github', owner: 'other', name: 'api' }).map((b) => b.id),
      policies: snapshot.policies.map((p) => p.name),
    };
  };

  it("publishes a new policy's budgets within 5 seconds, for the repositories it selects only", async () => {
    await create('spend', { selector: { orgs: ['acme'] }, budgets: { repositoryPerDayUsd: 5, orgPerMonthUsd: 100 } });

    await within(5_000, published, (p) => p.acme.length === 2);
    expect(await published()).toEqual({
      acme: ['spend/repository-per-day=5', 'spend/org-per-month=100'],
      other: [],
      policies: ['spend'],
    });
  });

  it('follows an edit of a limit and of the selector', async () => {
    await objects.patchNamespacedCustomObject(
      { ...ref, name: 'spend', body: { spec: { budgets: { repositoryPerDayUsd: 7 } } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    await within(5_000, published, (p) => p.acme.includes('spend/repository-per-day=7'));

    await objects.patchNamespacedCustomObject(
      { ...ref, name: 'spend', body: { spec: { selector: { orgs: ['other'] } } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    await within(5_000, published, (p) => p.acme.length === 0);
    expect((await published()).other).toEqual(['spend/repository-per-day', 'spend/org-per-month']);
  });

  it('leaves out an invalid policy and stops publishing a deleted one', async () => {
    await create('bad-budget', { selector: { repositories: ['acme/[api'] }, budgets: { repositoryPerDayUsd: 1 } });
    await within(
      5_000,
      () => statusOf('bad-budget'),
      (s) => s?.conditions?.[0]?.status === 'False',
    );
    expect((await published()).policies).toEqual(['spend']);

    await objects.deleteNamespacedCustomObject({ ...ref, name: 'spend' });

    await within(5_000, published, (p) => p.policies.length === 0);
  });

  it('publishes the budgets again on a resync when the snapshot was lost from Redis', async () => {
    await create('spend-again', { selector: { orgs: ['acme'] }, budgets: { orgPerMonthUsd: 50 } });
    await within(5_000, published, (p) => p.acme.length === 1);

    await redis.del(redisKeys.budgetSnapshot());

    await within(5_000, published, (p) => p.acme.includes('spend-again/org-per-month=50'));
  });
});
