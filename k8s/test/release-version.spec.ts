// scripts/release-version.sh --check: every version of a release agrees, and a version out of
// step is named by file and key.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { repoRoot } from '@kritik/testing';

const repo = repoRoot();

/** The files the script reads, copied to a temp directory where they can be broken. */
function copyOfRepo(): string {
  const dir = mkdtempSync(join(tmpdir(), 'kritik-release-'));
  const { workspaces } = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as { workspaces: string[] };
  const files = [
    'package.json',
    'scripts/release-version.ts',
    'charts/kritik/Chart.yaml',
    'k8s/base/ocirepository.yaml',
    'k8s/overlays/staging/helmrelease-values.yaml',
    'k8s/overlays/production/helmrelease-values.yaml',
    ...workspaces.map((w) => `${w}/package.json`),
  ];
  for (const file of files) {
    mkdirSync(dirname(join(dir, file)), { recursive: true });
    cpSync(join(repo, file), join(dir, file));
  }
  symlinkSync(join(repo, 'node_modules'), join(dir, 'node_modules'));
  return dir;
}

const check = (dir: string, ...args: string[]) =>
  spawnSync(
    join(repo, 'node_modules', '.bin', 'tsx'),
    [join(dir, 'scripts', 'release-version.ts'), '--check', ...args],
    {
      cwd: dir,
      encoding: 'utf8',
    },
  );

describe('scripts/release-version.sh', () => {
  let dir: string;

  beforeEach(() => {
    dir = copyOfRepo();
  });

  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('finds every version of this repository in step', () => {
    const sut = check(repo);
    expect({ status: sut.status, stdout: sut.stdout }).toEqual({ status: 0, stdout: '' });
  });

  it('names the file and key of a version out of step', () => {
    const file = join(dir, 'k8s/base/ocirepository.yaml');
    const before = readFileSync(file, 'utf8');
    writeFileSync(file, before.replace(/tag: \S+/, 'tag: 9.9.9'));
    const sut = check(dir);
    writeFileSync(file, before);
    expect(sut.status).toBe(1);
    expect(sut.stdout).toMatch(/^k8s\/base\/ocirepository\.yaml: spec\.ref\.tag: 9\.9\.9, expected /m);
  });

  it('refuses an overlay that pins an image tag: images follow the chart version', () => {
    const file = join(dir, 'k8s/overlays/staging/helmrelease-values.yaml');
    const before = readFileSync(file, 'utf8');
    writeFileSync(file, before.replace(/\n {4}backend:\n/, '\n    backend:\n      image:\n        tag: 0.1.0\n'));
    const sut = check(dir);
    writeFileSync(file, before);
    expect(sut.status).toBe(1);
    expect(sut.stdout).toContain('spec.values.backend.image.tag: 0.1.0 pins an image; remove it');
  });

  it('names every version that differs from the release tag', () => {
    const sut = check(dir, 'v99.0.0');
    expect(sut.status).toBe(1);
    expect(sut.stdout).toContain('k8s/base/ocirepository.yaml: spec.ref.tag:');
    expect(sut.stdout).toContain('charts/kritik/Chart.yaml: appVersion:');
  });

  it('rejects a version that is not SemVer', () => {
    const sut = check(dir, 'latest');
    expect(sut.status).toBe(2);
    expect(sut.stderr).toContain("'latest' is not a SemVer version");
  });
});
