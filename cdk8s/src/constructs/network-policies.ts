// NetworkPolicies of every component. Review pods get no ingress and reach only the cluster DNS,
// the worker's model gateway, and TCP 443 outside private ranges (the code host) or a GitLab
// inside them (`gitlab.egress`); backend and worker reach DNS, Redis, 443 and (worker) the API
// server and that GitLab.
import { APP_NAME, LABELS } from '@kritik/core';
import { ApiObject } from 'cdk8s';
import { Construct } from 'constructs';
import { BACKEND_PORT, GATEWAY_PORT, METRICS_PORT } from '../chart/env.js';
import { jobsNamespace, metadata, nameOf, selectorLabels } from '../chart/meta.js';
import { type Block, expr, lines, whenItem, yaml } from '../helm/expr.js';
import { onlyIf } from '../helm/template-file.js';
import { values } from '../values/definition.js';
import type { GroupRef, ValueRef } from '../values/dsl.js';
import { REDIS_PORT } from './redis.js';

const np = values.networkPolicy;
const tcp = (port: number) => ({ port, protocol: 'TCP' });
const ANYWHERE = '0.0.0.0/0';

const dns = { ports: [{ port: 53, protocol: 'UDP' }, tcp(53)] };

/** Whether the model provider (or its fallback) is this one. */
const uses = (provider: 'bedrock' | 'vertex') =>
  `(or (eq ${values.model.provider} "${provider}") (eq ${values.model.fallback.provider} "${provider}"))`;

/**
 * Where workload identity hands out credentials, for the pods that call the provider: EKS Pod
 * Identity's agent (IRSA needs only STS on 443), and GKE's metadata server (169.254.169.252:988
 * under Dataplane V2). Only the provider in use is opened, so review pods on EKS never reach the
 * node's instance metadata.
 */
function identityEgress(condition?: string): object[] {
  const block = (cidr: string) => ({ ipBlock: { cidr } });
  const when = (provider: 'bedrock' | 'vertex') => (condition ? `and ${condition} ${uses(provider)}` : uses(provider));
  return [
    whenItem(when('bedrock'), { to: [block('169.254.170.23/32')], ports: [tcp(80)] }),
    whenItem(when('vertex'), {
      to: [block('169.254.169.254/32'), block('169.254.169.252/32')],
      ports: [tcp(80), tcp(988)],
    }),
  ];
}
const https = { ports: [tcp(443)] };

/** `ports:` from a list of numbers (the schema requires at least one: an empty list would mean all ports). */
const portList = (source: ValueRef<number[]>): Block =>
  lines(`portList ${source}`, ({ head, column }) => {
    const p = ' '.repeat(column + 2);
    return [head, `${p}{{- range ${source} }}`, `${p}- port: {{ . }}`, `${p}  protocol: TCP`, `${p}{{- end }}`];
  });

/** `to:` one ipBlock per CIDR; no `to` (any address) when the list is empty. */
const optionalIpBlocks = (source: ValueRef<string[]>): Block =>
  lines(`optionalIpBlocks ${source}`, ({ key, column }) => {
    const p = ' '.repeat(column);
    return [
      `${p}{{- with ${source} }}`,
      `${p}${key}:`,
      `${p}  {{- range . }}`,
      `${p}  - ipBlock:`,
      `${p}      cidr: {{ . | quote }}`,
      `${p}  {{- end }}`,
      `${p}{{- end }}`,
    ];
  });

/** `ports:` of the external Redis: its data port and, with Sentinel, the sentinels' ports. */
const externalRedisPorts = (): Block =>
  lines('externalRedisPorts', ({ head, column }) => {
    const p = ' '.repeat(column + 2);
    return [
      head,
      `${p}{{- range include "kritik.redisPorts" . | splitList "," }}`,
      `${p}- port: {{ . }}`,
      `${p}  protocol: TCP`,
      `${p}{{- end }}`,
    ];
  });

/** Egress to Redis: the bundled pod, or the external host's ports. */
const redisEgress = () => [
  whenItem(values.redis.enabled, {
    to: [{ podSelector: { matchLabels: selectorLabels('redis') } }],
    ports: [tcp(REDIS_PORT)],
  }),
  whenItem(`not ${values.redis.enabled}`, {
    ports: externalRedisPorts(),
    to: optionalIpBlocks(np.externalRedisCidrs),
  }),
];

const namespaceSelector = (source: ValueRef<object> | GroupRef) => ({ namespaceSelector: yaml(source) });

/** Selects one namespace by the name label Kubernetes sets on every namespace. */
const namespaceNamed = (name: string) => ({ matchLabels: { 'kubernetes.io/metadata.name': name } });

