// The reviews API feature.
import { ReviewStore } from '@kritik/server';
import { Module } from '@nestjs/common';
import { ApiTokenGuard } from './api-token.guard.js';
import { ReviewsController } from './reviews.controller.js';

@Module({
  controllers: [ReviewsController],
  providers: [ApiTokenGuard, ReviewStore],
})
export class ReviewsModule {}
