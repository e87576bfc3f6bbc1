import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ENV, permissionResource, REQUIRED_PERMISSIONS, reviewJobSettingsSchema } from '@kritik/core';
import { expandVars, resolveContainerEnv, startRedis } from '@kritik/testing';
import { loadWorkerConfig } from '@kritik/worker';
import type {
  V1ConfigMap,
  V1Deployment,
  V1EnvVar,
  V1NetworkPolicy,
  V1Role,
  V1Secret,
  V2HorizontalPodAutoscaler,
} from '@kubernetes/client-node';
import { Redis } from 'ioredis';
import { parse } from 'yaml';
import { REDIS_CA_DIR } from '../src/chart/env.js';
import {
  CHART_DIR,
  FIXTURES,
  findManifest,
  helm,
  type Manifest,
  render,
  SCENARIOS,
  scenario,
  templateArgs,
} from './chart.js';

const BAD_VALUES = join(FIXTURES, 'bad-values');
const PEM = '-----BEGIN RSA PRIVATE KEY-----\nplaceholder\n-----END RSA PRIVATE KEY-----\n';
const CA_PEM = '-----BEGIN CERTIFICATE-----\nplaceholder\n-----END CERTIFICATE-----\n';
const badValues = readdirSync(BAD_VALUES).filter((file) => file.endsWith('.yaml'));

/** The first line of each bad values file says what helm must answer: `# expect: <text>`. */
function expected(file: string): string {
  const first = readFileSync(join(BAD_VALUES, file), 'utf8').split('\n')[0] ?? '';
  const match = /^# expect: (.+)$/.exec(first);
  if (!match?.[1]) throw new Error(`${file} must start with '# expect: <message>'`);
  return match[1];
}

const configOf = (manifests: Manifest[], component: 'backend' | 'worker' = 'worker') => {
  const configMap = findManifest<V1ConfigMap>(manifests, 'ConfigMap', '-config');
  return parse(configMap.data?.[`${component}.yaml`] ?? '') as { reviewJob?: unknown; [key: string]: unknown };
};

const containerOf = (manifests: Manifest[], component: string) =>
  findManifest<V1Deployment>(manifests, 'Deployment', `-${component}`).spec!.template.spec!.containers[0]!;

const envOf = (manifests: Manifest[], component: string): V1EnvVar[] => containerOf(manifests, component).env ?? [];

const APP_VERSION = (parse(readFileSync(join(CHART_DIR, 'Chart.yaml'), 'utf8')) as { appVersion: string }).appVersion;

describe('values.schema.json', () => {
  it.each(badValues)('rejects %s naming the offending key', async (file) => {
    const sut = await helm(['template', ...templateArgs({ valuesFiles: [join(BAD_VALUES, file)] })]);

    expect([sut.code, sut.stderr]).toEqual([1, expect.stringContaining(expected(file))]);
  });

  it.each(SCENARIOS)('accepts the scenario %s', async (file) => {
    const sut = await helm(['template', ...templateArgs({ valuesFiles: [scenario(file)] })]);

    expect([sut.code, sut.stderr]).toEqual([0, '']);
  });
});

