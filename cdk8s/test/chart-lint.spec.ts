import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { CHART_DIR, expectSuccess, type HelmBinary, helm, run, SCENARIOS, scenario, templateArgs } from './chart.js';

interface Exception {
  check: string;
  reason: string;
}
interface KubeScoreConfig {
  all: Exception[];
  scenarios: Record<string, Exception[]>;
}
interface KubeScoreObject {
  object_name: string;
  checks: { check: { id: string }; grade: number; skipped: boolean; comments: { summary: string }[] | null }[];
}

const config = parse(readFileSync(join(CHART_DIR, '.kube-score.yaml'), 'utf8')) as KubeScoreConfig;
const exceptionsOf = (file: string) => [...config.all, ...(config.scenarios[file] ?? [])];

/** Checks below the best grade (warnings and criticals), as `check-id: object: summary`. */
async function kubeScoreFailures(file: string): Promise<{ id: string; text: string }[]> {
  const manifests = expectSuccess(
    await helm(['template', ...templateArgs({ valuesFiles: [scenario(file)] })]),
    'helm template',
  );
  const result = await run('kube-score', ['score', '--output-format', 'json', '-'], { input: manifests });
  if (!result.stdout.trim().startsWith('[')) throw new Error(`kube-score failed: ${result.stderr}${result.stdout}`);
  const objects = JSON.parse(result.stdout) as KubeScoreObject[];
  return objects.flatMap((o) =>
    o.checks
      .filter((c) => !c.skipped && c.grade < 10)
      .map((c) => ({
        id: c.check.id,
        text: `${c.check.id}: ${o.object_name}: ${(c.comments ?? []).map((m) => m.summary).join('; ')}`,
      })),
  );
}

describe('helm lint --strict', () => {
  const cases: [HelmBinary, string][] = (['helm', 'helm4'] as const).flatMap((binary) =>
    ['(defaults)', ...SCENARIOS].map((file): [HelmBinary, string] => [binary, file]),
  );

  it.each(cases)('passes with %s for %s', async (binary, file) => {
    const values = file === '(defaults)' ? [] : ['--values', scenario(file)];

    const sut = await helm(['lint', '--strict', CHART_DIR, ...values], { binary });

    expect([sut.code, sut.stdout]).toEqual([0, expect.stringContaining('0 chart(s) failed')]);
  });
});

describe('kube-score', () => {
  it.each(SCENARIOS)('finds nothing in %s beyond the documented exceptions', async (file) => {
    const ignored = new Set(exceptionsOf(file).map((e) => e.check));

    const sut = (await kubeScoreFailures(file)).filter((f) => !ignored.has(f.id));

    expect(sut.map((f) => f.text)).toEqual([]);
  });

  it.each(SCENARIOS)('still needs every exception documented for %s', async (file) => {
    const failing = new Set((await kubeScoreFailures(file)).map((f) => f.id));

    const sut = exceptionsOf(file).filter((e) => !failing.has(e.check));

    expect(sut.map((e) => e.check)).toEqual([]);
  });

  it('explains every exception', () => {
    const sut = [...config.all, ...Object.values(config.scenarios).flat()].filter((e) => !(e.reason?.length > 20));

    expect(sut).toEqual([]);
  });
});
