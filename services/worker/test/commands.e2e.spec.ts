// Comment commands end to end: the worker application consuming the `commands` queue on real
// Redis, answering on the GitHub fake through the real Octokit, queueing reviews on `reviews`.
import { randomUUID } from 'node:crypto';
import {
  COMMANDS_QUEUE,
  type CommandJob,
  helpReply,
  QUEUE_PREFIX,
  type ReviewRequest,
  reviewIdFor,
} from '@kritik/core';
import { startRedis, type TestRedis, waitUntil } from '@kritik/testing';
import { Job, Queue } from 'bullmq';
import pino from 'pino';
import { CommandService, helpMarker } from '../src/commands/command.service.js';
import { COMMENT_TOKEN_PERMISSIONS, PULL_READ_TOKEN_PERMISSIONS } from '../src/github/github-app.client.js';
import { Producer, startWorker, type WorkerUnderTest } from './support/worker-app.js';
import {
  type Fakes,
  INSTALLATION_ID,
  OWNER,
  openPullRequest,
  pushCommit,
  REPO,
  reviewJobSettings,
  shaOf,
  startFakes,
} from './support/world.js';

jest.setTimeout(60_000);

const BOT = 'kritik-test';
const LABEL = 'ai-review';
const ATTEMPTS = 3;
const COMMENTS_ROUTE = 'POST /repos/{owner}/{repo}/issues/{issue_number}/comments';
const PULL_ROUTE = 'GET /repos/{owner}/{repo}/pulls/{pull_number}';