describe('the rendered config file', () => {
  it.each(SCENARIOS)('holds review Job settings the worker accepts in %s', async (file) => {
    const manifests = await render({ valuesFiles: [scenario(file)] });

    const sut = reviewJobSettingsSchema.safeParse(configOf(manifests).reviewJob);

    expect(sut.error?.issues ?? []).toEqual([]);
  });

  it('carries the review Job values into the settings', async () => {
    const manifests = await render({ valuesFiles: [scenario('production-values.yaml')] });

    const sut = reviewJobSettingsSchema.parse(configOf(manifests).reviewJob);

    expect(sut).toMatchObject({
      image: 'ghcr.io/kritik-dev/kritik-reviewer:0.1.0',
      activeDeadlineSeconds: 900,
      tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'reviews', effect: 'NoSchedule' }],
      imagePullSecrets: ['ghcr-pull'],
      anthropicSecretName: 'kritik-anthropic',
      env: { NODE_OPTIONS: '--max-old-space-size=384' },
      labels: { 'app.kubernetes.io/instance': 'kritik' },
    });
  });

  it.each([
    ['with the gateway', [], 'kritik'],
    ['without the gateway', ['anthropic.gateway=false'], 'kritik-jobs'],
  ])('keeps the Anthropic Secret beside its only reader %s', async (_how, set, namespace) => {
    const manifests = await render({ valuesFiles: [scenario('minimal-values.yaml')], set });
    const settings = reviewJobSettingsSchema.parse(configOf(manifests).reviewJob);

    const sut = manifests
      .filter((m) => m.metadata.namespace === 'kritik-jobs')
      .map((m) => `${m.kind}/${m.metadata.name}`);
    const secret = findManifest<V1Secret>(manifests, 'Secret', '-anthropic');

    expect(sut).toContain(`ServiceAccount/${settings.serviceAccountName}`);
    expect([secret.metadata?.name, secret.metadata?.namespace]).toEqual([settings.anthropicSecretName, namespace]);
  });

  it("merges the worker's free-form settings beside reviewJob", async () => {
    const manifests = await render({ set: ['worker.config.scheduling.concurrency=5'] });

    const sut = configOf(manifests, 'worker');

    expect([sut.scheduling, sut.reviewJob]).toEqual([{ concurrency: 5 }, expect.any(Object)]);
  });

  it("keeps the backend's settings in the backend's own file", async () => {
    const manifests = await render({ set: ['backend.config.allow.repos={acme/*}'] });

    const sut = [configOf(manifests, 'backend'), configOf(manifests, 'worker').allow];

    expect(sut).toEqual([{ allow: { repos: ['acme/*'] } }, undefined]);
  });

  it.each([
    ['worker.replicaCount=3', [false, false]],
    ['reviewJob.ttlSecondsAfterFinished=60', [false, true]],
    ['backend.config.queue.debounceMs=500', [true, false]],
  ])('after %s, rolls the backend and worker pods: %j', async (change, expected) => {
    const checksums = (manifests: Manifest[]) =>
      (['backend', 'worker'] as const).map(
        (c) =>
          findManifest<V1Deployment>(manifests, 'Deployment', `-${c}`).spec!.template.metadata!.annotations![
            'checksum/config'
          ],
      );
    const before = checksums(await render());

    const sut = checksums(await render({ set: [change] })).map((checksum, i) => checksum !== before[i]);

    expect(sut).toEqual(expected);
  });
});

describe('the worker', () => {
  it.each(SCENARIOS)('accepts the environment and config file the chart gives it in %s', async (file) => {
    const manifests = await render({ valuesFiles: [scenario(file)] });
    const deployment = findManifest<V1Deployment>(manifests, 'Deployment', '-worker');
    const rendered = (kind: string, name: string) => manifests.find((m) => m.kind === kind && m.metadata.name === name);
    const decoded = (data: unknown) =>
      Object.fromEntries(Object.entries(data ?? {}).map(([k, v]) => [k, Buffer.from(String(v), 'base64').toString()]));
    // Secrets the scenario names but does not create stand in with placeholder values.
    const existing: Record<string, Record<string, string>> = {
      'kritik-github': { 'app-id': '42', 'private-key': PEM, 'webhook-secret': 'w' },
      'kritik-redis': { 'redis-password': 'p', 'sentinel-password': 's' },
      'kritik-redis-ca': { 'ca.crt': CA_PEM },
      'kritik-gitlab': { token: 'glpat-placeholder', 'webhook-secret': 'w' },
    };
    const env = await resolveContainerEnv(
      { metadata: { namespace: 'kritik' }, spec: deployment.spec!.template.spec },
      deployment.spec!.template.spec!.containers[0]!,
      {
        secret: async (_ns, name) =>
          rendered('Secret', name) ? decoded(rendered('Secret', name)?.data) : existing[name],
        configMap: async (_ns, name) => rendered('ConfigMap', name)?.data as Record<string, string> | undefined,
      },
    );
    const dir = mkdtempSync(join(tmpdir(), 'kritik-worker-config-'));
    const configFile = join(dir, 'worker.yaml');
    writeFileSync(configFile, findManifest<V1ConfigMap>(manifests, 'ConfigMap', '-config').data?.['worker.yaml'] ?? '');
    // The CA Secret's volume, mounted where the pod would have it.
    const caFile = env[ENV.redisCaFile];
    if (caFile?.startsWith(`${REDIS_CA_DIR}/`)) {
      const volume = deployment.spec!.template.spec!.volumes!.find((v) => v.name === 'redis-ca')!;
      const mounted = join(dir, caFile.slice(REDIS_CA_DIR.length + 1));
      writeFileSync(mounted, existing[volume.secret!.secretName!]![caFile.slice(REDIS_CA_DIR.length + 1)]!);
      env[ENV.redisCaFile] = mounted;
    }

    const sut = loadWorkerConfig(env, configFile);
    rmSync(dir, { recursive: true, force: true });

    expect(sut).toMatchObject({ runner: 'kubernetes', port: 8081, kubernetes: { namespace: expect.any(String) } });
  });
});

