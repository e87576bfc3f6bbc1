// Every Prometheus series the services export, with its type, help text and labels: the services
// register them from this table, and the chart's dashboard, the alerts and docs/operations.md are
// checked against it, so a renamed metric cannot leave a panel or an alert silently empty.

export type MetricType = 'counter' | 'gauge' | 'histogram';

/** One series: what registers it, and everything a reader of /metrics sees of it. */
export interface MetricDefinition<T extends MetricType = MetricType, L extends string = string> {
  readonly name: string;
  readonly type: T;
  readonly help: string;
  readonly labels: readonly L[];
  /** The deployable whose /metrics serves it. */
  readonly from: 'backend' | 'worker';
  /** Upper bounds of a histogram's buckets. */
  readonly buckets?: readonly number[];
}

export const METRICS = {
  webhookDeliveries: {
    name: 'kritik_webhook_deliveries_total',
    type: 'counter',
    from: 'backend',
    help: 'Webhook deliveries by event and outcome.',
    labels: ['event', 'outcome'],
  },
  webhookDuration: {
    name: 'kritik_webhook_handling_duration_seconds',
    type: 'histogram',
    from: 'backend',
    help: 'Time from receiving a webhook delivery to answering it.',
    labels: ['outcome'],
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
  },
  queueJobs: {
    name: 'kritik_queue_jobs',
    type: 'gauge',
    from: 'backend',
    help: 'Entries of the review and command queues by state (waiting, delayed, active, prioritized, failed).',
    labels: ['queue', 'state'],
  },
  reviews: {
    name: 'kritik_worker_reviews_total',
    type: 'counter',
    from: 'worker',
    help: 'Reviews finished by the worker, by outcome (posted, skipped, failed) and cause.',
    labels: ['outcome', 'cause'],
  },
  reviewDuration: {
    name: 'kritik_worker_review_duration_seconds',
    type: 'histogram',
    from: 'worker',
    help: 'Time from a review starting to run until it ended, by outcome.',
    labels: ['outcome'],
    buckets: [1, 5, 15, 30, 60, 120, 300, 600, 1200],
  },
  reviewsRunning: {
    name: 'kritik_worker_reviews_running',
    type: 'gauge',
    from: 'worker',
    help: 'Reviews this worker is running now.',
    labels: [],
  },
  dispatch: {
    name: 'kritik_worker_dispatch_seconds',
    type: 'histogram',
    from: 'worker',
    help: 'Time from enqueue until the review Job was created (or adopted).',
    labels: ['how'],
    buckets: [0.025, 0.05, 0.1, 0.15, 0.25, 0.5, 1, 2.5, 5, 15, 60],
  },
  reviewsDeferred: {
    name: 'kritik_worker_reviews_deferred_total',
    type: 'counter',
    from: 'worker',
    help: 'Reviews put back to wait, by why (pr_busy, global_full, repo_full).',
    labels: ['why'],
  },
  kubernetesRetries: {
    name: 'kritik_worker_kubernetes_retries_total',
    type: 'counter',
    from: 'worker',
    help: 'Kubernetes API calls retried after 429, 5xx or a dropped connection.',
    labels: ['verb', 'resource'],
  },
  reconciledJobs: {
    name: 'kritik_worker_reconciled_jobs_total',
    type: 'counter',
    from: 'worker',
    help: 'Review Jobs the reconciler found without a live queue entry, by action (adopted, deleted).',
    labels: ['action'],
  },
  stalledJobs: {
    name: 'kritik_worker_stalled_jobs_total',
    type: 'counter',
    from: 'worker',
    help: 'Queue entries of dead workers put back to wait.',
    labels: [],
  },
  commands: {
    name: 'kritik_worker_commands_total',
    type: 'counter',
    from: 'worker',
    help: 'Comment commands (help, review) ended, by outcome (replied, queued, duplicate, failed) and cause.',
    labels: ['command', 'outcome', 'cause'],
  },
  commandRetries: {
    name: 'kritik_worker_command_retries_total',
    type: 'counter',
    from: 'worker',
    help: 'Comment commands tried again after a transient GitHub or Redis failure.',
    labels: ['command'],
  },
  gatewayRequests: {
    name: 'kritik_gateway_requests_total',
    type: 'counter',
    from: 'worker',
    help: 'Model calls of review Jobs through the gateway, by outcome and, once the model is known, provider.',
    labels: ['outcome', 'provider'],
  },
  gatewayTokens: {
    name: 'kritik_gateway_tokens_total',
    type: 'counter',
    from: 'worker',
    help: 'Tokens of model replies metered by the gateway, by kind (input, output, cache_read, cache_write) and provider.',
    labels: ['kind', 'provider'],
  },
  gatewayCost: {
    name: 'kritik_gateway_cost_usd_total',
    type: 'counter',
    from: 'worker',
    help: 'Dollars of model replies metered by the gateway, at list price, by provider.',
    labels: ['provider'],
  },
  reviewCost: {
    name: 'kritik_review_cost_usd_total',
    type: 'counter',
    from: 'worker',
    help: 'Dollars finished reviews spent at list price, by repository (platform:owner/name).',
    labels: ['repository'],
  },
  reviewTokens: {
    name: 'kritik_review_tokens_total',
    type: 'counter',
    from: 'worker',
    help: 'Tokens finished reviews used, by repository and kind (input, output, cache_read, cache_write).',
    labels: ['repository', 'kind'],
  },
  findingsResolved: {
    name: 'kritik_findings_resolved_total',
    type: 'counter',
    from: 'worker',
    help: 'Findings whose code a later push changed (their threads resolved), by repository (platform:owner/name).',
    labels: ['repository'],
  },
  findingsDismissed: {
    name: 'kritik_findings_dismissed_total',
    type: 'counter',
    from: 'worker',
    help: "Findings the team dismissed (a thumbs-down, ignore, or resolved as won't fix), by repository (platform:owner/name).",
    labels: ['repository'],
  },
  budgetRemaining: {
    name: 'kritik_budget_remaining_usd',
    type: 'gauge',
    from: 'worker',
    help: 'Dollars left in the current window of a ReviewPolicy budget, by budget and subject (repository or owner).',
    labels: ['budget', 'subject'],
  },
  budgetLimit: {
    name: 'kritik_budget_limit_usd',
    type: 'gauge',
    from: 'worker',
    help: 'Dollars a ReviewPolicy budget allows per window, by budget and subject.',
    labels: ['budget', 'subject'],
  },
} as const satisfies Record<string, MetricDefinition>;

export type MetricKey = keyof typeof METRICS;

/** The series a histogram exports besides its name. */
export const HISTOGRAM_SUFFIXES = ['_bucket', '_sum', '_count'] as const;
