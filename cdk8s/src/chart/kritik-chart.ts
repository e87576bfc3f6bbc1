// The chart's templates: one TemplateFile (a cdk8s Chart) per file under templates/.
import { App } from 'cdk8s';
import { KritikConfig } from '../constructs/config.js';
import { BackendIngress } from '../constructs/ingress.js';
import { JobsNamespace } from '../constructs/jobs.js';
import { kedaHelpers, WorkerScaledObject, workerAutoscaled } from '../constructs/keda.js';
import { KritikMonitoring } from '../constructs/monitoring.js';
import { KritikNetworkPolicies } from '../constructs/network-policies.js';
import { PolicyAccess } from '../constructs/policies.js';
import { BundledRedis } from '../constructs/redis.js';
import { GATEWAY_PORT_NAME, KritikWorkload } from '../constructs/workload.js';
import { optionalYaml, value } from '../helm/expr.js';
import { TemplateFile } from '../helm/template-file.js';
import { values } from '../values/definition.js';
import { BACKEND_PORT, backendEnv, GATEWAY_PORT, WORKER_PORT, workerEnv } from './env.js';

export function buildTemplates(app: App = new App()): TemplateFile[] {
  const config = new TemplateFile(app, 'config.yaml', { preamble: ['{{- include "kritik.validate" . }}'] });
  new KritikConfig(config, 'config');

  const backendFile = new TemplateFile(app, 'backend.yaml');
  const b = values.backend;
  new KritikWorkload(backendFile, 'backend', {
    component: 'backend',
    values: b,
    port: BACKEND_PORT,
    env: backendEnv(),
    service: {
      type: value(b.service.type),
      port: value(b.service.port),
      annotations: optionalYaml(b.service.annotations),
    },
  });
  new BackendIngress(backendFile, 'ingress', { values: b.ingress, dashboard: values.dashboard });

  const workerFile = new TemplateFile(app, 'worker.yaml');
  const worker = new KritikWorkload(workerFile, 'worker', {
    component: 'worker',
    values: values.worker,
    port: WORKER_PORT,
    env: workerEnv(),
    serviceAccountAnnotations: optionalYaml(values.model.serviceAccountAnnotations.worker),
    apiAccess: true,
    // Declared whether or not the gateway is on; only review pods may reach it (NetworkPolicy).
    extraPorts: [{ name: GATEWAY_PORT_NAME, number: GATEWAY_PORT }],
    autoscaled: workerAutoscaled,
  });

  const keda = new TemplateFile(app, 'keda.yaml', {
    preamble: kedaHelpers,
    condition: `${values.worker.autoscaling.keda.enabled}`,
  });
  new WorkerScaledObject(keda, 'keda', { workerName: worker.name });

  const jobs = new TemplateFile(app, 'jobs.yaml');
  new JobsNamespace(jobs, 'jobs', { workerServiceAccount: worker.name });

  const reviewPolicies = new TemplateFile(app, 'reviewpolicies.yaml');
  new PolicyAccess(reviewPolicies, 'reviewpolicies', { workerServiceAccount: worker.name });

  const redis = new TemplateFile(app, 'redis.yaml', { condition: `${values.redis.enabled}` });
  new BundledRedis(redis, 'redis');

  const policies = new TemplateFile(app, 'networkpolicies.yaml', { condition: `${values.networkPolicy.enabled}` });
  new KritikNetworkPolicies(policies, 'policies');

  const monitoring = new TemplateFile(app, 'monitoring.yaml');
  new KritikMonitoring(monitoring, 'monitoring');

  return [config, backendFile, workerFile, keda, jobs, reviewPolicies, redis, policies, monitoring];
}