describe('the model provider', () => {
  it('gives the worker its provider, catalogue and fallback, and its ServiceAccount the IRSA role', async () => {
    const manifests = await render({ valuesFiles: [scenario('bedrock-values.yaml')] });
    const env = Object.fromEntries(envOf(manifests, 'worker').map((e) => [e.name, e.value]));
    const accounts = manifests.filter((m) => m.kind === 'ServiceAccount');

    expect(env).toMatchObject({
      [ENV.modelProvider]: 'bedrock',
      [ENV.modelRegion]: 'eu-central-1',
      [ENV.fallbackModel]: 'claude-haiku-4-5',
      [ENV.modelMaxConcurrency]: '8',
    });
    expect(JSON.parse(env[ENV.modelCatalogue]!)).toEqual({
      'claude-sonnet-5-5': {
        ids: { bedrock: 'eu.anthropic.claude-sonnet-5-5-v1:0' },
        price: { input: 1.8, output: 9 },
      },
    });
    expect(accounts.find((m) => m.metadata.name.endsWith('-worker'))?.metadata.annotations).toEqual({
      'eks.amazonaws.com/role-arn': 'arn:aws:iam::123456789012:role/kritik-worker-bedrock',
    });
    expect(accounts.find((m) => m.metadata.name.endsWith('-reviewer'))?.metadata.annotations).toBeUndefined();
    expect(JSON.stringify(manifests.filter((m) => m.kind === 'Secret'))).not.toContain('ANTHROPIC_API_KEY');
  });

  it('annotates the review Jobs ServiceAccount for GKE Workload Identity when Jobs call Vertex themselves', async () => {
    const manifests = await render({ valuesFiles: [scenario('vertex-direct-values.yaml')] });
    const reviewer = manifests.find((m) => m.kind === 'ServiceAccount' && m.metadata.name.endsWith('-reviewer'));

    expect(reviewer?.metadata.annotations).toEqual({
      'iam.gke.io/gcp-service-account': 'kritik-reviewer@acme-reviews.iam.gserviceaccount.com',
    });
  });

  it('lets only the pods that call the provider reach its workload identity endpoint', async () => {
    const egressOf = (manifests: Manifest[], name: string) =>
      JSON.stringify(manifests.find((m) => m.kind === 'NetworkPolicy' && m.metadata.name.endsWith(name)));
    const bedrock = await render({ valuesFiles: [scenario('bedrock-values.yaml')] });
    const vertex = await render({ valuesFiles: [scenario('vertex-direct-values.yaml')] });
    const anthropic = await render({ valuesFiles: [scenario('minimal-values.yaml')] });

    expect(egressOf(bedrock, '-worker')).toContain('169.254.170.23/32');
    expect(egressOf(bedrock, '-reviewer')).not.toContain('169.254.170.23/32');
    expect(egressOf(vertex, '-reviewer')).toContain('169.254.169.252/32');
    expect(egressOf(vertex, '-reviewer')).not.toContain('169.254.170.23/32');
    expect(egressOf(anthropic, '-worker')).not.toMatch(/169\.254\.(170\.23|169\.25[24])\/32/);
  });

  it('refuses a provider it does not know', async () => {
    await expect(render({ set: ['model.provider=azure'] })).rejects.toThrow(
      /at '\/model\/provider': value must be one of 'anthropic', 'bedrock', 'vertex'/,
    );
  });
});

