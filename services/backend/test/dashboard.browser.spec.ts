// The dashboard in a real browser: Debian's chromium, headless, driven by playwright-core, against
// the backend on a real Redis with the GitHub fake's OAuth. Signs in, sees only the allowed
// repository, watches a review go from queued to posted live, opens it, reviews it again, visits
// every page (screenshots as test artifacts, an axe-core pass on each), reads a repository's budget
// bars and signs out; reads and removes a learned rule whose hostile reason shows as text; then signs in with GitLab (the GitLab fake's OAuth) and sees only the GitLab
// project's review.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { budgetSnapshot, budgetsCovering, reviewIdFor, reviewPolicySpecSchema } from '@kritik/core';
import {
  BudgetSnapshotStore,
  LearnedRulesStore,
  PrHeadStore,
  ReviewLifecycle,
  ReviewStore,
  WorkerStatusStore,
} from '@kritik/server';
import { CHROMIUM, POSTED_FINDING, postedDetail, postedResult, workerStatus } from '@kritik/testing';
import { BudgetLedger } from '@kritik/worker';
import type { AxeResults } from 'axe-core';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { reviewRequest as request } from './backend.harness.js';
import { type DashboardHarness, startDashboard } from './dashboard.harness.js';

const ROOT = join(__dirname, '..', '..', '..');
const DIST = join(ROOT, 'packages', 'dashboard', 'dist');
// Test artifacts by default, so a test run never edits the docs; the docs' copies are refreshed with
// KRITIK_SCREENSHOTS_DIR=docs/images (see docs/operations.md).
const SHOTS = process.env.KRITIK_SCREENSHOTS_DIR
  ? join(ROOT, process.env.KRITIK_SCREENSHOTS_DIR)
  : join(ROOT, '.artifacts', 'screenshots');
/** axe-core runs in the page; it cannot even be loaded in Node. */
const AXE_SOURCE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
/** Markup that must show as text, never run or render. */
const HOSTILE = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>';
const sha = (n: number) => n.toString(16).padStart(40, '0');

