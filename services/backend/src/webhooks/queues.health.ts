// Readiness of the webhook queues, for /ready: Redis answering is not enough when a queue's
// own connection set-up failed (see QueueRecovery in @kritik/server).
import { QueueRecovery, type ReadinessCheck } from '@kritik/server';
import { Injectable } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';

@Injectable()
export class QueuesHealthIndicator implements ReadinessCheck {
  constructor(
    private readonly recovery: QueueRecovery,
    private readonly indicators: HealthIndicatorService,
  ) {}

  async check() {
    const indicator = this.indicators.check('queues');
    const unusable = await this.recovery.unusable();
    return Object.keys(unusable).length === 0 ? indicator.up() : indicator.down(unusable);
  }
}
