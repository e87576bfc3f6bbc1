// Repository-aware review figures, each beside its baseline measured in the same run:
//  1. tokens and cost per review on the fixture diffs, diff-only against repository-aware with a
//     scripted exploration replay (4 tool turns, then submit, then verification), through the
//     real SDK and the Anthropic fake's cache accounting (prefix match, 1,024-token minimum);
//     and the share of input tokens read from the cache in the turns after the first;
//  2. checkout of a 20 MB tarball and of a 5,000-file tree: seconds and bytes, against GNU tar;
//  3. the reviewer's peak RSS on the largest fixture, repository-aware against diff-only.
//   npx tsx bench/reviewer/explore.bench.ts
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import type { TokenUsage } from '@kritik/core';
import { buildTarball, FakeAnthropic, type MessageReply, type MessagesRequest } from '@kritik/testing';
import { parseUnifiedDiff } from '../src/diff/diff.js';
import {
  AnthropicLlm,
  createAnthropic,
  type LlmPort,
  type MessageRequest,
  type ModelTurn,
} from '../src/llm/anthropic.js';
import { extractTarball } from '../src/repo/checkout.js';
import { runReview } from '../src/review/engine.js';
import { FIXTURES, type FixtureName, loadFixture } from '../test/load-fixture.js';

const here = dirname(fileURLToPath(import.meta.url));
const fixtures = join(here, '../test/fixtures');
const KEY = 'sk-ant-bench';

/** The new side of each changed file (context and added lines), as a checkout would hold it. */
async function writeCheckout(diff: string, root: string): Promise<string[]> {
  const paths: string[] = [];
  for (const f of parseUnifiedDiff(diff)) {
    if (f.newPath === null || f.binary) continue;
    const lines = f.hunks.flatMap((h) => h.lines.filter((l) => l.kind !== 'del').map((l) => l.text));
    await mkdir(dirname(join(root, f.path)), { recursive: true });
    await writeFile(join(root, f.path), `${lines.join('\n')}\n`);
    paths.push(f.path);
  }
  return paths;
}

/** The replay: what a model exploring a change does, turn by turn, by the tools it was offered. */
function replay(paths: string[]) {
  return (request: MessagesRequest): MessageReply => {
    const tools = (request.tools ?? []).map((t) => t.name);
    const turn = request.messages.filter((m) => m.role === 'assistant').length;
    const forced = request.tool_choice?.type === 'tool';
    const use = (name: string, input: unknown): MessageReply => ({ toolUse: { name, input } });
    if (tools.includes('submit_verdicts')) {
      return turn === 0 && !forced
        ? use('read_file', { path: paths[0] })
        : use('submit_verdicts', { verdicts: [{ id: 0, verdict: 'keep', reason: 'confirmed' }] });
    }
    const text = JSON.stringify(request.messages[0]!.content);
    const file = /### (\S+) \(/.exec(text)?.[1] ?? paths[0]!;
    const submit = use('submit_review', {
      summary: 'Replayed review.',
      findings: [{ path: file, line: 1, severity: 'minor', title: 'Replayed finding', body: 'Scripted.' }],
    });
    if (!tools.includes('read_file') || forced) return submit;
    const steps = [
      use('list_files', { glob: `${dirname(file)}/**` }),
      use('read_file', { path: file }),
      use('search', { pattern: 'func |function |class ', path_glob: `${dirname(file)}/**` }),
      use('read_file', { path: paths[(paths.indexOf(file) + 1) % paths.length] }),
    ];
    return steps[turn] ?? submit;
  };
}

/** Records each turn's usage, in order, with whether it was the first of its conversation. */
class Recording implements LlmPort {
  readonly turns: { first: boolean; usage: TokenUsage }[] = [];
  constructor(private readonly inner: LlmPort) {}
  async send(request: MessageRequest): Promise<ModelTurn> {
    const turn = await this.inner.send(request);
    this.turns.push({ first: request.messages.length === 1, usage: turn.usage });
    return turn;
  }
}

const pad = (s: string | number, n: number) => String(s).padStart(n);
const inputSide = (u: TokenUsage) => u.input + u.cacheRead + u.cacheWrite;

async function tokensAndCost(): Promise<void> {
  console.log('1. Tokens and cost per review (Claude Sonnet 5.5 list prices; replay: 4 tool turns, submit, verify)');
  console.log(
    `${'diff'.padEnd(10)} | ${pad('diff-only tok', 13)} ${pad('cost', 8)} | ${pad('repo-aware tok', 14)} ${pad('cost', 8)} ${pad('turns', 6)} ${pad('x cost', 7)} | ${pad('cache-read share after turn 1', 30)}`,
  );
  for (const name of FIXTURES) {
    const diff = loadFixture(name as FixtureName, fixtures);
    const root = await mkdtemp(join(tmpdir(), 'kritik-bench-repo-'));
    const paths = await writeCheckout(diff, root);
    const fake = await new FakeAnthropic({ apiKey: KEY, minCacheTokens: 1024 }).start();
    fake.setDefaultReply(replay(paths));
    const llm = () => new Recording(new AnthropicLlm(createAnthropic({ apiKey: KEY, baseURL: fake.url })));
    const source = { kind: 'diff' as const, diff, configText: 'max_cost_usd: 20\nmax_input_tokens: 100000\n' };
    const plain = await runReview({ source, llm: llm() });
    fake.clearCache();
    const recorded = llm();
    const aware = await runReview({ source, llm: recorded, repoDir: root });
    const later = recorded.turns.filter((t) => !t.first);
    const read = later.reduce((n, t) => n + t.usage.cacheRead, 0);
    const all = later.reduce((n, t) => n + inputSide(t.usage), 0);
    const tok = (r: typeof plain) => inputSide(r.report.tokens) + r.report.tokens.output;
    console.log(
      `${name.padEnd(10)} | ${pad(tok(plain), 13)} ${pad(`$${plain.report.costUsd.toFixed(3)}`, 8)} | ${pad(tok(aware), 14)} ${pad(`$${aware.report.costUsd.toFixed(3)}`, 8)} ${pad(aware.report.turns ?? 0, 6)} ${pad((aware.report.costUsd / plain.report.costUsd).toFixed(2), 7)} | ${pad(`${((100 * read) / Math.max(1, all)).toFixed(1)}%`, 30)}`,
    );
    await fake.stop();
    await rm(root, { recursive: true, force: true });
  }
  console.log('x cost = repository-aware cost / diff-only cost; the share target is >= 70%.');
}

