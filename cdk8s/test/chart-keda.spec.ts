// The worker's KEDA scaling as helm renders it: what the ScaledObject counts and where it connects,
// and that the lists it names are the ones BullMQ fills on a real redis-server.
import { QUEUE_PREFIX, REVIEWS_QUEUE } from '@kritik/core';
import { startRedis, type TestRedis, waitUntil } from '@kritik/testing';
import { schedulingSettingsSchema } from '@kritik/worker';
import type { V1Deployment } from '@kubernetes/client-node';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { findManifest, type Manifest, render, scenario } from './chart.js';

interface Trigger {
  type: string;
  name: string;
  metadata: Record<string, string>;
  authenticationRef?: { name: string };
}
interface ScaledObjectSpec {
  scaleTargetRef: { kind: string; name: string };
  minReplicaCount: number;
  maxReplicaCount: number;
  advanced: { scalingModifiers: { formula: string; target: string; metricType: string } };
  triggers: Trigger[];
}

const KEDA = scenario('keda-values.yaml');
const specOf = (manifests: Manifest[]) => findManifest(manifests, 'ScaledObject', '-worker').spec as ScaledObjectSpec;
const renderKeda = (set: string[] = []) => render({ valuesFiles: [KEDA], set });

describe('the KEDA ScaledObject of the worker', () => {
  it('scales the worker Deployment on the sum of waiting and running reviews', async () => {
    const manifests = await renderKeda();

    const sut = specOf(manifests);

    expect(sut).toMatchObject({
      scaleTargetRef: { kind: 'Deployment', name: 'kritik-worker' },
      minReplicaCount: 1,
      maxReplicaCount: 4,
      advanced: { scalingModifiers: { formula: 'waiting + running', target: '5', metricType: 'AverageValue' } },
    });
    expect(sut.triggers.map((t) => [t.type, t.name, t.metadata.listName])).toEqual([
      ['redis', 'waiting', 'bull:reviews:wait'],
      ['redis', 'running', 'bull:reviews:active'],
    ]);
  });

  it('leaves the replica count of the worker to KEDA and renders no HorizontalPodAutoscaler of its own', async () => {
    const manifests = await renderKeda();

    const sut = findManifest<V1Deployment>(manifests, 'Deployment', '-worker').spec;

    expect([sut?.replicas, manifests.filter((m) => m.kind === 'HorizontalPodAutoscaler')]).toEqual([undefined, []]);
  });

  it('renders nothing for KEDA when it is off', async () => {
    const manifests = await render({ valuesFiles: [scenario('minimal-values.yaml')] });

    const sut = manifests.filter((m) => m.apiVersion.startsWith('keda.sh/'));

    expect(sut).toEqual([]);
  });

  it.each([
    ['listLength', ['worker.autoscaling.keda.listLength=3'], '3'],
    ['scheduling.concurrency without replicaConcurrency', ['worker.config.scheduling.replicaConcurrency=null'], '20'],
  ])('aims each replica at %s', async (_, set, target) => {
    const sut = specOf(await renderKeda(set));

    expect([sut.advanced.scalingModifiers.target, ...sut.triggers.map((t) => t.metadata.listLength)]).toEqual([
      target,
      target,
      target,
    ]);
  });

  it("aims each replica at the worker's own default concurrency when its config names none", async () => {
    const manifests = await render({
      valuesFiles: [scenario('minimal-values.yaml')],
      set: ['worker.autoscaling.keda.enabled=true'],
    });
    const target = String(schedulingSettingsSchema.parse({}).concurrency);

    const sut = specOf(manifests);

    expect([sut.advanced.scalingModifiers.target, ...sut.triggers.map((t) => t.metadata.listLength)]).toEqual([
      target,
      target,
      target,
    ]);
  });

  it('reaches the bundled Redis by its Service with its generated password', async () => {
    const manifests = await renderKeda();

    const sut = {
      triggers: specOf(manifests).triggers.map((t) => [t.metadata.address, t.metadata.enableTLS, t.authenticationRef]),
      auth: findManifest(manifests, 'TriggerAuthentication').spec,
    };

    const ref = { name: 'kritik-worker-redis' };
    expect(sut).toEqual({
      triggers: [
        ['kritik-redis.kritik.svc:6379', 'false', ref],
        ['kritik-redis.kritik.svc:6379', 'false', ref],
      ],
      auth: { secretTargetRef: [{ parameter: 'password', name: 'kritik-redis', key: 'password' }] },
    });
  });

  it('reaches an external Redis by host with TLS, its ACL user and the password Secret', async () => {
    const manifests = await renderKeda([
      'redis.enabled=false',
      'externalRedis.host=redis.example.internal',
      'externalRedis.port=6380',
      'externalRedis.tls=true',
      'externalRedis.database=3',
      'externalRedis.username=kritik',
      'externalRedis.existingSecret=managed-redis',
      'externalRedis.existingSecretPasswordKey=pw',
    ]);

    const sut = {
      metadata: specOf(manifests).triggers[0]?.metadata,
      auth: findManifest(manifests, 'TriggerAuthentication').spec,
    };

    expect(sut).toEqual({
      metadata: {
        address: 'redis.example.internal:6380',
        enableTLS: 'true',
        databaseIndex: '3',
        username: 'kritik',
        listName: 'bull:reviews:wait',
        listLength: '5',
      },
      auth: { secretTargetRef: [{ parameter: 'password', name: 'managed-redis', key: 'pw' }] },
    });
  });

  it('reads address, TLS, database and user of an external Redis from its URL, with no password', async () => {
    const manifests = await renderKeda([
      'redis.enabled=false',
      'externalRedis.url=rediss://kritik@redis.example.com/2',
    ]);

    const sut = {
      trigger: specOf(manifests).triggers[0],
      auths: manifests.filter((m) => m.kind === 'TriggerAuthentication'),
    };

    expect(sut).toEqual({
      trigger: {
        type: 'redis',
        name: 'waiting',
        metadata: {
          address: 'redis.example.com:6379',
          enableTLS: 'true',
          databaseIndex: '2',
          username: 'kritik',
          listName: 'bull:reviews:wait',
          listLength: '5',
        },
      },
      auths: [],
    });
  });

  it('takes the password of a URL-addressed Redis from its Secret, as the worker does (REDIS_URL holds none)', async () => {
    const manifests = await renderKeda([
      'redis.enabled=false',
      'externalRedis.url=redis://redis.example.com:6380',
      'externalRedis.tls=true',
      'externalRedis.existingSecret=managed-redis',
    ]);

    const sut = {
      tls: specOf(manifests).triggers[0]?.metadata.enableTLS,
      auth: manifests.find((m) => m.kind === 'TriggerAuthentication')?.spec,
    };

    expect(sut).toEqual({
      tls: 'true',
      auth: { secretTargetRef: [{ parameter: 'password', name: 'managed-redis', key: 'redis-password' }] },
    });
  });
});

