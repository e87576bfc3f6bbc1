// Runs one review whose PR lease the caller holds: gets the repository token from the review's code
// host, runs it through the runner while renewing the lease and watching for a newer SHA, then
// records how it ended and makes sure the PR shows that ending (the check run or GitLab commit
// status is concluded when the reviewer could not).
import { setMaxListeners } from 'node:events';
import {
  type Budget,
  type CheckRunConclusion,
  isFinalStatus,
  type ReviewOutcome,
  type ReviewPayload,
  type ReviewRequest,
  repoFullName,
  type TokenUsage,
} from '@kritik/core';
import { budgetWho, LearnedRulesStore, type PrHead, REDIS, type ReviewEnding, ReviewLifecycle } from '@kritik/server';
import { Inject, Injectable, Optional } from '@nestjs/common';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { BudgetLedger, overBudgetReason } from '../budgets/budget-ledger.js';
import { type CodeHost, CodeHosts } from '../code-host/code-host.js';
import type { WorkerConfig } from '../config/worker.config.js';
import { MODEL_ACCESS, type ModelAccessIssuer } from '../gateway/model-access.js';
import { type EndCause, WorkerMetrics } from '../metrics/worker.metrics.js';
import { POLICY_LAYERS, type PolicyLayers } from '../policies/policy-watcher.js';
import { REVIEW_RUNNER, type ReviewRunner, type RunOutcome, TIMEOUT_REASON } from '../runner/review-runner.js';
import type { LeaseHolder } from './pr-lease.js';
import { prRefOf, SchedulingGate } from './scheduling-gate.js';
import { WORKER_CONFIG, WORKER_LOGGER } from './tokens.js';

export type ExecutionEnd =
  | { readonly kind: 'finished'; readonly status: ReviewOutcome; readonly reason?: string }
  /** The record was final already (a redelivery, or a recovered job whose review had ended). */
  | { readonly kind: 'duplicate'; readonly status: ReviewOutcome }
  /** Stopped without an ending (shutdown, or the lease was lost); the next holder adopts it. */
  | { readonly kind: 'detached'; readonly why: string };

/** A review's ending with what the metrics count it as. */
export interface CountedEnding extends ReviewEnding {
  readonly cause: EndCause;
}

interface Final extends CountedEnding {
  /** The check run the worker must conclude, when the reviewer did not. */
  conclude?: CheckRunConclusion;
  /** What the check run says, when it is more than the reason. */
  detail?: string;
}

function unlimitedController(): AbortController {
  const controller = new AbortController();
  setMaxListeners(0, controller.signal);
  return controller;
}

/** The most one review may spend: the platform's ceiling, or a policy's when lower. */
const costCeiling = (payload: Pick<ReviewPayload, 'ceilings' | 'policy'>): number =>
  Math.min(payload.ceilings?.maxCostUsd ?? Infinity, payload.policy?.ceilings.maxCostUsd?.value ?? Infinity);

/** Rounding between the reviewer's sum and the meter's, below which a lower report is not worth a warning. */
const REPORT_TOLERANCE_USD = 0.000_001;

/**
 * What an ended review is settled at: the gateway's meter when it metered the review, else the
 * reviewer's report, else the ceiling (tokens unknown).
 */
export function spendToSettle(
  metered: (TokenUsage & { readonly costUsd: number }) | undefined,
  reported: { readonly costUsd: number; readonly tokens: TokenUsage } | undefined,
  ceiling: number,
): { costUsd: number; tokens?: TokenUsage } {
  if (metered) return { costUsd: metered.costUsd, tokens: metered };
  if (reported) return { costUsd: reported.costUsd, tokens: reported.tokens };
  return { costUsd: ceiling };
}

/** The `repository` label of the per-repository series: every code host's repositories are told apart. */
const repositoryLabel = (review: Pick<ReviewRequest, 'platform' | 'repo'>) =>
  `${review.platform}:${repoFullName(review.repo)}`;

/** What the check run of a superseded review says: the newer head, in full. */
const supersededSummary = (by: Pick<PrHead, 'sha'>) => `superseded by ${by.sha}`;

/** How a review the reviewer reported, but whose check run it left open, ends on the PR. */
const CONCLUSION_OF: Record<ReviewOutcome, CheckRunConclusion> = {
  posted: 'neutral',
  skipped: 'skipped',
  failed: 'failure',
};

@Injectable()
export class ReviewExecution {
  /** Every running review listens on it, far more than the default limit of 10 listeners. */
  private readonly shutdown = unlimitedController();

