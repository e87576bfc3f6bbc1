// The worker's Prometheus series: reviews by outcome, their durations, how many run, how long a
// review waits from enqueue to its Job, how often the Kubernetes API had to be retried, and
// comment commands by outcome. Names, help and labels come from core's METRICS table.
import { METRICS } from '@kritik/core';
import { counterOf, gaugeOf, histogramOf } from '@kritik/server';
import { Injectable } from '@nestjs/common';
import { Registry } from 'prom-client';

/** Why a review ended as it did, in few enough values to be a label. */
export type EndCause = 'reported' | 'timeout' | 'superseded' | 'runner_error' | 'crashed' | 'duplicate' | 'budget';

/** How a comment command ended. */
export type CommandOutcome = 'replied' | 'queued' | 'duplicate' | 'failed';
/** Why, in few enough values to be a label (`ok` unless it failed). */
export type CommandCause = 'ok' | 'invalid' | 'closed' | 'not_found' | 'forbidden' | 'github_error' | 'error';

@Injectable()
export class WorkerMetrics {
  readonly reviews;
  readonly duration;
  readonly running;
  readonly dispatch;
  readonly deferred;
  readonly kubernetesRetries;
  readonly reconciled;
  readonly stalled;
  readonly commands;
  readonly commandRetries;
  readonly reviewCost;
  readonly reviewTokens;
  readonly findingsResolved;
  readonly findingsDismissed;
  readonly budgetRemaining;
  readonly budgetLimit;

  constructor(registry: Registry) {
    this.reviews = counterOf(registry, METRICS.reviews);
    this.duration = histogramOf(registry, METRICS.reviewDuration);
    this.running = gaugeOf(registry, METRICS.reviewsRunning);
    this.dispatch = histogramOf(registry, METRICS.dispatch);
    this.deferred = counterOf(registry, METRICS.reviewsDeferred);
    this.kubernetesRetries = counterOf(registry, METRICS.kubernetesRetries);
    this.reconciled = counterOf(registry, METRICS.reconciledJobs);
    this.stalled = counterOf(registry, METRICS.stalledJobs);
    this.commands = counterOf(registry, METRICS.commands);
    this.commandRetries = counterOf(registry, METRICS.commandRetries);
    this.reviewCost = counterOf(registry, METRICS.reviewCost);
    this.reviewTokens = counterOf(registry, METRICS.reviewTokens);
    this.findingsResolved = counterOf(registry, METRICS.findingsResolved);
    this.findingsDismissed = counterOf(registry, METRICS.findingsDismissed);
    this.budgetRemaining = gaugeOf(registry, METRICS.budgetRemaining);
    this.budgetLimit = gaugeOf(registry, METRICS.budgetLimit);
  }
}
