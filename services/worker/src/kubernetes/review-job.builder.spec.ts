import { LABELS, type ReviewPayload, reviewIdFor, reviewJobSettingsSchema } from '@kritik/core';
import {
  buildReviewJob,
  buildReviewSecret,
  type ReviewObjectsInput,
  reviewJobName,
  reviewOfJob,
} from './review-job.builder.js';

const repo = { owner: 'Acme-Corp', name: 'web.app' };
const headSha = 'a'.repeat(40);
const payload: ReviewPayload = {
  reviewId: reviewIdFor('github', repo, 42, headSha),
  platform: 'github',
  repo,
  pr: 42,
  baseSha: 'b'.repeat(40),
  headSha,
  trigger: 'synchronize',
  installationId: 7,
  enqueuedAt: '2025-01-01T00:00:00.000Z',
  apiUrl: 'https://api.github.com',
};
const input = (settings: Record<string, unknown> = {}): ReviewObjectsInput => ({
  namespace: 'kritik-jobs',
  payload,
  settings: reviewJobSettingsSchema.parse({ image: 'ghcr.io/kritik-dev/kritik-reviewer:1.0.0', ...settings }),
  model: { kind: 'direct' },
});
const podSpec = (settings: Record<string, unknown> = {}) => buildReviewJob(input(settings)).spec!.template.spec!;
const container = (settings: Record<string, unknown> = {}) => podSpec(settings).containers[0]!;

