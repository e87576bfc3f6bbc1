// Acceptance tests of the harness itself: a real Redis, and a real control plane whose Jobs run
// through the test kubelet and the real Job controller, garbage collector, PodSecurity and RBAC.
import { randomUUID } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { apiMessage, apiStatus, type ControlPlane, startControlPlane, waitUntil } from '@kritik/control-plane';
import { BatchV1Api, CoreV1Api, RbacAuthorizationV1Api, type V1Job, type V1Pod } from '@kubernetes/client-node';
import { Redis } from 'ioredis';
import { startTestKubelet, type TestKubelet } from '../src/kubelet.js';
import { startRedis, type TestRedis } from '../src/redis.js';

describe(startRedis.name, () => {
  let sut: TestRedis;
  let client: Redis;

  beforeAll(async () => {
    sut = await startRedis();
    client = new Redis(sut.url, { maxRetriesPerRequest: null, retryStrategy: () => 50 });
  });
  afterAll(async () => {
    client.disconnect();
    await sut.stop();
  });

  it('stores and returns a value', async () => {
    await client.set('greeting', 'hello');
    await expect(client.get('greeting')).resolves.toBe('hello');
  });

  it('comes back on the same port after restart, without the old data', async () => {
    await client.set('before-restart', '1');
    const port = sut.port;
    await sut.restart();
    expect(sut.port).toBe(port);
    await expect(client.get('before-restart')).resolves.toBeNull();
  });

  it('refuses connections after stop', async () => {
    const other = await startRedis();
    await other.stop();
    const outcome = await new Promise<string>((resolve) => {
      const socket = connect({ host: '127.0.0.1', port: other.port });
      socket.once('connect', () => resolve('connected'));
      socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error'));
    });
    expect(outcome).toBe('ECONNREFUSED');
  });
});

const JOBS = 'jobs';

function nodeJob(name: string, script: string, extra: Partial<NonNullable<V1Job['spec']>> = {}): V1Job {
  return {
    metadata: { name },
    spec: {
      backoffLimit: 0,
      ...extra,
      template: {
        spec: {
          restartPolicy: 'Never',
          containers: [{ name: 'main', image: 'node:20', command: ['node', '-e', script] }],
        },
      },
    },
  };
}

