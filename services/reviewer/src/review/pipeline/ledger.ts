// What a review spent on models, across every stage and conversation: one running total.
import { emptyUsage, type TokenUsage } from '@kritik/core';

export class Ledger {
  readonly usage: TokenUsage = emptyUsage();
  costUsd = 0;
  turns = 0;
  toolCalls = 0;
  /** The main model, set once a request was planned. */
  model: string | undefined;

  add(usage: TokenUsage, costUsd: number, turns = 0, toolCalls = 0): void {
    addUsage(this.usage, usage);
    this.costUsd += costUsd;
    this.turns += turns;
    this.toolCalls += toolCalls;
  }

  /** Running totals with a conversation's partial figures added, for the per-turn progress line. */
  with(usage: TokenUsage, costUsd: number): { usage: TokenUsage; costUsd: number } {
    return { usage: addUsage({ ...this.usage }, usage), costUsd: this.costUsd + costUsd };
  }
}

/** Adds `usage` into `total` and returns it. */
export function addUsage(total: TokenUsage, usage: TokenUsage): TokenUsage {
  total.input += usage.input;
  total.output += usage.output;
  total.cacheRead += usage.cacheRead;
  total.cacheWrite += usage.cacheWrite;
  return total;
}
