// scripts/validate.sh on broken overlays (fixtures) beside a good one: each mistake is reported
// with the file and key to change, and the good overlay passes the same run.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from '@kritik/testing';

const FIXTURES = 'k8s/test/fixtures';

describe('scripts/validate.sh', () => {
  let status: number | null;
  let lines: string[];
  let stderr: string;

  beforeAll(() => {
    const root = repoRoot();
    const roots = ['bad-values', 'bad-flux', 'bad-quantity', 'bad-entry'].map((name) => `${FIXTURES}/${name}`);
    const sut = spawnSync('bash', [join(root, 'scripts', 'validate.sh'), ...roots, 'k8s/overlays/staging'], {
      cwd: root,
      encoding: 'utf8',
      timeout: 170_000,
    });
    status = sut.status;
    stderr = sut.stderr;
    lines = sut.stdout.split('\n').filter(Boolean);
  }, 180_000);

  const reported = (file: string, key: string) =>
    lines.filter((line) => line.startsWith(`${FIXTURES}/${file}: ${key}: `));

  it('fails when an overlay has a problem', () => {
    expect({ status, stderr }).toMatchObject({ status: 1, stderr: expect.stringMatching(/7 problem\(s\)/) });
  });

  it('names the file and key of a value of the wrong type for the chart', () => {
    expect(reported('bad-values/helmrelease-values.yaml', 'spec.values.worker.replicaCount')).toEqual([
      expect.stringContaining('got string, want integer'),
    ]);
  });

  it('names a values key the chart does not have', () => {
    expect(reported('bad-values/helmrelease-values.yaml', 'spec.values.backend.replicas')).toEqual([
      expect.stringContaining("additional properties 'replicas' not allowed"),
    ]);
  });

  it('names the file and key of a Flux field of the wrong type', () => {
    expect(reported('bad-flux/helmrelease-remediation.yaml', 'spec.install.remediation.retries')).toEqual([
      expect.stringContaining('must be integer'),
    ]);
  });

  it('names a misspelt Flux field with the spelling the API has', () => {
    expect(reported('bad-flux/helmrelease-remediation.yaml', 'spec.upgrade.remedation')).toEqual([
      expect.stringContaining("did you mean 'remediation'?"),
    ]);
  });

  it('names the values key that makes a rendered object invalid on the API server', () => {
    expect(reported('bad-quantity/helmrelease-values.yaml', 'spec.values.backend.resources.limits.memory')).toEqual([
      expect.stringMatching(/Deployment\/kritik-backend .*quantities must match/),
    ]);
  });

  it('names a cluster entry point path that does not exist', () => {
    expect(reported('bad-entry/kritik.yaml', 'spec.path')).toEqual([
      expect.stringContaining("path './k8s/overlays/qa' has no kustomization.yaml"),
    ]);
  });

  it('names a dependency no entry point defines', () => {
    expect(reported('bad-entry/kritik.yaml', 'spec.dependsOn[0].name')).toEqual([
      expect.stringContaining("depends on 'infrastructure'"),
    ]);
  });

  it('passes the staging overlay in the same run', () => {
    expect(lines.filter((line) => !line.startsWith(`${FIXTURES}/`))).toEqual([]);
  });
});