describe('the bundled Redis', () => {
  it('requires the generated password, which backend and worker connect with', async () => {
    const manifests = await render();
    const rendered = (kind: string, name: string) => manifests.find((m) => m.kind === kind && m.metadata.name === name);
    const sources = {
      secret: async (_ns: string, name: string) =>
        Object.fromEntries(
          Object.entries(rendered('Secret', name)?.data ?? {}).map(([k, v]) => [
            k,
            Buffer.from(String(v), 'base64').toString(),
          ]),
        ),
      configMap: async () => undefined,
    };
    const envOf = async (component: string) => {
      const spec = findManifest<V1Deployment>(manifests, 'Deployment', `-${component}`).spec!.template.spec!;
      return {
        env: await resolveContainerEnv({ metadata: { namespace: 'kritik' }, spec }, spec.containers[0]!, sources),
        spec,
      };
    };
    const redisPod = await envOf('redis');
    const args = redisPod.spec.containers[0]!.args!.map((a) => expandVars(a, redisPod.env));
    const password = args[args.indexOf('--requirepass') + 1]!;
    expect(password).toMatch(/^[A-Za-z0-9]{40}$/);

    const server = await startRedis({ extraArgs: ['--requirepass', password] });
    try {
      for (const component of ['backend', 'worker']) {
        const { env } = await envOf(component);
        const url = new URL(env[ENV.redisUrl]!);
        url.host = `${server.host}:${server.port}`;
        // As the services do: the URL names the server, KRITIK_REDIS_PASSWORD is the password.
        const client = new Redis(url.toString(), {
          lazyConnect: true,
          maxRetriesPerRequest: 0,
          password: env[ENV.redisPassword],
        });
        try {
          expect(await client.ping()).toBe('PONG');
        } finally {
          client.disconnect();
        }
      }
      const anonymous = new Redis(server.url, { lazyConnect: true, maxRetriesPerRequest: 0 });
      anonymous.on('error', () => undefined);
      await expect(anonymous.ping()).rejects.toThrow(/NOAUTH/);
      anonymous.disconnect();
    } finally {
      await server.stop();
    }
  });
});