describe(buildReviewJob.name, () => {
  it('matches the reviewed snapshot with default settings', () => {
    expect(buildReviewJob(input())).toMatchSnapshot();
  });

  it('names the Job after the review id within 63 characters', () => {
    const sut = buildReviewJob(input());
    expect(sut.metadata!.name).toBe(`kritik-review-${payload.reviewId}`);
    expect(sut.metadata!.name!.length).toBeLessThanOrEqual(63);
  });

  it('labels the Job and its pods with sanitised review id, repo, PR and SHA', () => {
    const sut = buildReviewJob(input());
    const expected = {
      [LABELS.reviewId]: payload.reviewId,
      [LABELS.repo]: 'Acme-Corp_web.app',
      [LABELS.pr]: '42',
      [LABELS.sha]: headSha,
    };
    expect(sut.metadata!.labels).toMatchObject(expected);
    expect(sut.spec!.template.metadata!.labels).toMatchObject(expected);
  });

  it('never retries, stops at the deadline and is cleaned after its TTL', () => {
    const sut = buildReviewJob(input({ activeDeadlineSeconds: 120, ttlSecondsAfterFinished: 60 }));
    expect(sut.spec).toMatchObject({ backoffLimit: 0, activeDeadlineSeconds: 120, ttlSecondsAfterFinished: 60 });
    expect(sut.spec!.template.spec!.restartPolicy).toBe('Never');
  });

  it('runs under a dedicated ServiceAccount without its token', () => {
    expect(podSpec({ serviceAccountName: 'reviewer-sa' })).toMatchObject({
      serviceAccountName: 'reviewer-sa',
      automountServiceAccountToken: false,
    });
  });

  it('runs as the configured non-root user with the runtime default seccomp profile', () => {
    expect(podSpec({ runAsUser: 2000, runAsGroup: 3000, fsGroup: 4000 }).securityContext).toEqual({
      runAsNonRoot: true,
      runAsUser: 2000,
      runAsGroup: 3000,
      fsGroup: 4000,
      seccompProfile: { type: 'RuntimeDefault' },
    });
  });

  it('locks the container down: read-only root, no privilege escalation, no capabilities', () => {
    expect(container().securityContext).toMatchObject({
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
    });
  });

  it('mounts /tmp and the checkout workspace as emptyDirs of the configured sizes', () => {
    const spec = podSpec({ tmpSizeLimit: '256Mi', workspaceSizeLimit: '2Gi' });
    expect(spec.volumes).toEqual([
      { name: 'tmp', emptyDir: { sizeLimit: '256Mi' } },
      { name: 'workspace', emptyDir: { sizeLimit: '2Gi' } },
    ]);
    expect(spec.containers[0]!.volumeMounts).toEqual([
      { name: 'tmp', mountPath: '/tmp' },
      { name: 'workspace', mountPath: '/workspace' },
    ]);
  });

  it('tells the reviewer where to check out and within which limits', () => {
    const sut = container({ checkoutMaxBytes: 1000, checkoutMaxFiles: 10, checkoutMaxFileBytes: 100 });
    expect(sut.env).toEqual(
      expect.arrayContaining([
        { name: 'KRITIK_WORKSPACE', value: '/workspace' },
        { name: 'KRITIK_CHECKOUT_MAX_BYTES', value: '1000' },
        { name: 'KRITIK_CHECKOUT_MAX_FILES', value: '10' },
        { name: 'KRITIK_CHECKOUT_MAX_FILE_BYTES', value: '100' },
      ]),
    );
  });

  it('takes the payload and token from the ephemeral Secret and the Anthropic key from the static one', () => {
    const sut = container({ anthropicSecretName: 'llm-key' });
    const name = reviewJobName(payload.reviewId);
    expect(sut.env).toEqual(
      expect.arrayContaining([
        { name: 'KRITIK_REVIEW', valueFrom: { secretKeyRef: { name, key: 'KRITIK_REVIEW', optional: false } } },
        { name: 'GITHUB_TOKEN', valueFrom: { secretKeyRef: { name, key: 'GITHUB_TOKEN', optional: false } } },
      ]),
    );
    expect(sut.envFrom).toEqual([{ secretRef: { name: 'llm-key', optional: true } }]);
  });

  it("gives a GitLab review its token and instance URL under GitLab's variable names", () => {
    const gitlab: ReviewPayload = {
      ...payload,
      platform: 'gitlab',
      repo: { owner: 'acme/platform', name: 'api' },
      installationId: undefined,
      apiUrl: 'https://gitlab.example.com',
    };
    const sut = buildReviewJob({ ...input(), payload: gitlab }).spec!.template.spec!.containers[0]!;
    const name = reviewJobName(payload.reviewId);
    expect(sut.env).toEqual(
      expect.arrayContaining([
        { name: 'GITLAB_URL', value: 'https://gitlab.example.com' },
        { name: 'GITLAB_TOKEN', valueFrom: { secretKeyRef: { name, key: 'GITHUB_TOKEN', optional: false } } },
      ]),
    );
    expect(sut.env!.map((e) => e.name)).not.toContain('GITHUB_TOKEN');
    expect(sut.env!.map((e) => e.name)).not.toContain('GITHUB_API_URL');
  });

  it.each([
    [
      'Secret',
      { secret: 'internal-ca' },
      { secret: { secretName: 'internal-ca', items: [{ key: 'ca.pem', path: 'ca.pem' }] } },
    ],
    [
      'ConfigMap',
      { configMap: 'internal-ca' },
      { configMap: { name: 'internal-ca', items: [{ key: 'ca.pem', path: 'ca.pem' }] } },
    ],
  ])('mounts the CA bundle from a %s read-only and points NODE_EXTRA_CA_CERTS at it', (_, source, volume) => {
    const spec = podSpec({ caBundle: { ...source, key: 'ca.pem' } });
    expect(spec.volumes).toContainEqual({ name: 'ca-bundle', ...volume });
    expect(spec.containers[0]!.volumeMounts).toContainEqual({
      name: 'ca-bundle',
      mountPath: '/etc/kritik/ca',
      readOnly: true,
    });
    expect(spec.containers[0]!.env).toContainEqual({ name: 'NODE_EXTRA_CA_CERTS', value: '/etc/kritik/ca/ca.pem' });
  });

  it('mounts no CA bundle when none is configured', () => {
    expect(podSpec().volumes!.map((v) => v.name)).toEqual(['tmp', 'workspace']);
    expect(container().env!.map((e) => e.name)).not.toContain('NODE_EXTRA_CA_CERTS');
  });

  it('puts no credential in plain env or annotations', () => {
    const sut = JSON.stringify(buildReviewJob(input()));
    expect(sut).not.toContain('ghs_');
    expect(
      container()
        .env!.filter((e) => e.value !== undefined)
        .map((e) => e.name),
    ).toEqual([
      'GITHUB_API_URL',
      'KRITIK_DEADLINE_SECONDS',
      'KRITIK_WORKSPACE',
      'KRITIK_CHECKOUT_MAX_BYTES',
      'KRITIK_CHECKOUT_MAX_FILES',
      'KRITIK_CHECKOUT_MAX_FILE_BYTES',
    ]);
  });

  it('gives the reviewer a time budget under the Job deadline', () => {
    expect(container({ activeDeadlineSeconds: 300 }).env).toContainEqual({
      name: 'KRITIK_DEADLINE_SECONDS',
      value: '270',
    });
  });

  it('falls back to the logs when the reviewer leaves no termination message', () => {
    expect(container().terminationMessagePolicy).toBe('FallbackToLogsOnError');
  });

  it('applies scheduling settings from config', () => {
    const sut = podSpec({
      nodeSelector: { pool: 'reviews' },
      tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'reviews', effect: 'NoSchedule' }],
      affinity: { nodeAffinity: {} },
      imagePullSecrets: ['regcred'],
      priorityClassName: 'low',
    });
    expect(sut).toMatchObject({
      nodeSelector: { pool: 'reviews' },
      tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'reviews', effect: 'NoSchedule' }],
      affinity: { nodeAffinity: {} },
      imagePullSecrets: [{ name: 'regcred' }],
      priorityClassName: 'low',
    });
  });

  it('keeps its own selector labels when configured labels collide with them', () => {
    const sut = buildReviewJob(input({ labels: { team: 'a', [LABELS.managedBy]: 'helm' } }));
    expect(sut.metadata!.labels).toMatchObject({ team: 'a', [LABELS.managedBy]: 'kritik-worker' });
  });

  it('uses the configured command only when one is set', () => {
    expect(container().command).toBeUndefined();
    expect(container({ command: ['node', 'main.js', 'job'] }).command).toEqual(['node', 'main.js', 'job']);
  });

  it('records the review job so an orphaned Job can be finished', () => {
    const { apiUrl: _apiUrl, ...rest } = payload;
    expect(reviewOfJob(buildReviewJob(input()))).toEqual(rest);
  });
});