  constructor(
    @Inject(WORKER_CONFIG) private readonly config: WorkerConfig,
    @Inject(WORKER_LOGGER) private readonly logger: Logger,
    @Inject(REVIEW_RUNNER) private readonly runner: ReviewRunner,
    private readonly hosts: CodeHosts,
    @Inject(MODEL_ACCESS) private readonly modelAccess: ModelAccessIssuer,
    private readonly lifecycle: ReviewLifecycle,
    private readonly gate: SchedulingGate,
    private readonly metrics: WorkerMetrics,
    @Inject(REDIS) redis: Redis,
    @Optional() @Inject(POLICY_LAYERS) private readonly policies?: PolicyLayers,
    @Optional() private readonly budgets?: BudgetLedger,
  ) {
    this.learned = new LearnedRulesStore(redis);
  }

  /** The repository's learned rules: read for each review's payload, fed by each review's result. */
  private readonly learned: LearnedRulesStore;

  /** Lets go of every running review without ending it; called on shutdown. */
  detachAll(): void {
    this.shutdown.abort();
  }

  /**
   * Runs `review` to its end. The caller holds the PR lease and the review's slot as `holder`;
   * both are renewed here and released at the end.
   */
  async execute(review: ReviewRequest, holder: LeaseHolder): Promise<ExecutionEnd> {
    const ref = prRefOf(review);
    const log = this.logger.child({ reviewId: review.reviewId, repo: ref.repo, pr: ref.pr, sha: review.headSha });
    const cancel = new AbortController();
    const detach = new AbortController();
    const onShutdown = () => detach.abort('the worker is shutting down');
    this.shutdown.signal.addEventListener('abort', onShutdown);
    let supersededBy: PrHead | undefined;
    const renewal = setInterval(() => {
      void this.renew(review, holder).then((state) => {
        if (state.kind === 'lost') detach.abort('the PR lease was lost');
        if (state.kind === 'superseded' && !cancel.signal.aborted) {
          supersededBy = state.by;
          log.info({ newerSha: state.by.sha }, 'a newer head SHA supersedes the running review');
          cancel.abort();
        }
      });
    }, this.config.scheduling.renewIntervalSeconds * 1000);
    const startedAt = Date.now();
    this.metrics.running.inc();
    try {
      const started = await this.lifecycle.start(review);
      if (!started.started) return { kind: 'duplicate', status: started.status };
      let token: string;
      let host: CodeHost;
      try {
        host = this.hosts.of(review.platform);
        token = await host.reviewToken(review);
      } catch (err) {
        // The check run is concluded with a narrower token, which GitHub may still grant.
        const reason = err instanceof Error ? err.message : String(err);
        log.warn({ err }, 'no code host token for the review');
        await this.concludeCheckRun(review, 'failure', reason);
        return await this.finish(review, { status: 'failed', reason, cause: 'runner_error' }, startedAt);
      }
      // Without it the reviewer trusts no earlier marker: findings may repeat, none are hidden.
      const botLogin = await host.botLogin().catch((err) => {
        log.warn({ err }, 'the login Kritik posts as is unknown; earlier reviews will not be recognised');
        return undefined;
      });
      // Read for each review, so a policy changed a moment ago shapes the next review.
      const policy = this.policies?.layerFor({ platform: review.platform, ...review.repo });
      // Without them the review still runs; it only may repeat what the team dismissed.
      const learned = await this.learned.learnedFor(review.platform, review.repo).catch((err) => {
        log.warn({ err }, 'could not read the learned rules');
        return undefined;
      });
      const payload = {
        ...review,
        apiUrl: host.apiUrl,
        ...(botLogin ? { botLogin } : {}),
        ceilings: this.config.reviewJob.ceilings,
        reviewDrafts: this.config.triggers.reviewDrafts,
        ...(policy ? { policy } : {}),
        ...(learned && learned.fingerprints.length > 0 ? { learned } : {}),
      };
      // The most this review can cost is held in its budgets before the model is called.
      const budgets = payload.policy?.budgets ?? [];
      const subject = { platform: review.platform, repo: review.repo };
      const ceiling = costCeiling(payload);
      if (this.budgets && budgets.length > 0) {
        const reservation = await this.budgets.reserve(review.reviewId, budgets, subject, ceiling);
        if (!reservation.ok) {
          const reason = overBudgetReason(reservation);
          log.info({ budget: reservation.budget.id }, 'review skipped: over budget');
          await this.concludeCheckRun(review, 'neutral', reason);
          return await this.finish(review, { status: 'skipped', reason, cause: 'budget' }, startedAt);
        }
      }
      let outcome: RunOutcome;
      try {
        const model = await this.modelAccess.open(review.reviewId, ceiling).catch((err: Error) => {
          throw new Error(`no model access: ${err.message}`);
        });
        outcome = await this.runner.run({
          payload,
          token,
          model,
          signal: cancel.signal,
          detach: detach.signal,
          onDispatched: (how) => {
            this.metrics.dispatch.observe({ how }, (Date.now() - Date.parse(review.enqueuedAt)) / 1000);
            log.info({ how }, how === 'adopted' ? 'adopted the running review' : 'review dispatched');
          },
        });
      } catch (err) {
        outcome = { kind: 'failed', reason: `the review could not start: ${(err as Error).message}` };
      }
      if (outcome.kind === 'detached') {
        const why = String(detach.signal.reason ?? 'detached');
        log.warn({ why }, 'stopped following the review without ending it');
        return { kind: 'detached', why };
      }
      await this.account(review, outcome, ceiling, budgets, log);
      const final = this.finalOf(review, outcome, supersededBy);
      if (final.conclude) {
        await this.concludeCheckRun(review, final.conclude, final.detail ?? final.reason ?? final.status);
      }
      return await this.finish(review, final, startedAt);
    } finally {
      clearInterval(renewal);
      this.shutdown.signal.removeEventListener('abort', onShutdown);
      this.metrics.running.dec();
      await this.gate.leave(review, holder);
    }
  }

