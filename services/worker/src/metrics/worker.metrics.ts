// The worker's Prometheus series: reviews by outcome, their durations, how many run, how long a
// review waits from enqueue to its Job, how often the Kubernetes API had to be retried, and
// comment commands by outcome.
import { Injectable } from '@nestjs/common';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

/** Why a review ended as it did, in few enough values to be a label. */
export type EndCause = 'reported' | 'timeout' | 'superseded' | 'runner_error' | 'crashed' | 'duplicate';

/** How a comment command ended. */
export type CommandOutcome = 'replied' | 'queued' | 'duplicate' | 'failed';
/** Why, in few enough values to be a label (`ok` unless it failed). */
export type CommandCause = 'ok' | 'invalid' | 'closed' | 'not_found' | 'forbidden' | 'github_error' | 'error';

@Injectable()
export class WorkerMetrics {
  readonly reviews: Counter<'outcome' | 'cause'>;
  readonly duration: Histogram<'outcome'>;
  readonly running: Gauge;
  readonly dispatch: Histogram<'how'>;
  readonly deferred: Counter<'why'>;
  readonly kubernetesRetries: Counter<'verb' | 'resource'>;
  readonly reconciled: Counter<'action'>;
  readonly stalled: Counter;
  readonly commands: Counter<'command' | 'outcome' | 'cause'>;
  readonly commandRetries: Counter<'command'>;

  constructor(registry: Registry) {
    this.reviews = new Counter({
      name: 'kritik_worker_reviews_total',
      help: 'Reviews finished by the worker, by outcome (posted, skipped, failed) and cause',
      labelNames: ['outcome', 'cause'],
      registers: [registry],
    });
    this.duration = new Histogram({
      name: 'kritik_worker_review_duration_seconds',
      help: 'Time from a review starting to run until it ended, by outcome',
      labelNames: ['outcome'],
      buckets: [1, 5, 15, 30, 60, 120, 300, 600, 1200],
      registers: [registry],
    });
    this.running = new Gauge({
      name: 'kritik_worker_reviews_running',
      help: 'Reviews this worker is running now',
      registers: [registry],
    });
    this.dispatch = new Histogram({
      name: 'kritik_worker_dispatch_seconds',
      help: 'Time from enqueue until the review Job was created (or adopted)',
      labelNames: ['how'],
      buckets: [0.025, 0.05, 0.1, 0.15, 0.25, 0.5, 1, 2.5, 5, 15, 60],
      registers: [registry],
    });
    this.deferred = new Counter({
      name: 'kritik_worker_reviews_deferred_total',
      help: 'Reviews put back to wait, by why (pr_busy, global_full, repo_full)',
      labelNames: ['why'],
      registers: [registry],
    });
    this.kubernetesRetries = new Counter({
      name: 'kritik_worker_kubernetes_retries_total',
      help: 'Kubernetes API calls retried after 429, 5xx or a dropped connection',
      labelNames: ['verb', 'resource'],
      registers: [registry],
    });
    this.reconciled = new Counter({
      name: 'kritik_worker_reconciled_jobs_total',
      help: 'Review Jobs found by the reconciler without a live queue entry, by action (adopted, collected, deleted)',
      labelNames: ['action'],
      registers: [registry],
    });
    this.stalled = new Counter({
      name: 'kritik_worker_stalled_jobs_total',
      help: 'Queue entries of dead workers put back to wait',
      registers: [registry],
    });
    this.commands = new Counter({
      name: 'kritik_worker_commands_total',
      help: 'Comment commands (help, review) ended, by outcome (replied, queued, duplicate, failed) and cause',
      labelNames: ['command', 'outcome', 'cause'],
      registers: [registry],
    });
    this.commandRetries = new Counter({
      name: 'kritik_worker_command_retries_total',
      help: 'Comment commands tried again after a transient GitHub or Redis failure',
      labelNames: ['command'],
      registers: [registry],
    });
  }
}
