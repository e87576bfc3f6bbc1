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
    this.usage.input += usage.input;
    this.usage.output += usage.output;
    this.usage.cacheRead += usage.cacheRead;
    this.usage.cacheWrite += usage.cacheWrite;
    this.costUsd += costUsd;
    this.turns += turns;
    this.toolCalls += toolCalls;
  }

  /** Running totals with a conversation's partial figures added, for the per-turn progress line. */
  with(usage: TokenUsage, costUsd: number): { usage: TokenUsage; costUsd: number } {
    return {
      usage: {
        input: this.usage.input + usage.input,
        output: this.usage.output + usage.output,
        cacheRead: this.usage.cacheRead + usage.cacheRead,
        cacheWrite: this.usage.cacheWrite + usage.cacheWrite,
      },
      costUsd: this.costUsd + costUsd,
    };
  }
}
