// A long-running Kritik component (backend or worker): ServiceAccount, Deployment with probes and
// a restricted security context, Service, and the optional HorizontalPodAutoscaler and PDB.
import { CA_BUNDLE_DIR } from '@kritik/core';
import { Duration, JsonPatch } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { CONFIG_DIR, configFileOf } from '../chart/config-file.js';
import { caBundleSet, METRICS_PORT, REDIS_CA_DIR, redisMode } from '../chart/env.js';
import { metadata, nameOf, selectorLabels } from '../chart/meta.js';
import { type Block, expr, lines, merge, optionalYaml, value, when, whenItem, yaml } from '../helm/expr.js';
import { patchSynthesized } from '../helm/patch.js';
import { onlyIf } from '../helm/template-file.js';
import { type Values, values } from '../values/definition.js';

/** The values every workload has (backend adds its Service and Ingress, worker its KEDA scaling). */
export type WorkloadValues = Values['backend'] | Values['worker'];

export interface ServiceOptions {
  /** Service type (a Helm expression). */
  readonly type: string;
  /** Service port (a Helm expression). */
  readonly port: number;
  /** Service annotations (a block). */
  readonly annotations?: Block;
}

export interface KritikWorkloadProps {
  readonly component: 'backend' | 'worker';
  /** The component's values: image, replicas, resources, scheduling, autoscaling, PDB. */
  readonly values: WorkloadValues;
  /** Container port of HTTP: health, readiness, metrics (and webhooks for the backend). */
  readonly port: number;
  /** Container environment, in order (later entries may refer to earlier ones with $(NAME)). */
  readonly env: readonly kplus.k8s.EnvVar[];
  /** Annotations of the ServiceAccount (workload identity), rendered only when set. */
  readonly serviceAccountAnnotations?: unknown;
  /**
   * Whether the pods get a ServiceAccount token (the worker talks to the Kubernetes API).
   * @default false
   */
  readonly apiAccess?: boolean;
  /**
   * The Service in front of the pods.
   * @default - ClusterIP on `port`
   */
  readonly service?: ServiceOptions;
  /** More named ports of the container, each also a port of the Service (the worker's gateway). */
  readonly extraPorts?: readonly { readonly name: string; readonly number: number }[];
  /**
   * Helm condition under which an autoscaler owns the replica count (the Deployment then sets none).
   * @default - `autoscaling.enabled`
   */
  readonly autoscaled?: string;
}

const HEALTH_PATH = '/health';
const READY_PATH = '/ready';
export const HTTP_PORT_NAME = 'http';
export const METRICS_PORT_NAME = 'metrics';
export const GATEWAY_PORT_NAME = 'gateway';

/** `imagePullSecrets` from the list of names, only when there are some. */
export const imagePullSecrets = (): Block =>
  lines('imagePullSecrets', ({ column }) => {
    const pad = ' '.repeat(column);
    return [
      `${pad}{{- with ${values.imagePullSecrets} }}`,
      `${pad}imagePullSecrets:`,
      `${pad}  {{- range . }}`,
      `${pad}  - name: {{ . | quote }}`,
      `${pad}  {{- end }}`,
      `${pad}{{- end }}`,
    ];
  });

/** The container security context every Kritik container has (PodSecurity `restricted`). */
export const restrictedContainer: kplus.ContainerSecurityContextProps = {
  ensureNonRoot: true,
  readOnlyRootFilesystem: true,
  allowPrivilegeEscalation: false,
  privileged: false,
  capabilities: { drop: [kplus.Capability.ALL] },
};

