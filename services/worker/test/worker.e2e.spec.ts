// The worker application end to end on the harness: real Redis and BullMQ, the control plane
// with the test kubelet running the real reviewer, the worker acting as its ServiceAccount bound
// to a Role generated from REQUIRED_PERMISSIONS, GitHub and Anthropic fakes.

import {
  CHECK_RUN_NAME,
  POLICY_GROUP,
  POLICY_PLURAL,
  POLICY_VERSION,
  type ReviewRequest,
  readModelSettings,
  redisKeys,
  type WorkerReplica,
} from '@kritik/core';
import { PrHeadStore, ReviewLifecycle, WorkerStatusStore } from '@kritik/server';
import {
  type ControlPlane,
  FakeAnthropic,
  FakeBedrock,
  freePort,
  POSTED_FINDING,
  setProcessEnv,
  startControlPlane,
  startRedis,
  startTestKubelet,
  type TestKubelet,
  type TestRedis,
  waitUntil,
} from '@kritik/testing';
import {
  BatchV1Api,
  CoreV1Api,
  CustomObjectsApi,
  type KubeConfig,
  RbacAuthorizationV1Api,
} from '@kubernetes/client-node';
import { CodeHosts } from '../src/code-host/code-host.js';
import { GitHubAppClient } from '../src/github/github-app.client.js';
import { KubernetesClient } from '../src/kubernetes/kubernetes.client.js';
import { KubernetesJobRunner } from '../src/kubernetes/kubernetes-job.runner.js';
import { reviewJobName } from '../src/kubernetes/review-job.builder.js';
import { Reconciler } from '../src/scheduling/reconcile.service.js';
import { prRefOf } from '../src/scheduling/scheduling-gate.js';
import { Producer, startWorker, type WorkerUnderTest } from './support/worker-app.js';
import {
  APP_ID,
  type Fakes,
  findingsReply,
  installPolicyCrd,
  jobsNamespace,
  OWNER,
  openPullRequest,
  pushCommit,
  REPO,
  reviewJobSettings,
  roleRules,
  startFakes,
  withoutVerb,
  workerIdentity,
} from './support/world.js';

jest.setTimeout(120_000);

const NAMESPACE = 'kritik-jobs';

