// The probe endpoints every service exposes: /health answers while the process runs (liveness,
// no dependencies), /ready runs the service's readiness checks (503 with the failing ones).
import { Controller, type DynamicModule, Get, Inject, Module, type Provider, type Type } from '@nestjs/common';
import {
  HealthCheck,
  type HealthCheckResult,
  HealthCheckService,
  type HealthIndicatorResult,
  TerminusModule,
} from '@nestjs/terminus';

/** One dependency a service needs before it takes traffic. */
export interface ReadinessCheck {
  check(): Promise<HealthIndicatorResult>;
}

const READINESS_CHECKS = 'KRITIK_READINESS_CHECKS';

@Controller()
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    @Inject(READINESS_CHECKS) private readonly checks: readonly ReadinessCheck[],
  ) {}

  @Get('health')
  live() {
    return { status: 'ok' };
  }

  @Get('ready')
  @HealthCheck()
  ready(): Promise<HealthCheckResult> {
    return this.health.check(this.checks.map((c) => () => c.check()));
  }
}

export interface HealthModuleOptions {
  readonly imports?: DynamicModule['imports'];
  /** Classes implementing ReadinessCheck; all must be up for /ready to answer 200. */
  readonly checks: readonly Type<ReadinessCheck>[];
  readonly providers?: readonly Provider[];
}

@Module({})
export class HealthModule {
  static register(options: HealthModuleOptions): DynamicModule {
    return {
      module: HealthModule,
      imports: [TerminusModule.forRoot({ logger: false }), ...(options.imports ?? [])],
      controllers: [HealthController],
      providers: [
        ...(options.providers ?? []),
        ...options.checks,
        {
          provide: READINESS_CHECKS,
          inject: [...options.checks],
          useFactory: (...checks: ReadinessCheck[]) => checks,
        },
      ],
    };
  }
}
