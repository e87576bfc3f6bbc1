import { METRICS, type ReviewRequest } from '@kritik/core';
import { LearnedRulesStore } from '@kritik/server';
import { postedResult } from '@kritik/testing';
import { reviewers, type SchedulingParts, startSchedulingParts } from '../../test/support/scheduling-parts.js';
import { OWNER, openPullRequest, pushCommit, REPO } from '../../test/support/world.js';
import { outcomeLine, ReviewExecution, spendToSettle } from './review-execution.service.js';

describe(ReviewExecution.name, () => {
  let parts: SchedulingParts;

  beforeAll(async () => {
    parts = await startSchedulingParts();
  });
  afterAll(() => parts?.stop());
  beforeEach(() => parts.flush());

  /** A review recorded and queued as the backend leaves it, with the check run the processor queues. */
  async function queuedReview(label: string): Promise<ReviewRequest> {
    const review = openPullRequest(parts.fakes.github, label);
    await parts.lifecycle.record(review);
    await parts.lifecycle.admit(review);
    return { ...review, checkRunId: await parts.checkRuns.queue(review) };
  }

  async function execute(script: string, review: ReviewRequest) {
    const entered = await parts.enter(review);
    if (!entered.entered) throw new Error(`the gate kept ${review.reviewId} waiting: ${entered.why}`);
    const { execution } = parts.execution(script);
    return { end: execution.execute(review, entered.holder), execution };
  }

  const runOf = (review: ReviewRequest) => parts.fakes.github.checkRuns(OWNER, REPO, review.headSha);

  it('runs a review to the ending its reviewer reports and concludes the check run it left open', async () => {
    const review = await queuedReview('exec-posted');

    expect(await (await execute(reviewers.reports(), review)).end).toEqual({ kind: 'finished', status: 'posted' });

    const record = await parts.lifecycle.get(review.reviewId);
    expect(record).toMatchObject({ status: 'posted', result: postedResult() });
    expect(record?.timeline.map((t) => t.status)).toEqual(['queued', 'running', 'posted']);
    expect(runOf(review)).toEqual([
      expect.objectContaining({ id: review.checkRunId, status: 'completed', conclusion: 'neutral' }),
    ]);
  });

  it('counts the findings a review reports resolved and dismissed per repository, in the metrics and the rules', async () => {
    const review = await queuedReview('exec-acceptance');
    const repository = `${review.platform}:${OWNER}/${REPO}`;
    const counted = async (name: string) =>
      (await parts.registry.getSingleMetric(name)?.get())?.values.find((v) => v.labels.repository === repository)
        ?.value ?? 0;
    const [resolvedBefore, dismissedBefore] = [
      await counted(METRICS.findingsResolved.name),
      await counted(METRICS.findingsDismissed.name),
    ];
    const dismissed = [
      {
        fingerprint: '0123456789abcdef',
        rule: 'Unchecked input (in a.ts) — </script><b>x</b>',
        via: 'ignore' as const,
      },
      { fingerprint: 'fedcba9876543210', rule: 'Shadowed x (in b.ts)', via: 'reaction' as const },
    ];

    await (await execute(reviewers.reports({ ...postedResult(), threadsResolved: 3, dismissed }), review)).end;

    expect(await counted(METRICS.findingsResolved.name)).toBe(resolvedBefore + 3);
    expect(await counted(METRICS.findingsDismissed.name)).toBe(dismissedBefore + 2);
    expect(await new LearnedRulesStore(parts.redis).acceptance(review.platform, review.repo)).toEqual({
      resolved: 3,
      dismissed: 2,
      rate: 0.6,
    });
  });

  it('lets go of the PR lease and the slot when the review ends', async () => {
    const review = await queuedReview('exec-release');
    await (await execute(reviewers.reports(), review)).end;

    expect(await parts.gate.holderOf(review)).toBeUndefined();
    expect(await parts.redis.zcard('kritik:slots:global')).toBe(0);
  });

  it('records a crashed reviewer as failed and fails the check run with its last words', async () => {
    const review = await queuedReview('exec-crash');

    expect(await (await execute(reviewers.crashes(), review)).end).toMatchObject({
      kind: 'finished',
      status: 'failed',
    });

    expect(await parts.lifecycle.get(review.reviewId)).toMatchObject({
      status: 'failed',
      reason: expect.stringContaining('exit code 3'),
    });
    expect(runOf(review)).toEqual([expect.objectContaining({ status: 'completed', conclusion: 'failure' })]);
    expect(runOf(review)[0]!.output.summary).toContain('the reviewer fell over');
  });

  it('stops a running review that a newer head supersedes and records it skipped', async () => {
    const review = await queuedReview('exec-superseded');
    const { end } = await execute(reviewers.hangs(), review);
    const newer = {
      ...pushCommit(parts.fakes.github, review, 'exec-superseded-2'),
      enqueuedAt: new Date().toISOString(),
    };
    await parts.lifecycle.offerHead(newer);

    expect(await end).toEqual({
      kind: 'finished',
      status: 'skipped',
      reason: `superseded by ${newer.headSha.slice(0, 12)}`,
    });
    expect(runOf(review)).toEqual([expect.objectContaining({ status: 'completed', conclusion: 'cancelled' })]);
    expect(runOf(review)[0]!.output.summary).toBe(`superseded by ${newer.headSha}`);
  }, 20_000);

  it('does not run a review that has ended already', async () => {
    const review = await queuedReview('exec-ended');
    await parts.lifecycle.end(review, { status: 'skipped', reason: 'ended before it ran' });

    // A reviewer that would fail: had it run, the record or the check run would say so.
    expect(await (await execute(reviewers.crashes(), review)).end).toEqual({ kind: 'duplicate', status: 'skipped' });
    expect(await parts.lifecycle.get(review.reviewId)).toMatchObject({
      status: 'skipped',
      reason: 'ended before it ran',
    });
    expect(runOf(review)).toEqual([expect.objectContaining({ status: 'queued' })]);
  });

  it('fails a review whose installation token GitHub refuses, on the PR and in the record', async () => {
    const review = await queuedReview('exec-no-token');
    const stranger = { ...review, installationId: 999_999 };

    expect(await (await execute(reviewers.reports(), stranger)).end).toMatchObject({
      kind: 'finished',
      status: 'failed',
    });
    expect((await parts.lifecycle.get(review.reviewId))?.status).toBe('failed');
  });

  it('leaves a review running, unended, when the worker lets go of it at shutdown', async () => {
    const review = await queuedReview('exec-detach');
    const { end, execution } = await execute(reviewers.hangs(), review);
    await new Promise((resolve) => setTimeout(resolve, 300));
    execution.detachAll();

    expect(await end).toEqual({ kind: 'detached', why: 'the worker is shutting down' });
    expect((await parts.lifecycle.get(review.reviewId))?.status).toBe('running');
    expect(await parts.gate.holderOf(review)).toBeUndefined();
  });
});

