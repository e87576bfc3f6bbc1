// The reviews API feature: the records of the shared ReviewQueueModule, and the learned rules.
import { Module } from '@nestjs/common';
import { ApiTokenGuard } from './api-token.guard.js';
import { ReviewsController } from './reviews.controller.js';
import { RulesController } from './rules.controller.js';

@Module({
  controllers: [ReviewsController, RulesController],
  providers: [ApiTokenGuard],
})
export class ReviewsModule {}
