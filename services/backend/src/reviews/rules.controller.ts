// GET /api/repos/:owner/:name/rules and DELETE /api/repos/:owner/:name/rules/:fingerprint: what a
// repository's team taught Kritik by dismissing findings, newest first, with its acceptance
// figures; a rule removed is raised again by later reviews. Bearer token required. `?platform=gitlab`
// names a GitLab project; without it the repository is GitHub's, as before GitLab existed.
import { dismissalSchema, type Platform, platformSchema } from '@kritik/core';
import { LearnedRulesStore, REDIS } from '@kritik/server';
import {
  BadRequestException,
  Controller,
  Delete,
  Get,
  HttpCode,
  Inject,
  NotFoundException,
  Param,
  Query,
  UseGuards,
} from '@nestjs/common';
import type { Redis } from 'ioredis';
import { ApiTokenGuard } from './api-token.guard.js';
import { fromStore } from './reviews.controller.js';

const segment = /^[\w.-]{1,100}$/;

function platformOf(platform: string | undefined): Platform {
  const parsed = platformSchema.safeParse(platform ?? 'github');
  if (!parsed.success) throw new BadRequestException('platform: must be github or gitlab');
  return parsed.data;
}

function repoOf(owner: string, name: string) {
  if (!segment.test(owner) || !segment.test(name)) throw new BadRequestException('malformed repository');
  return { owner, name };
}

@Controller('api/repos/:owner/:name/rules')
@UseGuards(ApiTokenGuard)
export class RulesController {
  private readonly store: LearnedRulesStore;

  constructor(@Inject(REDIS) redis: Redis) {
    this.store = new LearnedRulesStore(redis);
  }

  @Get()
  async list(@Param('owner') owner: string, @Param('name') name: string, @Query('platform') platform?: string) {
    const repo = repoOf(owner, name);
    const host = platformOf(platform);
    const [rules, acceptance] = await fromStore(() =>
      Promise.all([this.store.list(host, repo), this.store.acceptance(host, repo)]),
    );
    return { repo: `${owner}/${name}`, rules, acceptance };
  }

  @Delete(':fingerprint')
  @HttpCode(204)
  async remove(
    @Param('owner') owner: string,
    @Param('name') name: string,
    @Param('fingerprint') fp: string,
    @Query('platform') platform?: string,
  ) {
    const repo = repoOf(owner, name);
    const host = platformOf(platform);
    if (!dismissalSchema.shape.fingerprint.safeParse(fp).success)
      throw new BadRequestException('malformed fingerprint');
    if (!(await fromStore(() => this.store.remove(host, repo, fp)))) throw new NotFoundException(`no rule ${fp}`);
  }
}
