// The reviews API feature; it reads the records of the shared ReviewQueueModule.
import { Module } from '@nestjs/common';
import { ApiTokenGuard } from './api-token.guard.js';
import { ReviewsController } from './reviews.controller.js';

@Module({
  controllers: [ReviewsController],
  providers: [ApiTokenGuard],
})
export class ReviewsModule {}