async function bytesUnder(dir: string): Promise<{ files: number; bytes: number }> {
  let files = 0;
  let bytes = 0;
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!e.isFile()) continue;
    files++;
    bytes += (await stat(join(e.parentPath, e.name))).size;
  }
  return { files, bytes };
}

async function checkouts(): Promise<void> {
  console.log('\n2. Checkout: seconds and bytes written, Kritik (stream, checks, limits) against GNU tar -xzf');
  const cases: [string, () => Promise<Buffer>][] = [
    [
      '20 MB tarball',
      () =>
        buildTarball(
          Array.from({ length: 52 }, (_, i) => ({
            name: `top/data/f${i}.txt`,
            content: randomBytes(384 * 1024).toString('base64'),
          })),
        ),
    ],
    [
      '5,000 files',
      () =>
        buildTarball(
          Array.from({ length: 5_000 }, (_, i) => ({
            name: `top/src/m${i % 50}/f${i}.ts`,
            content: `export const v${i} = ${i};\n`.repeat(20),
          })),
        ),
    ],
  ];
  console.log(
    `${'case'.padEnd(14)} ${pad('archive', 9)} | ${pad('kritik s', 9)} ${pad('files', 6)} ${pad('bytes', 10)} | ${pad('tar s', 7)} ${pad('files', 6)} ${pad('bytes', 10)}`,
  );
  for (const [label, make] of cases) {
    const archive = await make();
    const base = await mkdtemp(join(tmpdir(), 'kritik-bench-checkout-'));
    const ours = join(base, 'kritik');
    const theirs = join(base, 'tar');
    await mkdir(ours);
    await mkdir(theirs);
    const t0 = process.hrtime.bigint();
    const result = await extractTarball(Readable.from([archive]), ours, {
      limits: { maxBytes: 512 * 1024 * 1024, maxFiles: 20_000, maxFileBytes: 1024 * 1024 },
    });
    const kritikS = Number(process.hrtime.bigint() - t0) / 1e9;
    await writeFile(join(base, 'a.tgz'), archive);
    const t1 = process.hrtime.bigint();
    spawnSync('tar', ['-xzf', join(base, 'a.tgz'), '-C', theirs, '--strip-components=1']);
    const tarS = Number(process.hrtime.bigint() - t1) / 1e9;
    const tarOut = await bytesUnder(theirs);
    console.log(
      `${label.padEnd(14)} ${pad(`${(archive.length / 1e6).toFixed(1)} MB`, 9)} | ${pad(kritikS.toFixed(2), 9)} ${pad(result.files, 6)} ${pad(result.bytes, 10)} | ${pad(tarS.toFixed(2), 7)} ${pad(tarOut.files, 6)} ${pad(tarOut.bytes, 10)}`,
    );
    await rm(base, { recursive: true, force: true });
  }
}

/** Child mode: one review of the largest fixture, then its peak RSS on stdout. */
async function child(mode: 'aware' | 'plain'): Promise<void> {
  const diff = loadFixture('x-net', fixtures);
  const root = await mkdtemp(join(tmpdir(), 'kritik-bench-rss-'));
  const paths = await writeCheckout(diff, root);
  const fake = await new FakeAnthropic({ apiKey: KEY, minCacheTokens: 1024 }).start();
  fake.setDefaultReply(replay(paths));
  const llm = new AnthropicLlm(createAnthropic({ apiKey: KEY, baseURL: fake.url }));
  await runReview({
    source: { kind: 'diff', diff, configText: 'max_cost_usd: 20\n' },
    llm,
    ...(mode === 'aware' ? { repoDir: root } : {}),
  });
  await fake.stop();
  await rm(root, { recursive: true, force: true });
  process.stdout.write(String(process.resourceUsage().maxRSS * 1024));
}

function peakRss(mode: 'aware' | 'plain'): Promise<number> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), '--child', mode], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    proc.stdout.on('data', (c) => (out += c));
    proc.on('close', (code) => (code === 0 ? resolve(Number(out)) : reject(new Error(`child exited ${code}`))));
  });
}

async function rss(): Promise<void> {
  const mib = (b: number) => `${(b / 1024 / 1024).toFixed(0)} MiB`;
  const [aware, plain] = [await peakRss('aware'), await peakRss('plain')];
  console.log('\n3. Peak RSS of one review of the largest fixture (x-net), the fake model in the same process');
  console.log(`repository-aware: ${mib(aware)} | diff-only: ${mib(plain)} | target <= 256 MiB`);
}

const at = process.argv.indexOf('--child');
if (at > 0) await child(process.argv[at + 1] as 'aware' | 'plain');
else {
  await tokensAndCost();
  await checkouts();
  await rss();
}
