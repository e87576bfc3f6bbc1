// Whether the runner may do its work: for Kubernetes, every REQUIRED_PERMISSIONS verb granted in the
// jobs namespace (re-checked until it is, then now and then). The queue consumer starts only once
// access is granted, and /ready says what is missing meanwhile.
import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown, Optional } from '@nestjs/common';
import type { Logger } from 'pino';
import type { WorkerConfig } from '../config/worker.config.js';
import {
  type AccessReport,
  accessGranted,
  checkAccess,
  describeReport,
  LOCAL_RUNNER_ACCESS,
} from '../kubernetes/access-check.js';
// A type only: the client is injected by token, so its module (and client-node) loads only for
// the kubernetes runner.
import type { KubernetesClient } from '../kubernetes/kubernetes.client.js';
import { KUBERNETES_CLIENT, WORKER_CONFIG, WORKER_LOGGER } from '../scheduling/tokens.js';

/** Once granted, permissions are checked again this often, so a revoked verb shows on /ready. */
const RECHECK_GRANTED_MS = 5 * 60_000;

@Injectable()
export class RunnerAccess implements OnApplicationBootstrap, OnApplicationShutdown {
  private report: AccessReport | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly waiters: (() => void)[] = [];

  constructor(
    @Inject(WORKER_CONFIG) private readonly config: WorkerConfig,
    @Inject(WORKER_LOGGER) private readonly logger: Logger,
    @Optional() @Inject(KUBERNETES_CLIENT) private readonly client?: KubernetesClient,
  ) {}

  onApplicationBootstrap() {
    void this.loop();
  }

  onApplicationShutdown() {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  get granted(): boolean {
    return !this.client || accessGranted(this.report);
  }

  /** The last permission check; undefined for the local runner and until the first check. */
  get lastReport(): AccessReport | undefined {
    return this.report;
  }

  /** One line for /ready: what is granted or missing. */
  describe(): string {
    return this.client ? describeReport(this.report) : LOCAL_RUNNER_ACCESS;
  }

  /** Resolves once every permission is granted (at once for the local runner). */
  whenGranted(): Promise<void> {
    if (this.granted) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  private async loop() {
    if (this.stopped || !this.client) return;
    const before = this.report;
    this.report = await checkAccess(this.client);
    const line = describeReport(this.report);
    if (describeReport(before) !== line) {
      if (accessGranted(this.report)) this.logger.info(line);
      else this.logger.warn(line);
    }
    if (accessGranted(this.report)) for (const resolve of this.waiters.splice(0)) resolve();
    if (this.stopped) return;
    const next = accessGranted(this.report)
      ? RECHECK_GRANTED_MS
      : this.config.kubernetes.accessCheckIntervalSeconds * 1000;
    this.timer = setTimeout(() => void this.loop(), next);
    this.timer.unref();
  }
}
