// Readiness of the webhook queues, for /ready: Redis answering is not enough when a queue's
// own connection set-up failed (see QueueReadiness).
import type { ReadinessCheck } from '@kritik/server';
import { Injectable } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import { QueueReadiness } from './queues.readiness.js';

@Injectable()
export class QueuesHealthIndicator implements ReadinessCheck {
  constructor(
    private readonly readiness: QueueReadiness,
    private readonly indicators: HealthIndicatorService,
  ) {}

  async check() {
    const indicator = this.indicators.check('queues');
    const unusable = await this.readiness.unusable();
    return Object.keys(unusable).length === 0 ? indicator.up() : indicator.down(unusable);
  }
}