  /**
   * Concludes the review's check run when the reviewer could not; best effort (a failure is
   * logged: the review record already says how the review ended).
   */
  async concludeCheckRun(review: ReviewRequest, conclusion: CheckRunConclusion, reason: string): Promise<void> {
    try {
      await this.hosts.of(review.platform).concludeStatus(review, conclusion, reason);
    } catch (err) {
      this.logger.warn({ err, reviewId: review.reviewId, conclusion }, 'could not conclude the check run');
    }
  }

  /** Cancels the check run of a review that `by` superseded before it ran (best effort). */
  cancelSupersededCheckRun(review: ReviewRequest, by: Pick<PrHead, 'sha'>): Promise<void> {
    return this.concludeCheckRun(review, 'cancelled', supersededSummary(by));
  }

  /**
   * Counts what an ended review spent and settles its budgets with it. Through the gateway, the
   * gateway's meter decides (it saw every call, also of a Job killed before it could report, and a
   * reviewer running hostile code could under-report); without it the reviewer's report; with
   * neither, the ceiling: what it spent is unknown, and a budget must not overshoot (ADR 0045).
   */
  private async account(
    review: ReviewRequest,
    outcome: Exclude<RunOutcome, { kind: 'detached' }>,
    ceiling: number,
    budgets: readonly Budget[],
    log: Logger,
  ): Promise<void> {
    const repository = repositoryLabel(review);
    const metered = await this.modelAccess.spent(review.reviewId).catch((err: unknown) => {
      log.warn({ err }, 'could not read what the gateway metered for the review');
      return undefined;
    });
    const reported = outcome.kind === 'reported' ? outcome.result : undefined;
    const spent = spendToSettle(metered, reported, ceiling);
    if (metered && reported && reported.costUsd + REPORT_TOLERANCE_USD < metered.costUsd) {
      log.warn(
        { reportedUsd: reported.costUsd, meteredUsd: metered.costUsd },
        'the reviewer reported less than the gateway metered',
      );
    }
    if (spent.tokens) {
      this.metrics.reviewCost.inc({ repository }, spent.costUsd);
      const { tokens } = spent;
      const kinds = {
        input: tokens.input,
        output: tokens.output,
        cache_read: tokens.cacheRead,
        cache_write: tokens.cacheWrite,
      };
      for (const [kind, n] of Object.entries(kinds)) if (n > 0) this.metrics.reviewTokens.inc({ repository, kind }, n);
    }
    const costUsd = spent.costUsd;
    if (!this.budgets || budgets.length === 0) return;
    const subject = { platform: review.platform, repo: review.repo };
    try {
      await this.budgets.settle(review.reviewId, budgets, subject, Number.isFinite(costUsd) ? costUsd : 0);
      for (const s of await this.budgets.standing(budgets, subject)) {
        const labels = { budget: s.budget.id, subject: budgetWho(s.budget, subject) };
        this.metrics.budgetRemaining.set(labels, s.remainingUsd);
        this.metrics.budgetLimit.set(labels, s.budget.limitUsd);
      }
    } catch (err) {
      // The reservation lapses on its own; until then it holds the review's ceiling, never less.
      log.warn({ err }, 'could not settle the review in its budgets');
    }
  }

  /** Records a review's end without running it (superseded while waiting, or its orphaned Job). */
  recordEnd(review: ReviewRequest, end: CountedEnding): Promise<ExecutionEnd> {
    return this.finish(review, end, undefined);
  }

