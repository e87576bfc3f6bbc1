// Keeps the release namespace's ReviewPolicies in memory with an informer (restarted with capped
// backoff on error, re-evaluated on a resync), writes each one's status, and answers which
// policy layer applies to a repository: a change reaches the next review without a restart. It
// publishes the policies' budgets on every change, for the dashboard (the backend has no Kubernetes access).
import {
  budgetSnapshot,
  POLICY_GROUP,
  POLICY_PERMISSIONS,
  POLICY_PLURAL,
  POLICY_VERSION,
  type PolicyLayer,
  type PolicyTarget,
  policyLayerFor,
  policyMatches,
} from '@kritik/core';
import type { BudgetSnapshotStore } from '@kritik/server';
import type { KubernetesListObject, KubernetesObject } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { accessGranted, checkAccess, describeReport } from '../kubernetes/access-check.js';
import { CustomObjectsApi, type KubeConfig, makeInformer } from '../kubernetes/client-node.js';
import { KubernetesClient } from '../kubernetes/kubernetes.client.js';
import { type Evaluated, evaluatePolicy, nextStatus, type PolicyObject } from './policy-evaluation.js';

type PolicyResource = KubernetesObject & PolicyObject;

export interface PolicyWatcherOptions {
  readonly namespace: string;
  /** How often every policy is evaluated again and its status refreshed. */
  readonly resyncMs: number;
  /** What "recently matched" means in a policy's status. */
  readonly matchWindowMs: number;
  readonly maxBackoffMs: number;
}

export const DEFAULT_POLICY_WATCH: Omit<PolicyWatcherOptions, 'namespace'> = {
  resyncMs: 60_000,
  matchWindowMs: 24 * 3600_000,
  maxBackoffMs: 30_000,
};

/** Where a review's policy layer comes from (the watcher, or nothing when policies are off). */
export interface PolicyLayers {
  layerFor(target: PolicyTarget): PolicyLayer | undefined;
}

export const POLICY_LAYERS = Symbol('POLICY_LAYERS');

export class PolicyWatcher implements PolicyLayers {
  private readonly api: CustomObjectsApi;
  private readonly informer;
  private readonly evaluated = new Map<string, Evaluated>();
  /** Per policy, when each repository it applied to was last reviewed. */
  private readonly matches = new Map<string, Map<string, number>>();
  private resync: NodeJS.Timeout | undefined;
  private restart: NodeJS.Timeout | undefined;
  private failures = 0;
  private stopped = false;
  /** The budget snapshot last published (its policies, as JSON), to publish only changes between resyncs. */
  private published: string | undefined;
  private listed = false;

  constructor(
    private readonly kubeConfig: KubeConfig,
    private readonly options: PolicyWatcherOptions,
    private readonly logger: Logger,
    private readonly now: () => Date = () => new Date(),
    private readonly budgets?: BudgetSnapshotStore,
  ) {
    this.api = kubeConfig.makeApiClient(CustomObjectsApi);
    const path = `/apis/${POLICY_GROUP}/${POLICY_VERSION}/namespaces/${options.namespace}/${POLICY_PLURAL}`;
    this.informer = makeInformer<PolicyResource>(
      kubeConfig,
      path,
      () =>
        this.api.listNamespacedCustomObject({
          group: POLICY_GROUP,
          version: POLICY_VERSION,
          namespace: options.namespace,
          plural: POLICY_PLURAL,
        }) as Promise<KubernetesListObject<PolicyResource>>,
    );
    this.informer.on('add', (o) => void this.observe(o));
    this.informer.on('update', (o) => void this.observe(o));
    this.informer.on('delete', (o) => {
      this.evaluated.delete(o.metadata?.name ?? '');
      this.matches.delete(o.metadata?.name ?? '');
      void this.publishBudgets(false);
    });
    this.informer.on('connect', () => {
      this.failures = 0;
    });
    this.informer.on('error', (err) => this.scheduleRestart(err));
  }

  async start(): Promise<void> {
    this.resync = setInterval(() => void this.resyncAll(), this.options.resyncMs);
    this.resync.unref();
    await this.listAndWatch();
  }

  private async listAndWatch(): Promise<void> {
    await this.informer.start();
    // Budgets are published once every policy is listed: a starting replica never replaces the
    // snapshot of a running one with the first few policies it has seen.
    this.listed = true;
    await this.publishBudgets(true);
  }

