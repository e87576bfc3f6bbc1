// GET /api/reviews?repo=&pr=&status=&limit= and GET /api/reviews/:id: the review records the
// worker keeps in Redis (status timeline, result, tokens, cost). Bearer token required.
import { reviewRequestSchema, reviewStatusSchema } from '@kritik/core';
import { ReviewStore } from '@kritik/server';
import {
  BadRequestException,
  Controller,
  Get,
  HttpException,
  NotFoundException,
  Param,
  Query,
  ServiceUnavailableException,
  UseGuards,
} from '@nestjs/common';
import { z } from 'zod';
import { ApiTokenGuard } from './api-token.guard.js';

const listQuery = z
  .object({
    repo: z
      .string()
      .regex(/^[\w.-]+\/[\w.-]+$/, 'must be owner/name')
      .optional(),
    pr: z.coerce.number().int().positive().optional(),
    status: reviewStatusSchema.optional(),
    limit: z.coerce.number().int().min(1).max(500).optional(),
  })
  .strict();

/** A query parsed by its schema, or 400 naming each bad parameter. */
export function parseQuery<T>(schema: z.ZodType<T>, query: unknown): T {
  const parsed = schema.safeParse(query);
  if (!parsed.success) {
    throw new BadRequestException(parsed.error.issues.map((i) => `${i.path.join('.') || 'query'}: ${i.message}`));
  }
  return parsed.data;
}

/** Redis being away is the caller's 503, like the webhook path, never a 500; HTTP errors pass. */
export async function fromStore<T>(read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (error) {
    if (error instanceof HttpException) throw error;
    throw new ServiceUnavailableException(`store unavailable: ${(error as Error).message}`);
  }
}

@Controller('api/reviews')
@UseGuards(ApiTokenGuard)
export class ReviewsController {
  constructor(private readonly store: ReviewStore) {}

  @Get()
  async list(@Query() query: Record<string, unknown>) {
    const filters = parseQuery(listQuery, query);
    if (filters.pr !== undefined && filters.repo === undefined) throw new BadRequestException('pr requires repo');
    const reviews = await fromStore(() => this.store.list(filters));
    return { reviews };
  }

  @Get(':id')
  async get(@Param('id') id: string) {
    if (!reviewRequestSchema.shape.reviewId.safeParse(id).success) throw new BadRequestException('malformed review id');
    const review = await fromStore(() => this.store.get(id));
    if (!review) throw new NotFoundException(`review ${id} not found`);
    return review;
  }
}