describe(outcomeLine.name, () => {
  it('says how a review ended with its findings, tokens and cost', () => {
    const result = postedResult({
      findings: { critical: 0, major: 1, minor: 2, nit: 0 },
      tokens: { input: 1000, output: 150, cacheRead: 50, cacheWrite: 0 },
      costUsd: 0.0041,
    });

    expect(outcomeLine('acme/shop#7', { status: 'posted', result })).toBe(
      'review of acme/shop#7 posted: 3 finding(s), 1200 tokens, $0.0041',
    );
  });

  it('says why a review without a result ended', () => {
    expect(outcomeLine('acme/shop#7', { status: 'failed', reason: 'the reviewer crashed' })).toBe(
      'review of acme/shop#7 failed (the reviewer crashed)',
    );
  });
});

describe(spendToSettle.name, () => {
  const tokens = { input: 1000, output: 200, cacheRead: 0, cacheWrite: 0 };

  it('settles at the meter even when the reviewer reports less', () => {
    expect(spendToSettle({ ...tokens, costUsd: 0.4 }, { costUsd: 0.01, tokens }, 2)).toEqual({
      costUsd: 0.4,
      tokens: { ...tokens, costUsd: 0.4 },
    });
  });

  it('settles a review without a report at the meter, not the ceiling', () => {
    expect(spendToSettle({ ...tokens, costUsd: 0.03 }, undefined, 2).costUsd).toBe(0.03);
  });

  it('settles at the report without a gateway, and at the ceiling without either', () => {
    expect(spendToSettle(undefined, { costUsd: 0.2, tokens }, 2)).toEqual({ costUsd: 0.2, tokens });
    expect(spendToSettle(undefined, undefined, 2)).toEqual({ costUsd: 2 });
  });
});