describe("the NetworkPolicy for KEDA's operator", () => {
  const policies = async (set: string[]) =>
    (await renderKeda(set)).filter((m) => m.kind === 'NetworkPolicy' && m.metadata.name.endsWith('-redis-keda'));

  it('admits the operator to the bundled Redis port only', async () => {
    const [sut] = await policies([]);

    expect(sut?.spec).toEqual({
      podSelector: { matchLabels: expect.objectContaining({ 'app.kubernetes.io/component': 'redis' }) },
      policyTypes: ['Ingress'],
      ingress: [
        {
          from: [
            {
              namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'keda' } },
              podSelector: { matchLabels: { app: 'keda-operator' } },
            },
          ],
          ports: [{ protocol: 'TCP', port: 6379 }],
        },
      ],
    });
  });

  it.each([
    ['an external Redis', ['redis.enabled=false', 'externalRedis.host=redis.example.internal']],
    ['NetworkPolicies off', ['networkPolicy.enabled=false']],
  ])('is not rendered with %s', async (_, set) => {
    const sut = await policies(set);

    expect(sut).toEqual([]);
  });
});

describe('the lists the ScaledObject counts, on a real redis-server', () => {
  let redis: TestRedis;
  let client: Redis;
  let lists: Record<string, string>;

  beforeAll(async () => {
    redis = await startRedis();
    client = new Redis(redis.url, { maxRetriesPerRequest: null });
    lists = Object.fromEntries(specOf(await renderKeda()).triggers.map((t) => [t.name, t.metadata.listName ?? '']));
  });
  afterAll(async () => {
    client?.disconnect();
    await redis?.stop();
  });

  const depth = async () => ({
    waiting: await client.llen(lists.waiting!),
    running: await client.llen(lists.running!),
  });

  it('holds a review enqueued with BullMQ in the waiting list, then in the running list while it runs', async () => {
    const queue = new Queue(REVIEWS_QUEUE, { connection: client, prefix: QUEUE_PREFIX });
    let finish: () => void = () => {};
    const running = new Promise<void>((resolve) => {
      finish = resolve;
    });
    let worker: Worker | undefined;
    let consumer: Redis | undefined;
    try {
      await queue.add('review', { pr: 1 });
      const enqueued = await depth();

      consumer = new Redis(redis.url, { maxRetriesPerRequest: null });
      worker = new Worker(REVIEWS_QUEUE, () => running, { connection: consumer, prefix: QUEUE_PREFIX });
      const taken = await waitUntil(
        'the review to be taken',
        async () => {
          const d = await depth();
          return d.running === 1 ? d : undefined;
        },
        { timeoutMs: 10_000 },
      );
      finish();

      expect({ enqueued, taken }).toEqual({ enqueued: { waiting: 1, running: 0 }, taken: { waiting: 0, running: 1 } });
    } finally {
      finish();
      await worker?.close();
      consumer?.disconnect();
      await queue.close();
    }
  });
});
