// The worker scaled by KEDA on the depth of the reviews queue: a ScaledObject whose redis triggers
// count the BullMQ lists of waiting and running reviews, and a TriggerAuthentication for the password.
import { DEFAULT_REVIEW_CONCURRENCY, queueKeys, REVIEWS_QUEUE } from '@kritik/core';
import { ApiObject, JsonPatch } from 'cdk8s';
import { Construct } from 'constructs';
import { REDIS_PASSWORD_KEY } from '../chart/env.js';
import { define } from '../chart/helpers-tpl.js';
import { metadata, nameOf, selectorLabels } from '../chart/meta.js';
import { expr, value, when, yaml } from '../helm/expr.js';
import { patchSynthesized } from '../helm/patch.js';
import { onlyIf } from '../helm/template-file.js';
import { values } from '../values/definition.js';
import { REDIS_PORT } from './redis.js';

const keda = values.worker.autoscaling.keda;
const scheduling = `(${values.worker.config}).scheduling`;

/** Helm condition: an autoscaler (the HPA or KEDA's) owns the worker's replica count. */
export const workerAutoscaled = `(or ${values.worker.autoscaling.enabled} ${keda.enabled})`;

/** The two lists whose lengths add up to the work on the worker fleet, by trigger name. */
export const DEPTH_LISTS = {
  waiting: queueKeys(REVIEWS_QUEUE).wait,
  running: queueKeys(REVIEWS_QUEUE).active,
} as const;

/**
 * Helpers only the ScaledObject uses, printed at the top of its template file: how KEDA's
 * operator (in its own namespace) reaches the Redis the worker uses.
 */
export const kedaHelpers: readonly string[] = [
  ...define(
    'kritik.kedaRedisAddress',
    'host:port of Redis as seen from any namespace: the bundled one by its Service, else externalRedis.',
    [
      '{{- $r := .Values.externalRedis -}}',
      '{{- if .Values.redis.enabled -}}',
      `{{- printf "%s-redis.%s.svc:${REDIS_PORT}" (include "kritik.fullname" .) .Release.Namespace -}}`,
      '{{- else if $r.url -}}',
      '{{- printf "%s:%s" (urlParse $r.url).hostname (include "kritik.redisPort" .) -}}',
      '{{- else -}}',
      '{{- printf "%s:%v" $r.host $r.port -}}',
      '{{- end -}}',
    ],
  ),
  ...define('kritik.kedaRedisTls', '"true" when the worker connects to Redis with TLS.', [
    '{{- $r := .Values.externalRedis -}}',
    '{{- if .Values.redis.enabled }}false{{ else }}{{ or $r.tls (hasPrefix "rediss:" ($r.url | default "")) }}{{ end -}}',
  ]),
  ...define('kritik.kedaRedisDatabase', 'Database number of the queue.', [
    '{{- $r := .Values.externalRedis -}}',
    '{{- if .Values.redis.enabled }}0{{ else if $r.url }}{{ trimPrefix "/" (urlParse $r.url).path | default "0" }}{{ else }}{{ $r.database }}{{ end -}}',
  ]),
  ...define('kritik.kedaRedisUsername', 'ACL user of the external Redis, if any.', [
    '{{- $r := .Values.externalRedis -}}',
    '{{- if .Values.redis.enabled }}{{ else if $r.username }}{{ $r.username }}{{ else if $r.url }}{{ (split ":" (urlParse $r.url).userinfo)._0 }}{{ end -}}',
  ]),
  ...define(
    'kritik.kedaRedisPassword',
    'The Secret and key of the Redis password as JSON, empty without one (the worker gets it from the same place).',
    [
      '{{- $r := .Values.externalRedis -}}',
      '{{- if .Values.redis.enabled -}}',
      `{{- dict "name" (include "kritik.redisSecretName" .) "key" "${REDIS_PASSWORD_KEY}" | toJson -}}`,
      '{{- else if $r.existingSecret -}}',
      '{{- dict "name" $r.existingSecret "key" $r.existingSecretPasswordKey | toJson -}}',
      '{{- end -}}',
    ],
  ),
  ...define(
    'kritik.kedaListLength',
    "Reviews one replica carries: keda.listLength, else the worker's replicaConcurrency, else its concurrency.",
    [
      `{{- $s := ${scheduling} | default (dict) -}}`,
      `{{- ${keda.listLength} | default $s.replicaConcurrency | default $s.concurrency | default ${DEFAULT_REVIEW_CONCURRENCY} -}}`,
    ],
  ),
];

