// The review history's filtered pages over 100,000 records, each beside its baseline in the same
// run: the indexes a filter names (ADR 0042) against the walk of every record that preceded them
// (still the path until the start-up backfill is done). Prints p50 latency per first page,
// Redis round trips, index entries read and whether the page came back full; then Redis memory
// per record. npm run bench:history -w bench [-- --records 100000 --runs 15]
import { performance } from 'node:perf_hooks';
import { type ReviewRequest, redisKeys, reviewIdFor, reviewIndexKeys } from '@kritik/core';
import { type PageQuery, type PageStats, ReviewHistory, ReviewStore } from '@kritik/server';
import { postedResult, startRedis } from '@kritik/testing';
import { Redis } from 'ioredis';
import { median, numberOption } from '../measure.js';

const RECORDS = numberOption('records', 100_000);
const RUNS = numberOption('runs', 15);
const REPOS = 500;
const AUTHORS = 200;
// A posted review's result as a review Job reports it (findings, tokens, cost): what a record weighs.
const result = postedResult();

const redis = await startRedis();
const client = new Redis(redis.url);
try {
  const store = new ReviewStore(client);
  await store.backfill();
  const before = Number(/used_memory:(\d+)/.exec(await client.info('memory'))![1]);
  // Every 100th record is acme/rare's (1%); the others spread over 499 repositories and 200 authors.
  const repoOf = (i: number) => (i % 100 === 0 ? 'acme/rare' : `org${i % 7}/repo${i % (REPOS - 1)}`);
  const request = (i: number): ReviewRequest => {
    const [owner, name] = repoOf(i).split('/') as [string, string];
    const headSha = i.toString(16).padStart(40, '0');
    return {
      reviewId: reviewIdFor('github', { owner, name }, i, headSha),
      platform: 'github',
      repo: { owner, name },
      pr: i,
      headSha,
      trigger: 'opened',
      sender: `dev${i % AUTHORS}`,
      enqueuedAt: new Date().toISOString(),
    };
  };
  const t0 = Date.now() - RECORDS * 1_000;
  const seedStart = performance.now();
  for (let start = 0; start < RECORDS; start += 1_000) {
    await Promise.all(
      Array.from({ length: Math.min(1_000, RECORDS - start) }, async (_, k) => {
        const i = start + k + 1;
        const { record } = await store.create(request(i), new Date(t0 + i * 1_000));
        // 90% posted, 5% skipped, 3% failed, 2% left queued.
        const m = Math.floor((i * 7919) / 100) % 100;
        const ending = m < 90 ? 'posted' : m < 95 ? 'skipped' : m < 98 ? 'failed' : undefined;
        if (ending)
          await store.transition(record.id, ending, {
            from: ['queued'],
            at: new Date(t0 + i * 1_000 + 500),
            ...(ending === 'posted' ? { result } : {}),
          });
      }),
    );
  }
  const seedSeconds = (performance.now() - seedStart) / 1000;
  const after = Number(/used_memory:(\d+)/.exec(await client.info('memory'))![1]);

  const sample = await client.zrange(redisKeys.reviewIndex(), 0, 999);
  let recordBytes = 0;
  for (const id of sample) recordBytes += Number(await client.memory('USAGE', redisKeys.review(id)));
  recordBytes /= sample.length;
  const indexBytes = await Promise.all(
    [
      redisKeys.reviewIndex(),
      reviewIndexKeys.status('posted'),
      reviewIndexKeys.repo('acme/rare'),
      reviewIndexKeys.author('dev1'),
    ].map(async (key) => Number(await client.memory('USAGE', key, 'SAMPLES', 0)) / (await client.zcard(key))),
  );
  const perRecord = (after - before) / RECORDS;

  const visible = ['acme/rare', 'org1/repo1', 'org2/repo2'].map((repo) => ({ platform: 'github' as const, repo }));
  const seesThree = (_p: string, repo: string) => visible.some((v) => v.repo === repo);
  const scenarios: [string, Omit<PageQuery, 'canSee'> & Partial<Pick<PageQuery, 'canSee'>>][] = [
    ['no filter', {}],
    ['repo 1%', { repo: 'acme/rare' }],
    ['author 0.5%', { author: 'dev7' }],
    ['status failed + repo 1%', { status: 'failed', repo: 'acme/rare' }],
    ['status posted + author', { status: 'posted', author: 'dev7' }],
    ['user seeing 3 of 500 repos', { visible, canSee: seesThree }],
    [
      'repo 1% + from 30 days ago',
      { repo: 'acme/rare', from: new Date(Date.now() - 30 * 86_400_000).toISOString().slice(0, 10) },
    ],
  ];
  const plans = {
    indexes: new ReviewHistory(client),
    walk: new ReviewHistory(client, { dailyRetentionDays: 400, plan: 'walk' }),
  };
  const measure = async (history: ReviewHistory, query: PageQuery) => {
    const times: number[] = [];
    let stats: PageStats = { roundTrips: 0, scanned: 0 };
    let found = 0;
    for (let run = 0; run < RUNS; run++) {
      stats = { roundTrips: 0, scanned: 0 };
      const start = performance.now();
      found = (await history.page({ ...query, limit: 50 }, stats)).reviews.length;
      times.push(performance.now() - start);
    }
    return { p50: median(times), ...stats, found };
  };
  const fmt = (m: Awaited<ReturnType<typeof measure>>) =>
    `${m.p50.toFixed(1).padStart(7)} ms ${String(m.roundTrips).padStart(4)} calls ${String(m.scanned).padStart(6)} read ${String(m.found).padStart(3)}/50`;
  console.log(`history: ${RECORDS} records seeded in ${seedSeconds.toFixed(1)} s; first page of 50, p50 of ${RUNS}`);
  console.log(`${'filter'.padEnd(30)} ${'indexes (new)'.padEnd(40)} baseline: walk of every record`);
  for (const [name, query] of scenarios) {
    const q = { canSee: () => true, ...query } as PageQuery;
    console.log(
      `${name.padEnd(30)} ${fmt(await measure(plans.indexes, q)).padEnd(40)} ${fmt(await measure(plans.walk, q))}`,
    );
  }
  console.log(
    `memory: ${perRecord.toFixed(0)} bytes per record in all (record ${recordBytes.toFixed(0)} B, index entries: all ${indexBytes[0]!.toFixed(0)} B, status ${indexBytes[1]!.toFixed(0)} B, repo ${indexBytes[2]!.toFixed(0)} B, author ${indexBytes[3]!.toFixed(0)} B); ` +
      `${((perRecord * 10_000) / 2 ** 20).toFixed(1)} MiB per 10,000 records, ${Math.floor(2 ** 30 / perRecord).toLocaleString('en')} records per GiB`,
  );
} finally {
  client.disconnect();
  await redis.stop();
}
