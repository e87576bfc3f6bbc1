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

  it.each([
    [
      'names the file and key of a value of the wrong type for the chart',
      'bad-values/helmrelease-values.yaml',
      'spec.values.worker.replicaCount',
      'got string, want integer',
    ],
    [
      'names a values key the chart does not have',
      'bad-values/helmrelease-values.yaml',
      'spec.values.backend.replicas',
      "additional properties 'replicas' not allowed",
    ],
    [
      'names the file and key of a Flux field of the wrong type',
      'bad-flux/helmrelease-remediation.yaml',
      'spec.install.remediation.retries',
      'must be integer',
    ],
    [
      'names a misspelt Flux field with the spelling the API has',
      'bad-flux/helmrelease-remediation.yaml',
      'spec.upgrade.remedation',
      "did you mean 'remediation'?",
    ],
    [
      'names the values key that makes a rendered object invalid on the API server',
      'bad-quantity/helmrelease-values.yaml',
      'spec.values.backend.resources.limits.memory',
      'Deployment/kritik-backend rendered from these values is invalid',
    ],
    [
      'names a cluster entry point path that does not exist',
      'bad-entry/kritik.yaml',
      'spec.path',
      "path './k8s/overlays/qa' has no kustomization.yaml",
    ],
    [
      'names a dependency no entry point defines',
      'bad-entry/kritik.yaml',
      'spec.dependsOn[0].name',
      "depends on 'infrastructure'",
    ],
  ])('%s', (_behaviour, file, key, message) => {
    expect(reported(file, key)).toEqual([expect.stringContaining(message)]);
  });

  it('passes the staging overlay in the same run', () => {
    expect(lines.filter((line) => !line.startsWith(`${FIXTURES}/`))).toEqual([]);
  });
});
