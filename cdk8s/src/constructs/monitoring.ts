// Optional monitoring: a ServiceMonitor scraping backend and worker, and the Grafana dashboard
// (dashboards/kritik.json in the chart) as a ConfigMap for the Grafana sidecar.
import { APP_NAME, LABELS } from '@kritik/core';
import { ApiObject } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { labels, nameOf, releaseNamespace } from '../chart/meta.js';
import { expr, literal, merge, value } from '../helm/expr.js';
import { onlyIf } from '../helm/template-file.js';
import { values } from '../values/definition.js';
import { METRICS_PORT_NAME } from './workload.js';

export const DASHBOARD_FILE = 'dashboards/kritik.json';
export const METRICS_PATH = '/metrics';

export class KritikMonitoring extends Construct {
  constructor(scope: Construct, id: string) {
    super(scope, id);
    const m = values.metrics;
    const serviceMonitor = new ApiObject(this, 'service-monitor', {
      apiVersion: 'monitoring.coreos.com/v1',
      kind: 'ServiceMonitor',
      metadata: {
        name: nameOf('metrics'),
        namespace: releaseNamespace,
        labels: { ...labels(), ...merge(m.serviceMonitor.labels) },
      },
      spec: {
        selector: {
          matchLabels: { [LABELS.name]: APP_NAME, [LABELS.instance]: expr('.Release.Name | quote') },
          matchExpressions: [{ key: LABELS.component, operator: 'In', values: ['backend', 'worker'] }],
        },
        namespaceSelector: { matchNames: [releaseNamespace] },
        endpoints: [
          {
            port: METRICS_PORT_NAME,
            path: METRICS_PATH,
            interval: value(m.serviceMonitor.interval),
            scrapeTimeout: value(m.serviceMonitor.scrapeTimeout),
          },
        ],
      },
    });
    onlyIf(serviceMonitor, m.serviceMonitor.enabled);

    const dashboard = new kplus.ConfigMap(this, 'dashboard', {
      metadata: {
        name: nameOf('dashboard'),
        namespace: expr(`${m.dashboard.namespace} | default .Release.Namespace | quote`),
        labels: { ...labels(), ...merge(m.dashboard.labels) },
      },
      data: { 'kritik.json': literal(`.Files.Get ${JSON.stringify(DASHBOARD_FILE)}`) },
    });
    onlyIf(dashboard, m.dashboard.enabled);
  }
}
