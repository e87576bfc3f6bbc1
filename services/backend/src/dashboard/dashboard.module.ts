// The web dashboard: sign-in with GitHub, its JSON API and live feed; app.ts serves the SPA. The
// backend imports this module only when sign-in is configured: otherwise the dashboard is off.
import { REVIEW_HISTORY_OPTIONS, ReviewHistory, type ReviewHistoryOptions, WorkerStatusStore } from '@kritik/server';
import { Module } from '@nestjs/common';
import { BACKEND_CONFIG, type BackendConfig } from '../config/backend.config.js';
import { AuthController } from './auth.controller.js';
import { DashboardAuth } from './dashboard.auth.js';
import { DashboardController } from './dashboard.controller.js';
import { GitHubUserClient } from './github-user.client.js';
import { ReviewFeed } from './review.feed.js';
import { SessionStore } from './session.store.js';

@Module({
  controllers: [AuthController, DashboardController],
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
    GitHubUserClient,
    DashboardAuth,
    ReviewFeed,
  ],
})
export class DashboardModule {}
