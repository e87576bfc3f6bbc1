// The explore → submit conversation: the model calls the read-only tools turn by turn until it
// calls the final tool; a turn limit, the cost budget, the input budget and the deadline each end
// it with one forced final call, so every conversation ends with an answer or a stated reason.
import type {
  ContentBlock,
  MessageParam,
  TextBlockParam,
  Tool,
  ToolResultBlockParam,
} from '@anthropic-ai/sdk/resources/messages/messages';
import { costOf, emptyUsage, type ModelPrice, type TokenUsage } from '@kritik/core';
import type { CostGate } from '../budget/budget.js';
import { estimateTokens } from '../budget/tokens.js';
import type { LlmPort, MessageRequest } from '../llm/anthropic.js';
import { READ_TOOLS, type RepoTools } from '../repo/tools.js';
import { addUsage } from './pipeline/ledger.js';

/** Tool calls run per turn at most; more get an error result, so one turn cannot read the repository. */
const MAX_CALLS_PER_TURN = 8;
/** Forced to submit when less than this is left before the deadline. */
const DEADLINE_MARGIN_MS = 45_000;

export interface ConversationInput {
  llm: LlmPort;
  model: string;
  system: TextBlockParam[];
  /** The final tool (submit_review, submit_verdicts); offered with the read tools when there is a checkout. */
  finalTool: Tool;
  /** The first user message. */
  prompt: string;
  /** null: no checkout, one forced turn as a diff-only review. */
  tools: RepoTools | null;
  maxTurns: number;
  /** Input tokens one request may carry; a longer conversation is forced to submit. */
  maxInputTokens: number;
  gate: CostGate;
  price: ModelPrice;
  deadlineAt?: number;
  /** Called once per turn with the line the CLI prints. */
  onTurn?: (turn: TurnReport) => void;
}

export interface TurnReport {
  turn: number;
  /** Tool names called in this turn, e.g. ["read_file", "search"]. */
  tools: string[];
  usage: TokenUsage;
  costUsd: number;
  forced: boolean;
}

export interface ConversationResult {
  /** Input of the final tool call; null when the conversation ended without one (see reason). */
  input: unknown;
  reason?: string;
  turns: number;
  toolCalls: number;
  usage: TokenUsage;
  costUsd: number;
  /** Whether a bound forced the final call, and which. */
  forcedBy?: string;
}

/**
 * Tokens of a request as the budget counts them: what may be written to the cache (priced as a
 * write, the dearer case) and the rest. Exploring caches the conversation too.
 */
function requestTokens(request: MessageRequest, cacheMessages: boolean): { cached: number; other: number } {
  const prefix = estimateTokens(JSON.stringify(request.tools ?? []) + JSON.stringify(request.system ?? '')) + 400;
  const messages = estimateTokens(JSON.stringify(request.messages));
  return cacheMessages ? { cached: prefix + messages, other: 0 } : { cached: prefix, other: messages };
}

/**
 * Breakpoints on the end of the last two user messages: each turn writes the conversation so far
 * and reads the previous turn's prefix, so a turn pays full price only for what it added.
 */
function withCacheBreakpoints(messages: readonly MessageParam[]): MessageParam[] {
  const users = messages.flatMap((m, i) => (m.role === 'user' ? [i] : [])).slice(-2);
  return messages.map((m, i) => {
    if (!users.includes(i)) return m;
    const blocks = typeof m.content === 'string' ? [{ type: 'text' as const, text: m.content }] : [...m.content];
    const last = blocks.at(-1);
    if (!last) return m;
    blocks[blocks.length - 1] = { ...last, cache_control: { type: 'ephemeral' } } as typeof last;
    return { ...m, content: blocks } as MessageParam;
  });
}