describe('worker', () => {
  let plane: ControlPlane;
  let redis: TestRedis;
  let kubelet: TestKubelet;
  let fakes: Fakes;
  let identity: KubeConfig;
  let producer: Producer;
  let batch: BatchV1Api;

  beforeAll(async () => {
    [plane, redis, fakes] = await Promise.all([startControlPlane(), startRedis(), startFakes()]);
    await jobsNamespace(plane, NAMESPACE);
    kubelet = await startTestKubelet(plane.adminKubeConfig(), { namespaces: [NAMESPACE] });
    identity = (await workerIdentity(plane, NAMESPACE, 'kritik-worker')).kubeConfig;
    batch = plane.adminKubeConfig().makeApiClient(BatchV1Api);
  });
  afterAll(async () => {
    await kubelet?.stop();
    await Promise.all([plane?.stop(), redis?.stop(), fakes?.stop()]);
  });
  beforeEach(async () => {
    producer = new Producer(redis.url);
    await producer.redis.flushall();
  });
  afterEach(() => producer.close());

  const jobGone = (name: string) =>
    waitUntil(
      `Job ${name} to be deleted`,
      () =>
        batch.readNamespacedJob({ namespace: NAMESPACE, name }).then(
          () => undefined,
          () => true,
        ),
      { timeoutMs: 20_000, intervalMs: 100 },
    );

  const start = (reviewJob: Record<string, unknown> = {}, kubeConfig = identity, scheduling = {}) =>
    startWorker({
      scheduling,
      redisUrl: redis.url,
      fakes,
      runner: 'kubernetes',
      namespace: NAMESPACE,
      kubeConfig,
      reviewJob: { ...reviewJobSettings(fakes.anthropic), ...reviewJob },
    });

  describe('with the Role generated from REQUIRED_PERMISSIONS', () => {
    let sut: WorkerUnderTest;

    beforeAll(async () => {
      sut = await start();
    });
    afterAll(() => sut.close());

    it('is ready once Redis answers and every permission is granted', async () => {
      const body = await waitUntil(
        'ready',
        async () => {
          const res = await fetch(`${sut.url}/ready`);
          return res.status === 200 ? res.json() : undefined;
        },
        { timeoutMs: 10_000, intervalMs: 100 },
      );
      expect(body).toMatchObject({ status: 'ok', info: { redis: { status: 'up' }, runner: { status: 'up' } } });
    });

    it('answers /health without dependencies', async () => {
      expect((await fetch(`${sut.url}/health`)).status).toBe(200);
    });

    it('runs a queued review as a Job and records it posted', async () => {
      const review = openPullRequest(fakes.github, 'app-e2e');
      await producer.enqueue(review);
      const record = await producer.ended(review.reviewId);

      expect(record).toMatchObject({ status: 'posted', result: { status: 'posted', commentsPosted: 1 } });
      // The detail of the Job's termination message lands in the record as the reviewer wrote it.
      expect(record.result).toMatchObject({ model: expect.any(String), findingList: [POSTED_FINDING] });
      expect(record.timeline.map((t) => t.status)).toEqual(['queued', 'running', 'posted']);
      expect(fakes.github.reviews(OWNER, REPO, review.pr)).toHaveLength(1);
      // One check run: the worker's, queued at acceptance and concluded by the reviewer.
      expect(fakes.github.checkRuns(OWNER, REPO, review.headSha)).toEqual([
        expect.objectContaining({ id: record.result!.checkRunId, status: 'completed', conclusion: 'neutral' }),
      ]);
    });

    it('counts reviews by outcome and the time to dispatch in /metrics', async () => {
      const review = openPullRequest(fakes.github, 'metrics');
      await producer.enqueue(review);
      await producer.ended(review.reviewId);
      const metrics = await (await fetch(`${sut.url}/metrics`)).text();

      expect(metrics).toMatch(/kritik_worker_reviews_total\{[^}]*outcome="posted"[^}]*\} [1-9]/);
      expect(metrics).toMatch(/kritik_worker_dispatch_seconds_count\{[^}]*how="created"[^}]*\} [1-9]/);
      expect(metrics).toMatch(/kritik_worker_reviews_running\{[^}]*\} 0/);
      expect(metrics).toContain('kritik_worker_review_duration_seconds_bucket');
    });

    it('supersedes a running review when a newer head SHA arrives and reviews the newest', async () => {
      const first = openPullRequest(fakes.github, 'supersede');
      fakes.anthropic.delayNext(30_000, 1, 'POST /v1/messages');
      const asked = fakes.anthropic.messageRequests().length;
      await producer.enqueue(first);
      const firstJob = reviewJobName(first.reviewId);
      await waitUntil(
        'the first reviewer to wait on the model',
        async () => (fakes.anthropic.messageRequests().length > asked ? true : undefined),
        { timeoutMs: 20_000, intervalMs: 50 },
      );
      const second = pushCommit(fakes.github, first, 'supersede-2');
      await producer.enqueue(second);

      expect(await producer.ended(first.reviewId)).toMatchObject({
        status: 'skipped',
        reason: `superseded by ${second.headSha.slice(0, 12)}`,
      });
      const stale = fakes.github.checkRuns(OWNER, REPO, first.headSha);
      expect(stale).toEqual([expect.objectContaining({ status: 'completed', conclusion: 'cancelled' })]);
      expect(stale[0]!.output.summary).toBe(`superseded by ${second.headSha}`);
      expect(await producer.ended(second.reviewId)).toMatchObject({ status: 'posted' });
      const reviews = fakes.github.reviews(OWNER, REPO, first.pr);
      expect(reviews.map((r) => r.commit_id)).toEqual([second.headSha]);
      await jobGone(firstJob);
    });

    it('records a review queued behind a newer SHA of its PR as superseded without running it', async () => {
      const older = openPullRequest(fakes.github, 'stale');
      const newer = pushCommit(fakes.github, older, 'stale-2');
      await producer.enqueue({ ...newer });
      await new Promise((r) => setTimeout(r, 5));
      await producer.queue.add('review', { ...older, enqueuedAt: new Date(Date.now() - 60_000).toISOString() });

      expect(await producer.ended(older.reviewId)).toMatchObject({
        status: 'skipped',
        reason: `superseded by ${newer.headSha.slice(0, 12)}`,
      });
      expect(await producer.ended(newer.reviewId)).toMatchObject({ status: 'posted' });
      expect(fakes.github.reviews(OWNER, REPO, older.pr)).toHaveLength(1);
    });

    it('does not review the same SHA twice when the review is enqueued again', async () => {
      const review = openPullRequest(fakes.github, 'twice');
      await producer.enqueue(review);
      await producer.ended(review.reviewId);
      await producer.enqueue(review);
      await waitUntil(
        'the queue to drain',
        async () => ((await producer.queue.getJobCounts('wait', 'active', 'delayed')).wait === 0 ? true : undefined),
        {
          timeoutMs: 10_000,
        },
      );
      await new Promise((r) => setTimeout(r, 500));
      expect(fakes.github.reviews(OWNER, REPO, review.pr)).toHaveLength(1);
    });
  });

  describe('through the model gateway', () => {
    const PLATFORM_KEY = 'sk-ant-platform-only-in-the-worker';
    let model: FakeAnthropic;
    let sut: WorkerUnderTest;
    let gatewayUrl: string;

    beforeAll(async () => {
      // Only the platform key opens this API; the jobs namespace's Anthropic Secret holds another.
      model = await new FakeAnthropic({ apiKey: PLATFORM_KEY }).start();
      model.setDefaultReply(findingsReply());
      const port = await freePort();
      gatewayUrl = `http://127.0.0.1:${port}`;
      sut = await startWorker({
        redisUrl: redis.url,
        fakes,
        runner: 'kubernetes',
        namespace: NAMESPACE,
        kubeConfig: identity,
        reviewJob: reviewJobSettings(fakes.anthropic),
        settings: {
          anthropic: { apiKey: PLATFORM_KEY, baseUrl: model.url },
          gateway: { url: gatewayUrl, port },
        },
      });
    });
    afterAll(async () => {
      await sut?.close();
      await model?.stop();
    });

    it('reviews with a Job that holds a review token, not the key, and the token ends with the review', async () => {
      const review = openPullRequest(fakes.github, 'gateway');
      await producer.enqueue(review);

      expect(await producer.ended(review.reviewId)).toMatchObject({
        status: 'posted',
        result: { status: 'posted', commentsPosted: 1 },
      });
      const calls = model.requestsTo('POST /v1/messages');
      expect(calls.length).toBeGreaterThan(0);
      expect(calls.every((call) => call.headers['x-api-key'] === PLATFORM_KEY)).toBe(true);

      const name = reviewJobName(review.reviewId);
      const job = await batch.readNamespacedJob({ namespace: NAMESPACE, name });
      const container = job.spec!.template.spec!.containers[0]!;
      expect(container.envFrom).toBeUndefined();
      expect(container.env).toContainEqual({ name: 'ANTHROPIC_BASE_URL', value: gatewayUrl });
      const secret = await plane
        .adminKubeConfig()
        .makeApiClient(CoreV1Api)
        .readNamespacedSecret({ namespace: NAMESPACE, name });
      const token = Buffer.from(secret.data!.ANTHROPIC_API_KEY!, 'base64').toString();
      expect(token).toMatch(/^kgw_/);
      expect(JSON.stringify(secret.data)).not.toContain(Buffer.from(PLATFORM_KEY).toString('base64'));

      const late = await fetch(`${gatewayUrl}/v1/messages`, {
        method: 'POST',
        headers: { 'x-api-key': token, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'claude-sonnet-5-5', max_tokens: 1, messages: [] }),
      });
      expect(late.status).toBe(401);
      expect(model.requestsTo('POST /v1/messages')).toHaveLength(calls.length);
    });
  });

  describe('through the model gateway, with a budget', () => {
    const CEILING_USD = 2;
    const BUDGET = 'spend/repository-per-day';
    let model: FakeAnthropic;
    let sut: WorkerUnderTest;

    beforeAll(async () => {
      await installPolicyCrd(plane);
      await plane
        .adminKubeConfig()
        .makeApiClient(CustomObjectsApi)
        .createNamespacedCustomObject({
          group: POLICY_GROUP,
          version: POLICY_VERSION,
          namespace: NAMESPACE,
          plural: POLICY_PLURAL,
          body: {
            apiVersion: `${POLICY_GROUP}/${POLICY_VERSION}`,
            kind: 'ReviewPolicy',
            metadata: { name: 'spend' },
            spec: {
              selector: { orgs: [OWNER] },
              ceilings: { maxCostUsdPerReview: CEILING_USD },
              budgets: { repositoryPerDayUsd: 50 },
            },
          },
        });
      model = await new FakeAnthropic().start();
      model.setDefaultReply(findingsReply());
      const port = await freePort();
      const objects = plane.adminKubeConfig().makeApiClient(CustomObjectsApi);
      sut = await startWorker({
        redisUrl: redis.url,
        fakes,
        runner: 'kubernetes',
        namespace: NAMESPACE,
        kubeConfig: identity,
        reviewJob: reviewJobSettings(fakes.anthropic),
        settings: {
          anthropic: { apiKey: 'sk-ant-platform', baseUrl: model.url },
          gateway: { url: `http://127.0.0.1:${port}`, port },
          policies: { namespace: NAMESPACE, resyncSeconds: 1 },
          // The policy watcher reads its kubeconfig from the settings (the Jobs run as the worker identity).
          kubernetes: {
            namespace: NAMESPACE,
            kubeconfig: plane.kubeconfigPath,
            deadlineMarginSeconds: 2,
            accessCheckIntervalSeconds: 1,
          },
        },
      });
      await waitUntil(
        'the worker to see the policy',
        async () => {
          const policy = (await objects.getNamespacedCustomObject({
            group: POLICY_GROUP,
            version: POLICY_VERSION,
            namespace: NAMESPACE,
            plural: POLICY_PLURAL,
            name: 'spend',
          })) as { status?: { observedGeneration?: number } };
          return policy.status?.observedGeneration === 1 || undefined;
        },
        { timeoutMs: 20_000, intervalMs: 100 },
      );
    });
    afterAll(async () => {
      await sut?.close();
      await model?.stop();
    });

    it('settles a review whose Job was killed mid-review at what the gateway metered, not at its ceiling', async () => {
      const review = openPullRequest(fakes.github, 'killed');
      // The model answers (through the gateway, metered); posting the review then hangs, so the
      // Job is still running, past its model calls, when it is killed.
      fakes.github.setLatency(60_000, { method: 'POST', path: `/repos/${OWNER}/${REPO}/pulls/${review.pr}/reviews` });
      await producer.enqueue(review);
      const metered = await waitUntil(
        'the gateway to meter the review',
        async () => {
          const spent = await producer.redis.hget(redisKeys.gatewayGrant(review.reviewId), 'costUsd');
          return spent && Number(spent) > 0 ? Number(spent) : undefined;
        },
        { timeoutMs: 60_000, intervalMs: 100 },
      );
      await batch.deleteNamespacedJob({
        namespace: NAMESPACE,
        name: reviewJobName(review.reviewId),
        propagationPolicy: 'Background',
      });

      expect(await producer.ended(review.reviewId)).toMatchObject({
        status: 'failed',
        reason: expect.stringContaining('deleted'),
      });
      expect(metered).toBeLessThan(CEILING_USD / 10);
      const metrics = await (await fetch(`${sut.url}/metrics`)).text();
      const series = (name: string, labels: string) =>
        Number(new RegExp(`^${name}\\{${labels}[^}]*\\} (\\S+)$`, 'm').exec(metrics)?.[1]);
      expect(series('kritik_budget_remaining_usd', `budget="${BUDGET}",subject="${OWNER}/${REPO}"`)).toBeCloseTo(
        50 - metered,
        9,
      );
      expect(series('kritik_review_cost_usd_total', `repository="github:${OWNER}/${REPO}"`)).toBeCloseTo(metered, 9);
      expect(series('kritik_gateway_cost_usd_total', 'provider="anthropic"')).toBeCloseTo(metered, 9);
      fakes.github.setLatency(0, { method: 'POST', path: `/repos/${OWNER}/${REPO}/pulls/${review.pr}/reviews` });
    });
  });

  describe('through the model gateway to Amazon Bedrock', () => {
    const REGION = 'eu-west-1';
    const KEY = { accessKeyId: 'AKIAWORKERE2E0000001', secretAccessKey: 'worker/e2e/secret' };
    let restoreEnv: () => void = () => {};
    let bedrock: FakeBedrock;
    let sut: WorkerUnderTest;

    beforeAll(async () => {
      // The worker's identity, from the environment the AWS SDK reads (IRSA's, in a cluster).
      restoreEnv = setProcessEnv({ AWS_ACCESS_KEY_ID: KEY.accessKeyId, AWS_SECRET_ACCESS_KEY: KEY.secretAccessKey });
      bedrock = await new FakeBedrock({ region: REGION }).allow(KEY).start();
      bedrock.setDefaultReply(findingsReply());
      const read = readModelSettings({
        KRITIK_MODEL_PROVIDER: 'bedrock',
        KRITIK_MODEL_REGION: REGION,
        ANTHROPIC_BEDROCK_BASE_URL: bedrock.url,
        KRITIK_MODEL_CATALOGUE: JSON.stringify({
          'claude-sonnet-5-5': { ids: { bedrock: 'eu.anthropic.claude-sonnet-5-5-v1:0' } },
        }),
      });
      if ('problems' in read) throw new Error(read.problems.join('; '));
      const port = await freePort();
      sut = await startWorker({
        redisUrl: redis.url,
        fakes,
        runner: 'kubernetes',
        namespace: NAMESPACE,
        kubeConfig: identity,
        reviewJob: reviewJobSettings(fakes.anthropic),
        settings: { gateway: { url: `http://127.0.0.1:${port}`, port }, model: read.settings },
      });
    });
    afterAll(async () => {
      await sut?.close();
      await bedrock?.stop();
      restoreEnv();
    });

    it('reviews through Bedrock signed by the worker, with a Job that knows no provider and holds no cloud credential', async () => {
      const review = openPullRequest(fakes.github, 'bedrock');
      await producer.enqueue(review);

      expect(await producer.ended(review.reviewId)).toMatchObject({ status: 'posted', result: { status: 'posted' } });
      const invocations = bedrock.invocations();
      expect(invocations.length).toBeGreaterThan(0);
      expect(invocations.every((i) => i.accessKeyId === KEY.accessKeyId && i.region === REGION)).toBe(true);
      expect(invocations[0]!.modelId).toBe('eu.anthropic.claude-sonnet-5-5-v1:0');
      const job = await batch.readNamespacedJob({ namespace: NAMESPACE, name: reviewJobName(review.reviewId) });
      const env = job.spec!.template.spec!.containers[0]!.env!;
      expect(env.map((e) => e.name)).not.toContain('KRITIK_MODEL_PROVIDER');
      expect(JSON.stringify(env)).not.toContain(KEY.accessKeyId);
      expect(env.find((e) => e.name === 'KRITIK_MODEL_CATALOGUE')?.value).toContain(
        'eu.anthropic.claude-sonnet-5-5-v1:0',
      );
    });
  });

  describe('reconciling review Jobs without a queue entry', () => {
    let sut: WorkerUnderTest;
    let admin: KubernetesJobRunner;

    beforeAll(async () => {
      // Passes run when the tests say, not on a timer that could adopt an orphan mid-setup.
      sut = await start({}, identity, { reconcileIntervalSeconds: 3600 });
      admin = new KubernetesJobRunner(new KubernetesClient(plane.adminKubeConfig(), NAMESPACE), {
        settings: reviewJobSettings(fakes.anthropic),
        deadlineMarginSeconds: 5,
      });
    });
    afterAll(() => sut.close());

    const reconcile = async () => {
      const reconciler = sut.app.get(Reconciler);
      const report = await reconciler.reconcile();
      await reconciler.settled();
      return report;
    };
    const tokenFor = async (review: ReviewRequest) =>
      (
        await new GitHubAppClient({
          appId: APP_ID,
          privateKey: fakes.privateKey,
          apiUrl: fakes.github.url,
        }).repositoryToken(review.repo)
      ).token;

    /** A review Job that keeps running after the runner that created it let go of it. */
    const runningOrphan = async (review: ReviewRequest) => {
      const sleeper = new KubernetesJobRunner(new KubernetesClient(plane.adminKubeConfig(), NAMESPACE), {
        settings: reviewJobSettings(fakes.anthropic, {
          command: [process.execPath, '-e', 'setInterval(() => {}, 1000)'],
        }),
        deadlineMarginSeconds: 5,
      });
      const detach = new AbortController();
      return sleeper.run({
        payload: { ...review, apiUrl: fakes.github.url },
        token: await tokenFor(review),
        model: { kind: 'direct' },
        signal: new AbortController().signal,
        detach: detach.signal,
        onDispatched: () => detach.abort(),
      });
    };

    it('records the result of a finished orphaned Job instead of running the review again', async () => {
      const review = openPullRequest(fakes.github, 'orphan-finished');
      const payload = { ...review, apiUrl: fakes.github.url };
      await admin.run({
        payload,
        token: await tokenFor(review),
        model: { kind: 'direct' },
        signal: new AbortController().signal,
      });
      expect(await producer.record(review.reviewId)).toBeUndefined();

      expect((await reconcile()).actions[review.reviewId]).toBe('adopted');
      expect(await producer.ended(review.reviewId)).toMatchObject({ status: 'posted', result: { status: 'posted' } });
      expect(fakes.github.reviews(OWNER, REPO, review.pr)).toHaveLength(1);
    });

    it('deletes a running Job whose review has already ended', async () => {
      const review = openPullRequest(fakes.github, 'orphan-ended');
      expect(await runningOrphan(review)).toEqual({ kind: 'detached' });
      const lifecycle = sut.app.get(ReviewLifecycle);
      await lifecycle.record(review);
      await lifecycle.end(review, { status: 'skipped', reason: 'superseded' });

      expect((await reconcile()).actions[review.reviewId]).toBe('deleted');
      await jobGone(reviewJobName(review.reviewId));
    });

    it('cancels the check run of a superseded orphaned Job by its id', async () => {
      const review = openPullRequest(fakes.github, 'orphan-superseded');
      const checkRunId = await sut.app.get(CodeHosts).of('github').queueStatus(review);
      expect(await runningOrphan({ ...review, checkRunId })).toEqual({ kind: 'detached' });
      const newer = pushCommit(fakes.github, review, 'orphan-superseded-2');
      await sut.app
        .get(PrHeadStore)
        .offer(prRefOf(review), { reviewId: newer.reviewId, sha: newer.headSha, at: Date.now() });

      // Another open Kritik run on the same commit, which a search by name could pick instead.
      const app = new GitHubAppClient({ appId: APP_ID, privateKey: fakes.privateKey, apiUrl: fakes.github.url });
      const { data: other } = await app
        .octokitFor(await tokenFor(review))
        .request('POST /repos/{owner}/{repo}/check-runs', {
          owner: OWNER,
          repo: REPO,
          name: CHECK_RUN_NAME,
          head_sha: review.headSha,
          status: 'in_progress',
        });

      expect((await reconcile()).actions[review.reviewId]).toBe('deleted');
      expect(fakes.github.checkRuns(OWNER, REPO, review.headSha)).toEqual([
        expect.objectContaining({ id: checkRunId, status: 'completed', conclusion: 'cancelled' }),
        expect.objectContaining({ id: other.id, status: 'in_progress' }),
      ]);
      expect(fakes.github.checkRuns(OWNER, REPO, review.headSha)[0]!.output.summary).toBe(
        `superseded by ${newer.headSha}`,
      );
      await jobGone(reviewJobName(review.reviewId));
    });

    it('leaves a Job alone while its review is queued', async () => {
      const review = openPullRequest(fakes.github, 'orphan-queued');
      await producer.enqueue(review);
      await waitUntil(
        'the Job',
        () => batch.readNamespacedJob({ namespace: NAMESPACE, name: reviewJobName(review.reviewId) }).then(() => true),
        {
          timeoutMs: 20_000,
          intervalMs: 100,
        },
      );
      expect((await reconcile()).actions[review.reviewId]).toBe('live');
      expect(await producer.ended(review.reviewId)).toMatchObject({ status: 'posted' });
    });
  });

  describe('past the review deadline', () => {
    let sut: WorkerUnderTest;

    beforeAll(async () => {
      sut = await start({ activeDeadlineSeconds: 3 });
    });
    afterAll(() => sut.close());

    it('deletes the Job, records failed: timeout and concludes the check run as failure', async () => {
      const review = openPullRequest(fakes.github, 'timeout');
      // A slow model is bounded by the reviewer's own time budget; GitHub hanging is not, so only
      // the Job deadline ends this review.
      fakes.github.setLatency(30_000, { method: 'GET', path: `/repos/${OWNER}/${REPO}/pulls/${review.pr}` });
      await producer.enqueue(review);
      const record = await producer.ended(review.reviewId);

      expect(record).toMatchObject({ status: 'failed', reason: 'timeout' });
      const runs = fakes.github.checkRuns(OWNER, REPO, review.headSha);
      expect(runs).toEqual([expect.objectContaining({ status: 'completed', conclusion: 'failure' })]);
      expect(runs[0]!.output.summary).toContain('timeout');
      await jobGone(reviewJobName(review.reviewId));
    });
  });

  describe('when Kubernetes refuses the review Job', () => {
    const QUOTA_NAMESPACE = 'kritik-jobs-quota';
    let sut: WorkerUnderTest;

    beforeAll(async () => {
      await jobsNamespace(plane, QUOTA_NAMESPACE);
      // No Job may exist in this namespace: the API server refuses every create.
      await plane
        .adminKubeConfig()
        .makeApiClient(CoreV1Api)
        .createNamespacedResourceQuota({
          namespace: QUOTA_NAMESPACE,
          body: { metadata: { name: 'no-jobs' }, spec: { hard: { 'count/jobs.batch': '0' } } },
        });
      const quoted = await workerIdentity(plane, QUOTA_NAMESPACE, 'kritik-worker');
      sut = await startWorker({
        redisUrl: redis.url,
        fakes,
        runner: 'kubernetes',
        namespace: QUOTA_NAMESPACE,
        kubeConfig: quoted.kubeConfig,
        reviewJob: reviewJobSettings(fakes.anthropic),
      });
    });
    afterAll(() => sut.close());

    it('records the review failed and concludes the check run it queued at acceptance by id', async () => {
      const review = openPullRequest(fakes.github, 'no-job');
      await producer.enqueue(review);
      const record = await producer.ended(review.reviewId);

      expect(record).toMatchObject({ status: 'failed', reason: expect.stringContaining('jobs') });
      const runs = fakes.github.checkRuns(OWNER, REPO, review.headSha);
      expect(runs).toEqual([expect.objectContaining({ status: 'completed', conclusion: 'failure' })]);
      expect(runs[0]!.output.summary).toBe(record.reason);
      const created = fakes.github
        .requestsTo({ method: 'POST', path: /\/check-runs$/ })
        .filter((r) => (r.body as { head_sha: string }).head_sha === review.headSha);
      expect(created.map((r) => (r.body as { status: string }).status)).toEqual(['queued']);
    });
  });

  describe('with a verb removed from the Role', () => {
    let sut: WorkerUnderTest;

    beforeAll(async () => {
      const limited = await workerIdentity(plane, NAMESPACE, 'worker-no-delete', withoutVerb('jobs', 'delete'));
      sut = await start({}, limited.kubeConfig);
    });
    afterAll(() => sut.close());

    it('stays not ready and names the missing permission', async () => {
      const body = await waitUntil(
        'a permission verdict',
        async () => {
          const res = await fetch(`${sut.url}/ready`);
          const json = (await res.json()) as { error?: { runner?: { message?: string } } };
          return res.status === 503 && json.error?.runner?.message?.includes('missing') ? json : undefined;
        },
        { timeoutMs: 10_000, intervalMs: 100 },
      );
      expect(body.error!.runner!.message).toBe(
        `missing permissions in namespace "${NAMESPACE}": delete jobs.batch (grant them in the worker's Role)`,
      );
    });

    it('leaves reviews queued instead of failing them', async () => {
      const review = openPullRequest(fakes.github, 'not-ready');
      await producer.enqueue(review);
      await new Promise((r) => setTimeout(r, 1_500));
      expect(await producer.queue.getJobCounts('wait')).toEqual({ wait: 1 });
    });
  });

  describe('with a verb missing from the Role until it is fixed', () => {
    const ROLE = 'worker-role-fixed-later';
    const REPLICA = 'kritik-worker-rbac-0';
    let sut: WorkerUnderTest;

    beforeAll(async () => {
      const limited = await workerIdentity(plane, NAMESPACE, ROLE, withoutVerb('jobs', 'delete'));
      sut = await startWorker({
        redisUrl: redis.url,
        fakes,
        runner: 'kubernetes',
        namespace: NAMESPACE,
        kubeConfig: limited.kubeConfig,
        reviewJob: reviewJobSettings(fakes.anthropic),
        status: { replica: REPLICA, intervalMs: 500 },
      });
    });
    afterAll(() => sut.close());

    it('publishes the permission missing for the Platform page, then granted once the Role has it', async () => {
      const store = new WorkerStatusStore(producer.redis);
      const replica = (which: (r: WorkerReplica) => boolean) =>
        waitUntil(
          'a matching worker status',
          async () => (await store.list()).replicas.find((r) => r.replica === REPLICA && which(r)),
          { timeoutMs: 20_000, intervalMs: 100 },
        );

      const before = await replica((r) => r.permissions.some((p) => p.state === 'missing'));
      expect(before).toMatchObject({ ready: false, runner: 'kubernetes', namespace: NAMESPACE, stale: false });
      expect(before.permissions.filter((p) => p.state !== 'granted')).toEqual([
        { permission: 'delete jobs.batch', state: 'missing' },
      ]);
      expect(before.remedy).toContain(`Grant delete jobs.batch in the worker's Role in namespace "${NAMESPACE}"`);

      await plane
        .adminKubeConfig()
        .makeApiClient(RbacAuthorizationV1Api)
        .replaceNamespacedRole({
          namespace: NAMESPACE,
          name: ROLE,
          body: { metadata: { name: ROLE }, rules: roleRules() },
        });

      const after = await replica((r) => r.ready);
      expect(after.permissions.every((p) => p.state === 'granted')).toBe(true);
      expect(after.reason).toBe(`all permissions granted in namespace "${NAMESPACE}"`);
      expect(after.remedy).toBeUndefined();
    });
  });
});