/** Makes a cdk8s-plus Deployment a Helm-driven one: selector, replicas, scheduling, resources. */
export function helmifyDeployment(
  deployment: kplus.Deployment,
  v: {
    readonly resources: WorkloadValues['resources'];
    readonly replicas?: Block;
    readonly scheduling?: Pick<
      WorkloadValues,
      'nodeSelector' | 'tolerations' | 'affinity' | 'topologySpreadConstraints' | 'priorityClassName'
    >;
  },
): void {
  const spec = '/spec/template/spec';
  const patch = (...ops: JsonPatch[]) => patchSynthesized(deployment, ...ops);
  patch(
    // cdk8s-plus labels pods with its construct address; selectors here use only stable labels.
    JsonPatch.remove('/spec/template/metadata/labels/cdk8s.io~1metadata.addr'),
    JsonPatch.add(`${spec}/containers/0/resources`, yaml(v.resources)),
    JsonPatch.add(`${spec}/securityContext/seccompProfile`, { type: 'RuntimeDefault' }),
    JsonPatch.add(`${spec}/enableServiceLinks`, false),
    JsonPatch.add(`${spec}/imagePullSecrets`, imagePullSecrets()),
  );
  if (v.replicas !== undefined) patch(JsonPatch.replace('/spec/replicas', v.replicas));
  if (v.scheduling) {
    const s = v.scheduling;
    patch(
      JsonPatch.add(`${spec}/nodeSelector`, optionalYaml(s.nodeSelector)),
      JsonPatch.add(`${spec}/tolerations`, optionalYaml(s.tolerations)),
      JsonPatch.add(`${spec}/affinity`, optionalYaml(s.affinity)),
      JsonPatch.add(`${spec}/topologySpreadConstraints`, optionalYaml(s.topologySpreadConstraints)),
      JsonPatch.add(`${spec}/priorityClassName`, when(s.priorityClassName, value(s.priorityClassName))),
    );
  }
}

export class KritikWorkload extends Construct {
  readonly deployment: kplus.Deployment;
  readonly serviceAccount: kplus.ServiceAccount;
  readonly service: kplus.Service;
  readonly name: string;

