// Webhook and queue metrics: deliveries by event and outcome, handling latency, queue depth.
import { COMMANDS_QUEUE, METRICS, REVIEWS_QUEUE } from '@kritik/core';
import { counterOf, gaugeOf, histogramOf } from '@kritik/server';
import { InjectQueue } from '@nestjs/bullmq';
import { Injectable } from '@nestjs/common';
import { Queue } from 'bullmq';
import { Registry } from 'prom-client';

export const WEBHOOK_OUTCOMES = [
  'queued',
  'duplicate',
  'ignored',
  'unauthorized',
  /** Posted to the path of a code host that is not configured. */
  'not_configured',
  'bad_request',
  'too_large',
  'busy',
  'timeout',
  'unavailable',
  'error',
] as const;
export type WebhookOutcome = (typeof WEBHOOK_OUTCOMES)[number];

// Event names become label values only from this list (and only once the signature is valid),
// so a caller cannot grow the series count.
const KNOWN_EVENTS = new Set([
  'pull_request',
  'issue_comment',
  'pull_request_review_comment',
  'check_run',
  'check_suite',
  'installation',
  'installation_repositories',
  'ping',
  'Merge Request Hook',
  'Note Hook',
]);
export const eventLabel = (event: string | undefined, verified: boolean) =>
  !verified ? 'unverified' : event && KNOWN_EVENTS.has(event) ? event : 'other';

const QUEUE_STATES = ['waiting', 'delayed', 'active', 'prioritized', 'failed'] as const;

@Injectable()
export class WebhookMetrics {
  private readonly deliveries;
  private readonly duration;

  constructor(
    registry: Registry,
    @InjectQueue(REVIEWS_QUEUE) reviews: Queue,
    @InjectQueue(COMMANDS_QUEUE) commands: Queue,
  ) {
    this.deliveries = counterOf(registry, METRICS.webhookDeliveries);
    this.duration = histogramOf(registry, METRICS.webhookDuration);
    const queues = [reviews, commands];
    gaugeOf(registry, METRICS.queueJobs, {
      async collect() {
        // While Redis is down the last known values stay; /metrics itself keeps answering.
        await Promise.all(
          queues.map(async (queue) => {
            const counts = await queue.getJobCounts(...QUEUE_STATES).catch(() => undefined);
            for (const state of QUEUE_STATES) {
              if (counts) this.set({ queue: queue.name, state }, counts[state] ?? 0);
            }
          }),
        );
      },
    });
  }

  record(event: string, outcome: WebhookOutcome, startedAt: bigint) {
    this.deliveries.inc({ event, outcome });
    this.duration.observe({ outcome }, Number(process.hrtime.bigint() - startedAt) / 1e9);
  }
}
