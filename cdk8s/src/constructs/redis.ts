// The bundled Redis for evaluation: one pod, no persistence, reachable only by backend and worker
// (see the NetworkPolicies). Production points `externalRedis` at a managed or operator-run Redis.
import { Duration, JsonPatch } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { REDIS_PASSWORD_KEY } from '../chart/env.js';
import { metadata, nameOf, selectorLabels } from '../chart/meta.js';
import { expr, merge, value } from '../helm/expr.js';
import { patchSynthesized } from '../helm/patch.js';
import { values } from '../values/definition.js';
import { generated } from './config.js';
import { helmifyDeployment, restrictedContainer } from './workload.js';

export const REDIS_PORT = 6379;
/** The uid of the `redis` user in the official image. */
const REDIS_UID = 999;

export class BundledRedis extends Construct {
  readonly name = nameOf('redis');

  constructor(scope: Construct, id: string) {
    super(scope, id);
    const r = values.redis;
    const data = kplus.Volume.fromEmptyDir(this, 'data', 'data');
    const deployment = new kplus.Deployment(this, 'deployment', {
      metadata: metadata(this.name, 'redis'),
      replicas: 1,
      // Two Redis pods during a rollout would split the queue.
      strategy: kplus.DeploymentStrategy.recreate(),
      select: false,
      podMetadata: { labels: { ...selectorLabels('redis'), ...merge(values.commonLabels) } },
      automountServiceAccountToken: false,
      securityContext: { ensureNonRoot: true, user: REDIS_UID, group: REDIS_UID, fsGroup: REDIS_UID },
      containers: [
        {
          name: 'redis',
          image: expr(`include "kritik.image" (list . ${r.image}) | quote`),
          imagePullPolicy: value(r.image.pullPolicy) as kplus.ImagePullPolicy,
          // BullMQ needs noeviction; without persistence a restart loses the queue (evaluation only).
          args: [
            // Expanded by Kubernetes from the container's env: the password never sits in the spec.
            '--requirepass',
            '$(REDIS_PASSWORD)',
            '--save',
            '',
            '--appendonly',
            'no',
            '--maxmemory',
            value(r.maxMemory),
            '--maxmemory-policy',
            'noeviction',
          ],
          ports: [{ number: REDIS_PORT, name: 'redis' }],
          liveness: kplus.Probe.fromTcpSocket({ port: REDIS_PORT, periodSeconds: Duration.seconds(10) }),
          // Readiness asks Redis itself; liveness only needs the port (a busy Redis is still alive).
          readiness: kplus.Probe.fromCommand(['redis-cli', '-h', '127.0.0.1', 'ping'], {
            periodSeconds: Duration.seconds(5),
            timeoutSeconds: Duration.seconds(2),
          }),
          securityContext: restrictedContainer,
          volumeMounts: [{ volume: data, path: '/data' }],
        },
      ],
    });
    deployment.select(kplus.LabelSelector.of({ labels: selectorLabels('redis') }));
    helmifyDeployment(deployment, { resources: r.resources });
    const password = {
      secretKeyRef: { name: expr('include "kritik.redisSecretName" . | quote'), key: REDIS_PASSWORD_KEY },
    };
    // REDISCLI_AUTH lets the readiness probe's redis-cli authenticate without a password argument.
    patchSynthesized(
      deployment,
      JsonPatch.add('/spec/template/spec/containers/0/env', [
        { name: 'REDIS_PASSWORD', valueFrom: password },
        { name: 'REDISCLI_AUTH', valueFrom: password },
      ]),
    );

    // Generated at install, kept across upgrades (lookup), never in values.
    new kplus.k8s.KubeSecret(this, 'secret', {
      metadata: metadata(nameOf('redis'), 'redis'),
      type: 'Opaque',
      data: { [REDIS_PASSWORD_KEY]: generated('kritik.redisSecretName', `"${REDIS_PASSWORD_KEY}"`, '""') },
    });

    const service = new kplus.Service(this, 'service', {
      metadata: metadata(this.name, 'redis'),
      ports: [{ name: 'redis', port: REDIS_PORT, targetPort: REDIS_PORT }],
    });
    patchSynthesized(
      service,
      JsonPatch.add('/spec/selector', selectorLabels('redis')),
      JsonPatch.remove('/spec/externalIPs'),
    );
  }
}
