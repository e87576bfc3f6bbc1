// A dry run of the release workflow's packaging steps: the CLI's npm package is packed and the
// packed CLI runs; the chart is packaged by the real helm with the release's one version.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parse } from 'yaml';

jest.setTimeout(120_000);

const root = resolve(__dirname, '..');
const version = (JSON.parse(readFileSync(join(root, 'services/reviewer/package.json'), 'utf8')) as { version: string })
  .version;
const secretDiff = `--- a/app.env\n+++ b/app.env\n@@ -1 +1,2 @@\n A=1\n+GH=${'ghp'}_${'Z9'.repeat(18)}\n`;

describe('the release packaging', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'kritik-packaging-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  describe('@kritik/cli', () => {
    let unpacked: string;
    const kritik = (args: string[], input = '') =>
      spawnSync(process.execPath, [join(unpacked, 'kritik.js'), ...args], {
        input,
        encoding: 'utf8',
        env: { PATH: process.env.PATH },
      });

    beforeAll(() => {
      execFileSync(join(root, 'node_modules/.bin/tsx'), [join(root, 'scripts/pack-cli.ts'), join(dir, 'cli')], {
        cwd: root,
        stdio: 'pipe',
      });
      const tarball = execFileSync('npm', ['pack', '--silent', '--pack-destination', dir], {
        cwd: join(dir, 'cli'),
        encoding: 'utf8',
      }).trim();
      execFileSync('tar', ['-xzf', join(dir, tarball), '-C', dir]);
      unpacked = join(dir, 'package');
    });

    it('packs the bundled CLI, its licences and README with the release version', () => {
      const manifest = JSON.parse(readFileSync(join(unpacked, 'package.json'), 'utf8'));

      expect(manifest).toMatchObject({ name: '@kritik/cli', version, bin: { kritik: 'kritik.js' } });
      expect(manifest.dependencies).toBeUndefined();
      expect(readFileSync(join(unpacked, 'kritik.js'), 'utf8')).toMatch(/^#!\/usr\/bin\/env node\n/);
    });

    it('runs from the package alone: --help exits 0 with the usage on stdout', () => {
      const sut = kritik(['review', '--help']);

      expect({ status: sut.status, stderr: sut.stderr }).toEqual({ status: 0, stderr: '' });
      expect(sut.stdout).toContain('--fail-on critical|major|minor');
    });

    it('reviews a diff from stdin and exits 3 for a finding at --fail-on', () => {
      const sut = kritik(['review', '--diff', '-', '--format', 'json', '--fail-on', 'major'], secretDiff);

      expect(sut.status).toBe(3);
      expect(JSON.parse(sut.stdout)).toMatchObject({ findings: { critical: 1 } });
    });
  });

  describe('the chart', () => {
    it('is packaged by helm with the version and appVersion of the release', () => {
      execFileSync('helm', ['package', join(root, 'charts/kritik'), '--destination', join(dir, 'chart')], {
        stdio: 'pipe',
      });
      const chart = parse(
        execFileSync('tar', ['-xzOf', join(dir, 'chart', `kritik-${version}.tgz`), 'kritik/Chart.yaml'], {
          encoding: 'utf8',
        }),
      );

      expect({ version: chart.version, appVersion: chart.appVersion }).toEqual({ version, appVersion: version });
    });
  });
});

describe('action.yml', () => {
  const action = parse(readFileSync(join(root, 'action.yml'), 'utf8'));
  const steps = action.runs.steps as { run?: string; env?: Record<string, string> }[];

  it('runs the CLI package the release builds', () => {
    expect(steps.map((step) => step.run ?? '').join('\n')).toContain('npx --yes "@kritik/cli@$version"');
  });

  it('passes inputs to its script through the environment only, so no input is spliced into the shell', () => {
    for (const step of steps.filter((s) => s.run)) expect(step.run).not.toMatch(/\$\{\{/);
    expect(Object.keys(action.inputs).every((name) => JSON.stringify(steps).includes(`inputs.${name}`))).toBe(true);
  });
});