describe('worker comment commands', () => {
  let redis: TestRedis;
  let fakes: Fakes;
  let sut: WorkerUnderTest;
  let producer: Producer;
  let commands: Queue<CommandJob>;

  beforeAll(async () => {
    [redis, fakes] = await Promise.all([startRedis(), startFakes()]);
    sut = await startWorker({
      redisUrl: redis.url,
      fakes,
      runner: 'local',
      reviewJob: reviewJobSettings(fakes.anthropic),
      settings: {
        // Queued reviews stay waiting: these tests look at what was queued, not at the review.
        triggers: { botName: BOT, label: LABEL, debounceMs: 600_000 },
        commands: { attempts: ATTEMPTS, backoffMs: 50, maxBackoffMs: 200 },
      },
    });
    producer = new Producer(redis.url);
    commands = new Queue<CommandJob>(COMMANDS_QUEUE, { connection: producer.redis, prefix: QUEUE_PREFIX });
  });
  afterAll(async () => {
    await sut?.close();
    await commands?.close();
    await producer?.close();
    await Promise.all([redis?.stop(), fakes?.stop()]);
  });
  beforeEach(() => fakes.github.resetTraffic());

  /** Queues a command the way the backend does: the delivery id names the queue entry. */
  async function queueCommand(command: CommandJob['command'], pr: number, commentId = 1): Promise<Job<CommandJob>> {
    const deliveryId = randomUUID();
    const job: CommandJob = {
      command,
      platform: 'github',
      repo: { owner: OWNER, name: REPO },
      pr,
      installationId: INSTALLATION_ID,
      commentId,
      sender: 'contributor',
      deliveryId,
      enqueuedAt: new Date().toISOString(),
    };
    return commands.add(command, job, { jobId: `delivery-${deliveryId}` });
  }

  async function settled(job: Job<CommandJob>): Promise<Job<CommandJob>> {
    await waitUntil(
      `command ${job.id} to end`,
      async () => (['completed', 'failed'].includes(await job.getState()) ? true : undefined),
      { timeoutMs: 20_000, intervalMs: 50 },
    );
    return (await Job.fromId<CommandJob>(commands, job.id!))!;
  }

  const metrics = async () => (await fetch(`${sut.url}/metrics`)).text();
  const mintedFor = (permissions: object) =>
    fakes.github.installationTokens.filter((t) => JSON.stringify(t.permissions) === JSON.stringify(permissions));

  it('answers a help command with one comment carrying the help text', async () => {
    const { pr } = openPullRequest(fakes.github, 'help');

    const job = await settled(await queueCommand('help', pr));

    expect(await job.getState()).toBe('completed');
    const comments = fakes.github.issueComments(OWNER, REPO, pr);
    expect(comments).toHaveLength(1);
    expect(comments[0]!.body).toContain(helpReply(BOT, LABEL));
  });

  it('acknowledges a command at once with a reaction on the comment that gave it', async () => {
    const { pr } = openPullRequest(fakes.github, 'ack');
    const asked = fakes.github.addIssueComment(OWNER, REPO, pr, `@${BOT} help`);
    const paused = fakes.github.addIssueComment(OWNER, REPO, pr, `@${BOT} pause`);

    await settled(await queueCommand('help', pr, asked.id));
    const pause = await settled(await queueCommand('pause', pr, paused.id));

    expect(fakes.github.reactions(asked.id)).toEqual([{ content: 'eyes', user: expect.stringMatching(/\[bot\]$/) }]);
    expect(fakes.github.reactions(paused.id)).toEqual([{ content: '+1', user: expect.stringMatching(/\[bot\]$/) }]);
    expect(pause.returnvalue).toEqual({ outcome: 'acknowledged' });
    // The pause is answered by its reaction alone; help by its reply.
    expect(fakes.github.issueComments(OWNER, REPO, pr).filter((c) => c.user.type === 'Bot')).toHaveLength(1);
  });

  it('posts the help reply with a token limited to issues: write on that repository', async () => {
    const { pr } = openPullRequest(fakes.github, 'help-token');

    await settled(await queueCommand('help', pr));

    const tokens = mintedFor(COMMENT_TOKEN_PERMISSIONS);
    expect(tokens.length).toBeGreaterThan(0);
    expect(tokens.every((t) => t.repositories?.join() === `${OWNER}/${REPO}`)).toBe(true);
  });

  it('does not answer again on a retry whose earlier try already posted', async () => {
    const { pr } = openPullRequest(fakes.github, 'help-retry');
    const nonce = randomUUID();
    const service = sut.app.get(CommandService);
    const command: CommandJob = {
      command: 'help',
      platform: 'github',
      repo: { owner: OWNER, name: REPO },
      pr,
      installationId: INSTALLATION_ID,
      deliveryId: nonce,
      enqueuedAt: new Date().toISOString(),
    };
    const log = pino({ level: 'silent' });
    await service.help(command, { nonce, retried: false, log });

    expect(await service.help(command, { nonce, retried: true, log })).toMatchObject({ outcome: 'duplicate' });
    expect(fakes.github.issueComments(OWNER, REPO, pr).filter((c) => c.body.includes(helpMarker(nonce)))).toHaveLength(
      1,
    );
  });

  it('tries a help command again after GitHub answers 502 and answers it once', async () => {
    const { pr } = openPullRequest(fakes.github, 'help-502');
    fakes.github.failNext(2, { status: 502 }, COMMENTS_ROUTE);

    const job = await settled(await queueCommand('help', pr));

    expect(await job.getState()).toBe('completed');
    expect(job.attemptsStarted).toBe(3);
    expect(fakes.github.issueComments(OWNER, REPO, pr)).toHaveLength(1);
    expect(await metrics()).toMatch(/kritik_worker_command_retries_total\{command="help"[^}]*\} [2-9]/);
  });

  it('queues a review of the pull request’s current head for a review command', async () => {
    const opened = openPullRequest(fakes.github, 'review-cmd');
    const pushed = pushCommit(fakes.github, opened, 'review-cmd-2');

    const job = await settled(await queueCommand('review', opened.pr));

    expect(await job.getState()).toBe('completed');
    const reviewId = reviewIdFor('github', pushed.repo, pushed.pr, pushed.headSha, job.data.deliveryId);
    const queued = await producer.queue.getJob(reviewId);
    expect(queued?.data).toMatchObject<Partial<ReviewRequest>>({
      reviewId,
      headSha: pushed.headSha,
      baseSha: opened.baseSha!,
      trigger: 'comment',
      installationId: INSTALLATION_ID,
    });
    expect(await queued!.getState()).toBe('delayed');
    expect(await producer.record(reviewId)).toMatchObject({ status: 'queued' });
    expect(mintedFor(PULL_READ_TOKEN_PERMISSIONS).length).toBeGreaterThan(0);
  });

  it('ends a review command on a closed pull request as one logged, counted failure without retrying', async () => {
    const pr = 900;
    fakes.github.addPullRequest({
      owner: OWNER,
      repo: REPO,
      number: pr,
      state: 'closed',
      base: { ref: 'main', sha: shaOf('closed-base') },
      head: { ref: 'closed', sha: shaOf('closed-head') },
    });

    const job = await settled(await queueCommand('review', pr));

    expect(await job.getState()).toBe('failed');
    expect(job.attemptsStarted).toBe(1);
    expect(job.failedReason).toContain('closed');
    expect(fakes.github.requestsTo(PULL_ROUTE)).toHaveLength(1);
    expect(await producer.queue.getJobs(['delayed', 'waiting'])).not.toContainEqual(
      expect.objectContaining({ data: expect.objectContaining({ pr }) }),
    );
    expect(await metrics()).toMatch(
      /kritik_worker_commands_total\{command="review",outcome="failed",cause="closed"[^}]*\} 1/,
    );
    expect(sut.logs).toContainEqual(expect.objectContaining({ level: 'error', pr, cause: 'closed' }));
  });

  it('gives up on a command after the configured tries when GitHub keeps failing', async () => {
    const { pr } = openPullRequest(fakes.github, 'review-503');
    fakes.github.failNext(ATTEMPTS + 5, { status: 503 }, PULL_ROUTE);

    const job = await settled(await queueCommand('review', pr));

    expect(await job.getState()).toBe('failed');
    expect(job.attemptsStarted).toBe(ATTEMPTS);
    expect(fakes.github.requestsTo(PULL_ROUTE)).toHaveLength(ATTEMPTS);
    expect(await metrics()).toMatch(
      /kritik_worker_commands_total\{command="review",outcome="failed",cause="github_error"[^}]*\} 1/,
    );
  });
});