export async function converse(input: ConversationInput): Promise<ConversationResult> {
  const finalName = input.finalTool.name;
  const exploring = input.tools !== null && input.maxTurns > 1;
  const tools = input.tools ? [...READ_TOOLS, input.finalTool] : [input.finalTool];
  const messages: MessageParam[] = [{ role: 'user', content: input.prompt }];
  const usage = emptyUsage();
  let cost = 0;
  let toolCalls = 0;
  let forcedBy: string | undefined = input.tools ? undefined : 'no checkout';
  const result = (extra: Partial<ConversationResult> & { input: unknown }, turns: number): ConversationResult => ({
    turns,
    toolCalls,
    usage,
    costUsd: cost,
    ...(forcedBy && input.tools ? { forcedBy } : {}),
    ...extra,
  });

  for (let turn = 1; ; turn++) {
    const draft: MessageRequest = {
      model: input.model,
      max_tokens: 1,
      system: input.system,
      tools,
      messages,
    };
    let size = requestTokens(draft, exploring);
    if (!forcedBy) {
      if (turn >= input.maxTurns) forcedBy = `turn limit (${input.maxTurns})`;
      else if (size.cached + size.other > input.maxInputTokens * 0.8) forcedBy = 'input token limit';
      // Two more requests this size must be affordable, or this one is the last.
      else if (input.gate.outputAllowance(size.cached * 2, size.other * 2) === 0) forcedBy = 'cost budget';
      else if (input.deadlineAt !== undefined && input.deadlineAt - Date.now() < DEADLINE_MARGIN_MS)
        forcedBy = 'time limit';
      if (forcedBy && turn > 1) {
        messages.push({
          role: 'user',
          content: `The exploration budget is used up (${forcedBy}). Call ${finalName} now with what you found.`,
        });
        mergeUserMessages(messages);
        size = requestTokens(draft, exploring);
      }
    }
    const allowance = input.gate.outputAllowance(size.cached, size.other);
    if (allowance === 0) return result({ input: null, reason: 'over budget before the model answered' }, turn - 1);
    const request: MessageRequest = {
      ...draft,
      max_tokens: allowance,
      // One turn alone reads nothing back: its conversation is not worth a cache write.
      messages: exploring ? withCacheBreakpoints(messages) : messages,
      tool_choice: forcedBy ? { type: 'tool', name: finalName } : { type: 'any' },
    };
    let reply: Awaited<ReturnType<LlmPort['send']>>;
    try {
      reply = await input.llm.send(request, input.deadlineAt === undefined ? {} : { deadlineAt: input.deadlineAt });
    } catch (error) {
      return result({ input: null, reason: (error as Error).message }, turn);
    }
    addUsage(usage, reply.usage);
    const turnCost = costOf(reply.usage, reply.price ?? input.price);
    cost += turnCost;
    input.gate.record(turnCost);
    const calls = reply.content.filter((b): b is Extract<ContentBlock, { type: 'tool_use' }> => b.type === 'tool_use');
    const final = calls.find((c) => c.name === finalName);
    const report = (names: string[]) =>
      input.onTurn?.({ turn, tools: names, usage: { ...usage }, costUsd: cost, forced: forcedBy !== undefined });
    if (final) {
      report([finalName]);
      return result({ input: final.input }, turn);
    }
    if (forcedBy) {
      report(calls.map((c) => c.name));
      const why = reply.stopReason === 'max_tokens' ? 'the reply hit max_tokens' : `stop reason ${reply.stopReason}`;
      return result({ input: null, reason: `the model did not call ${finalName} (${why})` }, turn);
    }
    messages.push({ role: 'assistant', content: reply.content });
    const results: (ToolResultBlockParam | TextBlockParam)[] = [];
    for (const [i, call] of calls.entries()) {
      toolCalls++;
      const r =
        i < MAX_CALLS_PER_TURN && input.tools
          ? await input.tools.run(call.name, call.input)
          : { content: `more than ${MAX_CALLS_PER_TURN} tool calls in one turn; call again`, isError: true };
      results.push({
        type: 'tool_result',
        tool_use_id: call.id,
        content: r.content,
        ...(r.isError ? { is_error: true } : {}),
      });
    }
    if (calls.length === 0) {
      results.push({
        type: 'text',
        text: `Answer with a tool call: explore with ${READ_TOOLS.map((t) => t.name).join(', ')}, or call ${finalName}.`,
      });
    }
    messages.push({ role: 'user', content: results });
    report(calls.map((c) => c.name));
  }
}

/** Two user messages in a row (tool results, then the bound's notice) become one, as the API requires. */
function mergeUserMessages(messages: MessageParam[]): void {
  const last = messages.at(-1);
  const before = messages.at(-2);
  if (!last || !before || last.role !== 'user' || before.role !== 'user') return;
  const blocks = (m: MessageParam) =>
    typeof m.content === 'string' ? [{ type: 'text' as const, text: m.content }] : m.content;
  messages.splice(-2, 2, { role: 'user', content: [...blocks(before), ...blocks(last)] });
}

/** The CLI's progress line for a turn. */
export function turnLine(label: string, t: TurnReport): string {
  const tokens = t.usage.input + t.usage.cacheRead + t.usage.cacheWrite + t.usage.output;
  const tools = t.tools.length > 0 ? t.tools.join(', ') : 'no tool';
  return `${label} turn ${t.turn}${t.forced ? ' (final)' : ''}: ${tools}; ${tokens} tokens, $${t.costUsd.toFixed(4)} so far`;
}
