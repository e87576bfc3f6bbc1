// The Kubernetes runner on the harness control plane, acting as the worker's ServiceAccount bound
// to a Role generated from REQUIRED_PERMISSIONS; the test kubelet runs the real reviewer against
// the GitHub and Anthropic fakes.
import { readFileSync } from 'node:fs';
import { LABELS, type ReviewPayload } from '@kritik/core';
import {
  type ControlPlane,
  POSTED_FINDING,
  startControlPlane,
  startTestKubelet,
  type TestKubelet,
  waitUntil,
} from '@kritik/testing';
import { BatchV1Api, CoreV1Api, type KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { GitHubAppClient } from '../src/github/github-app.client.js';
import { checkAccess } from '../src/kubernetes/access-check.js';
import { KubernetesClient } from '../src/kubernetes/kubernetes.client.js';
import { KubernetesJobRunner } from '../src/kubernetes/kubernetes-job.runner.js';
import { buildReviewJob, buildReviewSecret, reviewJobName } from '../src/kubernetes/review-job.builder.js';
import type { RunOutcome } from '../src/runner/review-runner.js';
import { ApiProxy } from './support/api-proxy.js';
import {
  APP_ID,
  type Fakes,
  jobsNamespace,
  openPullRequest,
  reviewJobSettings,
  startFakes,
  withoutVerb,
  workerIdentity,
} from './support/world.js';

jest.setTimeout(120_000);

const NAMESPACE = 'review-jobs';
const FAST_RETRY = { attempts: 6, baseDelayMs: 50, maxDelayMs: 500 };

describe(KubernetesJobRunner.name, () => {
  let plane: ControlPlane;
  let kubelet: TestKubelet;
  let fakes: Fakes;
  let worker: KubeConfig;
  let app: GitHubAppClient;
  let batch: BatchV1Api;
  let core: CoreV1Api;

  beforeAll(async () => {
    [plane, fakes] = await Promise.all([startControlPlane(), startFakes()]);
    await jobsNamespace(plane, NAMESPACE);
    kubelet = await startTestKubelet(plane.adminKubeConfig(), { namespaces: [NAMESPACE] });
    worker = (await workerIdentity(plane, NAMESPACE, 'kritik-worker')).kubeConfig;
    app = new GitHubAppClient({ appId: APP_ID, privateKey: fakes.privateKey, apiUrl: fakes.github.url });
    batch = plane.adminKubeConfig().makeApiClient(BatchV1Api);
    core = plane.adminKubeConfig().makeApiClient(CoreV1Api);
  });
  afterAll(async () => {
    await kubelet?.stop();
    await Promise.all([plane?.stop(), fakes?.stop()]);
  });

  const runnerAs = (kubeConfig: KubeConfig, settings = reviewJobSettings(fakes.anthropic)) =>
    new KubernetesJobRunner(new KubernetesClient(kubeConfig, NAMESPACE, FAST_RETRY), {
      settings,
      deadlineMarginSeconds: 5,
      resyncMs: 2_000,
    });

  const payloadOf = (label: string): ReviewPayload => ({
    ...openPullRequest(fakes.github, label),
    apiUrl: fakes.github.url,
  });

  const run = async (
    sut: KubernetesJobRunner,
    payload: ReviewPayload,
    signal = new AbortController().signal,
  ): Promise<{ outcome: RunOutcome; dispatched: string[] }> => {
    const dispatched: string[] = [];
    const { token } = await app.repositoryToken(payload.repo, payload.installationId);
    const outcome = await sut.run({
      payload,
      token,
      model: { kind: 'direct' },
      signal,
      onDispatched: (how) => dispatched.push(how),
    });
    return { outcome, dispatched };
  };

  const gone = (what: string, read: () => Promise<unknown>) =>
    waitUntil(
      what,
      () =>
        read().then(
          () => undefined,
          (err: { code?: number }) => (err.code === 404 ? true : Promise.reject(err)),
        ),
      { timeoutMs: 30_000, intervalMs: 100 },
    );

  it('builds a pod that PodSecurity restricted admits, and the check can reject one', async () => {
    const job = buildReviewJob({
      namespace: NAMESPACE,
      payload: payloadOf('psa'),
      settings: reviewJobSettings(fakes.anthropic),
      model: { kind: 'direct' },
    });
    const pod: V1Pod = { metadata: { name: 'psa-check', namespace: NAMESPACE }, spec: job.spec!.template.spec! };
    await expect(core.createNamespacedPod({ namespace: NAMESPACE, body: pod, dryRun: 'All' })).resolves.toBeDefined();

    const weakened = structuredClone(pod);
    weakened.spec!.containers[0]!.securityContext!.allowPrivilegeEscalation = true;
    await expect(
      core.createNamespacedPod({ namespace: NAMESPACE, body: weakened, dryRun: 'All' }),
    ).rejects.toMatchObject({
      code: 403,
      body: expect.stringContaining('violates PodSecurity'),
    });
  });

  it('runs a review end to end and reads the result from the termination message', async () => {
    const sut = runnerAs(worker);
    const payload = payloadOf('e2e');
    const { outcome, dispatched } = await run(sut, payload);

    expect(outcome).toMatchObject({ kind: 'reported', result: { status: 'posted', commentsPosted: 1 } });
    expect(dispatched).toEqual(['created']);
    expect(fakes.github.reviews('acme', 'web', payload.pr)).toHaveLength(1);
    const name = reviewJobName(payload.reviewId);
    const secret = await core.readNamespacedSecret({ namespace: NAMESPACE, name });
    expect(secret.metadata?.ownerReferences).toEqual([expect.objectContaining({ kind: 'Job', name })]);
    const [pod] = (
      await core.listNamespacedPod({ namespace: NAMESPACE, labelSelector: `${LABELS.reviewId}=${payload.reviewId}` })
    ).items;
    const message = pod?.status?.containerStatuses?.[0]?.state?.terminated?.message;
    expect(message).toContain('"status":"posted"');
    // The detail (the finding as posted, the model) is read through unchanged.
    expect(outcome).toMatchObject({ result: JSON.parse(message!) });
    expect(outcome).toMatchObject({ result: { model: expect.any(String), findingList: [POSTED_FINDING] } });
  });

  it('leaves the Secret to the garbage collector once its Job is deleted', async () => {
    const payload = payloadOf('gc');
    await run(runnerAs(worker), payload);
    const name = reviewJobName(payload.reviewId);
    await batch.deleteNamespacedJob({ namespace: NAMESPACE, name, propagationPolicy: 'Background' });
    await gone(`Secret ${name} collected`, () => core.readNamespacedSecret({ namespace: NAMESPACE, name }));
  });

  describe.each([
    ['the suspended Job was created', false],
    ['the suspended Job and its Secret were created', true],
  ])('when a worker stops after %s', (_step, withSecret) => {
    /** Exactly what a worker killed at that point leaves in the cluster. */
    async function leftBehind(label: string) {
      const payload = payloadOf(label);
      const client = new KubernetesClient(worker, NAMESPACE, FAST_RETRY);
      const model = { kind: 'direct' } as const;
      const input = { namespace: NAMESPACE, payload, settings: reviewJobSettings(fakes.anthropic), model };
      const job = await client.createJob(buildReviewJob(input));
      if (withSecret) await client.createSecret(buildReviewSecret(input, { token: 'ghs_expired', model }, job));
      return { payload, name: reviewJobName(payload.reviewId) };
    }

    it('starts no pod, and the next worker finishes the review once', async () => {
      const { payload, name } = await leftBehind(`stop-${withSecret}`);
      await new Promise((r) => setTimeout(r, 1_000));
      expect((await core.listNamespacedPod({ namespace: NAMESPACE, labelSelector: `job-name=${name}` })).items).toEqual(
        [],
      );

      const { outcome, dispatched } = await run(runnerAs(worker), payload);

      expect([dispatched, outcome.kind]).toEqual([['adopted'], 'reported']);
      expect(fakes.github.reviews('acme', 'web', payload.pr)).toHaveLength(1);
      const secret = await core.readNamespacedSecret({ namespace: NAMESPACE, name });
      expect(secret.metadata?.ownerReferences).toEqual([expect.objectContaining({ kind: 'Job', name })]);
    });

    it('leaves nothing once the abandoned Job is deleted', async () => {
      const { name } = await leftBehind(`abandon-${withSecret}`);

      await batch.deleteNamespacedJob({ namespace: NAMESPACE, name, propagationPolicy: 'Background' });

      await gone(`Secret ${name}`, () => core.readNamespacedSecret({ namespace: NAMESPACE, name }));
      await gone(`Job ${name}`, () => batch.readNamespacedJob({ namespace: NAMESPACE, name }));
    });
  });

  it('adopts an existing Job and uses its result instead of running the review again', async () => {
    const payload = payloadOf('adopt');
    const first = await run(runnerAs(worker), payload);
    const second = await run(runnerAs(worker), payload);

    expect(second.dispatched).toEqual(['adopted']);
    expect(second.outcome).toEqual(first.outcome);
    expect(fakes.github.reviews('acme', 'web', payload.pr)).toHaveLength(1);
  });

  it('deletes a Job that passes its deadline and reports a timeout', async () => {
    const settings = reviewJobSettings(fakes.anthropic, {
      activeDeadlineSeconds: 2,
      command: [process.execPath, '-e', 'setInterval(() => {}, 1000)'],
    });
    const payload = payloadOf('deadline');
    const { outcome } = await run(runnerAs(worker, settings), payload);

    expect(outcome).toMatchObject({ kind: 'failed', reason: 'timeout' });
    const name = reviewJobName(payload.reviewId);
    await gone(`Job ${name} deleted`, () => batch.readNamespacedJob({ namespace: NAMESPACE, name }));
  });

  it('deletes the Job of a cancelled review', async () => {
    const settings = reviewJobSettings(fakes.anthropic, {
      command: [process.execPath, '-e', 'setInterval(() => {}, 1000)'],
    });
    const payload = payloadOf('cancel');
    const controller = new AbortController();
    const name = reviewJobName(payload.reviewId);
    const running = run(runnerAs(worker, settings), payload, controller.signal);
    await waitUntil('the Job exists', () => batch.readNamespacedJob({ namespace: NAMESPACE, name }).then(() => true), {
      timeoutMs: 10_000,
      intervalMs: 50,
    }).catch(() => undefined);
    controller.abort();

    expect((await running).outcome).toEqual({ kind: 'cancelled' });
    await gone(`Job ${name} deleted`, () => batch.readNamespacedJob({ namespace: NAMESPACE, name }));
  });

  describe('behind a faulty API server', () => {
    let proxy: ApiProxy;

    beforeAll(async () => {
      proxy = await new ApiProxy(plane.server, readFileSync(plane.caFile)).start();
    });
    afterAll(() => proxy.stop());

    it('retries a 429 on Job creation with backoff and creates the Job once', async () => {
      proxy.failNext(2, 429, 'POST', /\/namespaces\/review-jobs\/jobs$/, 0).failNext(1, 503, 'POST', /\/secrets$/);
      const payload = payloadOf('throttled');
      const { outcome } = await run(runnerAs(proxy.kubeConfigThrough(worker)), payload);

      expect(outcome).toMatchObject({ kind: 'reported', result: { status: 'posted' } });
      const creates = proxy.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/review-jobs/jobs'));
      expect(creates.map((r) => r.status)).toEqual([429, 429, 201]);
    });

    it('follows a Job across dropped watch connections', async () => {
      const payload = payloadOf('dropped');
      const running = run(runnerAs(proxy.kubeConfigThrough(worker)), payload);
      let drops = 0;
      const dropper = setInterval(() => {
        drops += proxy.dropWatches();
      }, 150);
      try {
        expect((await running).outcome).toMatchObject({ kind: 'reported', result: { status: 'posted' } });
      } finally {
        clearInterval(dropper);
      }
      expect(drops).toBeGreaterThan(0);
    });
  });

  describe('with a verb missing from the Role', () => {
    let limited: KubeConfig;

    beforeAll(async () => {
      limited = (await workerIdentity(plane, NAMESPACE, 'limited-worker', withoutVerb('jobs', 'create'))).kubeConfig;
    });

    it('fails the review with a message naming the verb and resource', async () => {
      const { outcome } = await run(runnerAs(limited), payloadOf('forbidden'));
      expect(outcome).toMatchObject({
        kind: 'failed',
        reason: expect.stringContaining('denied the worker "create" on "jobs.batch" in namespace "review-jobs"'),
      });
    });

    it('reports the missing permission in the access check', async () => {
      const report = await checkAccess(new KubernetesClient(limited, NAMESPACE, FAST_RETRY));
      expect(report.missing).toEqual(['create jobs.batch']);
    });

    it('finds nothing missing with the full Role', async () => {
      expect((await checkAccess(new KubernetesClient(worker, NAMESPACE, FAST_RETRY))).missing).toEqual([]);
    });
  });
});
