// What a review's budgets add to starting it, beside the baseline in the same run: the review slot
// the scheduling gate already takes and gives back in Redis (ReviewSlots acquire + release), and
// the budget reservation and settlement (BudgetLedger reserve + settle) with 1 and 3 budgets, on
// one real Redis. Prints p50 and p99 per review and reviews per second, sequentially and with
// --concurrency reviews at once.
//   npm run bench:budgets -w bench [-- --reviews 2000 --concurrency 20]
import type { Budget } from '@kritik/core';
import { startRedis } from '@kritik/testing';
import { BudgetLedger, ReviewSlots } from '@kritik/worker';
import { Redis } from 'ioredis';
import { numberOption, percentile } from '../measure.js';

const reviews = numberOption('reviews', 2000);
const concurrency = numberOption('concurrency', 20);

const budget = (scope: Budget['scope'], period: Budget['period']): Budget => ({
  id: `bench/${scope}-per-${period}`,
  policy: 'bench',
  scope,
  period,
  limitUsd: 1e9,
});
const ONE = [budget('repository', 'day')];
const THREE = [budget('repository', 'day'), budget('repository', 'month'), budget('org', 'month')];
const subject = { platform: 'github' as const, repo: { owner: 'acme', name: 'api' } };

async function measure(parallel: number, once: (i: number) => Promise<void>) {
  const times: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (next < reviews) {
        const i = next++;
        const t = performance.now();
        await once(i);
        times.push(performance.now() - t);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  return { p50: percentile(times, 50), p99: percentile(times, 99), perSecond: reviews / seconds };
}

const server = await startRedis();
const redis = new Redis(server.url);
try {
  const slots = new ReviewSlots(redis, { global: 1_000_000, perRepo: 1_000_000 });
  const ledger = new BudgetLedger(redis, { reservationTtlMs: 600_000 });
  const cases: [string, (i: number) => Promise<void>][] = [
    [
      'baseline: review slot acquire + release',
      async (i) => {
        await slots.acquire('acme/api', `r${i}`, 600_000);
        await slots.release('acme/api', `r${i}`);
      },
    ],
    [
      '1 budget: reserve + settle',
      async (i) => {
        await ledger.reserve(`r${i}`, ONE, subject, 1);
        await ledger.settle(`r${i}`, ONE, subject, 0.5);
      },
    ],
    [
      '3 budgets: reserve + settle',
      async (i) => {
        await ledger.reserve(`r${i}`, THREE, subject, 1);
        await ledger.settle(`r${i}`, THREE, subject, 0.5);
      },
    ],
  ];
  console.log(`${reviews} reviews each; one redis-server on this machine`);
  for (const parallel of [1, concurrency]) {
    for (const [name, once] of cases) {
      await redis.flushall();
      const r = await measure(parallel, once);
      console.log(
        `${name.padEnd(42)} concurrency ${String(parallel).padStart(3)}: p50 ${r.p50.toFixed(3)} ms  p99 ${r.p99.toFixed(3)} ms  ${Math.round(r.perSecond)} reviews/s`,
      );
    }
  }
} finally {
  redis.disconnect();
  await server.stop();
}
