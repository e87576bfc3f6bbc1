// The platform's ReviewPolicies in the GitOps tree: scripts/validate.sh checks them against the
// chart's CRD on a real API server and against the worker's own checks, and the renderer of the
// gitops-diff workflow (--render) shows a policy change as a change of the rendered policies.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '@kritik/testing';
import { parseAllDocuments } from 'yaml';

const root = repoRoot();
const run = (command: string, args: string[]) =>
  spawnSync(command, args, {
    cwd: root,
    encoding: 'utf8',
    timeout: 170_000,
    env: { ...process.env, PATH: `${join(root, '.tools/bin')}:${process.env.PATH}` },
  });

describe('scripts/validate.sh on ReviewPolicies', () => {
  let result: ReturnType<typeof run>;

  beforeAll(() => {
    result = run('bash', ['scripts/validate.sh', 'k8s/test/fixtures/bad-policy', 'k8s/policies']);
  }, 180_000);

  const lines = () => result.stdout.split('\n').filter(Boolean);

  it('reports a policy the API server refuses, in the words of its CRD schema', () => {
    expect(lines()).toContainEqual(
      expect.stringMatching(
        /^k8s\/test\/fixtures\/bad-policy\/policies\.yaml: spec\.severityThreshold: ReviewPolicy\/strict .*spec\.severityThreshold: Unsupported value: "blocker"/,
      ),
    );
  });

  it('reports a policy the worker would ignore, naming its bad glob', () => {
    expect(lines()).toContainEqual(
      'k8s/test/fixtures/bad-policy/policies.yaml: spec: ReviewPolicy/broken-glob: selector.repositories: glob "acme/[api" is invalid: Missing closing: "]" - use "\\\\]" to match literal characters (the worker would ignore it)',
    );
  });

  it("passes the platform's example policies and fails for the fixture alone", () => {
    expect(lines().filter((l) => l.startsWith('k8s/policies'))).toEqual([]);
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/2 problem\(s\)/);
  });
});

describe('k8s/validate/main.ts --render', () => {
  let dir: string;
  const render = (repo: string, out: string) =>
    run('node_modules/.bin/tsx', ['k8s/validate/main.ts', '--repo', repo, '--render', out, 'k8s/clusters/staging']);
  const policiesIn = (file: string) =>
    parseAllDocuments(readFileSync(file, 'utf8'))
      .map((d) => d.toJS() as { kind?: string; metadata?: { name?: string }; spec?: { instructions?: string } })
      .filter((m) => m?.kind === 'ReviewPolicy');

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'kritik-render-'));
    for (const part of ['k8s', 'charts']) cpSync(join(root, part), join(dir, 'edited', part), { recursive: true });
    const security = join(dir, 'edited/k8s/policies/security.yaml');
    writeFileSync(security, readFileSync(security, 'utf8').replace('Flag secrets in code', 'Flag hard-coded secrets'));
    for (const [repo, out] of [
      [root, 'before'],
      [join(dir, 'edited'), 'after'],
    ] as const) {
      const result = render(repo, join(dir, out));
      if (result.status !== 0) throw new Error(`--render failed: ${result.stderr}`);
    }
  }, 180_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('renders the cluster entry point, its overlay, the alerts and the policies, one file each', () => {
    expect(readdirSync(join(dir, 'before')).sort()).toEqual([
      'k8s_clusters_staging.yaml',
      'k8s_monitoring.yaml',
      'k8s_overlays_staging.yaml',
      'k8s_policies.yaml',
      'problems.txt',
    ]);
    expect(readFileSync(join(dir, 'before/problems.txt'), 'utf8')).toBe('');
  });

  it('renders every policy of k8s/policies in the release namespace', () => {
    const sut = policiesIn(join(dir, 'before/k8s_policies.yaml'));

    expect(sut.map((p) => p.metadata?.name)).toEqual(['docs', 'models', 'security', 'testing']);
    expect(sut.every((p) => (p.metadata as { namespace?: string }).namespace === 'kritik')).toBe(true);
  });

  it("never writes a Secret's values, so a value the chart generates at random is no change", () => {
    const secrets = parseAllDocuments(readFileSync(join(dir, 'before/k8s_overlays_staging.yaml'), 'utf8'))
      .map((d) => d.toJS() as { kind?: string; data?: Record<string, string> })
      .filter((m) => m?.kind === 'Secret');

    expect(secrets.length).toBeGreaterThan(0);
    for (const s of secrets) expect(new Set(Object.values(s.data ?? {}))).toEqual(new Set(['(redacted)']));
  });

  it('shows a policy edit as a change of that policy alone', () => {
    const changed = readdirSync(join(dir, 'before')).filter(
      (f) => readFileSync(join(dir, 'before', f), 'utf8') !== readFileSync(join(dir, 'after', f), 'utf8'),
    );
    const [after] = policiesIn(join(dir, 'after/k8s_policies.yaml')).filter((p) => p.metadata?.name === 'security');

    expect(changed).toEqual(['k8s_policies.yaml']);
    expect(after?.spec?.instructions).toContain('Flag hard-coded secrets');
  });
});