/** Axe violations a user would hit hard. */
async function seriousViolations(page: Page): Promise<string[]> {
  // evaluate() is not bound by the page's CSP, which rightly refuses inline scripts.
  await page.evaluate(AXE_SOURCE);
  const result = (await page.evaluate("axe.run(document, { resultTypes: ['violations'] })")) as AxeResults;
  return result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`);
}

describe('dashboard in chromium', () => {
  let sut: DashboardHarness;
  let browser: BrowserContext;
  let profile: string;
  let page: Page;
  let store: ReviewStore;
  let lifecycle: ReviewLifecycle;

  beforeAll(async () => {
    if (!existsSync(CHROMIUM.executablePath))
      throw new Error(`${CHROMIUM.executablePath} is missing: run npm run tools (it installs Debian's chromium)`);
    // The real build, as the image ships it.
    execFileSync('npx', ['vite', 'build', '--logLevel', 'error'], { cwd: join(ROOT, 'packages', 'dashboard') });
    sut = await startDashboard({ KRITIK_DASHBOARD_DIR: DIST, KRITIK_DASHBOARD_ADMINS: 'alice' }, { gitlab: true });
    store = new ReviewStore(sut.backend.client);
    lifecycle = new ReviewLifecycle(store, new PrHeadStore(sut.backend.client));
    profile = mkdtempSync(join(tmpdir(), 'kritik-chromium-'));
    browser = await chromium.launchPersistentContext(profile, {
      ...CHROMIUM,
      args: [...CHROMIUM.args],
      viewport: { width: 1280, height: 800 },
    });
    page = browser.pages()[0] ?? (await browser.newPage());
    mkdirSync(SHOTS, { recursive: true });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
    await sut?.stop();
  });

  it('signs in, follows a review live, reviews it again and signs out', async () => {
    const old = (await store.create(request('acme/api', 1, sha(1), 'alice'))).record;
    await store.transition(old.id, 'running', { from: ['queued'] });
    // Reasons and results pass through review Jobs, which hold untrusted code: hostile on purpose.
    await store.transition(old.id, 'failed', {
      from: ['running'],
      reason: `the review Job exceeded its deadline ${HOSTILE}`,
      result: { ...postedResult(), status: 'failed', reviewUrl: 'javascript:alert(document.cookie)' },
    });
    await store.create(request('acme/web', 2, sha(2), 'mallory'));
    // Two weeks of history, so the charts have days to show.
    for (let day = 14; day >= 1; day--) {
      for (let n = 0; n < (day % 4) + 1; n++) {
        const at = new Date(Date.now() - day * 86_400_000 + n * 60_000);
        const past = (await store.create(request('acme/api', 100 + day * 10 + n, sha(100 + day * 10 + n)), at)).record;
        await store.transition(past.id, 'posted', {
          from: ['queued'],
          at,
          result: postedResult({ costUsd: 0.02 + ((day * 7 + n * 3) % 10) / 100 }),
        });
      }
    }
    // A policy's budgets as the worker publishes them, and spending as its ledger records it.
    const snapshot = budgetSnapshot(
      [
        {
          name: 'spend',
          spec: reviewPolicySpecSchema.parse({
            selector: { orgs: ['acme'] },
            budgets: { repositoryPerDayUsd: 5, orgPerMonthUsd: 100 },
          }),
        },
      ],
      new Date(),
    );
    await new BudgetSnapshotStore(sut.backend.client).publish(snapshot);
    const subject = { platform: 'github' as const, repo: { owner: 'acme', name: 'api' } };
    const budgets = budgetsCovering(snapshot, { platform: 'github', ...subject.repo });
    const ledger = new BudgetLedger(sut.backend.client, { reservationTtlMs: 600_000 });
    await ledger.reserve('spent-today', budgets, subject, 4.2);
    await ledger.settle('spent-today', budgets, subject, 4.2);
    sut.github.signInAs('alice', ['acme/api']);

    await page.goto(sut.backend.url);
    await page.getByRole('link', { name: 'Sign in with GitHub' }).waitFor();
    expect(await seriousViolations(page)).toEqual([]);
    await page.getByRole('link', { name: 'Sign in with GitHub' }).click();

    await page.getByText('Signed in as').waitFor();
    await page.locator(`[data-review="${old.id}"]`).waitFor();
    expect(await page.getByText('acme/web').count()).toBe(0);

    // A new review arrives and finishes while the list is open.
    const live = request('acme/api', 3, sha(3), 'alice');
    await lifecycle.record(live);
    const row = page.locator(`[data-review="${live.reviewId}"]`);
    await row.getByText('queued').waitFor({ timeout: 10_000 });
    await lifecycle.start(live);
    await row.getByText('running').waitFor({ timeout: 10_000 });
    // Its detail as the reviewer reports it: a pull request names the paths and a model writes the titles.
    await lifecycle.end(live, {
      status: 'posted',
      result: postedResult({
        costUsd: 0.0412,
        tokens: { input: 18_200, output: 950, cacheRead: 0, cacheWrite: 0 },
        ...postedDetail(),
        findings: { critical: 1, major: 1, minor: 2, nit: 1 },
        findingList: [
          POSTED_FINDING,
          { path: `src/${HOSTILE}.ts`, line: 7, severity: 'critical', title: HOSTILE, inline: false },
        ],
        findingsOmitted: 3,
        skippedFiles: [
          { path: 'assets/logo.png', reason: 'binary file' },
          { path: 'javascript:alert(1)', reason: `ignored by .kritik.yaml ${HOSTILE}` },
        ],
        filesSkipped: 2,
      }),
    });
    await row.getByText('posted').waitFor({ timeout: 10_000 });
    expect(await seriousViolations(page)).toEqual([]);
    await page.screenshot({ path: join(SHOTS, 'dashboard-reviews.png') });

    await row.getByRole('link').click();
    await page.getByRole('heading', { name: 'Timeline' }).waitFor();
    expect(await page.getByText('$0.0412').count()).toBe(1);
    // The detail: findings as posted, files skipped and why, the model and the loop's figures.
    const findings = page.getByRole('table').filter({ has: page.getByRole('columnheader', { name: 'Severity' }) });
    await findings.waitFor();
    expect(await findings.getByRole('row').allInnerTexts()).toEqual([
      expect.stringMatching(/Severity\s+File:line\s+Title\s+Posted/),
      expect.stringMatching(/major\s+src\/app\.ts:2\s+Unchecked input\s+inline/),
      expect.stringMatching(/critical\s+src\/.*\.ts:7\s+.*\s+in the summary/),
    ]);
    expect(await findings.getByText(HOSTILE, { exact: true }).count()).toBe(1);
    expect(await page.getByText('…and 3 more findings', { exact: false }).count()).toBe(1);
    expect(await findings.getByRole('link', { name: 'src/app.ts:2' }).getAttribute('href')).toBe(
      `${sut.github.url}/acme/api/blob/${sha(3)}/src/app.ts#L2`,
    );
    expect(await findings.getByRole('link', { name: `src/${HOSTILE}.ts:7` }).getAttribute('href')).toBe(
      // Each segment percent-encoded: the `/` of `</script>` stays a separator, nothing else survives.
      `${sut.github.url}/acme/api/blob/${sha(3)}/src/%3Cimg%20src%3Dx%20onerror%3D%22window.__pwned%3D1%22%3E%3Cscript%3Ewindow.__pwned%3D2%3C/script%3E.ts#L7`,
    );
    const skipped = page.getByRole('table').filter({ has: page.getByRole('columnheader', { name: 'Why' }) });
    expect(await skipped.getByRole('row').allInnerTexts()).toEqual([
      expect.stringMatching(/File\s+Why/),
      expect.stringMatching(/assets\/logo\.png\s+binary file/),
      `javascript:alert(1)\tignored by .kritik.yaml ${HOSTILE}`,
    ]);
    expect(await skipped.getByRole('link').count()).toBe(0);
    expect(await page.getByText('claude-sonnet-4-5').count()).toBe(1);
    expect(await page.getByRole('heading', { name: 'Files read beyond the diff: 1' }).count()).toBe(1);
    expect(await page.locator('img').count()).toBe(0);
    expect(await page.evaluate('window.__pwned')).toBeUndefined();
    expect(await seriousViolations(page)).toEqual([]);
    await page.screenshot({ path: join(SHOTS, 'dashboard-review.png'), fullPage: true });
    await page.getByRole('button', { name: 'Review again' }).click();
    await page.getByRole('status').getByText('Queued as').waitFor();
    const again = await sut.backend.reviews.getJobs(['delayed', 'waiting']);
    expect(again.map((j) => j.data.pr)).toEqual([3]);

    await page.getByRole('link', { name: 'Repositories' }).click();
    await page.getByRole('heading', { name: 'acme/api' }).waitFor();
    expect(await page.getByText(`the review Job exceeded its deadline ${HOSTILE}`, { exact: false }).count()).toBe(1);
    expect(await page.locator('img').count()).toBe(0);
    await page.locator('a', { hasText: '#1' }).click();
    await page.getByRole('heading', { name: 'Timeline' }).waitFor();
    expect(await page.getByRole('link', { name: 'Open the pull request' }).getAttribute('href')).toBe(
      // The GitHub the App signs in with (GitHub Enterprise Server: its own host), here the fake.
      `${sut.github.url}/acme/api/pull/1`,
    );
    expect(await page.evaluate('window.__pwned')).toBeUndefined();
    await page.goBack();
    const daily = page.getByRole('meter', { name: 'Budget spend/repository-per-day' });
    await daily.waitFor();
    expect(await daily.getAttribute('aria-valuetext')).toBe('$4.20 of $5.00 used (84%), nearly spent');
    expect(
      await page
        .getByText(/\$4\.20 of \$100\.00 used \(4%\), within budget · resets \d{4}-\d\d-01 00:00:00 UTC/)
        .count(),
    ).toBe(1);
    expect(await seriousViolations(page)).toEqual([]);
    await page.screenshot({ path: join(SHOTS, 'dashboard-repositories.png'), fullPage: true });

    const workers = new WorkerStatusStore(sut.backend.client);
    await workers.publish(workerStatus({ replica: 'kritik-worker-6f7c9-2xkqp' }));
    await workers.publish(
      workerStatus({ replica: 'kritik-worker-6f7c9-h8wzt', missing: ['delete jobs.batch'], reasonTail: ` ${HOSTILE}` }),
    );
    await page.getByRole('link', { name: 'Platform' }).click();
    await page.getByRole('heading', { name: 'Queue' }).waitFor();
    const replicas = page.getByRole('table').first();
    await replicas.getByRole('columnheader', { name: 'Readiness' }).waitFor();
    expect(
      await replicas
        .getByRole('row', { name: /kritik-worker-6f7c9-2xkqp/ })
        .getByText('ready')
        .count(),
    ).toBe(1);
    expect(
      await replicas
        .getByRole('row', { name: /kritik-worker-6f7c9-h8wzt/ })
        .getByText('not ready')
        .count(),
    ).toBe(1);
    const selfCheck = page.getByRole('region', { name: 'Permission self-check: kritik-worker-6f7c9-h8wzt' });
    expect(
      await selfCheck
        .getByRole('row', { name: /delete jobs\.batch/ })
        .getByText('missing')
        .count(),
    ).toBe(1);
    expect(await selfCheck.locator('tr.missing').count()).toBe(1);
    expect(await page.getByRole('alert').getByText('Grant delete jobs.batch', { exact: false }).count()).toBe(1);
    expect(await page.locator('img').count()).toBe(0);
    expect(await page.evaluate('window.__pwned')).toBeUndefined();
    expect(await seriousViolations(page)).toEqual([]);
    await page.screenshot({ path: join(SHOTS, 'dashboard-platform.png'), fullPage: true });

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('link', { name: 'Sign in with GitHub' }).waitFor();
    await page.reload();
    await page.getByRole('link', { name: 'Sign in with GitHub' }).waitFor();
  }, 90_000);

  it('shows a repository’s learned rules as text with its acceptance, and removes one', async () => {
    const rules = new LearnedRulesStore(sut.backend.client);
    const repo = { owner: 'acme', name: 'api' };
    // A rule carries a person's reason from an `ignore` comment: hostile on purpose.
    const reason = `Unchecked input (in src/app.ts) — ${HOSTILE}`;
    await rules.record(
      'github',
      repo,
      [{ fingerprint: 'fedcba9876543210', rule: 'Shadowed x (in src/b.ts)', via: 'reaction' }],
      new Date(Date.now() - 3 * 86_400_000),
    );
    await rules.record('github', repo, [{ fingerprint: '0123456789abcdef', rule: reason, via: 'ignore' }]);
    await rules.addResolved('github', repo, 6);
    sut.github.signInAs('bob', ['acme/api']);

    await page.goto(sut.backend.url);
    await page.getByRole('link', { name: 'Sign in with GitHub' }).click();
    await page.getByText('Signed in as').waitFor();
    await page.getByRole('link', { name: 'Repositories' }).click();
    await page.getByRole('button', { name: 'Learned rules and acceptance' }).click();
    const table = page.getByRole('table', { name: 'Learned rules of acme/api, newest first' });
    await table.waitFor();

    expect(await table.locator('.rule-text').allTextContents()).toEqual([reason, 'Shadowed x (in src/b.ts)']);
    expect(await table.locator('img, script').count()).toBe(0);
    expect(await page.evaluate('window.__pwned')).toBeUndefined();
    expect(await page.getByText('6 finding(s) resolved by a later push, 2 dismissed (75% resolved)').count()).toBe(1);
    expect(await table.getByText('`ignore` in its thread').count()).toBe(1);
    expect(await seriousViolations(page)).toEqual([]);
    await page.screenshot({ path: join(SHOTS, 'dashboard-rules.png'), fullPage: true });

    await page.getByRole('button', { name: 'Remove rule 0123456789abcdef' }).click();
    await page.getByRole('status').getByText('Rule 0123456789abcdef removed').waitFor();
    expect(await table.locator('.rule-text').allTextContents()).toEqual(['Shadowed x (in src/b.ts)']);
    expect((await rules.list('github', repo)).map((r) => r.fingerprint)).toEqual(['fedcba9876543210']);

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('link', { name: 'Sign in with GitHub' }).waitFor();
  }, 60_000);

  it('signs in with GitLab and sees only the GitLab project it is a member of', async () => {
    const gitlab = (path: string, pr: number) => {
      const [owner, name] = path.split('/') as [string, string];
      return {
        ...request(path, pr, sha(pr), 'gina'),
        platform: 'gitlab' as const,
        reviewId: reviewIdFor('gitlab', { owner, name }, pr, sha(pr)),
      };
    };
    const mine = (await store.create(gitlab('acme/api', 7))).record;
    const elsewhere = (await store.create(gitlab('other/lib', 8))).record;
    // GitHub's acme/api is another repository, though its path is the same.
    const github = (await store.create(request('acme/api', 9, sha(9), 'gina'))).record;
    sut.gitlab!.addMember('acme/api', 'gina', 20).signInAs('gina');

    await page.goto(sut.backend.url);
    await page.getByRole('link', { name: 'Sign in with GitLab' }).waitFor();
    expect(await page.getByRole('link', { name: 'Sign in with GitHub' }).count()).toBe(1);
    expect(await seriousViolations(page)).toEqual([]);
    await page.screenshot({ path: join(SHOTS, 'dashboard-sign-in.png') });
    await page.getByRole('link', { name: 'Sign in with GitLab' }).click();

    await page.getByText('Signed in as').waitFor();
    expect(await page.locator('.who').textContent()).toBe('Signed in as gina (GitLab)');
    await page.locator(`[data-review="${mine.id}"]`).waitFor();
    expect(await page.locator(`[data-review="${github.id}"]`).count()).toBe(0);
    expect(await page.locator(`[data-review="${elsewhere.id}"]`).count()).toBe(0);
    expect(await page.getByRole('link', { name: 'Platform' }).count()).toBe(0);
    expect(await seriousViolations(page)).toEqual([]);
    await page.screenshot({ path: join(SHOTS, 'dashboard-gitlab-reviews.png') });

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('link', { name: 'Sign in with GitLab' }).waitFor();
  }, 60_000);
});
