// The Grafana dashboard of the metrics backend and worker export, shipped in the chart as
// dashboards/kritik.json and mounted by the dashboard ConfigMap.
import { METRICS } from '@kritik/core';

interface Panel {
  title: string;
  type: 'timeseries' | 'stat' | 'row';
  unit: string;
  targets: { expr: string; legendFormat: string }[];
}

/** p50 and p99 of a histogram over `window`. */
const latencyPanel = (title: string, histogram: string, window: string): Panel => ({
  title,
  type: 'timeseries',
  unit: 's',
  targets: [0.5, 0.99].map((q) => ({
    expr: `histogram_quantile(${q}, sum by (le) (rate(${histogram}_bucket[${window}])))`,
    legendFormat: `p${q * 100}`,
  })),
});

const panels: Panel[] = [
  {
    title: 'Webhook deliveries per second',
    type: 'timeseries',
    unit: 'reqps',
    targets: [
      {
        expr: `sum by (event, outcome) (rate(${METRICS.webhookDeliveries.name}[5m]))`,
        legendFormat: '{{event}} {{outcome}}',
      },
    ],
  },
  latencyPanel('Webhook handling latency (p50, p99)', METRICS.webhookDuration.name, '5m'),
  {
    title: 'Queue depth',
    type: 'timeseries',
    unit: 'short',
    targets: [
      {
        expr: `sum by (queue, state) (${METRICS.queueJobs.name}{state=~"waiting|delayed|active"})`,
        legendFormat: '{{queue}} {{state}}',
      },
    ],
  },
  {
    title: 'Reviews running',
    type: 'stat',
    unit: 'short',
    targets: [{ expr: `sum(${METRICS.reviewsRunning.name})`, legendFormat: 'running' }],
  },
  {
    title: 'Reviews per hour by outcome',
    type: 'timeseries',
    unit: 'short',
    targets: [{ expr: `sum by (outcome) (increase(${METRICS.reviews.name}[1h]))`, legendFormat: '{{outcome}}' }],
  },
  latencyPanel('Review duration (p50, p99)', METRICS.reviewDuration.name, '15m'),
  // What reviews cost, against the ReviewPolicy budgets (docs/operations.md, "Budgets").
  { title: 'Spending', type: 'row', unit: 'short', targets: [] },
  {
    title: 'Review cost per day (USD)',
    type: 'timeseries',
    unit: 'currencyUSD',
    targets: [{ expr: `sum(increase(${METRICS.reviewCost.name}[1d]))`, legendFormat: 'all repositories' }],
  },
  {
    title: 'Review cost per day by repository (USD)',
    type: 'timeseries',
    unit: 'currencyUSD',
    targets: [
      {
        expr: `topk(10, sum by (repository) (increase(${METRICS.reviewCost.name}[1d])))`,
        legendFormat: '{{repository}}',
      },
    ],
  },
  {
    title: 'Tokens per hour by kind',
    type: 'timeseries',
    unit: 'short',
    targets: [{ expr: `sum by (kind) (increase(${METRICS.reviewTokens.name}[1h]))`, legendFormat: '{{kind}}' }],
  },
  {
    title: 'Budget left (share of each budget)',
    type: 'timeseries',
    unit: 'percentunit',
    targets: [
      {
        expr: `max by (budget, subject) (${METRICS.budgetRemaining.name}) / max by (budget, subject) (${METRICS.budgetLimit.name})`,
        legendFormat: '{{budget}} {{subject}}',
      },
    ],
  },
  // Whether teams keep what Kritik says: findings fixed by a later push vs dismissed (docs/operations.md, "Learned rules").
  { title: 'Feedback', type: 'row', unit: 'short', targets: [] },
  {
    title: 'Findings resolved vs dismissed per day',
    type: 'timeseries',
    unit: 'short',
    targets: [
      { expr: `sum(increase(${METRICS.findingsResolved.name}[1d]))`, legendFormat: 'resolved by a later push' },
      { expr: `sum(increase(${METRICS.findingsDismissed.name}[1d]))`, legendFormat: 'dismissed' },
    ],
  },
  {
    title: 'Acceptance by repository (resolved share, 7 days)',
    type: 'timeseries',
    unit: 'percentunit',
    targets: [
      {
        expr: `bottomk(10, sum by (repository) (increase(${METRICS.findingsResolved.name}[7d])) / (sum by (repository) (increase(${METRICS.findingsResolved.name}[7d])) + sum by (repository) (increase(${METRICS.findingsDismissed.name}[7d])) > 0))`,
        legendFormat: '{{repository}}',
      },
    ],
  },
];

/** Grid positions: panels two to a line; a row header takes a line of its own. */
function layout(list: readonly Panel[]) {
  let slot = 0;
  let y = 0;
  return list.map((panel) => {
    if (panel.type === 'row') {
      if (slot % 2 === 1) slot += 1;
      const pos = { h: 1, w: 24, x: 0, y: y + Math.floor(slot / 2) * 8 };
      y = pos.y + 1;
      slot = 0;
      return pos;
    }
    const pos = { h: 8, w: 12, x: (slot % 2) * 12, y: y + Math.floor(slot / 2) * 8 };
    slot += 1;
    return pos;
  });
}

/** Grafana's reference to the dashboard's data source variable (not a JS template). */
const DATASOURCE_VARIABLE = ['$', '{datasource}'].join('');

export function dashboardJson(): string {
  const grid = layout(panels);
  const dashboard = {
    title: 'Kritik',
    uid: 'kritik-overview',
    description: 'DO NOT EDIT: generated from cdk8s/src/chart/dashboard.ts by `npm run synth`.',
    tags: ['kritik'],
    schemaVersion: 39,
    time: { from: 'now-24h', to: 'now' },
    refresh: '1m',
    templating: {
      list: [{ name: 'datasource', type: 'datasource', query: 'prometheus', label: 'Data source' }],
    },
    panels: panels.map((panel, i) =>
      panel.type === 'row'
        ? { id: i + 1, title: panel.title, type: 'row', collapsed: false, panels: [], gridPos: grid[i] }
        : {
            id: i + 1,
            title: panel.title,
            type: panel.type,
            datasource: { type: 'prometheus', uid: DATASOURCE_VARIABLE },
            gridPos: grid[i],
            fieldConfig: { defaults: { unit: panel.unit }, overrides: [] },
            targets: panel.targets.map((t, j) => ({ ...t, refId: String.fromCharCode(65 + j) })),
          },
    ),
  };
  return `${JSON.stringify(dashboard, null, 2)}\n`;
}
