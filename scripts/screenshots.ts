// The screenshots of docs/what-developers-see.md, taken from the demo so they stay true: runs
// `npm run demo` (the real platform against the GitHub and Anthropic fakes), renders what it
// posted (CommonMark, laid out like a pull request page) and photographs it with headless Chromium.
//   tsx scripts/screenshots.ts [<out dir>]      (after `npm run build`; needs /usr/bin/chromium)
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { linesAbove } from '@kritik/standalone';
import { CHROMIUM, EMOJI_FONT } from '@kritik/testing';
import { HtmlRenderer, Parser } from 'commonmark';
import { chromium } from 'playwright-core';

const root = resolve(import.meta.dirname, '..');

interface Posted {
  title: string;
  url: string;
  review?: { body: string; user: { login: string }; state: string };
  comments: { path: string; line: number | null; body: string; diff_hunk: string }[];
  checkRuns: {
    name: string;
    status: string;
    conclusion: string | null;
    output: { title: string | null; summary: string | null };
  }[];
}

const escapeHtml = (text: string) =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
const markdown = (text: string) => new HtmlRenderer().render(new Parser().parse(text));

function diffRows(hunk: string, line: number | null): string {
  return linesAbove(hunk, line ?? 0, 4)
    .split('\n')
    .map((line) => {
      const kind = line.startsWith('+') ? 'add' : line.startsWith('-') ? 'del' : line.startsWith('@@') ? 'hunk' : '';
      return `<tr class="${kind}"><td>${escapeHtml(line)}</td></tr>`;
    })
    .join('');
}

export function pageOf(posted: Posted): string {
  const review = posted.review
    ? `<div class="card" id="review"><div class="head"><b>${escapeHtml(posted.review.user.login)}</b> reviewed</div>
       <div class="md">${markdown(posted.review.body)}</div>
       ${posted.comments
         .map(
           (c) => `<div class="thread"><div class="file">${escapeHtml(c.path)}</div>
             <table class="diff">${diffRows(c.diff_hunk, c.line)}</table>
             <div class="comment"><div class="head"><b>${escapeHtml(posted.review!.user.login)}</b> · line ${c.line}</div>
             <div class="md">${markdown(c.body)}</div></div></div>`,
         )
         .join('')}</div>`
    : '';
  const checks = posted.checkRuns
    .map(
      (
        run,
      ) => `<div class="card" id="check"><div class="head"><span class="dot ${escapeHtml(run.conclusion ?? run.status)}"></span>
        <b>${escapeHtml(run.name)}</b> — ${escapeHtml(run.conclusion ?? run.status)}: ${escapeHtml(run.output.title ?? '')}</div>
        <div class="md">${markdown(run.output.summary ?? '')}</div></div>`,
    )
    .join('');
  return `<!doctype html><html><head><meta charset="utf-8"><style>
    body { font: 14px/1.5 -apple-system, "Segoe UI", "Noto Sans", Helvetica, Arial, sans-serif; color: #1f2328; margin: 24px; width: 860px; }
    h1 { font-weight: 400; font-size: 26px; margin: 0 0 16px; } h1 span { color: #59636e; }
    .card { border: 1px solid #d1d9e0; border-radius: 6px; margin-bottom: 16px; }
    .head { background: #f6f8fa; border-bottom: 1px solid #d1d9e0; padding: 8px 16px; border-radius: 6px 6px 0 0; }
    .md { padding: 8px 16px; } .md h2 { font-size: 20px; border-bottom: 1px solid #d1d9e0; padding-bottom: 4px; }
    .md code { background: #eff1f3; border-radius: 4px; padding: 1px 4px; font-size: 85%; }
    .thread { margin: 8px 16px 16px; border: 1px solid #d1d9e0; border-radius: 6px; }
    .file { padding: 6px 12px; background: #f6f8fa; font-family: ui-monospace, monospace; font-size: 12px; }
    .diff { width: 100%; border-collapse: collapse; font-family: ui-monospace, monospace; font-size: 12px; white-space: pre; }
    .diff td { padding: 0 12px; } .add { background: #dafbe1; } .del { background: #ffebe9; } .hunk { background: #ddf4ff; color: #59636e; }
    .comment { border-top: 1px solid #d1d9e0; }
    .dot { display: inline-block; width: 10px; height: 10px; border-radius: 50%; background: #59636e; margin-right: 6px; }
    .dot.success { background: #1a7f37; } .dot.failure { background: #d1242f; }
  </style></head><body><h1>${escapeHtml(posted.title.replace(/ \(#\d+\)$/, ''))} <span>${escapeHtml(posted.title.match(/#\d+/)?.[0] ?? '')}</span></h1>
  ${review}${checks}</body></html>`;
}

export async function takeScreenshots(out: string): Promise<string[]> {
  const dir = mkdtempSync(join(tmpdir(), 'kritik-screenshots-'));
  try {
    const saved = join(dir, 'posted.json');
    execFileSync(process.execPath, [join(root, 'packages/standalone/dist/demo-main.js'), '--save', saved], {
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    const posted = JSON.parse(readFileSync(saved, 'utf8')) as Posted;
    // A screenshot with empty boxes for the severities would go into the docs unnoticed.
    if (!existsSync(EMOJI_FONT))
      throw new Error(`no colour emoji font at ${EMOJI_FONT}: run 'apt-get install -y fonts-noto-color-emoji'`);
    const browser = await chromium.launch({ ...CHROMIUM, args: [...CHROMIUM.args] });
    try {
      // The Markdown came from a model: the page runs no script and loads nothing from anywhere.
      const page = await browser.newPage({ javaScriptEnabled: false, viewport: { width: 908, height: 800 } });
      await page.route('**/*', (route) => route.abort());
      await page.setContent(pageOf(posted));
      const files = [join(out, 'demo-review.png'), join(out, 'demo-check-run.png')];
      await page.locator('#review').screenshot({ path: files[0] });
      await page.locator('#check').screenshot({ path: files[1] });
      return files;
    } finally {
      await browser.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(import.meta.filename)) {
  const files = await takeScreenshots(resolve(process.argv[2] ?? join(root, 'docs/images')));
  process.stderr.write(`screenshots: ${files.join(', ')}\n`);
}