/** This release's review pods: the worker labels them with name and component, the chart's config adds the instance. */
const reviewPods = () => ({
  matchLabels: {
    [LABELS.name]: APP_NAME,
    [LABELS.instance]: expr('.Release.Name | quote'),
    [LABELS.component]: 'reviewer',
  },
});

export class KritikNetworkPolicies extends Construct {
  constructor(scope: Construct, id: string) {
    super(scope, id);
    const policy = (name: string, spec: object, namespace?: string) =>
      new ApiObject(this, name, {
        apiVersion: 'networking.k8s.io/v1',
        kind: 'NetworkPolicy',
        metadata: metadata(nameOf(name), undefined, namespace),
        spec: { policyTypes: ['Ingress', 'Egress'], ...spec },
      });

    policy('backend', {
      podSelector: { matchLabels: selectorLabels('backend') },
      ingress: [
        { from: [namespaceSelector(np.ingressNamespaceSelector)], ports: [tcp(BACKEND_PORT)] },
        { from: [namespaceSelector(np.metricsNamespaceSelector)], ports: [tcp(METRICS_PORT)] },
      ],
      // The backend reaches a private GitLab only for sign-in with GitLab.
      egress: [
        dns,
        ...redisEgress(),
        https,
        gitlabEgress(`and ${values.dashboard.enabled} ${values.dashboard.gitlab.enabled}`),
      ],
    });

    policy('worker', {
      podSelector: { matchLabels: selectorLabels('worker') },
      ingress: [
        { from: [namespaceSelector(np.metricsNamespaceSelector)], ports: [tcp(METRICS_PORT)] },
        whenItem(values.anthropic.gateway, {
          from: [
            {
              namespaceSelector: namespaceNamed(expr('include "kritik.jobsNamespace" . | quote')),
              podSelector: reviewPods(),
            },
          ],
          ports: [tcp(GATEWAY_PORT)],
        }),
      ],
      egress: [
        dns,
        ...redisEgress(),
        { ports: portList(np.kubeApi.ports), to: optionalIpBlocks(np.kubeApi.cidrs) },
        https,
        gitlabEgress(),
        ...identityEgress(),
      ],
    });

    const redis = policy('redis', {
      podSelector: { matchLabels: selectorLabels('redis') },
      ingress: [
        {
          from: [
            { podSelector: { matchLabels: selectorLabels('backend') } },
            { podSelector: { matchLabels: selectorLabels('worker') } },
          ],
          ports: [tcp(REDIS_PORT)],
        },
      ],
      egress: [],
    });
    onlyIf(redis, values.redis.enabled);

    policy(
      'reviewer',
      {
        podSelector: reviewPods(),
        ingress: [],
        egress: [
          {
            to: [
              {
                namespaceSelector: yaml(np.reviewerDns.namespaceSelector),
                podSelector: yaml(np.reviewerDns.podSelector),
              },
            ],
            ...dns,
          },
          whenItem(values.anthropic.gateway, {
            to: [
              {
                namespaceSelector: namespaceNamed(expr('.Release.Namespace | quote')),
                podSelector: { matchLabels: selectorLabels('worker') },
              },
            ],
            ports: [tcp(GATEWAY_PORT)],
          }),
          { to: [{ ipBlock: { cidr: ANYWHERE, except: yaml(np.privateCidrs) } }], ports: [tcp(443)] },
          gitlabEgress(),
          // Without the gateway, review pods call the provider with their own identity.
          ...identityEgress(`(not ${values.anthropic.gateway})`),
          reviewerExtraEgress(),
        ],
      },
      jobsNamespace,
    );
  }
}

/** A GitLab inside private ranges (`gitlab.egress`): its addresses and ports, when GitLab is enabled (and `also`). */
function gitlabEgress(also?: string): object {
  const g = values.gitlab;
  return whenItem(`and ${g.enabled} ${g.egress.cidrs}${also ? ` (${also})` : ''}`, {
    // Ports first: the list item's dash goes with the first key, and `to` opens with a `with`.
    ports: portList(g.egress.ports),
    to: optionalIpBlocks(g.egress.cidrs),
  });
}

function reviewerExtraEgress(): object {
  return lines(`reviewerExtraEgress ${np.reviewerExtraEgress}`, ({ column }) => {
    const p = ' '.repeat(column);
    return [
      `${p}{{- range ${np.reviewerExtraEgress} }}`,
      `${p}- to:`,
      `${p}    - ipBlock:`,
      `${p}        cidr: {{ .cidr | quote }}`,
      `${p}  ports:`,
      `${p}    {{- range .ports }}`,
      `${p}    - port: {{ . }}`,
      `${p}      protocol: TCP`,
      `${p}    {{- end }}`,
      `${p}{{- end }}`,
    ];
  });
}
