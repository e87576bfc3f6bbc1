// The operations guide, the PrometheusRule and the chart's dashboard name only series of core's
// METRICS table, with labels those series have, and the guide documents every one of them.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { METRICS } from '@kritik/core';
import { repoRoot } from '@kritik/testing';
import { parseAllDocuments } from 'yaml';
import { problemsOf, seriesInExpression, seriesInMetricTable } from './metric-references.js';

const repo = repoRoot();
const read = (path: string) => readFileSync(join(repo, path), 'utf8');

interface Rule {
  alert?: string;
  record?: string;
  expr: string;
}

/** Every alert and recording rule expression of the PrometheusRule documents in a file. */
function ruleExpressions(path: string): Rule[] {
  return parseAllDocuments(read(path))
    .map((doc) => doc.toJS() as { kind?: string; spec?: { groups?: { rules?: Rule[] }[] } })
    .filter((doc) => doc?.kind === 'PrometheusRule')
    .flatMap((doc) => doc.spec?.groups ?? [])
    .flatMap((group) => group.rules ?? []);
}

describe('metric names', () => {
  describe('reference parsing', () => {
    it('finds a series with the labels of its selector and of the grouping around it', () => {
      const sut = seriesInExpression('sum by (queue) (kritik_queue_jobs{state=~"waiting|active"}) > 1');
      expect(sut).toEqual([{ name: 'kritik_queue_jobs', labels: ['state', 'queue'] }]);
    });

    it('reports a series the table does not define and a label the series lacks', () => {
      const refs = seriesInExpression('rate(kritik_worker_reviews_totl[5m]) + kritik_queue_jobs{outcome="x=y"}');
      expect(problemsOf(refs)).toEqual([
        'kritik_worker_reviews_totl is not in METRICS',
        'kritik_queue_jobs has no label outcome',
      ]);
    });

    it('accepts the bucket series of a histogram with its le label', () => {
      const refs = seriesInExpression(
        `histogram_quantile(0.99, sum by (le) (rate(${METRICS.dispatch.name}_bucket{how="created"}[5m])))`,
      );
      expect(problemsOf(refs)).toEqual([]);
    });

    it('reads series, labels, type and origin from a Markdown table row', () => {
      const sut = seriesInMetricTable('| `kritik_queue_jobs{queue, state}` | gauge | backend | Entries |\n| x | y |');
      expect(sut).toEqual([{ name: 'kritik_queue_jobs', labels: ['queue', 'state'], type: 'gauge', from: 'backend' }]);
    });
  });

  describe('docs/operations.md', () => {
    const rows = seriesInMetricTable(read('docs/operations.md'));

    it('documents every series of METRICS with its labels, type and origin', () => {
      const documented = rows.map(({ name, labels, type, from }) => ({ name, labels, type, from }));
      const defined = Object.values(METRICS).map(({ name, labels, type, from }) => ({ name, labels, type, from }));
      expect(documented).toEqual(expect.arrayContaining(defined));
      expect(documented).toHaveLength(defined.length);
    });

    it('names only series of METRICS in its text', () => {
      expect(
        problemsOf(seriesInExpression(read('docs/operations.md')).map(({ name }) => ({ name, labels: [] }))),
      ).toEqual([]);
    });
  });

  describe('k8s/monitoring/prometheusrule.yaml', () => {
    const rules = ruleExpressions('k8s/monitoring/prometheusrule.yaml');

    it('holds alerts', () => {
      expect(rules.length).toBeGreaterThan(0);
    });

    it.each(rules.map((rule) => [rule.alert ?? rule.record, rule.expr] as const))(
      '%s names only series of METRICS with their labels',
      (_name, expr) => {
        expect(problemsOf(seriesInExpression(expr))).toEqual([]);
      },
    );
  });

  describe('the chart', () => {
    it('names only series of METRICS in its templates and values', () => {
      const dir = join(repo, 'charts/kritik/templates');
      const files = [...readdirSync(dir).map((f) => join('charts/kritik/templates', f)), 'charts/kritik/values.yaml'];
      const refs = files.flatMap((file) => seriesInExpression(read(file)));
      expect(problemsOf(refs)).toEqual([]);
    });

    it("queries only series of METRICS with their labels in the dashboard's panels", () => {
      const dashboard = JSON.parse(read('charts/kritik/dashboards/kritik.json')) as {
        panels: { targets?: { expr: string }[] }[];
      };
      // Row headers hold no query.
      const refs = dashboard.panels.flatMap((p) => (p.targets ?? []).flatMap((t) => seriesInExpression(t.expr)));
      expect(refs.length).toBeGreaterThan(0);
      expect(problemsOf(refs)).toEqual([]);
    });
  });
});
