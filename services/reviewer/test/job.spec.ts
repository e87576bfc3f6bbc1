// Job mode as the worker runs it: a child process with the per-review environment, reporting
// through the termination message file and its last stdout line.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkRunText, createCheckRun, RESULT_MAX_BYTES, reviewResultSchema } from '@kritik/core';
import { FakeAnthropic } from '@kritik/testing';
import { createOctokit } from '../src/code-host/github.js';
import { API_KEY, Harness, HEAD_SHA, jobPayload, REPO, toolReply } from './harness.js';
import { runJob } from './run-job.js';

describe('kritik job', () => {
  let h: Harness;
  let dir: string;
  let terminationLog: string;

  beforeEach(async () => {
    h = await new Harness().start();
    dir = mkdtempSync(join(tmpdir(), 'kritik-job-'));
    terminationLog = join(dir, 'termination-log');
  });

  afterEach(async () => {
    await h.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const payload = () => jobPayload(h.github.url);

  /** The environment the worker gives a review Job, pointed at the fakes. */
  const jobEnv = () => ({
    KRITIK_REVIEW: JSON.stringify(payload()),
    GITHUB_TOKEN: h.token,
    ANTHROPIC_API_KEY: API_KEY,
    ANTHROPIC_BASE_URL: h.anthropic.url,
    KRITIK_TERMINATION_LOG: terminationLog,
  });

  it('reviews the pull request and writes the compact result to the termination message and stdout', async () => {
    await h.repo();
    h.pullRequest([{ filename: 'a.go', status: 'added', patch: '@@ -0,0 +1,2 @@\n+package a\n+func A() {}' }]);
    h.anthropic.script(toolReply('ok', [{ path: 'a.go', line: 2, severity: 'major', title: 'Empty', body: 'Why?' }]));

    const run = await runJob({
      ...jobEnv(),
    });

    const message = readFileSync(terminationLog, 'utf8');
    expect(run.code).toBe(0);
    expect(Buffer.byteLength(message)).toBeLessThanOrEqual(RESULT_MAX_BYTES);
    expect(reviewResultSchema.parse(JSON.parse(message))).toMatchObject({
      status: 'posted',
      commentsPosted: 1,
      checkConcluded: true,
      model: expect.any(String),
      findingList: [{ path: 'a.go', line: 2, severity: 'major', title: 'Empty', inline: true }],
    });
    expect(run.stdout.trimEnd().split('\n').at(-1)).toBe(message);
    expect(h.reviews()[0]!.body).toContain(`id=${payload().reviewId}`);
    expect(`${run.stdout}${run.stderr}`).not.toContain(h.token);
    expect(`${run.stdout}${run.stderr}`).not.toContain(API_KEY);
  });

  it('checks the head out into KRITIK_WORKSPACE within its limits, explores it and leaves the workspace empty', async () => {
    await h.repo(undefined, { 'a.go': 'package a\nfunc A() {}\n', 'b.go': 'package a\nfunc B() { A() }\n' });
    h.pullRequest([{ filename: 'a.go', status: 'added', patch: '@@ -0,0 +1,2 @@\n+package a\n+func A() {}' }]);
    h.anthropic.script({ toolUse: { name: 'search', input: { pattern: 'A\\(\\)' } } }, toolReply('ok', []));
    const workspace = join(dir, 'workspace');
    mkdirSync(workspace);

    const run = await runJob({
      ...jobEnv(),
      KRITIK_WORKSPACE: workspace,
      KRITIK_CHECKOUT_MAX_FILES: '1',
    });

    const results = FakeAnthropic.toolResults(h.anthropic.messageRequests()[1]!);
    expect(run.code).toBe(0);
    expect(results[0]!.content).toContain('a.go:2:func A() {}');
    expect(results[0]!.content).not.toContain('b.go');
    expect(h.reviews()[0]!.body).toContain('stopped at 1 files (more than 1 files)');
    expect(readdirSync(workspace)).toEqual([]);
  });

  it('completes the check run the worker queued, named by the payload, and creates none', async () => {
    await h.repo();
    h.pullRequest([{ filename: 'a.go', status: 'added', patch: '@@ -0,0 +1,2 @@\n+package a\n+func A() {}' }]);
    h.anthropic.script(toolReply('ok', []));
    const octokit = createOctokit({ token: h.token, baseUrl: h.github.url });
    const checkRunId = await createCheckRun(octokit, REPO, HEAD_SHA, 'queued', checkRunText.queued(HEAD_SHA));

    const run = await runJob({
      KRITIK_REVIEW: JSON.stringify({ ...payload(), checkRunId }),
      GITHUB_TOKEN: h.token,
      ANTHROPIC_API_KEY: API_KEY,
      ANTHROPIC_BASE_URL: h.anthropic.url,
      KRITIK_TERMINATION_LOG: terminationLog,
    });

    expect(run.code).toBe(0);
    expect(JSON.parse(readFileSync(terminationLog, 'utf8'))).toMatchObject({ checkRunId, checkConcluded: true });
    expect(h.checkRuns()).toEqual([
      expect.objectContaining({ id: checkRunId, status: 'completed', conclusion: 'success' }),
    ]);
  });

  it('exits 1 with the failure in the termination message when the model keeps failing', async () => {
    await h.repo();
    h.pullRequest([{ filename: 'a.go', status: 'added', patch: '@@ -0,0 +1 @@\n+package a' }]);
    h.anthropic.setDefaultReply({ error: { status: 401, message: 'invalid x-api-key' } });

    const run = await runJob({
      KRITIK_REVIEW: JSON.stringify(payload()),
      GITHUB_TOKEN: h.token,
      ANTHROPIC_API_KEY: 'sk-ant-wrong-key',
      ANTHROPIC_BASE_URL: h.anthropic.url,
      KRITIK_TERMINATION_LOG: terminationLog,
    });

    expect(run.code).toBe(1);
    expect(JSON.parse(readFileSync(terminationLog, 'utf8'))).toMatchObject({
      status: 'failed',
      reason: expect.stringContaining('401'),
    });
    expect(h.checkRuns()[0]).toMatchObject({ conclusion: 'failure' });
  });

  it('exits 2 and names every bad variable when the environment is invalid', async () => {
    const run = await runJob({ KRITIK_REVIEW: '{"pr":"x"}', KRITIK_TERMINATION_LOG: terminationLog });

    const result = reviewResultSchema.parse(JSON.parse(readFileSync(terminationLog, 'utf8')));
    expect(run.code).toBe(2);
    expect(result.status).toBe('failed');
    expect(result.reason).toMatch(
      /KRITIK_REVIEW is not a valid review payload .*GITHUB_TOKEN must be set.*ANTHROPIC_API_KEY must be set/,
    );
  });
});
