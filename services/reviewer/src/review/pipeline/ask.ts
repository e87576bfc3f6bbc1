// Stage 4, explore and ask: one conversation per packed request. With a checkout the model
// explores it before it submits; what earlier parts of a large pull request found is handed to the
// later ones (and tool results are cached across them) instead of being explored again.
import { priceOf } from '@kritik/core';
import { CostGate, type ReviewUnit } from '../../budget/budget.js';
import { type LlmPort, parseReviewInput } from '../../llm/anthropic.js';
import { buildPrompt, REVIEW_TOOL } from '../../prompt/prompt.js';
import type { RepoTools } from '../../repo/tools.js';
import type { RawFinding } from '../findings.js';
import { converse, turnLine } from '../loop.js';
import type { SkippedFile } from '../summary.js';
import type { Gathered } from './gather.js';
import type { Ledger } from './ledger.js';
import type { Plan } from './plan.js';

export interface AskInput {
  llm: LlmPort;
  plan: Plan;
  gathered: Gathered;
  tools: RepoTools | null;
  maxTurns: number;
  ledger: Ledger;
  /** True once the review's time is up: no further request is started. */
  timeUp: () => boolean;
  deadlineAt?: number;
  progress: (m: string) => void;
}

export interface Asked {
  findings: RawFinding[];
  summaries: string[];
  /** Paths of the diff the model reviewed. */
  reviewed: Set<string>;
  skipped: SkippedFile[];
  notes: string[];
  /** Set when no request succeeded. */
  failure?: string;
}

const MAX_SHARED_NOTES_CHARS = 6_000;

export async function ask(input: AskInput): Promise<Asked> {
  const { plan, ledger, progress } = input;
  const config = plan.config;
  const requests = plan.requests!;
  const { price } = priceOf(config.model, input.llm.catalogue);
  const gate = new CostGate(config.max_cost_usd, price);
  const out: Asked = { findings: [], summaries: [], reviewed: new Set(), skipped: [], notes: [] };
  ledger.model = config.model;
  // The first failed request ends the loop: the files of the rest are listed as not reviewed.
  let failed: string | undefined;
  let succeeded = 0;
  const shared: string[] = [];
  const skipRest = (batches: ReviewUnit[][], reason: string) => {
    for (const unit of batches.flat()) {
      const part = unit.part ? ` (part ${unit.part.index} of ${unit.part.of})` : '';
      out.skipped.push({ path: unit.file.path, reason: `${reason}${part}` });
    }
  };
  const batches = requests.batches;
  for (let i = 0; i < batches.length; i++) {
    const batch = batches[i]!;
    if (input.timeUp()) {
      skipRest(batches.slice(i), 'review time limit reached');
      break;
    }
    const diffTokens = batch.reduce((n, u) => n + u.tokens, 0);
    if (gate.outputAllowance(requests.overhead.cached, requests.overhead.other + diffTokens) === 0) {
      skipRest(batches.slice(i), `over budget (max_cost_usd $${config.max_cost_usd})`);
      progress(
        `budget: $${gate.spent.toFixed(4)} of $${config.max_cost_usd} spent; ${batches.length - i} request(s) not sent`,
      );
      break;
    }
    const prompt = buildPrompt({
      config,
      pr: plan.pr,
      units: batch,
      otherFiles: batches.length > 1 ? plan.reviewable.length - new Set(batch.map((u) => u.file.path)).size : 0,
      explore: input.tools !== null,
      instructionFiles: input.gathered.instructionFiles,
      learnedRules: input.gathered.learnedRules,
      ...(shared.length > 0 ? { notes: shared.join('\n\n').slice(-MAX_SHARED_NOTES_CHARS) } : {}),
    });
    const label = batches.length > 1 ? `request ${i + 1}/${batches.length}` : 'review';
    progress(
      `model ${label}: ${batch.length} file part(s), ~${diffTokens + requests.overhead.cached + requests.overhead.other} tokens`,
    );
    const result = await converse({
      llm: input.llm,
      model: config.model,
      system: prompt.system,
      finalTool: REVIEW_TOOL,
      prompt: prompt.text,
      tools: input.tools,
      maxTurns: input.maxTurns,
      maxInputTokens: config.max_input_tokens,
      gate,
      price,
      ...(input.deadlineAt !== undefined ? { deadlineAt: input.deadlineAt } : {}),
      onTurn: (t) => progress(turnLine(label, { ...t, ...ledger.with(t.usage, t.costUsd) })),
    });
    ledger.add(result.usage, result.costUsd, result.turns, result.toolCalls);
    if (result.input === null) {
      const message = result.reason ?? 'the model did not answer';
      failed = message;
      progress(`model ${label} failed: ${message}`);
      skipRest(batches.slice(i), `model request failed: ${message}`);
      break;
    }
    succeeded++;
    const reply = parseReviewInput(result.input);
    if (result.forcedBy)
      out.notes.push(`Exploration was cut short by the ${result.forcedBy}; the review went on with what was read.`);
    if (reply.summary.trim()) out.summaries.push(reply.summary);
    for (const f of reply.findings) out.findings.push({ ...f, source: 'model' });
    for (const u of batch) out.reviewed.add(u.file.path);
    if (reply.dropped > 0) out.notes.push(`${reply.dropped} malformed finding(s) from the model were dropped.`);
    if (batches.length > 1 && reply.summary.trim()) shared.push(`Part ${i + 1}: ${reply.summary.trim()}`);
    progress(
      `model ${label}: ${reply.findings.length} finding(s) after ${result.turns} turn(s), $${ledger.costUsd.toFixed(4)} so far`,
    );
  }
  if (failed !== undefined) {
    if (succeeded === 0) out.failure = failed;
    else out.notes.push(`A model request failed (${failed}); the files it covered are listed as not reviewed.`);
  }
  return out;
}
