// The worker's one door to the Kubernetes API, scoped to the jobs namespace: every call is named
// by verb and resource, retried on 429/5xx with capped backoff, and fails with a typed error.
import type { V1Job, V1Pod, V1Secret } from '@kubernetes/client-node';
import {
  AuthorizationV1Api,
  BatchV1Api,
  CoreV1Api,
  KubeConfig,
  PatchStrategy,
  setHeaderOptions,
  Watch,
} from './client-node.js';
import { KeepAliveAuthentication } from './keep-alive.js';
import {
  DEFAULT_RETRY,
  type KubeOperation,
  type RetryPolicy,
  toKubernetesError,
  withRetry,
} from './kubernetes.errors.js';

export interface KubernetesClientHooks {
  /** Called before each retry of a transient failure (metrics, logs). */
  onRetry?(op: KubeOperation, attempt: number, delayMs: number, err: unknown): void;
}

export interface JobList {
  readonly items: V1Job[];
  readonly resourceVersion: string | undefined;
}

export interface WatchEvent<T> {
  readonly type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  readonly object: T;
}

export interface AccessQuestion {
  readonly verb: string;
  readonly group: string;
  readonly resource: string;
  readonly subresource?: string;
}

/** Cluster access from config: a kubeconfig file, else the in-cluster ServiceAccount, else the default kubeconfig. */
export function kubeConfigFrom(settings: {
  kubeconfig?: string | undefined;
  serviceHost?: string | undefined;
}): KubeConfig {
  const kubeConfig = new KubeConfig();
  if (settings.kubeconfig) kubeConfig.loadFromFile(settings.kubeconfig);
  else if (settings.serviceHost) kubeConfig.loadFromCluster();
  else kubeConfig.loadFromDefault();
  return kubeConfig;
}

const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
const JOBS = 'jobs.batch';

export class KubernetesClient {
  private readonly batch: BatchV1Api;
  private readonly core: CoreV1Api;
  private readonly authz: AuthorizationV1Api;
  private readonly pool: KeepAliveAuthentication;

  constructor(
    private readonly kubeConfig: KubeConfig,
    readonly namespace: string,
    private readonly retry: RetryPolicy = DEFAULT_RETRY,
    private readonly hooks: KubernetesClientHooks = {},
  ) {
    this.pool = new KeepAliveAuthentication(kubeConfig);
    this.batch = this.pool.makeApiClient(BatchV1Api);
    this.core = this.pool.makeApiClient(CoreV1Api);
    this.authz = this.pool.makeApiClient(AuthorizationV1Api);
  }

  /** Closes the pooled connections (Nest calls it at shutdown). */
  onApplicationShutdown(): void {
    this.pool.destroy();
  }

  createSecret(body: V1Secret): Promise<V1Secret> {
    return this.call('create', 'secrets', body.metadata?.name, () =>
      this.core.createNamespacedSecret({ namespace: this.namespace, body }),
    );
  }

  patchSecret(name: string, patch: V1Secret): Promise<V1Secret> {
    return this.call('patch', 'secrets', name, () =>
      this.core.patchNamespacedSecret({ namespace: this.namespace, name, body: patch }, mergePatch),
    );
  }

  createJob(body: V1Job): Promise<V1Job> {
    return this.call('create', JOBS, body.metadata?.name, () =>
      this.batch.createNamespacedJob({ namespace: this.namespace, body }),
    );
  }

  patchJob(name: string, patch: V1Job): Promise<V1Job> {
    return this.call('patch', JOBS, name, () =>
      this.batch.patchNamespacedJob({ namespace: this.namespace, name, body: patch }, mergePatch),
    );
  }

  readJob(name: string): Promise<V1Job> {
    return this.call('get', JOBS, name, () => this.batch.readNamespacedJob({ namespace: this.namespace, name }));
  }

  async listJobs(labelSelector: string): Promise<JobList> {
    const list = await this.call('list', JOBS, undefined, () =>
      this.batch.listNamespacedJob({ namespace: this.namespace, labelSelector }),
    );
    return { items: list.items, resourceVersion: list.metadata?.resourceVersion };
  }

  /** Deletes a Job and lets the garbage collector remove its pods and Secret in the background. */
  deleteJob(name: string): Promise<unknown> {
    return this.call('delete', JOBS, name, () =>
      this.batch.deleteNamespacedJob({ namespace: this.namespace, name, propagationPolicy: 'Background' }),
    );
  }

  async listPods(labelSelector: string): Promise<V1Pod[]> {
    const list = await this.call('list', 'pods', undefined, () =>
      this.core.listNamespacedPod({ namespace: this.namespace, labelSelector }),
    );
    return list.items;
  }

  readPodLog(name: string, container: string, limitBytes = 64 * 1024): Promise<string> {
    return this.call('get', 'pods/log', name, () =>
      this.core.readNamespacedPodLog({ namespace: this.namespace, name, container, limitBytes }),
    );
  }

  /**
   * Opens one watch of the namespace's Jobs (optionally one Job by name) from a resourceVersion.
   * The caller resumes after `done`; a 403 or 410 arrives as `done(err)` with its status.
   */
  watchJobs(
    query: { name?: string; labelSelector?: string; resourceVersion?: string; timeoutSeconds?: number },
    onEvent: (event: WatchEvent<V1Job>) => void,
    done: (err: unknown) => void,
  ): Promise<AbortController> {
    const op: KubeOperation = { verb: 'watch', resource: JOBS, namespace: this.namespace };
    return new Watch(this.kubeConfig).watch(
      `/apis/batch/v1/namespaces/${encodeURIComponent(this.namespace)}/jobs`,
      {
        fieldSelector: query.name ? `metadata.name=${query.name}` : undefined,
        labelSelector: query.labelSelector,
        resourceVersion: query.resourceVersion,
        allowWatchBookmarks: true,
        timeoutSeconds: query.timeoutSeconds ?? 300,
      },
      (type, object) => onEvent({ type: type as WatchEvent<V1Job>['type'], object }),
      (err) => done(err ? toKubernetesError(op, err) : null),
    );
  }

  /** Asks the apiserver whether this client may do one thing in the jobs namespace. */
  async mayI(question: AccessQuestion): Promise<{ allowed: boolean; reason?: string }> {
    const review = await this.call('create', 'selfsubjectaccessreviews.authorization.k8s.io', undefined, () =>
      this.authz.createSelfSubjectAccessReview({
        body: {
          apiVersion: 'authorization.k8s.io/v1',
          kind: 'SelfSubjectAccessReview',
          spec: {
            resourceAttributes: {
              namespace: this.namespace,
              verb: question.verb,
              group: question.group,
              resource: question.resource,
              ...(question.subresource ? { subresource: question.subresource } : {}),
            },
          },
        },
      }),
    );
    return { allowed: review.status?.allowed === true, reason: review.status?.reason };
  }

  private call<T>(verb: string, resource: string, name: string | undefined, fn: () => Promise<T>): Promise<T> {
    const op: KubeOperation = { verb, resource, namespace: this.namespace, ...(name ? { name } : {}) };
    return withRetry(op, fn, this.retry, (attempt, delay, err) => this.hooks.onRetry?.(op, attempt, delay, err));
  }
}
