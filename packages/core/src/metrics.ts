// Names of the Prometheus series the services export, shared with the chart's Grafana dashboard
// so a renamed metric cannot leave a dashboard panel silently empty.
export const METRICS = {
  webhookDeliveries: 'kritik_webhook_deliveries_total',
  webhookDuration: 'kritik_webhook_handling_duration_seconds',
  /** Gauge by `queue` and `state` (waiting, delayed, active, ...). */
  queueJobs: 'kritik_queue_jobs',
  reviews: 'kritik_worker_reviews_total',
  reviewDuration: 'kritik_worker_review_duration_seconds',
  reviewsRunning: 'kritik_worker_reviews_running',
  dispatch: 'kritik_worker_dispatch_seconds',
  reviewsDeferred: 'kritik_worker_reviews_deferred_total',
  kubernetesRetries: 'kritik_worker_kubernetes_retries_total',
  reconciledJobs: 'kritik_worker_reconciled_jobs_total',
  stalledJobs: 'kritik_worker_stalled_jobs_total',
  /** Calls through the model gateway by `outcome` (forwarded, refused, upstream_error, ...). */
  gatewayRequests: 'kritik_gateway_requests_total',
  /** Tokens metered by the model gateway, by `kind` (input, output, cache_read, cache_write). */
  gatewayTokens: 'kritik_gateway_tokens_total',
  /** Dollars metered by the model gateway at list price. */
  gatewayCost: 'kritik_gateway_cost_usd_total',
} as const;
