// Scheduling of the worker application with the local runner (no cluster): the real reviewer in
// standalone mode, and the global and per-repository caps measured from what the reviews did.
import { appendFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { queueKeys, REVIEWS_QUEUE } from '@kritik/core';
import { postedResult, startRedis, type TestRedis } from '@kritik/testing';
import { Producer, startWorker, type WorkerUnderTest } from './support/worker-app.js';
import {
  type Fakes,
  OWNER,
  openPullRequest,
  REPO,
  reviewerCommand,
  reviewJobSettings,
  reviewRequestFor,
  shaOf,
  startFakes,
} from './support/world.js';

jest.setTimeout(120_000);

const posted = postedResult();

/** A stand-in reviewer that logs when it starts and ends, and reports `posted`. */
const recordingReviewer = (log: string, ms: number) => [
  process.execPath,
  '-e',
  `const fs = require('fs');
   const review = JSON.parse(process.env.KRITIK_REVIEW);
   const line = (what) => fs.appendFileSync(${JSON.stringify(log)}, JSON.stringify({ what, repo: review.repo.name, id: review.reviewId, at: Date.now() }) + '\\n');
   line('start');
   setTimeout(() => { line('end'); fs.writeFileSync(process.env.KRITIK_TERMINATION_LOG, ${JSON.stringify(JSON.stringify(posted))}); }, ${ms});`,
];

interface Span {
  repo: string;
  start: number;
  end: number;
}

function spans(log: string): Span[] {
  const events = readFileSync(log, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { what: string; repo: string; id: string; at: number });
  return events
    .filter((e) => e.what === 'start')
    .map((s) => ({ repo: s.repo, start: s.at, end: events.find((e) => e.what === 'end' && e.id === s.id)!.at }));
}

/** Most spans overlapping at any instant, among those `which` selects. */
function peak(all: Span[], which: (s: Span) => boolean = () => true): number {
  const chosen = all.filter(which);
  return Math.max(...chosen.map((s) => chosen.filter((o) => o.start <= s.start && o.end > s.start).length));
}

describe('worker scheduling', () => {
  let redis: TestRedis;
  let fakes: Fakes;
  let producer: Producer;
  let dir: string;

  beforeAll(async () => {
    [redis, fakes] = await Promise.all([startRedis(), startFakes()]);
    for (const name of ['api', 'docs', 'infra']) fakes.github.addRepo(OWNER, name);
    dir = mkdtempSync(join(tmpdir(), 'kritik-scheduling-'));
  });
  afterAll(async () => {
    await Promise.all([redis?.stop(), fakes?.stop()]);
    rmSync(dir, { recursive: true, force: true });
  });
  beforeEach(async () => {
    producer = new Producer(redis.url);
    await producer.redis.flushall();
  });
  afterEach(() => producer.close());

  const reviewIn = (repo: string, pr: number) => ({
    ...reviewRequestFor(pr, shaOf(`${repo}-${pr}`)),
    repo: { owner: OWNER, name: repo },
  });

  const startRecording = (log: string, scheduling: Record<string, unknown>): Promise<WorkerUnderTest> =>
    startWorker({
      redisUrl: redis.url,
      fakes,
      runner: 'local',
      reviewJob: {},
      local: { command: recordingReviewer(log, 700) },
      scheduling,
    });

  it('reviews with the real reviewer as a local process', async () => {
    const sut = await startWorker({
      redisUrl: redis.url,
      fakes,
      runner: 'local',
      reviewJob: reviewJobSettings(fakes.anthropic),
      // jest resolves @kritik/reviewer to its sources; the worker's default finds the built one.
      local: { command: reviewerCommand() },
      settings: { anthropic: { apiKey: 'sk-ant-local' } },
    });
    try {
      const review = openPullRequest(fakes.github, 'local');
      await producer.enqueue(review);
      const record = await producer.ended(review.reviewId);
      expect(record).toMatchObject({ status: 'posted', result: { commentsPosted: 1 } });
      expect(fakes.github.reviews(OWNER, REPO, review.pr)).toHaveLength(1);
    } finally {
      await sut.close();
    }
  });

  it('starts consuming once a connection set-up that failed at start succeeds', async () => {
    // A Redis user refused INFO fails BullMQ's set-up (it reads the server version) until allowed.
    const acl = await startRedis({ extraArgs: ['--user', 'kritik', 'on', '>secret-pw', '~*', '&*', '+@all', '-info'] });
    const log = join(dir, 'set-up.log');
    appendFileSync(log, '');
    const producer = new Producer(acl.url);
    const sut = await startWorker({
      redisUrl: acl.url.replace('redis://', 'redis://kritik:secret-pw@'),
      fakes,
      runner: 'local',
      reviewJob: {},
      local: { command: recordingReviewer(log, 10) },
    });
    try {
      const review = reviewIn('infra', 7);
      await producer.enqueue(review);
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      expect(await producer.record(review.reviewId)).toBeUndefined();

      await producer.redis.call('ACL', 'SETUSER', 'kritik', '+info');

      expect(await producer.ended(review.reviewId, 20_000)).toMatchObject({ status: 'posted' });
      expect(sut.logs).toContainEqual(expect.objectContaining({ msg: 'queue consumer set-up failed; redoing it' }));
    } finally {
      await sut.close();
      await producer.close();
      await acl.stop();
    }
  });

  it('lets one busy repository use only its share while another repository runs', async () => {
    const log = join(dir, 'per-repo.log');
    appendFileSync(log, '');
    const sut = await startRecording(log, { concurrency: 3, perRepoConcurrency: 1 });
    try {
      const busy = [1, 2, 3, 4].map((pr) => reviewIn('api', pr));
      const other = reviewIn('docs', 1);
      for (const review of busy) await producer.enqueue(review);
      await producer.enqueue(other);
      for (const review of [...busy, other]) await producer.ended(review.reviewId);

      const all = spans(log);
      expect(peak(all, (s) => s.repo === 'api')).toBe(1);
      const docs = all.find((s) => s.repo === 'docs')!;
      // docs ran before the busy repository's backlog was through.
      expect(docs.start).toBeLessThan(Math.max(...all.filter((s) => s.repo === 'api').map((s) => s.start)));
    } finally {
      await sut.close();
    }
  });

  it('never runs more reviews at once than the global cap', async () => {
    const log = join(dir, 'global.log');
    appendFileSync(log, '');
    const sut = await startRecording(log, { concurrency: 2, perRepoConcurrency: 2 });
    try {
      const reviews = ['api', 'docs', 'infra', 'web'].flatMap((repo) => [reviewIn(repo, 1), reviewIn(repo, 2)]);
      for (const review of reviews) await producer.enqueue(review);
      for (const review of reviews) expect((await producer.ended(review.reviewId)).status).toBe('posted');

      expect(peak(spans(log))).toBe(2);
    } finally {
      await sut.close();
    }
  });

  it('takes no more than replicaConcurrency reviews in one replica and leaves the rest in the wait list', async () => {
    const log = join(dir, 'replica.log');
    appendFileSync(log, '');
    const keys = queueKeys(REVIEWS_QUEUE);
    const sut = await startRecording(log, { concurrency: 4, replicaConcurrency: 1, perRepoConcurrency: 4 });
    try {
      const reviews = ['api', 'docs', 'infra'].map((repo) => reviewIn(repo, 1));
      for (const review of reviews) await producer.enqueue(review);
      let [waiting, active] = [0, 0];
      const ended = Promise.all(reviews.map((r) => producer.ended(r.reviewId)));
      let done = false;
      void ended.finally(() => {
        done = true;
      });
      while (!done) {
        const [w, a] = await Promise.all([producer.redis.llen(keys.wait), producer.redis.llen(keys.active)]);
        [waiting, active] = [Math.max(waiting, w), Math.max(active, a)];
        await new Promise((r) => setTimeout(r, 50));
      }

      expect({ peak: peak(spans(log)), waiting: waiting >= 2, active }).toEqual({ peak: 1, waiting: true, active: 1 });
    } finally {
      await sut.close();
    }
  });
});
