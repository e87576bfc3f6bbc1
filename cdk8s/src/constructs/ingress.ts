// The backend's optional Ingress: class, hosts with their paths, TLS and annotations (e.g.
// cert-manager), all from values.
import { ApiObject, JsonPatch } from 'cdk8s';
import { Construct } from 'constructs';
import { metadata, nameOf, nameTemplate } from '../chart/meta.js';
import { lines, optionalYaml, value, when } from '../helm/expr.js';
import { patchSynthesized } from '../helm/patch.js';
import { onlyIf } from '../helm/template-file.js';
import type { Values } from '../values/definition.js';
import { HTTP_PORT_NAME } from './workload.js';

export interface BackendIngressProps {
  readonly values: Values['backend']['ingress'];
  /** Adds the dashboard's path to every host when it is enabled. */
  readonly dashboard: Values['dashboard'];
}

export class BackendIngress extends Construct {
  constructor(scope: Construct, id: string, props: BackendIngressProps) {
    super(scope, id);
    const v = props.values;
    const dashboard = props.dashboard;
    const rules = lines(`ingress rules ${v.hosts}`, ({ head, column }) => {
      const p = ' '.repeat(column + 2);
      // Inside `range` the context is the host; `$` is the chart root.
      const service = nameTemplate('backend', '$');
      const toBackend = [
        `${p}        backend:`,
        `${p}          service:`,
        `${p}            name: ${service}`,
        `${p}            port:`,
        `${p}              name: ${HTTP_PORT_NAME}`,
      ];
      return [
        head,
        `${p}{{- range ${v.hosts} }}`,
        `${p}- host: {{ .host | quote }}`,
        `${p}  http:`,
        `${p}    paths:`,
        `${p}      {{- range .paths }}`,
        `${p}      - path: {{ .path | quote }}`,
        `${p}        pathType: {{ .pathType | default "Prefix" | quote }}`,
        ...toBackend,
        `${p}      {{- end }}`,
        // The dashboard's pages on every host (`$`: inside `range` the context is the host).
        `${p}      {{- if ${String(dashboard.enabled).replace(/^\./, '$.')} }}`,
        `${p}      - path: {{ ${String(dashboard.ingressPath).replace(/^\./, '$.')} | quote }}`,
        `${p}        pathType: Prefix`,
        ...toBackend,
        `${p}      {{- end }}`,
        `${p}{{- end }}`,
      ];
    });
    const ingress = new ApiObject(this, 'ingress', {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'Ingress',
      metadata: metadata(nameOf('backend'), 'backend'),
      spec: {
        ingressClassName: when(v.className, value(v.className)),
        tls: optionalYaml(v.tls),
        rules,
      },
    });
    patchSynthesized(ingress, JsonPatch.add('/metadata/annotations', optionalYaml(v.annotations)));
    onlyIf(ingress, v.enabled);
  }
}