  private finalOf(
    review: ReviewRequest,
    outcome: Exclude<RunOutcome, { kind: 'detached' }>,
    supersededBy: PrHead | undefined,
  ): Final {
    switch (outcome.kind) {
      case 'reported': {
        const { result } = outcome;
        // A run the worker queued must end whatever the review did; the reviewer's own run
        // (a worker without ids) only when the review failed.
        const open = result.checkConcluded !== true && (review.checkRunId !== undefined || result.status === 'failed');
        return {
          status: result.status,
          ...(result.reason ? { reason: result.reason } : {}),
          result,
          cause: 'reported',
          ...(open
            ? { conclude: CONCLUSION_OF[result.status], detail: result.reason ?? `review ${result.status}` }
            : {}),
        };
      }
      case 'failed':
        return {
          status: 'failed',
          reason: outcome.reason,
          cause: outcome.reason === TIMEOUT_REASON ? 'timeout' : 'crashed',
          conclude: 'failure',
          ...(outcome.detail ? { detail: `${outcome.reason}: ${outcome.detail}` } : {}),
        };
      case 'cancelled': {
        const ending = this.lifecycle.supersededEnding(supersededBy);
        return {
          ...ending,
          cause: 'superseded',
          conclude: 'cancelled',
          detail: supersededBy ? supersededSummary(supersededBy) : ending.reason,
        };
      }
    }
  }

  private async finish(review: ReviewRequest, end: CountedEnding, started: number | undefined): Promise<ExecutionEnd> {
    // Ended, whoever ends it: what the review was given to call the model with stops working.
    await this.modelAccess
      .close(review.reviewId)
      .catch((err) => this.logger.warn({ err, reviewId: review.reviewId }, 'could not end the review model access'));
    const written = await this.lifecycle.end(review, end);
    if (!written.ok && written.reason === 'not-allowed' && isFinalStatus(written.record.status)) {
      return { kind: 'duplicate', status: written.record.status };
    }
    await this.learn(review, end);
    this.metrics.reviews.inc({ outcome: end.status, cause: end.cause });
    if (started !== undefined) this.metrics.duration.observe({ outcome: end.status }, (Date.now() - started) / 1000);
    const result = end.result;
    this.logger.info(
      {
        reviewId: review.reviewId,
        repo: repoFullName(review.repo),
        pr: review.pr,
        status: end.status,
        reason: end.reason,
        ...(result ? { findings: result.findings, tokens: result.tokens, costUsd: result.costUsd } : {}),
      },
      outcomeLine(`${repoFullName(review.repo)}#${review.pr}`, end),
    );
    return { kind: 'finished', status: end.status, ...(end.reason ? { reason: end.reason } : {}) };
  }

  /** What a review saw of the team's feedback goes into the repository's rules and acceptance. */
  private async learn(review: ReviewRequest, end: CountedEnding): Promise<void> {
    const result = end.result;
    if (!result) return;
    try {
      const repository = repositoryLabel(review);
      const dismissed = await this.learned.record(review.platform, review.repo, result.dismissed ?? []);
      if (dismissed > 0) this.metrics.findingsDismissed.inc({ repository }, dismissed);
      const resolved = result.threadsResolved ?? 0;
      await this.learned.addResolved(review.platform, review.repo, resolved);
      if (resolved > 0) this.metrics.findingsResolved.inc({ repository }, resolved);
    } catch (err) {
      this.logger.warn({ err, reviewId: review.reviewId }, 'could not record the review feedback');
    }
  }

  private async renew(
    review: ReviewRequest,
    holder: LeaseHolder,
  ): Promise<{ kind: 'ok' } | { kind: 'lost' } | { kind: 'superseded'; by: PrHead }> {
    try {
      if (!(await this.gate.renew(review, holder))) return { kind: 'lost' };
      const by = await this.lifecycle.supersededBy(review);
      return by ? { kind: 'superseded', by } : { kind: 'ok' };
    } catch (err) {
      // Redis unreachable for a moment: the lease outlives a few missed renewals.
      this.logger.warn({ err, reviewId: review.reviewId }, 'could not renew the PR lease');
      return { kind: 'ok' };
    }
  }
}

/** The one line a person reads per review: which pull request, how it ended, what it found and cost. */
export function outcomeLine(pr: string, end: Pick<CountedEnding, 'status' | 'reason' | 'result'>): string {
  const head = `review of ${pr} ${end.status}${end.reason ? ` (${end.reason})` : ''}`;
  const r = end.result;
  if (!r) return head;
  const findings = Object.values(r.findings).reduce((sum, n) => sum + n, 0);
  const tokens = r.tokens.input + r.tokens.output + r.tokens.cacheRead + r.tokens.cacheWrite;
  return `${head}: ${findings} finding(s), ${tokens} tokens, $${r.costUsd.toFixed(4)}`;
}