const direct = { token: 'ghs_token', model: { kind: 'direct' } } as const;

describe(buildReviewSecret.name, () => {
  it('carries the payload and the token under the names the reviewer reads', () => {
    const sut = buildReviewSecret(input(), direct, { metadata: { name: 'kritik-review-x', uid: 'u-1' } });
    expect(sut.metadata!.name).toBe(reviewJobName(payload.reviewId));
    expect(sut.stringData).toEqual({ KRITIK_REVIEW: JSON.stringify(payload), GITHUB_TOKEN: 'ghs_token' });
  });

  it('is owned by its Job from the start, so it goes with the Job', () => {
    const sut = buildReviewSecret(input(), direct, { metadata: { name: 'kritik-review-x', uid: 'u-1' } });
    expect(sut.metadata!.ownerReferences).toEqual([
      { apiVersion: 'batch/v1', kind: 'Job', name: 'kritik-review-x', uid: 'u-1' },
    ]);
  });
});

describe('through the model gateway', () => {
  const gateway = { kind: 'gateway', baseUrl: 'http://kritik-worker.kritik.svc:8082', token: 'kgw_r_secret' } as const;
  const gatewayInput = (): ReviewObjectsInput => ({
    ...input({ env: { ANTHROPIC_BASE_URL: 'https://elsewhere.example', EXTRA: 'x' } }),
    model: gateway,
  });

  it('gives the Job the gateway token from its Secret and never the Anthropic Secret', () => {
    const sut = buildReviewJob(gatewayInput()).spec!.template.spec!.containers[0]!;

    expect(sut.envFrom).toBeUndefined();
    expect(sut.env).toEqual(
      expect.arrayContaining([
        { name: 'EXTRA', value: 'x' },
        { name: 'ANTHROPIC_BASE_URL', value: gateway.baseUrl },
        {
          name: 'ANTHROPIC_API_KEY',
          valueFrom: {
            secretKeyRef: { name: reviewJobName(payload.reviewId), key: 'ANTHROPIC_API_KEY', optional: false },
          },
        },
      ]),
    );
    expect(sut.env!.filter((e) => e.name.startsWith('ANTHROPIC_'))).toHaveLength(2);
    expect(JSON.stringify(sut)).not.toContain('elsewhere');
  });

  it('gives a gateway review the catalogue and fallback model but no provider, even when set by hand', () => {
    const model = { ...gateway, env: { KRITIK_FALLBACK_MODEL: 'claude-haiku-4-5', KRITIK_MODEL_CATALOGUE: '{}' } };
    const sut = buildReviewJob({
      ...gatewayInput(),
      settings: reviewJobSettingsSchema.parse({
        image: 'ghcr.io/kritik-dev/kritik-reviewer:1.0.0',
        env: {
          KRITIK_MODEL_PROVIDER: 'bedrock',
          ANTHROPIC_BEDROCK_BASE_URL: 'https://elsewhere',
          KRITIK_FALLBACK_MODEL: 'x',
        },
      }),
      model,
    }).spec!.template.spec!.containers[0]!;

    const names = sut.env!.map((e) => e.name);
    expect(names).not.toContain('KRITIK_MODEL_PROVIDER');
    expect(names).not.toContain('ANTHROPIC_BEDROCK_BASE_URL');
    expect(sut.env!.filter((e) => e.name === 'KRITIK_FALLBACK_MODEL')).toEqual([
      { name: 'KRITIK_FALLBACK_MODEL', value: 'claude-haiku-4-5' },
    ]);
    expect(sut.env).toContainEqual({ name: 'KRITIK_MODEL_CATALOGUE', value: '{}' });
  });

  it('gives a direct review the provider it calls with its own identity', () => {
    const sut = buildReviewJob({
      ...input(),
      model: { kind: 'direct', env: { KRITIK_MODEL_PROVIDER: 'bedrock', KRITIK_MODEL_REGION: 'eu-west-1' } },
    }).spec!.template.spec!.containers[0]!;

    expect(sut.env).toEqual(
      expect.arrayContaining([
        { name: 'KRITIK_MODEL_PROVIDER', value: 'bedrock' },
        { name: 'KRITIK_MODEL_REGION', value: 'eu-west-1' },
      ]),
    );
  });

  it('puts the gateway token in the Secret beside the repository token', () => {
    const sut = buildReviewSecret(
      gatewayInput(),
      { token: 'ghs_token', model: gateway },
      {
        metadata: { name: 'kritik-review-x', uid: 'u-1' },
      },
    );
    expect(sut.stringData).toEqual({
      KRITIK_REVIEW: JSON.stringify(payload),
      GITHUB_TOKEN: 'ghs_token',
      ANTHROPIC_API_KEY: 'kgw_r_secret',
    });
  });
});

it.each(['ANTHROPIC_API_KEY', 'GITHUB_TOKEN', 'KRITIK_REVIEW'])(
  'refuses %s in the plain env of review Jobs',
  (name) => {
    expect(() => input({ env: { [name]: 'x' } })).toThrow(/credentials reach a review through its Secret/);
  },
);

describe(reviewJobName.name, () => {
  it('rejects a review id that would make an invalid name', () => {
    expect(() => reviewJobName('X'.repeat(60))).toThrow(/valid Job name/);
  });
});
