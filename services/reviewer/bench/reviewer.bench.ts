// Reviewer figures on real release diffs, each beside a naive baseline measured in the same run:
//  1. tokens sent to the model versus tokens of the changed hunks, against sending the raw diff;
//  2. wall time of everything except the model for a 5,000-line diff, against a bare "raw diff
//     into one request" pipeline.
// Token counts use the reviewer's own estimator (3 characters per token) on both sides.
//   npm run bench:reviewer -w services/reviewer [-- --runs 30]
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compileIgnore, costOf, PRICES } from '@kritik/core';
import { packRequests } from '../src/budget/budget.js';
import { estimateTokens } from '../src/budget/tokens.js';
import { DEFAULT_IGNORE, defaultConfig } from '../src/config/config.js';
import { parseUnifiedDiff } from '../src/diff/diff.js';
import type { LlmPort, MessageRequest, ModelTurn } from '../src/llm/anthropic.js';
import { buildRequest, overheadTokens, REVIEW_TOOL, SYSTEM_PROMPT } from '../src/prompt/prompt.js';
import { runReview } from '../src/review/engine.js';
import { FIXTURES, loadFixture } from '../test/load-fixture.js';

const here = dirname(fileURLToPath(import.meta.url));
const fixtures = join(here, '../test/fixtures');
const runsArg = process.argv.indexOf('--runs');
const RUNS = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 20;
const price = PRICES['claude-sonnet-5-5']!;
const config = defaultConfig();

/** Text the model reads: system blocks, the tool definition and the user message (not JSON escaping). */
const requestTokens = (r: MessageRequest) => {
  const system = (r.system as { text: string }[]).map((b) => b.text).join('\n');
  const user = r.messages.map((m) => (typeof m.content === 'string' ? m.content : JSON.stringify(m.content))).join('');
  return estimateTokens(system + JSON.stringify(r.tools) + user);
};
const cachedPrefix = estimateTokens(SYSTEM_PROMPT + JSON.stringify(REVIEW_TOOL));
const usd = (n: number) => `$${n.toFixed(3)}`;
const pad = (s: string | number, n: number) => String(s).padStart(n);

/** The requests Kritik would send for a diff, with an unlimited budget. */
function kritikRequests(diff: string) {
  const files = parseUnifiedDiff(diff);
  const ignored = compileIgnore(DEFAULT_IGNORE);
  const reviewable = files.filter((f) => !f.binary && f.newPath !== null && f.hunks.length > 0 && !ignored(f.path));
  const pr = { title: 'Release update', body: '' };
  const overhead = overheadTokens(config, pr);
  const plan = packRequests({
    files: reviewable,
    overheadTokens: overhead.cached + overhead.other,
    maxInputTokens: config.max_input_tokens,
  });
  return plan.batches.map((units) => buildRequest({ model: config.model, maxTokens: 8192, config, pr, units }));
}

/** Baseline: the raw `git diff` text, cut into requests of the same size, same system prompt, no cache. */
function naiveRequests(diff: string): number[] {
  const room = (config.max_input_tokens - cachedPrefix) * 3;
  const out: number[] = [];
  for (let i = 0; i < diff.length; i += room) out.push(cachedPrefix + estimateTokens(diff.slice(i, i + room)));
  return out;
}

function hunkTokens(diff: string): number {
  const files = parseUnifiedDiff(diff);
  let chars = 0;
  for (const f of files) for (const h of f.hunks) for (const l of h.lines) chars += l.text.length + 2;
  return estimateTokens('x'.repeat(chars));
}

