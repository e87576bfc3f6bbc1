import { REQUIRED_PERMISSIONS, workerStatusSchema } from '@kritik/core';
import { accessQuestions } from '../kubernetes/access-check.js';
import { buildWorkerStatus, publishable, type WorkerStatusInput } from './worker-status.builder.js';

const DIGEST = `sha256:${'ab'.repeat(32)}`;
const base: WorkerStatusInput = {
  replica: 'kritik-worker-7d9f-abcde',
  version: '0.4.0',
  reviewerImage: 'ghcr.io/kritik-dev/kritik-reviewer:0.4.0',
  runner: 'kubernetes',
  namespace: 'kritik-jobs',
  access: { namespace: 'kritik-jobs', missing: [] },
  running: 2,
  concurrency: 5,
  startedAt: new Date('2026-12-04T10:00:00Z'),
  now: new Date('2026-12-04T10:05:00Z'),
};
const sut = buildWorkerStatus;

describe(buildWorkerStatus.name, () => {
  it('reports a replica with every permission granted as ready, one entry per verb and resource', () => {
    const status = sut(base);

    expect(status).toMatchObject({
      replica: base.replica,
      version: '0.4.0',
      reviewerImage: { ref: base.reviewerImage },
      runner: 'kubernetes',
      ready: true,
      reason: 'all permissions granted in namespace "kritik-jobs"',
      namespace: 'kritik-jobs',
      running: 2,
      concurrency: 5,
      startedAt: '2026-12-04T10:00:00.000Z',
      lastBeat: '2026-12-04T10:05:00.000Z',
    });
    expect(status.remedy).toBeUndefined();
    expect(status.permissions).toHaveLength(accessQuestions(REQUIRED_PERMISSIONS).length);
    expect(status.permissions.every((p) => p.state === 'granted')).toBe(true);
    expect(status.permissions.map((p) => p.permission)).toEqual(
      expect.arrayContaining(['create jobs.batch', 'delete jobs.batch', 'get pods/log']),
    );
    expect(() => workerStatusSchema.parse(status)).not.toThrow();
  });

  it('marks a missing verb missing, is not ready and says how to grant it', () => {
    const status = sut({ ...base, access: { namespace: 'kritik-jobs', missing: ['delete jobs.batch'] } });

    expect(status.ready).toBe(false);
    expect(status.reason).toContain('missing permissions in namespace "kritik-jobs": delete jobs.batch');
    expect(status.permissions.filter((p) => p.state === 'missing')).toEqual([
      { permission: 'delete jobs.batch', state: 'missing' },
    ]);
    expect(status.remedy).toContain('Grant delete jobs.batch in the worker\'s Role in namespace "kritik-jobs"');
  });

  it('knows no permission before the first check, and is not ready', () => {
    const status = sut({ ...base, access: undefined });

    expect(status).toMatchObject({ ready: false, reason: 'permissions not checked yet', namespace: 'kritik-jobs' });
    expect(new Set(status.permissions.map((p) => p.state))).toEqual(new Set(['unknown']));
  });

  it('reports a failed check as unknown permissions, without the credentials of a URL in the error', () => {
    const status = sut({
      ...base,
      access: {
        namespace: 'kritik-jobs',
        missing: [],
        error: 'connect ECONNREFUSED https://admin:s3cr3t-token@10.0.0.1:6443/apis',
      },
    });

    expect(status.ready).toBe(false);
    expect(status.reason).toContain('https://10.0.0.1:6443/apis');
    expect(JSON.stringify(status)).not.toContain('s3cr3t-token');
    expect(status.permissions.every((p) => p.state === 'unknown')).toBe(true);
    expect(status.remedy).toContain('cannot ask the Kubernetes API');
  });

  it('reports the local runner ready with no permissions to check', () => {
    const status = sut({ ...base, runner: 'local', access: undefined });

    expect(status).toMatchObject({
      ready: true,
      reason: 'the local runner needs no cluster permissions',
      permissions: [],
      namespace: null,
    });
  });

  it('gives the digest of a pinned reviewer image', () => {
    const ref = `registry.example/kritik-reviewer:0.4.0@${DIGEST}`;

    expect(sut({ ...base, reviewerImage: ref }).reviewerImage).toEqual({ ref, digest: DIGEST });
    expect(sut(base).reviewerImage).toEqual({ ref: base.reviewerImage });
  });

  it('keeps hostile strings within the schema bounds', () => {
    const hostile = `${'<script>alert(1)</script>\u0000\u001b[31m'.repeat(200)}`;
    const status = sut({
      ...base,
      replica: hostile,
      version: hostile,
      reviewerImage: hostile,
      access: { namespace: 'kritik-jobs', missing: [], error: hostile },
    });

    expect(() => workerStatusSchema.parse(status)).not.toThrow();
    expect(status.reason).not.toMatch(/\p{Cc}/u);
    expect(status.version.length).toBeLessThanOrEqual(64);
  });
});

describe(publishable.name, () => {
  it('drops the user and password of every URL and shortens to the bound', () => {
    expect(publishable('a ftp://u:p@h/x and redis://:pw@r:6379', 100)).toBe('a ftp://h/x and redis://r:6379');
    expect(publishable('x'.repeat(20), 10)).toBe(`${'x'.repeat(9)}…`);
  });
});