describe('the rendered workloads', () => {
  it('default the image tag to the chart appVersion', async () => {
    const sut = containerOf(await render(), 'backend').image;

    expect(sut).toBe(`ghcr.io/kritik-dev/kritik-backend:${APP_VERSION}`);
  });

  it('use the image digest instead of the tag when one is set', async () => {
    const sut = containerOf(await render({ valuesFiles: [scenario('production-values.yaml')] }), 'worker').image;

    expect(sut).toBe(`ghcr.io/kritik-dev/kritik-worker@sha256:${'0'.repeat(64)}`);
  });

  const redisEnvOf = (manifests: Manifest[], component: string) =>
    envOf(manifests, component).filter((e) => e.name === ENV.redisUrl || e.name.startsWith('KRITIK_REDIS_'));

  it('build REDIS_URL from host and port, with no password in it: that comes from its Secret', async () => {
    const sut = redisEnvOf(await render({ valuesFiles: [scenario('production-values.yaml')] }), 'worker');

    expect(sut).toEqual([
      { name: ENV.redisUrl, value: 'rediss://redis.example.internal:6380/0' },
      { name: ENV.redisTls, value: 'true' },
      { name: ENV.redisPassword, valueFrom: { secretKeyRef: { name: 'kritik-redis', key: 'redis-password' } } },
    ]);
  });

  it('point REDIS_URL at the bundled Redis and give its generated password by default', async () => {
    const sut = redisEnvOf(await render(), 'backend');

    expect(sut).toEqual([
      { name: ENV.redisPassword, valueFrom: { secretKeyRef: { name: 'kritik-redis', key: 'password' } } },
      { name: ENV.redisUrl, value: 'redis://kritik-redis:6379' },
    ]);
  });

  it.each(['backend', 'worker'])(
    'give the %s the sentinels, ACL user, TLS, both passwords and the mounted CA, and no REDIS_URL',
    async (component) => {
      const manifests = await render({ valuesFiles: [scenario('sentinel-values.yaml')] });
      const pod = findManifest<V1Deployment>(manifests, 'Deployment', `-${component}`).spec!.template.spec!;

      const sut = redisEnvOf(manifests, component);

      const sentinels = [0, 1, 2].map((i) => `redis-sentinel-${i}.redis.svc.cluster.local:26379`).join(',');
      expect(sut).toEqual([
        { name: ENV.redisSentinels, value: sentinels },
        { name: ENV.redisSentinelName, value: 'kritik' },
        { name: ENV.redisDb, value: '0' },
        { name: ENV.redisTls, value: 'true' },
        { name: ENV.redisUsername, value: 'kritik' },
        { name: ENV.redisPassword, valueFrom: { secretKeyRef: { name: 'kritik-redis', key: 'redis-password' } } },
        {
          name: ENV.redisSentinelPassword,
          valueFrom: { secretKeyRef: { name: 'kritik-redis', key: 'sentinel-password' } },
        },
        { name: ENV.redisCaFile, value: `${REDIS_CA_DIR}/ca.crt` },
      ]);
      expect(pod.volumes).toContainEqual({ name: 'redis-ca', secret: { secretName: 'kritik-redis-ca' } });
      expect(pod.containers[0]!.volumeMounts).toContainEqual({
        name: 'redis-ca',
        mountPath: REDIS_CA_DIR,
        readOnly: true,
      });
    },
  );

  it('let backend and worker reach the data port and every sentinel port through their NetworkPolicies', async () => {
    const manifests = await render({
      valuesFiles: [scenario('sentinel-values.yaml')],
      set: ['externalRedis.sentinels={a:26379,b:26380,c:26379}'],
    });
    const egressPorts = (component: string) =>
      manifests
        .filter((m) => m.kind === 'NetworkPolicy' && m.metadata.name.endsWith(`-${component}`))
        .flatMap((m) => (m as unknown as V1NetworkPolicy).spec!.egress ?? [])
        .filter((rule) => rule.to?.some((peer) => peer.ipBlock?.cidr === '10.3.0.0/16'))
        .flatMap((rule) => rule.ports!.map((p) => p.port));

    expect(['backend', 'worker'].map(egressPorts)).toEqual([
      [6379, 26379, 26380],
      [6379, 26379, 26380],
    ]);
  });

  it('give the worker the App key and the backend none by default', async () => {
    const manifests = await render();

    const sut = ['worker', 'backend'].map((c) => envOf(manifests, c).some((e) => e.name === ENV.githubAppPrivateKey));

    expect(sut).toEqual([true, false]);
  });

  it('give the Anthropic key to the worker only, and only for its gateway', async () => {
    const gateway = await render({ valuesFiles: [scenario('production-values.yaml')] });
    const direct = await render({
      valuesFiles: [scenario('production-values.yaml')],
      set: ['anthropic.gateway=false'],
    });

    const keyOf = (manifests: Manifest[], c: string) => envOf(manifests, c).find((e) => e.name === ENV.anthropicApiKey);
    const worker = Object.fromEntries(envOf(gateway, 'worker').map((e) => [e.name, e.value]));

    expect(keyOf(gateway, 'worker')?.valueFrom).toEqual({
      secretKeyRef: { name: 'kritik-anthropic', key: ENV.anthropicApiKey, optional: true },
    });
    expect(worker).toMatchObject({
      [ENV.gatewayUrl]: 'http://kritik-worker.kritik.svc:8082',
      [ENV.gatewayPort]: '8082',
      [ENV.anthropicBaseUrl]: 'https://llm-proxy.example.com',
    });
    expect([keyOf(gateway, 'backend'), keyOf(direct, 'worker'), keyOf(direct, 'backend')]).toEqual([
      undefined,
      undefined,
      undefined,
    ]);
    expect(envOf(direct, 'worker').map((e) => e.name)).not.toContain(ENV.gatewayUrl);
  });

  it('starts a worker whose gateway URL is its own Service port', async () => {
    const manifests = await render();
    const service = findManifest<Manifest & { spec: { ports: { name: string; port: number }[] } }>(
      manifests,
      'Service',
      '-worker',
    );
    const url = new URL(envOf(manifests, 'worker').find((e) => e.name === ENV.gatewayUrl)!.value!);

    expect(url.hostname).toBe(`${service.metadata.name}.${service.metadata.namespace ?? 'kritik'}.svc`);
    expect(service.spec.ports).toContainEqual(expect.objectContaining({ name: 'gateway', port: Number(url.port) }));
  });

  it('run the worker against the jobs namespace with the Kubernetes runner', async () => {
    const env = envOf(await render({ valuesFiles: [scenario('production-values.yaml')] }), 'worker');

    const sut = Object.fromEntries(env.map((e) => [e.name, e.value]));

    expect(sut).toMatchObject({
      [ENV.runner]: 'kubernetes',
      [ENV.jobsNamespace]: 'kritik-reviews',
      [ENV.port]: '8081',
    });
  });

  it('omit replicas when autoscaling is on', async () => {
    const manifests = await render({ valuesFiles: [scenario('production-values.yaml')] });

    const sut = ['backend', 'worker'].map(
      (c) => findManifest<V1Deployment>(manifests, 'Deployment', `-${c}`).spec!.replicas,
    );

    expect(sut).toEqual([undefined, undefined]);
  });

  it('scale on CPU and memory, up fast and down slowly', async () => {
    const manifests = await render({ set: ['backend.autoscaling.enabled=true'] });

    const sut = findManifest<V2HorizontalPodAutoscaler>(manifests, 'HorizontalPodAutoscaler', '-backend').spec!;

    expect(sut.metrics?.map((m) => m.resource?.name)).toEqual(['cpu', 'memory']);
    expect(sut.behavior).toMatchObject({
      scaleUp: { stabilizationWindowSeconds: 0 },
      scaleDown: { stabilizationWindowSeconds: 300, policies: [{ type: 'Percent', value: 50, periodSeconds: 60 }] },
    });
  });
});