console.log(
  '1. Tokens per review (Claude Sonnet 5.5 list prices; cache: system prompt and tool written once, then read)',
);
console.log(
  `${'diff'.padEnd(10)} ${pad('lines', 7)} ${pad('files', 6)} ${pad('hunk tok', 9)} | ${pad('kritik tok', 10)} ${pad('req', 4)} ${pad('ratio', 6)} ${pad('cost', 7)} | ${pad('raw-diff tok', 12)} ${pad('req', 4)} ${pad('ratio', 6)} ${pad('cost', 7)}`,
);
for (const name of FIXTURES) {
  const diff = loadFixture(name, fixtures);
  const hunks = hunkTokens(diff);
  const requests = kritikRequests(diff);
  const sent = requests.reduce((n, r) => n + requestTokens(r), 0);
  const kritikCost = costOf(
    {
      input: sent - cachedPrefix * requests.length,
      cacheWrite: cachedPrefix,
      cacheRead: cachedPrefix * (requests.length - 1),
      output: 0,
    },
    price,
  );
  const naive = naiveRequests(diff);
  const naiveSent = naive.reduce((a, b) => a + b, 0);
  const naiveCost = costOf({ input: naiveSent, output: 0, cacheRead: 0, cacheWrite: 0 }, price);
  console.log(
    `${name.padEnd(10)} ${pad(diff.split('\n').length, 7)} ${pad(parseUnifiedDiff(diff).length, 6)} ${pad(hunks, 9)} | ${pad(sent, 10)} ${pad(requests.length, 4)} ${pad((sent / hunks).toFixed(2), 6)} ${pad(usd(kritikCost), 7)} | ${pad(naiveSent, 12)} ${pad(naive.length, 4)} ${pad((naiveSent / hunks).toFixed(2), 6)} ${pad(usd(naiveCost), 7)}`,
  );
}
console.log('ratio = tokens sent / tokens of the changed hunks; cost = input side only (output is the same for both).');

// ---- 2. Wall time except the model ----

/** A model that answers at once, so only Kritik's own work is timed. */
class InstantModel implements LlmPort {
  async send(request: MessageRequest): Promise<ModelTurn> {
    const text = JSON.stringify(request.messages);
    // One finding per 40 numbered added lines, as a busy model would report.
    const findings = [...text.matchAll(/### ([^ ]+) \(/g)].slice(0, 40).map((m, i) => ({
      path: m[1]!,
      line: 10 + i,
      severity: 'minor' as const,
      title: `Finding ${i}`,
      body: 'Consider handling this case.',
    }));
    return {
      content: [
        { type: 'tool_use', id: 'toolu_bench', name: 'submit_review', input: { summary: 'ok', findings } },
      ] as unknown as ModelTurn['content'],
      stopReason: 'tool_use',
      usage: { input: estimateTokens(text), output: 500, cacheRead: 0, cacheWrite: 0 },
    };
  }
}

/** Whole files of the kubectl and client-go release diffs, adding up to (just under) 5,000 lines. */
function fiveThousandLines(): string {
  const sections = ['kubectl', 'client-go'].flatMap((n) =>
    loadFixture(n as 'kubectl', fixtures).split(/^(?=diff --git )/m),
  );
  let out = '';
  let lines = 0;
  for (const s of sections) {
    const n = s.split('\n').length - 1;
    if (lines + n > 5_000) continue;
    out += s;
    lines += n;
  }
  return out;
}

async function naivePipeline(diff: string): Promise<number> {
  // Read the text, count it, and wrap it into one request body: the least any reviewer does.
  const body = JSON.stringify({
    model: config.model,
    max_tokens: 8192,
    system: SYSTEM_PROMPT,
    messages: [{ role: 'user', content: diff }],
  });
  return estimateTokens(body) + diff.split('\n').length;
}

async function time(fn: () => Promise<unknown>): Promise<number[]> {
  for (let i = 0; i < 3; i++) await fn();
  const samples: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t = process.hrtime.bigint();
    await fn();
    samples.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  return samples.sort((a, b) => a - b);
}

const q = (s: number[], p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))]!;
const diff = fiveThousandLines();
const model = new InstantModel();
const kritik = await time(() =>
  runReview({ source: { kind: 'diff', diff, configText: null }, llm: model, dryRun: true }),
);
const naive = await time(() => naivePipeline(diff));
const run = await runReview({ source: { kind: 'diff', diff, configText: null }, llm: model, dryRun: true });

console.log(
  `\n2. Wall time except the model, ${diff.split('\n').length}-line diff (${parseUnifiedDiff(diff).length} files), ${RUNS} runs after 3 warm-ups`,
);
console.log(
  `kritik (parse, config, ignore, checks, budget, prompts, ${run.report.findingList.length} findings placed, summary): p50 ${q(kritik, 0.5).toFixed(1)} ms, p95 ${q(kritik, 0.95).toFixed(1)} ms`,
);
console.log(
  `baseline (raw diff into one request body):                       p50 ${q(naive, 0.5).toFixed(1)} ms, p95 ${q(naive, 0.95).toFixed(1)} ms`,
);
