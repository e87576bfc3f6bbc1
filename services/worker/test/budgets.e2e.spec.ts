// Budgets that stop spending, through the worker's ReviewExecution with the real parts (Redis,
// the GitHub fake, the local runner with a stand-in reviewer): 20 concurrent reviews of a
// repository whose budget covers 5 run at most 5; the rest end `skipped: budget` with a neutral
// check run that names the budget and when it resets; a restarted worker keeps the spending.
import { buildPolicyLayer, type PolicyLayer, type ReviewRequest, reviewPolicySpecSchema } from '@kritik/core';
import { postedResult } from '@kritik/testing';
import { BudgetLedger } from '../src/budgets/budget-ledger.js';
import { GatewayGrants } from '../src/gateway/gateway-grants.js';
import { DirectModelAccess, GatewayModelAccess, type ModelAccessIssuer } from '../src/gateway/model-access.js';
import { PrLeases } from '../src/scheduling/pr-lease.js';
import { ReviewExecution } from '../src/scheduling/review-execution.service.js';
import { ReviewSlots } from '../src/scheduling/review-slots.js';
import { SchedulingGate } from '../src/scheduling/scheduling-gate.js';
import { reviewers, type SchedulingParts, startSchedulingParts } from './support/scheduling-parts.js';
import { OWNER, openPullRequest, REPO } from './support/world.js';

let parts: SchedulingParts;
const layer: PolicyLayer = buildPolicyLayer([
  {
    name: 'spend',
    spec: reviewPolicySpecSchema.parse({
      ceilings: { maxCostUsdPerReview: 1 },
      budgets: { repositoryPerDayUsd: 5 },
    }),
  },
]);

/** A worker process: its own gate (room for 20 at once), ledger and execution, on the shared Redis. */
function worker(name: string, options: { reportedUsd?: number; access?: ModelAccessIssuer } = {}) {
  const { runner } = parts.execution(reviewers.reports(postedResult({ costUsd: options.reportedUsd ?? 1 })));
  const gate = new SchedulingGate(
    new PrLeases(parts.redis),
    new ReviewSlots(parts.redis, { global: 20, perRepo: 20 }),
    {
      workerId: name,
      leaseTtlMs: parts.config.scheduling.leaseTtlSeconds * 1000,
    },
  );
  const execution = new ReviewExecution(
    parts.config,
    parts.logger,
    runner,
    parts.hosts,
    options.access ?? new DirectModelAccess(),
    parts.lifecycle,
    gate,
    parts.metrics,
    parts.redis,
    { layerFor: () => layer },
    new BudgetLedger(parts.redis, { reservationTtlMs: 600_000 }),
  );
  const run = async (review: ReviewRequest) => {
    const answer = await gate.enter(review, review.reviewId);
    if (!answer.entered) throw new Error(`not let in: ${answer.why}`);
    return execution.execute(review, answer.holder);
  };
  return { run };
}

beforeAll(async () => {
  parts = await startSchedulingParts();
}, 60_000);
afterAll(() => parts?.stop());
beforeEach(() => parts.flush());

describe('ReviewPolicy budgets', () => {
  it('lets at most 5 of 20 concurrent reviews run on a budget for 5 and skips the rest, naming the budget', async () => {
    const { run } = worker('w1');
    const reviews = Array.from({ length: 20 }, () => openPullRequest(parts.fakes.github, 'budget'));

    const ends = await Promise.all(reviews.map(run));

    const statuses = ends.map((e) => (e.kind === 'finished' ? e.status : e.kind));
    expect(statuses.filter((s) => s === 'posted')).toHaveLength(5);
    expect(statuses.filter((s) => s === 'skipped')).toHaveLength(15);
    const skipped = reviews.find((_, i) => statuses[i] === 'skipped')!;
    const record = await parts.lifecycle.get(skipped.reviewId);
    expect(record?.reason).toMatch(
      /^budget: spend\/repository-per-day \(5 USD per day for this repository\) has 0\.00 USD left; it resets at \d{4}-\d\d-\d\dT00:00:00\.000Z$/,
    );
    const [checkRun] = parts.fakes.github.checkRuns(OWNER, REPO, skipped.headSha);
    expect(checkRun).toMatchObject({
      conclusion: 'neutral',
      output: { summary: expect.stringContaining('spend/repository-per-day') },
    });
    const metrics = await parts.registry.metrics();
    expect(metrics).toContain(`kritik_review_cost_usd_total{repository="github:${OWNER}/${REPO}"} 5`);
    expect(metrics).toContain(
      `kritik_budget_remaining_usd{budget="spend/repository-per-day",subject="${OWNER}/${REPO}"} 0`,
    );
    expect(metrics).toContain(`kritik_review_tokens_total{repository="github:${OWNER}/${REPO}",kind="input"} 50`);
  }, 60_000);

  it('keeps the spending when the worker restarts', async () => {
    await Promise.all(
      Array.from({ length: 5 }, () => openPullRequest(parts.fakes.github, 'budget')).map(worker('before').run),
    );

    const after = await worker('after').run(openPullRequest(parts.fakes.github, 'budget'));

    expect(after).toMatchObject({ kind: 'finished', status: 'skipped', reason: expect.stringMatching(/^budget: /) });
  }, 60_000);

  it('settles a review at what the gateway metered when its reviewer reports less', async () => {
    const grants = new GatewayGrants(parts.redis);
    const review = openPullRequest(parts.fakes.github, 'under-report');
    // The gateway metered 1.5 USD of calls for this review (its grant outlives a worker restart).
    await grants.issue(review.reviewId, 1, 600);
    await grants.meter(review.reviewId, { input: 100_000, output: 20_000, cacheRead: 0, cacheWrite: 0 }, 1.5);
    const access = new GatewayModelAccess(grants, 'http://gateway.invalid', 600);
    const costSoFar = async () =>
      Number(
        /kritik_review_cost_usd_total\{repository="github:[^"]+"\} (\S+)/.exec(await parts.registry.metrics())?.[1] ??
          0,
      );
    const before = await costSoFar();

    const end = await worker('w1', { reportedUsd: 0.01, access }).run(review);

    expect(end).toMatchObject({ kind: 'finished', status: 'posted' });
    const metrics = await parts.registry.metrics();
    expect(metrics).toContain(
      `kritik_budget_remaining_usd{budget="spend/repository-per-day",subject="${OWNER}/${REPO}"} 3.5`,
    );
    expect((await costSoFar()) - before).toBeCloseTo(1.5, 9);
    expect(await grants.spent(review.reviewId)).toBeUndefined();
  }, 60_000);
});