describe('GitLab and the CA bundle', () => {
  const gitlabEnv = (manifests: Manifest[], component: string) =>
    envOf(manifests, component)
      .filter((e) => e.name.startsWith('GITLAB_') || e.name === ENV.extraCaCerts)
      .map((e) => [e.name, e.value ?? e.valueFrom?.secretKeyRef]);

  it("give the worker GitLab's URL and token and the backend its webhook secret, from gitlab.existingSecret", async () => {
    const manifests = await render({ valuesFiles: [scenario('gitlab-values.yaml')] });

    expect(gitlabEnv(manifests, 'worker')).toEqual([
      [ENV.extraCaCerts, '/etc/kritik/ca/ca.crt'],
      [ENV.gitlabUrl, 'https://gitlab.internal.example.com'],
      [ENV.gitlabToken, { name: 'kritik-gitlab', key: 'token' }],
    ]);
    expect(gitlabEnv(manifests, 'backend')).toEqual([
      [ENV.extraCaCerts, '/etc/kritik/ca/ca.crt'],
      [ENV.gitlabUrl, 'https://gitlab.internal.example.com'],
      [ENV.gitlabWebhookSecret, { name: 'kritik-gitlab', key: 'webhook-secret' }],
    ]);
  });

  it('give nothing of GitLab to anyone while it is disabled', async () => {
    const manifests = await render();
    expect([gitlabEnv(manifests, 'worker'), gitlabEnv(manifests, 'backend')]).toEqual([[], []]);
  });

  it('mount the CA bundle into backend and worker, and hand it to review Jobs through the config file', async () => {
    const manifests = await render({ set: ['caBundle.secret=internal-ca', 'caBundle.key=root.pem'] });
    const volumes = findManifest<V1Deployment>(manifests, 'Deployment', '-backend').spec!.template.spec!.volumes;

    expect(volumes).toContainEqual({
      name: 'ca-bundle',
      secret: { secretName: 'internal-ca', items: [{ key: 'root.pem', path: 'root.pem' }] },
    });
    expect(containerOf(manifests, 'worker').volumeMounts).toContainEqual({
      name: 'ca-bundle',
      mountPath: '/etc/kritik/ca',
      readOnly: true,
    });
    expect(configOf(manifests).reviewJob).toMatchObject({
      caBundle: { secret: 'internal-ca', configMap: '', key: 'root.pem' },
    });
  });
});

