// `@kritik full review` on GitLab, whose Note Hook carries no role: the worker application asks
// the GitLab fake for the commenter's access (members/all/:user_id) through its GitLab client,
// and either queues the review or answers the refusal in the merge request (docs/adr/0047).
// Real Redis and BullMQ; the command queued the way the backend queues it.
import { randomUUID } from 'node:crypto';
import { COMMANDS_QUEUE, type CommandJob, QUEUE_PREFIX, reviewIdFor } from '@kritik/core';
import { type FakeGitLab, type TestRedis, waitUntil } from '@kritik/testing';
import { Job, Queue } from 'bullmq';
import { Producer, startLocalWorker, type WorkerUnderTest } from './support/worker-app.js';
import { type Fakes, GITLAB_PROJECT, GITLAB_REPO, shaOf, startGitLabWorld } from './support/world.js';

jest.setTimeout(120_000);

const PROJECT = GITLAB_PROJECT;
const repo = GITLAB_REPO;
const MEMBERS_ROUTE = 'GET /api/v4/projects/{id}/members/all/{user_id}';

describe('a GitLab full review asks the commenter’s access first', () => {
  let redis: TestRedis;
  let fakes: Fakes;
  let gitlab: FakeGitLab;
  let producer: Producer;
  let commands: Queue<CommandJob>;
  let sut: WorkerUnderTest;
  let iid = 1;

  beforeAll(async () => {
    ({ redis, fakes, gitlab } = await startGitLabWorld());
    gitlab.addMember(PROJECT, 'rep-rae', 20).addMember(PROJECT, 'dev-dana', 30);
    producer = new Producer(redis.url);
    commands = new Queue<CommandJob>(COMMANDS_QUEUE, { connection: producer.redis, prefix: QUEUE_PREFIX });
    sut = await startLocalWorker(redis.url, fakes, undefined, {
      gitlab: { url: gitlab.url, token: gitlab.token },
      // The queued review stays waiting: these tests look at what was queued, not at the review.
      triggers: { botName: 'kritik', label: 'ai-review', debounceMs: 600_000 },
      commands: { attempts: 3, backoffMs: 50, maxBackoffMs: 200 },
    });
  });
  afterAll(async () => {
    await sut?.close();
    await commands?.close();
    await producer?.close();
    await Promise.all([redis?.stop(), fakes?.stop(), gitlab?.stop()]);
  });
  beforeEach(() => gitlab.resetTraffic());

  function mergeRequest(label: string): { pr: number; headSha: string } {
    const pr = iid++;
    const headSha = shaOf(`gitlab-cmd-${label}`);
    gitlab.addMergeRequest({ project: PROJECT, iid: pr, baseSha: shaOf(`gitlab-cmd-base-${label}`), headSha });
    return { pr, headSha };
  }

  async function fullReview(pr: number, username: string): Promise<{ job: Job<CommandJob>; deliveryId: string }> {
    const deliveryId = `gitlab-${randomUUID()}`;
    const job: CommandJob = {
      command: 'full-review',
      platform: 'gitlab',
      repo,
      pr,
      commentId: 1,
      sender: username,
      senderRoleUnknown: { userId: gitlab.userId(username) },
      deliveryId,
      enqueuedAt: new Date().toISOString(),
    };
    return { job: await commands.add('full-review', job, { jobId: `delivery-${deliveryId}` }), deliveryId };
  }

  async function ended(job: Job<CommandJob>) {
    await waitUntil(
      `command ${job.id} to end`,
      async () => (['completed', 'failed'].includes(await job.getState()) ? true : undefined),
      { timeoutMs: 20_000, intervalMs: 50 },
    );
    return (await Job.fromId<CommandJob>(commands, job.id!))!;
  }

  const refusals = (pr: number) => gitlab.notes(PROJECT, pr).filter((n) => n.body.includes('<!-- kritik:refused'));

  it('queues the full review of a Developer', async () => {
    const mr = mergeRequest('developer');
    const { job, deliveryId } = await fullReview(mr.pr, 'dev-dana');

    const done = await ended(job);

    const reviewId = reviewIdFor('gitlab', repo, mr.pr, mr.headSha, deliveryId);
    expect(done.returnvalue).toMatchObject({ outcome: 'queued', reviewId });
    expect(await producer.record(reviewId)).toMatchObject({ trigger: 'full_review', status: 'queued' });
    expect(refusals(mr.pr)).toEqual([]);
  });

  it('answers a Reporter’s and a stranger’s full review with a note saying why, and queues nothing', async () => {
    const mr = mergeRequest('reporter');
    for (const [username, role] of [
      ['rep-rae', 'Reporter'],
      ['stranger-sam', 'not a member'],
    ] as const) {
      const { job, deliveryId } = await fullReview(mr.pr, username);

      const done = await ended(job);

      expect(done.returnvalue).toMatchObject({ outcome: 'refused' });
      expect(refusals(mr.pr).at(-1)!.body).toContain(`${username} is ${role}`);
      expect(await producer.record(reviewIdFor('gitlab', repo, mr.pr, mr.headSha, deliveryId))).toBeUndefined();
    }
    expect(refusals(mr.pr)).toHaveLength(2);
  });

  it('refuses visibly when GitLab will not tell the access, and asks again for the next command', async () => {
    const mr = mergeRequest('unreadable');
    // A user not asked about before: the worker remembers an answer for a minute, not a failure.
    gitlab.addMember(PROJECT, 'dev-dee', 30);
    gitlab.failNext(1, { status: 503 }, MEMBERS_ROUTE);

    const { job } = await fullReview(mr.pr, 'dev-dee');
    const done = await ended(job);

    expect(done.returnvalue).toMatchObject({ outcome: 'refused' });
    expect(refusals(mr.pr)[0]!.body).toMatch(/could not be read from gitlab .*503.*ask again later/);
    const next = await ended((await fullReview(mr.pr, 'dev-dee')).job);
    expect(next.returnvalue).toMatchObject({ outcome: 'queued' });
  });
});
