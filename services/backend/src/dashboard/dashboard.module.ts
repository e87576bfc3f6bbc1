// The web dashboard: sign-in with GitHub or GitLab, its JSON API and live feed; app.ts serves the SPA. The
// backend imports this module only when sign-in is configured: otherwise the dashboard is off.
import {
  BudgetSnapshotStore,
  BudgetStandings,
  type Logger,
  REDIS,
  REVIEW_HISTORY_OPTIONS,
  ReviewHistory,
  type ReviewHistoryOptions,
  WorkerStatusStore,
} from '@kritik/server';
import { Module } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { BACKEND_CONFIG, type BackendConfig } from '../config/backend.config.js';
import { LOGGER } from '../logger.provider.js';
import { AuthController } from './auth.controller.js';
import { DashboardAuth } from './dashboard.auth.js';
import { DashboardController } from './dashboard.controller.js';
import { DashboardRulesController } from './dashboard-rules.controller.js';
import { IdentityProviders } from './identity.provider.js';
import { RepositoryBudgets } from './repository-budgets.js';
import { ReviewFeed } from './review.feed.js';
import { SessionStore } from './session.store.js';

@Module({
  controllers: [AuthController, DashboardController, DashboardRulesController],
  providers: [
    {
      provide: REVIEW_HISTORY_OPTIONS,
      inject: [BACKEND_CONFIG],
      useFactory: (config: BackendConfig): ReviewHistoryOptions => ({
        dailyRetentionDays: config.dashboard!.historyDays,
      }),
    },
    ReviewHistory,
    WorkerStatusStore,
    SessionStore,
    IdentityProviders,
    DashboardAuth,
    ReviewFeed,
    {
      provide: RepositoryBudgets,
      inject: [REDIS, LOGGER],
      useFactory: (redis: Redis, log: Logger) =>
        new RepositoryBudgets(new BudgetSnapshotStore(redis), new BudgetStandings(redis), log),
    },
  ],
})
export class DashboardModule {}