/** A node script that records its pid and then idles for 30 s (a `sleep 30` that says who it is). */
const writePidAndWait = (pidFile: string) =>
  `require('fs').writeFileSync(${JSON.stringify(pidFile)}, String(process.pid)); setTimeout(() => {}, 30000)`;

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe(startControlPlane.name, () => {
  let sut: ControlPlane;
  let kubelet: TestKubelet;
  let core: CoreV1Api;
  let batch: BatchV1Api;

  const jobCondition = (name: string, type: string) =>
    waitUntil(
      `Job ${name} condition ${type}`,
      async () => {
        const job = await batch.readNamespacedJob({ namespace: JOBS, name });
        return job.status?.conditions?.find((c) => c.type === type && c.status === 'True') ? job : undefined;
      },
      { timeoutMs: 25_000, intervalMs: 100 },
    );
  const podsOf = async (job: string): Promise<V1Pod[]> =>
    (await core.listNamespacedPod({ namespace: JOBS, labelSelector: `job-name=${job}` })).items;

  beforeAll(async () => {
    sut = await startControlPlane();
    const admin = sut.adminKubeConfig();
    core = admin.makeApiClient(CoreV1Api);
    batch = admin.makeApiClient(BatchV1Api);
    await sut.createNamespace(JOBS);
    kubelet = await startTestKubelet(admin, {
      namespaces: [JOBS],
      entrypoints: { 'registry.example/node-entrypoint': ['node'] },
    });
  }, 60_000);
  afterAll(async () => {
    await kubelet?.stop();
    await sut?.stop();
  });

  it('completes a Job through the Job controller and keeps its termination message in pod status', async () => {
    const script = `require('fs').writeFileSync(process.env.KRITIK_TERMINATION_LOG, '{"outcome":"posted"}')`;
    await batch.createNamespacedJob({ namespace: JOBS, body: nodeJob('writes-message', script) });

    await jobCondition('writes-message', 'Complete');

    const [pod] = await podsOf('writes-message');
    const terminated = pod?.status?.containerStatuses?.[0]?.state?.terminated;
    expect({ phase: pod?.status?.phase, exitCode: terminated?.exitCode, message: terminated?.message }).toEqual({
      phase: 'Succeeded',
      exitCode: 0,
      message: '{"outcome":"posted"}',
    });
  });

  it('marks a Job Failed when its container exits non-zero, with the log tail as message', async () => {
    const job = nodeJob('exits-3', `console.error('token budget exhausted'); process.exit(3)`);
    job.spec!.template.spec!.containers[0]!.terminationMessagePolicy = 'FallbackToLogsOnError';
    await batch.createNamespacedJob({ namespace: JOBS, body: job });

    await jobCondition('exits-3', 'Failed');

    const [pod] = await podsOf('exits-3');
    const terminated = pod?.status?.containerStatuses?.[0]?.state?.terminated;
    expect({ exitCode: terminated?.exitCode, reason: terminated?.reason, message: terminated?.message }).toEqual({
      exitCode: 3,
      reason: 'Error',
      message: 'token budget exhausted',
    });
  });

  it('resolves env from values, Secrets, ConfigMaps, envFrom and the downward API', async () => {
    await core.createNamespacedSecret({
      namespace: JOBS,
      body: { metadata: { name: 'env-secret' }, stringData: { TOKEN: 's3cr3t', FROM_SECRET: 'bulk' } },
    });
    await core.createNamespacedConfigMap({
      namespace: JOBS,
      body: { metadata: { name: 'env-config' }, data: { level: 'debug' } },
    });
    const names = ['PLAIN', 'EXPANDED', 'TOKEN_REF', 'LEVEL', 'FROM_SECRET', 'POD', 'NS'];
    const script = `require('fs').writeFileSync(process.env.KRITIK_TERMINATION_LOG, JSON.stringify(${JSON.stringify(names)}.map((n) => process.env[n])))`;
    const job = nodeJob('reads-env', script);
    job.spec!.template.spec!.containers[0]!.envFrom = [{ secretRef: { name: 'env-secret' } }];
    job.spec!.template.spec!.containers[0]!.env = [
      { name: 'PLAIN', value: 'a' },
      { name: 'EXPANDED', value: '$(PLAIN)-b' },
      { name: 'TOKEN_REF', valueFrom: { secretKeyRef: { name: 'env-secret', key: 'TOKEN' } } },
      { name: 'LEVEL', valueFrom: { configMapKeyRef: { name: 'env-config', key: 'level' } } },
      { name: 'POD', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
      { name: 'NS', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
    ];
    await batch.createNamespacedJob({ namespace: JOBS, body: job });

    await jobCondition('reads-env', 'Complete');

    const [pod] = await podsOf('reads-env');
    const message = pod?.status?.containerStatuses?.[0]?.state?.terminated?.message ?? '[]';
    expect(JSON.parse(message)).toEqual(['a', 'a-b', 's3cr3t', 'debug', 'bulk', pod?.metadata?.name, JOBS]);
  });

  it('holds a pod whose Secret is missing in CreateContainerConfigError until the Secret exists', async () => {
    const job = nodeJob('late-secret', `process.exit(process.env.KEY === 'v' ? 0 : 1)`);
    job.spec!.template.spec!.containers[0]!.env = [
      { name: 'KEY', valueFrom: { secretKeyRef: { name: 'late', key: 'key' } } },
    ];
    await batch.createNamespacedJob({ namespace: JOBS, body: job });
    const waiting = await waitUntil(
      'the pod to wait for its Secret',
      async () => (await podsOf('late-secret'))[0]?.status?.containerStatuses?.[0]?.state?.waiting,
      { timeoutMs: 15_000 },
    );

    await core.createNamespacedSecret({
      namespace: JOBS,
      body: { metadata: { name: 'late' }, stringData: { key: 'v' } },
    });

    await jobCondition('late-secret', 'Complete');
    expect(waiting).toEqual({ reason: 'CreateContainerConfigError', message: 'secret "late" not found (env KEY)' });
  });

  it("runs the local entrypoint registered for a container's image when it sets no command", async () => {
    const job = nodeJob('entrypoint', '');
    const container = job.spec!.template.spec!.containers[0]!;
    container.image = 'registry.example/node-entrypoint:1.0';
    container.command = undefined;
    container.args = ['-e', `require('fs').writeFileSync(process.env.KRITIK_TERMINATION_LOG, 'via entrypoint')`];
    await batch.createNamespacedJob({ namespace: JOBS, body: job });

    await jobCondition('entrypoint', 'Complete');

    const [pod] = await podsOf('entrypoint');
    expect(pod?.status?.containerStatuses?.[0]?.state?.terminated?.message).toBe('via entrypoint');
  });

  it('fails a pod whose container has neither a command nor a known entrypoint, saying so', async () => {
    const job = nodeJob('no-command', '');
    job.spec!.template.spec!.containers[0]!.command = undefined;
    await batch.createNamespacedJob({ namespace: JOBS, body: job });

    await jobCondition('no-command', 'Failed');

    const [pod] = await podsOf('no-command');
    const terminated = pod?.status?.containerStatuses?.[0]?.state?.terminated;
    expect({ reason: terminated?.reason, message: terminated?.message }).toEqual({
      reason: 'StartError',
      message: expect.stringContaining("image node:20 has no entry in the test kubelet's entrypoints"),
    });
  });

  it('serves container logs through the API server', async () => {
    await batch.createNamespacedJob({ namespace: JOBS, body: nodeJob('logs', `console.log('line one')`) });
    await jobCondition('logs', 'Complete');
    const [pod] = await podsOf('logs');

    const log = await core.readNamespacedPodLog({ namespace: JOBS, name: pod!.metadata!.name! });

    expect(log).toBe('line one\n');
  });

  it('fails a Job past activeDeadlineSeconds with DeadlineExceeded and kills its process', async () => {
    const pidFile = join(tmpdir(), `kritik-deadline-${randomUUID()}.pid`);
    const job = nodeJob('deadline', writePidAndWait(pidFile), { activeDeadlineSeconds: 2 });
    await batch.createNamespacedJob({ namespace: JOBS, body: job });

    const failed = await jobCondition('deadline', 'Failed');

    const reason = failed.status?.conditions?.find((c) => c.type === 'Failed')?.reason;
    const pid = Number(readFileSync(pidFile, 'utf8'));
    rmSync(pidFile);
    expect({ reason, alive: isAlive(pid) }).toEqual({ reason: 'DeadlineExceeded', alive: false });
  });

  it('kills the process of a running Job that is deleted', async () => {
    const pidFile = join(tmpdir(), `kritik-deleted-${randomUUID()}.pid`);
    await batch.createNamespacedJob({ namespace: JOBS, body: nodeJob('deleted', writePidAndWait(pidFile)) });
    const pid = await waitUntil('the pid file', async () => Number(readFileSync(pidFile, 'utf8')) || undefined, {
      timeoutMs: 15_000,
    });

    await batch.deleteNamespacedJob({ namespace: JOBS, name: 'deleted', propagationPolicy: 'Background' });

    await waitUntil(
      'the pods of the deleted Job to be gone',
      async () => (await podsOf('deleted')).length === 0 || undefined,
      {
        timeoutMs: 25_000,
      },
    );
    rmSync(pidFile);
    expect(isAlive(pid)).toBe(false);
  });

  it('kills its running processes when stopped', async () => {
    const namespace = 'stopping';
    await sut.createNamespace(namespace);
    const other = await startTestKubelet(sut.adminKubeConfig(), { namespaces: [namespace], nodeName: 'other-node' });
    const pidFile = join(tmpdir(), `kritik-stopped-${randomUUID()}.pid`);
    await batch.createNamespacedJob({ namespace, body: nodeJob('long', writePidAndWait(pidFile)) });
    const pid = await waitUntil('the pid file', async () => Number(readFileSync(pidFile, 'utf8')) || undefined, {
      timeoutMs: 15_000,
    });

    await other.stop();

    rmSync(pidFile);
    expect(isAlive(pid)).toBe(false);
  });

  it('garbage-collects a Secret owned by a Job once the Job is deleted', async () => {
    const job = await batch.createNamespacedJob({
      namespace: JOBS,
      body: nodeJob('owner', '', { suspend: true }),
    });
    const owner = { apiVersion: 'batch/v1', kind: 'Job', name: 'owner', uid: job.metadata!.uid!, controller: true };
    await core.createNamespacedSecret({
      namespace: JOBS,
      body: { metadata: { name: 'owned', ownerReferences: [owner] }, stringData: { k: 'v' } },
    });

    await batch.deleteNamespacedJob({ namespace: JOBS, name: 'owner', propagationPolicy: 'Background' });

    const gone = await waitUntil(
      'the owned Secret to be garbage-collected',
      () =>
        core.readNamespacedSecret({ namespace: JOBS, name: 'owned' }).then(
          () => undefined,
          (error: unknown) => (apiStatus(error) === 404 ? true : undefined),
        ),
      { timeoutMs: 25_000 },
    );
    expect(gone).toBe(true);
  });

  it('writes every pod status without errors of its own', () => {
    expect(kubelet.errors).toEqual([]);
  });

  describe('with pod-security.kubernetes.io/enforce=restricted', () => {
    const namespace = 'restricted';
    const pod = (name: string, securityContext: object, podSecurityContext: object = {}): V1Pod => ({
      metadata: { name },
      spec: {
        securityContext: podSecurityContext,
        containers: [{ name: 'main', image: 'busybox', command: ['true'], securityContext }],
      },
    });

    beforeAll(async () => {
      await sut.createNamespace(namespace, { 'pod-security.kubernetes.io/enforce': 'restricted' });
    });

    it('rejects a privileged pod', async () => {
      const privileged = pod('privileged', { privileged: true });

      const error = await core.createNamespacedPod({ namespace, body: privileged }).catch((e: unknown) => e);

      expect({ status: apiStatus(error), message: apiMessage(error) }).toEqual({
        status: 403,
        message: expect.stringContaining('violates PodSecurity "restricted:latest"'),
      });
    });

    it('admits a restricted pod', async () => {
      const restricted = pod(
        'restricted',
        { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
        { runAsNonRoot: true, runAsUser: 1000, seccompProfile: { type: 'RuntimeDefault' } },
      );

      const created = await core.createNamespacedPod({ namespace, body: restricted });

      expect(created.metadata?.uid).toBeTruthy();
    });
  });

  describe('as a ServiceAccount whose Role lacks delete on jobs', () => {
    const namespace = 'rbac';
    let jobs: BatchV1Api;

    beforeAll(async () => {
      await sut.createNamespace(namespace);
      const rbac = sut.adminKubeConfig().makeApiClient(RbacAuthorizationV1Api);
      await rbac.createNamespacedRole({
        namespace,
        body: {
          metadata: { name: 'job-maker' },
          rules: [{ apiGroups: ['batch'], resources: ['jobs'], verbs: ['create', 'get', 'list'] }],
        },
      });
      await rbac.createNamespacedRoleBinding({
        namespace,
        body: {
          metadata: { name: 'job-maker' },
          roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'job-maker' },
          subjects: [{ kind: 'ServiceAccount', name: 'maker', namespace }],
        },
      });
      jobs = (await sut.kubeConfigFor(namespace, 'maker')).makeApiClient(BatchV1Api);
    });

    it('may create a Job', async () => {
      const created = await jobs.createNamespacedJob({ namespace, body: nodeJob('allowed', '', { suspend: true }) });

      expect(created.metadata?.name).toBe('allowed');
    });

    it('gets 403 when deleting a Job', async () => {
      const error = await jobs.deleteNamespacedJob({ namespace, name: 'allowed' }).catch((e: unknown) => e);

      expect(apiStatus(error)).toBe(403);
    });
  });
});
