// Public API of the worker for tests, benches and the chart generator.
export { type CreateWorkerOptions, createWorkerApp } from './app/worker.app.js';
export { WorkerModule, type WorkerModuleOptions } from './app/worker.module.js';
export { BudgetLedger, type BudgetStanding, type Reservation } from './budgets/budget-ledger.js';
export { type CodeHost, CodeHostError, CodeHosts } from './code-host/code-host.js';
export {
  DEFAULT_WORKER_PORT,
  effectiveRunner,
  gatewaySettingsSchema,
  loadWorkerConfig,
  type SchedulingSettings,
  schedulingSettingsSchema,
  WORKER_ENV,
  type WorkerConfig,
  workerConfigSchema,
} from './config/worker.config.js';
export { GatewayGrants } from './gateway/gateway-grants.js';
export { ModelGateway } from './gateway/model-gateway.js';
export { CheckRuns } from './github/check-runs.js';
export { GitHubCodeHost } from './github/github.code-host.js';
export {
  CHECKS_TOKEN_PERMISSIONS,
  COMMENT_TOKEN_PERMISSIONS,
  GitHubAppClient,
  PULL_READ_TOKEN_PERMISSIONS,
  REVIEWER_TOKEN_PERMISSIONS,
} from './github/github-app.client.js';
export { GitLabClient } from './gitlab/gitlab.client.js';
export { GitLabCodeHost } from './gitlab/gitlab.code-host.js';
export { accessQuestions, checkAccess, describeAccess } from './kubernetes/access-check.js';
export { KubernetesClient, kubeConfigFrom } from './kubernetes/kubernetes.client.js';
export { KubernetesForbiddenError } from './kubernetes/kubernetes.errors.js';
export { KubernetesJobRunner } from './kubernetes/kubernetes-job.runner.js';
export * from './kubernetes/review-job.builder.js';
export { LocalProcessRunner } from './runner/local-process.runner.js';
export * from './runner/review-runner.js';
export { Reconciler } from './scheduling/reconcile.service.js';
export { ReviewSlots } from './scheduling/review-slots.js';