  constructor(scope: Construct, id: string, props: KritikWorkloadProps) {
    super(scope, id);
    const { component, values: v, port } = props;
    const apiAccess = props.apiAccess ?? false;
    this.name = nameOf(component);

    this.serviceAccount = new kplus.ServiceAccount(this, 'service-account', {
      metadata: metadata(this.name, component),
      automountToken: apiAccess,
    });
    if (props.serviceAccountAnnotations) {
      patchSynthesized(this.serviceAccount, JsonPatch.add('/metadata/annotations', props.serviceAccountAnnotations));
    }

    const configVolume = kplus.Volume.fromConfigMap(
      this,
      'config-volume',
      kplus.ConfigMap.fromConfigMapName(this, 'config', nameOf('config')),
      { name: 'config' },
    );
    const tmpVolume = kplus.Volume.fromEmptyDir(this, 'tmp-volume', 'tmp');
    const httpGet = (path: string, options: kplus.HttpGetProbeOptions) =>
      kplus.Probe.fromHttpGet(path, { port, timeoutSeconds: Duration.seconds(3), ...options });

    this.deployment = new kplus.Deployment(this, 'deployment', {
      metadata: metadata(this.name, component),
      select: false,
      podMetadata: {
        labels: { ...selectorLabels(component), ...merge(v.podLabels), ...merge(values.commonLabels) },
        annotations: {
          // A changed config file changes this annotation and so rolls the pods.
          'checksum/config': expr(`include "${configFileOf(component).helper}" . | sha256sum | quote`),
          ...merge(v.podAnnotations),
        },
      },
      serviceAccount: this.serviceAccount,
      automountServiceAccountToken: apiAccess,
      securityContext: {
        ensureNonRoot: true,
        user: value(values.securityContext.runAsUser),
        group: value(values.securityContext.runAsGroup),
        fsGroup: value(values.securityContext.fsGroup),
        fsGroupChangePolicy: kplus.FsGroupChangePolicy.ON_ROOT_MISMATCH,
      },
      containers: [
        {
          name: component,
          image: expr(`include "kritik.image" (list . ${v.image}) | quote`),
          imagePullPolicy: value(v.image.pullPolicy) as kplus.ImagePullPolicy,
          ports: [
            { number: port, name: HTTP_PORT_NAME },
            { number: METRICS_PORT, name: METRICS_PORT_NAME },
            ...(props.extraPorts ?? []),
          ],
          // Liveness has no dependencies, readiness checks Redis (and the worker's permissions).
          liveness: httpGet(HEALTH_PATH, { periodSeconds: Duration.seconds(10), failureThreshold: 3 }),
          readiness: httpGet(READY_PATH, { periodSeconds: Duration.seconds(5), failureThreshold: 3 }),
          startup: httpGet(HEALTH_PATH, { periodSeconds: Duration.seconds(2), failureThreshold: 30 }),
          securityContext: restrictedContainer,
          volumeMounts: [
            { volume: configVolume, path: CONFIG_DIR, readOnly: true },
            { volume: tmpVolume, path: '/tmp' },
          ],
        },
      ],
    });
    this.deployment.select(kplus.LabelSelector.of({ labels: selectorLabels(component) }));
    helmifyDeployment(this.deployment, {
      resources: v.resources,
      replicas: when(`not ${props.autoscaled ?? v.autoscaling.enabled}`, value(v.replicaCount)),
      scheduling: v,
    });
    patchSynthesized(this.deployment, JsonPatch.add('/spec/template/spec/containers/0/env', props.env));
    // The CA bundle of a managed Redis with a private CA (KRITIK_REDIS_CA_FILE points into it).
    patchSynthesized(
      this.deployment,
      JsonPatch.add(
        '/spec/template/spec/volumes/-',
        whenItem(redisMode.ca, { name: 'redis-ca', secret: { secretName: value(values.externalRedis.caSecret) } }),
      ),
      JsonPatch.add(
        '/spec/template/spec/containers/0/volumeMounts/-',
        whenItem(redisMode.ca, { name: 'redis-ca', mountPath: REDIS_CA_DIR, readOnly: true }),
      ),
    );
    // The extra CAs Node trusts (NODE_EXTRA_CA_CERTS points into them): a self-managed code host's CA.
    const ca = values.caBundle;
    const caItems = [{ key: value(ca.key), path: value(ca.key) }];
    patchSynthesized(
      this.deployment,
      JsonPatch.add(
        '/spec/template/spec/volumes/-',
        whenItem(ca.secret, { name: 'ca-bundle', secret: { secretName: value(ca.secret), items: caItems } }),
      ),
      JsonPatch.add(
        '/spec/template/spec/volumes/-',
        whenItem(`and (not ${ca.secret}) ${ca.configMap}`, {
          name: 'ca-bundle',
          configMap: { name: value(ca.configMap), items: caItems },
        }),
      ),
      JsonPatch.add(
        '/spec/template/spec/containers/0/volumeMounts/-',
        whenItem(caBundleSet, { name: 'ca-bundle', mountPath: CA_BUNDLE_DIR, readOnly: true }),
      ),
    );

    this.service = new kplus.Service(this, 'service', {
      metadata: metadata(this.name, component),
      type: (props.service?.type ?? kplus.ServiceType.CLUSTER_IP) as kplus.ServiceType,
      ports: [
        { name: HTTP_PORT_NAME, port: props.service?.port ?? port, targetPort: port },
        { name: METRICS_PORT_NAME, port: METRICS_PORT, targetPort: METRICS_PORT },
        ...(props.extraPorts ?? []).map((p) => ({ name: p.name, port: p.number, targetPort: p.number })),
      ],
    });
    patchSynthesized(
      this.service,
      JsonPatch.add('/spec/selector', selectorLabels(component)),
      JsonPatch.remove('/spec/externalIPs'),
    );
    if (props.service?.annotations) {
      patchSynthesized(this.service, JsonPatch.add('/metadata/annotations', props.service.annotations));
    }

    const hpa = new kplus.k8s.KubeHorizontalPodAutoscalerV2(this, 'hpa', {
      metadata: metadata(this.name, component),
      spec: {
        scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: this.name },
        minReplicas: value(v.autoscaling.minReplicas),
        maxReplicas: value(v.autoscaling.maxReplicas),
        metrics: [
          {
            type: 'Resource',
            resource: {
              name: 'cpu',
              target: { type: 'Utilization', averageUtilization: value(v.autoscaling.targetCPUUtilizationPercentage) },
            },
          },
          {
            type: 'Resource',
            resource: {
              name: 'memory',
              target: {
                type: 'Utilization',
                averageUtilization: value(v.autoscaling.targetMemoryUtilizationPercentage),
              },
            },
          },
        ],
      },
    });
    patchSynthesized(hpa, JsonPatch.add('/spec/behavior', yaml(v.autoscaling.behavior)));
    onlyIf(hpa, v.autoscaling.enabled);

    const pdb = new kplus.k8s.KubePodDisruptionBudget(this, 'pdb', {
      metadata: metadata(this.name, component),
      spec: {
        maxUnavailable: kplus.k8s.IntOrString.fromNumber(value(v.pdb.maxUnavailable)),
        selector: { matchLabels: selectorLabels(component) },
      },
    });
    onlyIf(pdb, v.pdb.enabled);
  }
}
