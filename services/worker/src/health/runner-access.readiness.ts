// The runner's readiness for /ready: its permissions granted (Redis is the server's own check).
import type { ReadinessCheck } from '@kritik/server';
import { Injectable } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import { RunnerAccess } from './runner-access.service.js';

@Injectable()
export class RunnerAccessReadiness implements ReadinessCheck {
  constructor(
    private readonly access: RunnerAccess,
    private readonly indicators: HealthIndicatorService,
  ) {}

  async check() {
    const indicator = this.indicators.check('runner');
    return this.access.granted
      ? indicator.up({ message: this.access.describe() })
      : indicator.down({ message: this.access.describe() });
  }
}
