import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { repoRoot } from '@kritik/testing';
import { HAND_WRITTEN, readChartVersions, synthChart } from '../src/synth.js';
import { CHART_DIR } from './chart.js';

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? filesUnder(join(dir, entry.name)) : [relative(CHART_DIR, join(dir, entry.name))],
  );
}

const generated = () => synthChart(readChartVersions(repoRoot()));

describe(synthChart.name, () => {
  it('generates exactly the committed chart (run `npm run synth` after changing cdk8s/)', () => {
    const sut = generated();

    const stale = [...sut].filter(([path, content]) => {
      try {
        return readFileSync(join(CHART_DIR, path), 'utf8') !== content;
      } catch {
        return true;
      }
    });
    expect(stale.map(([path]) => path)).toEqual([]);
  });

  it('leaves no file in the chart that it does not write, besides the hand-written scenarios', () => {
    const sut = generated();

    const strays = filesUnder(CHART_DIR).filter((path) => !sut.has(path) && !HAND_WRITTEN.some((re) => re.test(path)));
    expect(strays).toEqual([]);
  });

  it('marks every generated file as not to be edited', () => {
    const sut = generated();

    const unmarked = [...sut].filter(([, content]) => !content.includes('DO NOT EDIT'));
    expect(unmarked.map(([path]) => path)).toEqual([]);
  });
});