  /**
   * Starts without failing the worker: a missing CRD or API outage is retried with backoff. A
   * Role that drifted from POLICY_PERMISSIONS is named in the log at once, not found out later.
   */
  async onModuleInit(): Promise<void> {
    const report = await checkAccess(new KubernetesClient(this.kubeConfig, this.options.namespace), POLICY_PERMISSIONS);
    if (!accessGranted(report)) this.logger.error({ access: describeReport(report) }, 'ReviewPolicies cannot be read');
    await this.start().catch((err: unknown) => this.scheduleRestart(err));
  }

  async onModuleDestroy(): Promise<void> {
    await this.stop();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.resync);
    clearTimeout(this.restart);
    await this.informer.stop();
  }

  /** The layer of the valid policies that select `target`; records the match for their status. */
  layerFor(target: PolicyTarget): PolicyLayer {
    const valid = this.valid();
    const at = this.now().getTime();
    const repository = `${target.platform}:${target.owner}/${target.name}`.toLowerCase();
    for (const p of valid) {
      if (!policyMatches(p.spec, target)) continue;
      const seen = this.matches.get(p.name) ?? new Map<string, number>();
      seen.set(repository, at);
      this.matches.set(p.name, seen);
    }
    return policyLayerFor(valid, target);
  }

  private valid() {
    return [...this.evaluated.values()].flatMap((e) => (e.policy ? [e.policy] : []));
  }

  /**
   * Publishes the valid policies' budgets when they changed, or always (`force`: the resync, which
   * also restores a snapshot lost from Redis). A failure is logged; the next change or resync retries.
   */
  private async publishBudgets(force: boolean): Promise<void> {
    if (!this.budgets || !this.listed) return;
    const snapshot = budgetSnapshot(this.valid(), this.now());
    const policies = JSON.stringify(snapshot.policies);
    if (!force && policies === this.published) return;
    this.published = policies;
    try {
      await this.budgets.publish(snapshot);
    } catch (err) {
      this.published = undefined;
      this.logger.warn({ err }, 'could not publish the budgets for the dashboard');
    }
  }

  /** Policies by name with whether they are in use, for health and tests. */
  states(): ReadonlyMap<string, Evaluated> {
    return this.evaluated;
  }

  private recentMatches(name: string): number {
    const seen = this.matches.get(name);
    if (!seen) return 0;
    const since = this.now().getTime() - this.options.matchWindowMs;
    for (const [repo, at] of seen) if (at < since) seen.delete(repo);
    return seen.size;
  }

  private async observe(object: PolicyResource): Promise<void> {
    const evaluated = evaluatePolicy(object);
    const before = this.evaluated.get(evaluated.name);
    this.evaluated.set(evaluated.name, evaluated);
    await this.publishBudgets(false);
    if (evaluated.condition.status === 'False' && before?.condition.message !== evaluated.condition.message) {
      this.logger.warn({ policy: evaluated.name, reason: evaluated.condition.message }, 'ReviewPolicy ignored');
    }
    await this.writeStatus(object, evaluated);
  }

  private async writeStatus(object: PolicyResource, evaluated: Evaluated): Promise<void> {
    const status = nextStatus(object, evaluated, this.recentMatches(evaluated.name), this.now());
    if (!status) return;
    try {
      await this.api.replaceNamespacedCustomObjectStatus({
        group: POLICY_GROUP,
        version: POLICY_VERSION,
        namespace: this.options.namespace,
        plural: POLICY_PLURAL,
        name: evaluated.name,
        body: { ...object, status },
      });
    } catch (err) {
      // A conflict means a newer version is on its way through the informer; the resync retries the rest.
      this.logger.debug({ err, policy: evaluated.name }, 'could not update the ReviewPolicy status');
    }
  }

  private async resyncAll(): Promise<void> {
    for (const object of this.informer.list()) await this.observe(object);
    await this.publishBudgets(true);
  }

  private scheduleRestart(err: unknown): void {
    if (this.stopped) return;
    this.failures += 1;
    const delay = Math.min(this.options.maxBackoffMs, 250 * 2 ** Math.min(this.failures, 10));
    this.logger.warn({ err, delayMs: delay }, 'the ReviewPolicy watch failed; restarting');
    clearTimeout(this.restart);
    this.restart = setTimeout(() => {
      if (!this.stopped) void this.listAndWatch().catch((e: unknown) => this.scheduleRestart(e));
    }, delay);
    this.restart.unref();
  }
}
