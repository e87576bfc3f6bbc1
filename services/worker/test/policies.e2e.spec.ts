// ReviewPolicies end to end: a real API server with the chart's CRD, the worker watching the
// namespace, the real reviewer (local runner) against the GitHub and Anthropic fakes. A policy
// edited through the API changes the next review's prompt within 5 seconds; a locked key of
// `.kritik.yaml` is ignored and the review says so; ceilings win over a repository asking for more.
import { spawnSync } from 'node:child_process';
import { budgetsCovering, POLICY_GROUP, POLICY_PLURAL, POLICY_VERSION, type ReviewPolicyStatus } from '@kritik/core';
import { BudgetSnapshotStore } from '@kritik/server';
import { type ControlPlane, startControlPlane, startRedis, type TestRedis, waitUntil } from '@kritik/testing';
import { CustomObjectsApi, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { Redis } from 'ioredis';
import { Producer, startWorker, type WorkerUnderTest } from './support/worker-app.js';
import {
  type Fakes,
  installPolicyCrd,
  OWNER,
  openPullRequest,
  REPO,
  reviewerCommand,
  reviewJobSettings,
  startFakes,
} from './support/world.js';

const NAMESPACE = 'kritik';
const ref = { group: POLICY_GROUP, version: POLICY_VERSION, namespace: NAMESPACE, plural: POLICY_PLURAL };
let plane: ControlPlane;
let redis: TestRedis;
let fakes: Fakes;
let objects: CustomObjectsApi;
let producer: Producer;
let sut: WorkerUnderTest;

const generationSeen = async (name: string, generation: number) => {
  const object = (await objects.getNamespacedCustomObject({ ...ref, name })) as { status?: ReviewPolicyStatus };
  return object.status?.observedGeneration === generation ? true : undefined;
};

/** Runs the review of a new pull request whose base has `config` as .kritik.yaml; returns its prompt and body. */
async function review(config?: string) {
  const request = openPullRequest(fakes.github, `policy-${Date.now()}`);
  if (config) fakes.github.setFiles(OWNER, REPO, request.baseSha!, { '.kritik.yaml': config });
  const before = fakes.anthropic.messageRequests().length;
  await producer.enqueue(request);
  const record = await producer.ended(request.reviewId);
  const requests = fakes.anthropic.messageRequests().slice(before);
  const body = fakes.github.reviews(OWNER, REPO, request.pr).at(-1)?.body ?? '';
  return { record, requests, prompt: JSON.stringify(requests.map((r) => r.system)), body };
}

beforeAll(async () => {
  [plane, redis, fakes] = await Promise.all([startControlPlane(), startRedis(), startFakes()]);
  fakes.github.addRepo(OWNER, REPO);
  await plane.createNamespace(NAMESPACE);
  await installPolicyCrd(plane);
  const kc = plane.adminKubeConfig();
  objects = kc.makeApiClient(CustomObjectsApi);
  await objects.createNamespacedCustomObject({
    ...ref,
    body: {
      apiVersion: `${POLICY_GROUP}/${POLICY_VERSION}`,
      kind: 'ReviewPolicy',
      metadata: { name: 'platform' },
      spec: {
        selector: { orgs: [OWNER] },
        instructions: 'POLICY-MARKER-ONE: flag SQL built from strings.',
        ceilings: { allowedModels: ['claude-haiku-4-5'], maxCostUsdPerReview: 0.5 },
        locked: ['min_severity'],
      },
    },
  });
  producer = new Producer(redis.url);
  sut = await startWorker({
    redisUrl: redis.url,
    fakes,
    runner: 'local',
    reviewJob: reviewJobSettings(fakes.anthropic),
    local: { command: reviewerCommand() },
    settings: {
      anthropic: { apiKey: 'sk-ant-local' },
      policies: { namespace: NAMESPACE, resyncSeconds: 1 },
      kubernetes: { kubeconfig: plane.kubeconfigPath, deadlineMarginSeconds: 2, accessCheckIntervalSeconds: 1 },
    },
  });
  await waitUntil('the worker to see the policy', () => generationSeen('platform', 1), {
    timeoutMs: 20_000,
    intervalMs: 100,
  });
}, 120_000);

afterAll(async () => {
  await sut?.close();
  await producer?.close();
  await Promise.all([plane?.stop(), redis?.stop(), fakes?.stop()]);
});

describe('ReviewPolicies on the next review', () => {
  it('puts the policy instructions in the prompt and names the policy in the footer', async () => {
    const { record, prompt, body } = await review();

    expect(record.status).toBe('posted');
    expect(prompt).toContain('POLICY-MARKER-ONE');
    expect(body).toContain('policy `platform`');
  }, 60_000);

  it('ignores a locked key of .kritik.yaml and says so in the review', async () => {
    const { record, body } = await review('min_severity: nit\nmax_comments: 3\n');

    expect(record.status).toBe('posted');
    expect(body).toMatch(/`min_severity`: locked by policy "platform"; the file's value was ignored/);
  }, 60_000);

  it('lets the ceilings win over a repository asking for a bigger model and cap', async () => {
    const { requests, body } = await review('model: claude-opus-5\nmax_cost_usd: 900\n');

    expect(new Set(requests.map((r) => r.model))).toEqual(new Set(['claude-haiku-4-5']));
    expect(body).toContain('$900 is above the ceiling of policy "platform"; $0.5 used');
    expect(body).toContain('is not allowed by policy "platform"');
  }, 60_000);

  it('changes the next review prompt within 5 seconds of an edit through the API', async () => {
    const edited = Date.now();
    await objects.patchNamespacedCustomObject(
      { ...ref, name: 'platform', body: { spec: { instructions: 'POLICY-MARKER-TWO: flag every eval().' } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    await waitUntil('the worker to see the edit', () => generationSeen('platform', 2), {
      timeoutMs: 5_000,
      intervalMs: 50,
    });
    expect(Date.now() - edited).toBeLessThan(5_000);

    const { prompt } = await review();

    expect(prompt).toContain('POLICY-MARKER-TWO');
    expect(prompt).not.toContain('POLICY-MARKER-ONE');
  }, 60_000);

  it("skips a pull request the policy's triggers leave out, saying which policy", async () => {
    await objects.patchNamespacedCustomObject(
      { ...ref, name: 'platform', body: { spec: { triggers: { skipTitleTags: ['Change'] } } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    await waitUntil('the worker to see the edit', () => generationSeen('platform', 3), {
      timeoutMs: 5_000,
      intervalMs: 50,
    });

    const { record, requests } = await review();

    expect(record).toMatchObject({
      status: 'skipped',
      reason: 'the title has "Change", which policy "platform" skips',
    });
    expect(requests).toEqual([]);
  }, 60_000);

  it('explains the effective config from the cluster with kritik policy explain', () => {
    const sut = spawnSync(
      process.execPath,
      [reviewerCommand()[1]!, 'policy', 'explain', `${OWNER}/${REPO}`, '--namespace', NAMESPACE],
      {
        encoding: 'utf8',
        env: { PATH: process.env.PATH, KUBECONFIG: plane.kubeconfigPath },
        timeout: 30_000,
      },
    );

    expect(sut.stderr).toBe('');
    expect(sut.stdout).toContain('Policies applied (lowest priority first): platform');
    expect(sut.stdout).toMatch(/^min_severity +minor +default \(locked by platform\)$/m);
    expect(sut.stdout).toMatch(/^max_cost_usd +0\.5 +ceiling\/platform$/m);
  });

  it('publishes the budgets of an edited policy for the dashboard within 5 seconds', async () => {
    const client = new Redis(redis.url);
    const snapshots = new BudgetSnapshotStore(client);
    const covering = async () =>
      budgetsCovering(await snapshots.read(), { platform: 'github', owner: OWNER, name: REPO }).map((b) => b.id);
    try {
      expect(await covering()).toEqual([]);

      await objects.patchNamespacedCustomObject(
        { ...ref, name: 'platform', body: { spec: { budgets: { orgPerMonthUsd: 50 } } } },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      );

      await waitUntil('the budget to be published', async () => ((await covering()).length > 0 ? true : undefined), {
        timeoutMs: 5_000,
        intervalMs: 50,
      });
      expect(await covering()).toEqual(['platform/org-per-month']);
    } finally {
      client.disconnect();
    }
  });
});
