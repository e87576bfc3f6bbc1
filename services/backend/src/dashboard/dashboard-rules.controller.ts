// The dashboard's learned rules: a repository's rules and acceptance, and removing one rule. Reads
// and writes go through LearnedRulesStore; a repository the caller cannot see answers 404.
import type { IncomingMessage } from 'node:http';
import {
  CSRF_HEADER,
  dismissalSchema,
  type RepositoryRules,
  type RepositoryRulesQuery,
  repoRefOf,
  repositoryRulesQuerySchema,
} from '@kritik/core';
import { LearnedRulesStore, type Logger, REDIS } from '@kritik/server';
import {
  BadRequestException,
  Controller,
  Delete,
  Get,
  HttpCode,
  Inject,
  NotFoundException,
  Param,
  Req,
} from '@nestjs/common';
import type { Redis } from 'ioredis';
import { LOGGER } from '../logger.provider.js';
import { fromStore, parseQuery } from '../reviews/reviews.controller.js';
import { DashboardAuth, type Principal } from './dashboard.auth.js';

@Controller('api/dashboard/rules')
export class DashboardRulesController {
  private readonly store: LearnedRulesStore;

  constructor(
    private readonly auth: DashboardAuth,
    @Inject(REDIS) redis: Redis,
    @Inject(LOGGER) private readonly log: Logger,
  ) {
    this.store = new LearnedRulesStore(redis);
  }

  @Get()
  async list(@Req() req: IncomingMessage): Promise<RepositoryRules> {
    const { platform, repo } = this.visible(await this.auth.principal(req), req);
    const ref = repoRefOf(repo);
    const [rules, acceptance] = await fromStore(() =>
      Promise.all([this.store.list(platform, ref), this.store.acceptance(platform, ref)]),
    );
    return { platform, repo, rules, acceptance };
  }

  /**
   * Anyone who can see the repository may remove its rules, as anyone on its pull requests could
   * teach one (ADR 0046); who did is logged.
   */
  @Delete(':fingerprint')
  @HttpCode(204)
  async remove(@Req() req: IncomingMessage, @Param('fingerprint') fp: string): Promise<void> {
    const p = await this.auth.principal(req);
    this.auth.checkCsrf(p, req.headers[CSRF_HEADER]);
    const { platform, repo } = this.visible(p, req);
    if (!dismissalSchema.shape.fingerprint.safeParse(fp).success)
      throw new BadRequestException('fingerprint: must be 16 hex digits');
    if (!(await fromStore(() => this.store.remove(platform, repoRefOf(repo), fp))))
      throw new NotFoundException(`no rule ${fp}`);
    this.log.info(
      {
        platform,
        repo,
        fingerprint: fp,
        by: p.kind === 'user' ? `${p.session.platform}:${p.session.login}` : 'api token',
      },
      'learned rule removed from the dashboard',
    );
  }

  /** The repository asked for, parsed; 404 (as for one that does not exist) when the caller cannot see it. */
  private visible(p: Principal, req: IncomingMessage): RepositoryRulesQuery {
    const query = Object.fromEntries(new URL(req.url ?? '/', 'http://local').searchParams);
    const asked = parseQuery(repositoryRulesQuerySchema, query);
    if (!this.auth.canSee(p)(asked.platform, asked.repo))
      throw new NotFoundException(`repository ${asked.repo} not found`);
    return asked;
  }
}