describe('the rendered secrets and permissions', () => {
  it('use a given webhook secret instead of generating one', async () => {
    const manifests = await render({ set: ['github.webhookSecret=s3cret'] });

    const sut = findManifest<V1Secret>(manifests, 'Secret', '-github').data?.['webhook-secret'];

    expect(Buffer.from(sut ?? '', 'base64').toString()).toBe('s3cret');
  });

  it('create no Secret when existing ones are named', async () => {
    const manifests = await render({ valuesFiles: [scenario('production-values.yaml')] });

    const sut = manifests.filter((m) => m.kind === 'Secret');

    expect(sut).toEqual([]);
  });

  it('grant the worker exactly REQUIRED_PERMISSIONS in the jobs namespace', async () => {
    const role = findManifest<V1Role>(await render(), 'Role', '-worker');

    const sut = role.rules?.map((r) => ({ group: r.apiGroups?.[0], resource: r.resources?.[0], verbs: r.verbs }));

    expect([role.metadata?.namespace, sut]).toEqual([
      'kritik-jobs',
      REQUIRED_PERMISSIONS.map((p) => ({
        group: p.group,
        resource: permissionResource(p),
        verbs: p.verbs,
      })),
    ]);
  });
});

describe('sign-in with GitLab', () => {
  const signInEnv = (manifests: Manifest[]) =>
    envOf(manifests, 'backend')
      .filter((e) => /CLIENT|ADMIN/.test(e.name))
      .map((e) => [e.name, e.value ?? e.valueFrom?.secretKeyRef]);
  const privateEgress = (manifests: Manifest[], component: string) =>
    manifests
      .filter((m) => m.kind === 'NetworkPolicy' && m.metadata.name.endsWith(`-${component}`))
      .flatMap((m) => (m as unknown as V1NetworkPolicy).spec!.egress ?? [])
      .filter((rule) => rule.to?.some((peer) => peer.ipBlock?.cidr === '10.20.0.15/32'));

  it("gives the backend the OAuth application's id and secret from the dashboard's Secret, and GitHub's none when off", async () => {
    const manifests = await render({ valuesFiles: [scenario('dashboard-gitlab-values.yaml')] });

    expect(signInEnv(manifests)).toEqual([
      [ENV.gitlabClientId, { name: 'kritik-dashboard', key: 'gitlab-client-id' }],
      [ENV.gitlabClientSecret, { name: 'kritik-dashboard', key: 'gitlab-client-secret' }],
      [ENV.dashboardGitlabAdminGroup, 'platform/sre'],
      [ENV.dashboardAdmins, 'gitlab:ops-lead'],
      [ENV.dashboardAdminTeam, ''],
    ]);
  });

  it('lets the backend reach a private GitLab only while GitLab sign-in is on', async () => {
    const signIn = await render({ valuesFiles: [scenario('dashboard-gitlab-values.yaml')] });
    const reviewsOnly = await render({ valuesFiles: [scenario('gitlab-values.yaml')] });

    expect(privateEgress(signIn, 'backend')).toHaveLength(1);
    expect(privateEgress(reviewsOnly, 'backend')).toEqual([]);
    expect(privateEgress(reviewsOnly, 'worker')).toHaveLength(1);
  });

  it('refuses GitLab sign-in without GitLab, and a dashboard without any sign-in', async () => {
    await expect(
      render({ valuesFiles: [scenario('dashboard-values.yaml')], set: ['dashboard.gitlab.enabled=true'] }),
    ).rejects.toThrow(/dashboard.gitlab.enabled needs gitlab.enabled/);
    await expect(
      render({ valuesFiles: [scenario('dashboard-values.yaml')], set: ['dashboard.github.enabled=false'] }),
    ).rejects.toThrow(/dashboard.enabled needs a sign-in/);
    await expect(
      render({ valuesFiles: [scenario('dashboard-values.yaml')], set: ['dashboard.admins={bitbucket:eve}'] }),
    ).rejects.toThrow(/admins/);
  });
});
