// The dashboard's JSON API under /api/dashboard: the session, the reviews list (filters, cursor
// pages, live events), one review and "review again", repositories' daily figures, the platform.
// A record of a repository the caller cannot reach answers 404, exactly like a missing one.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  CSRF_HEADER,
  type DashboardSession,
  fleetVersions,
  type PlatformStatus,
  REVIEWS_QUEUE,
  type RepositoryStats,
  type ReviewPage,
  type ReviewRecord,
  type ReviewRequest,
  reviewFiltersSchema,
  reviewIdFor,
  reviewRequestSchema,
} from '@kritik/core';
import { type Logger, ReviewEnqueuer, ReviewHistory, ReviewLifecycle, WorkerStatusStore } from '@kritik/server';
import { InjectQueue } from '@nestjs/bullmq';
import { Controller, Get, HttpCode, Inject, NotFoundException, Param, Post, Req, Res } from '@nestjs/common';
import type { Queue } from 'bullmq';
import { LOGGER } from '../logger.provider.js';
import { fromStore, parseQuery } from '../reviews/reviews.controller.js';
import { DashboardAuth, type Principal } from './dashboard.auth.js';
import { releaseVersion } from './dashboard.static.js';
import { IdentityProviders } from './identity.provider.js';
import { RepositoryBudgets } from './repository-budgets.js';
import { ReviewFeed } from './review.feed.js';

/** Days shown on the repositories page. */
export const REPOSITORY_WINDOW_DAYS = 30;
/** Repositories shown at most (a user's first ones, by name). */
const MAX_REPOSITORIES = 50;
/** SSE comment lines keep proxies from closing an idle stream. */
const KEEPALIVE_MS = 15_000;

@Controller('api/dashboard')
export class DashboardController {
  constructor(
    private readonly auth: DashboardAuth,
    private readonly history: ReviewHistory,
    private readonly lifecycle: ReviewLifecycle,
    private readonly enqueuer: ReviewEnqueuer,
    private readonly feed: ReviewFeed,
    private readonly identities: IdentityProviders,
    private readonly budgets: RepositoryBudgets,
    private readonly workerStatus: WorkerStatusStore,
    @InjectQueue(REVIEWS_QUEUE) private readonly reviews: Queue,
    @Inject(LOGGER) private readonly log: Logger,
  ) {}

  private readonly version = releaseVersion();

  @Get('session')
  async session(@Req() req: IncomingMessage): Promise<DashboardSession> {
    const p = await this.auth.principal(req);
    if (p.kind === 'machine') throw new NotFoundException('machines have no session');
    return {
      platform: p.session.platform,
      login: p.session.login,
      admin: p.admin,
      csrf: p.session.csrf,
      repos: p.session.repos,
      expiresAt: new Date(p.session.expiresAt).toISOString(),
      hostUrl: this.identities.get(p.session.platform).webUrl,
    };
  }

  @Get('reviews')
  async list(@Req() req: IncomingMessage): Promise<ReviewPage> {
    const p = await this.auth.principal(req);
    const query = Object.fromEntries(new URL(req.url ?? '/', 'http://local').searchParams);
    const filters = parseQuery(reviewFiltersSchema, query);
    return fromStore(() =>
      this.history.page({ ...filters, canSee: this.auth.canSee(p), visible: this.auth.visible(p) }),
    );
  }

  @Get('reviews/:id')
  async get(@Req() req: IncomingMessage, @Param('id') id: string): Promise<ReviewRecord> {
    return this.visible(await this.auth.principal(req), id);
  }

  /** Reviews the pull request's head again, as `@<bot> full review` would; answers the new review's id. */
  @Post('reviews/:id/again')
  @HttpCode(202)
  async again(@Req() req: IncomingMessage, @Param('id') id: string): Promise<{ reviewId: string }> {
    const p = await this.auth.principal(req);
    this.auth.checkCsrf(p, req.headers[CSRF_HEADER]);
    const record = await this.visible(p, id);
    const [owner, ...rest] = record.repo.split('/');
    const repo = { owner: owner!, name: rest.join('/') };
    const nonce = `dashboard-${randomUUID()}`;
    const sender = p.kind === 'user' ? p.session.login : undefined;
    const review: ReviewRequest = {
      reviewId: reviewIdFor(record.platform, repo, record.pr, record.headSha, nonce),
      platform: record.platform,
      repo,
      pr: record.pr,
      headSha: record.headSha,
      trigger: 'full_review',
      ...(sender ? { sender } : {}),
      enqueuedAt: new Date().toISOString(),
    };
    await fromStore(async () => {
      await this.lifecycle.record(review);
      await this.enqueuer.enqueue(review, this.log);
    });
    this.log.info(
      { reviewId: review.reviewId, again: record.id, by: sender ?? 'api token' },
      'review asked again from the dashboard',
    );
    return { reviewId: review.reviewId };
  }