const hasPassword = 'include "kritik.kedaRedisPassword" .';
const password = (field: 'name' | 'key') => expr(`(include "kritik.kedaRedisPassword" . | fromJson).${field} | quote`);

export class WorkerScaledObject extends Construct {
  constructor(scope: Construct, id: string, props: { readonly workerName: string }) {
    super(scope, id);
    const authName = nameOf('worker-redis');

    const auth = new ApiObject(this, 'trigger-authentication', {
      apiVersion: 'keda.sh/v1alpha1',
      kind: 'TriggerAuthentication',
      metadata: metadata(authName, 'worker'),
      spec: { secretTargetRef: [{ parameter: 'password', name: password('name'), key: password('key') }] },
    });
    onlyIf(auth, hasPassword);

    const trigger = (name: keyof typeof DEPTH_LISTS) => ({
      type: 'redis',
      name,
      metadata: {
        address: expr('include "kritik.kedaRedisAddress" . | quote'),
        listName: DEPTH_LISTS[name],
        listLength: expr('include "kritik.kedaListLength" . | quote'),
        enableTLS: expr('include "kritik.kedaRedisTls" . | quote'),
        databaseIndex: expr('include "kritik.kedaRedisDatabase" . | quote'),
        username: when('include "kritik.kedaRedisUsername" .', expr('include "kritik.kedaRedisUsername" . | quote')),
      },
    });
    const triggers = [trigger('waiting'), trigger('running')];

    const scaledObject = new ApiObject(this, 'scaled-object', {
      apiVersion: 'keda.sh/v1alpha1',
      kind: 'ScaledObject',
      metadata: metadata(props.workerName, 'worker'),
      spec: {
        scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: props.workerName },
        minReplicaCount: value(keda.minReplicas),
        maxReplicaCount: value(keda.maxReplicas),
        pollingInterval: value(keda.pollingInterval),
        advanced: {
          horizontalPodAutoscalerConfig: { behavior: yaml(values.worker.autoscaling.behavior) },
          // One metric, the sum: with one per trigger the HPA would follow the larger, not the total.
          scalingModifiers: {
            formula: Object.keys(DEPTH_LISTS).join(' + '),
            target: expr('include "kritik.kedaListLength" . | quote'),
            metricType: 'AverageValue',
          },
        },
        triggers,
      },
    });
    // NetworkPolicies add up: this one lets KEDA's operator, and nothing else, reach the bundled Redis too.
    const redisPolicy = new ApiObject(this, 'redis-policy', {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: metadata(nameOf('redis-keda'), 'redis'),
      spec: {
        podSelector: { matchLabels: selectorLabels('redis') },
        policyTypes: ['Ingress'],
        ingress: [
          {
            from: [
              {
                namespaceSelector: yaml(keda.operator.namespaceSelector),
                podSelector: yaml(keda.operator.podSelector),
              },
            ],
            ports: [{ protocol: 'TCP', port: REDIS_PORT }],
          },
        ],
      },
    });
    onlyIf(redisPolicy, `and ${values.redis.enabled} ${values.networkPolicy.enabled}`);

    // After the other keys: a conditional key cannot open a list item.
    patchSynthesized(
      scaledObject,
      ...triggers.map((_, i) =>
        JsonPatch.add(`/spec/triggers/${i}/authenticationRef`, when(hasPassword, { name: authName })),
      ),
    );
  }
}