  /** Server-sent events: `review` with each record the caller may see, as it is created or changes. */
  @Get('events')
  async events(@Req() req: IncomingMessage, @Res() res: ServerResponse): Promise<void> {
    const canSee = this.auth.canSee(await this.auth.principal(req));
    res.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    res.write('retry: 3000\n\n');
    const unsubscribe = this.feed.subscribe((review) => {
      if (canSee(review.platform, review.repo)) res.write(`event: review\ndata: ${JSON.stringify({ review })}\n\n`);
    });
    const keepalive = setInterval(() => res.write(': keepalive\n\n'), KEEPALIVE_MS);
    keepalive.unref();
    const close = () => {
      clearInterval(keepalive);
      unsubscribe();
    };
    req.on('close', close);
    res.on('error', close);
  }

  @Get('repositories')
  async repositories(@Req() req: IncomingMessage): Promise<{ repositories: RepositoryStats[] }> {
    const p = await this.auth.principal(req);
    const named =
      p.kind === 'user'
        ? p.session.repos.map((repo) => ({ platform: p.session.platform, repo }))
        : (await fromStore(() => this.history.page({ limit: 200, canSee: () => true }))).reviews;
    const seen = new Set<string>();
    const names = named
      .filter(({ platform, repo }) => !seen.has(`${platform}:${repo}`) && seen.add(`${platform}:${repo}`))
      .slice(0, MAX_REPOSITORIES);
    const repositories = await fromStore(async () => {
      const budgetsOf = await this.budgets.reader();
      return Promise.all(
        names.map(async ({ platform, repo }) => ({
          platform,
          repo,
          days: await this.history.daily(platform, repo, REPOSITORY_WINDOW_DAYS),
          lastFailures: await this.history.lastFailures(platform, repo),
          budgets: await budgetsOf(platform, repo),
        })),
      );
    });
    return { repositories };
  }

  @Get('platform')
  async platform(@Req() req: IncomingMessage): Promise<PlatformStatus> {
    this.auth.requireAdmin(await this.auth.principal(req));
    return fromStore(async () => {
      const counts = await this.reviews.getJobCounts('waiting', 'prioritized', 'active', 'delayed', 'failed');
      const workers = await this.reviews.getWorkers().catch((error: Error) => {
        this.log.debug({ err: error.message }, 'the reviews queue workers cannot be listed');
        return null;
      });
      const running = await this.history.page({ status: 'running', limit: 100, canSee: () => true });
      const { replicas, unreadable } = await this.workerStatus.list();
      if (unreadable.length > 0) this.log.warn({ unreadable }, 'worker statuses that do not parse were left out');
      return {
        queue: {
          waiting: (counts.waiting ?? 0) + (counts.prioritized ?? 0),
          active: counts.active ?? 0,
          delayed: counts.delayed ?? 0,
          failed: counts.failed ?? 0,
        },
        running: running.reviews,
        workers:
          workers?.map((w) => ({
            name: w.name ?? 'unnamed',
            ...(w.addr ? { addr: w.addr } : {}),
            ...(w.idle ? { idleMs: Number(w.idle) * 1000 } : {}),
          })) ?? null,
        replicas,
        unreadableReplicas: unreadable,
        versions: { ...fleetVersions(this.version, replicas), node: process.version },
      };
    });
  }

  private async visible(p: Principal, id: string): Promise<ReviewRecord> {
    if (!reviewRequestSchema.shape.reviewId.safeParse(id).success)
      throw new NotFoundException(`review ${id} not found`);
    const record = await fromStore(() => this.lifecycle.get(id));
    if (!record || !this.auth.canSee(p)(record.platform, record.repo))
      throw new NotFoundException(`review ${id} not found`);
    return record;
  }
}
