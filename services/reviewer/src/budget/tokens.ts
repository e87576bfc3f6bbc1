// Token estimates for budgeting, without a network call. Code averages a little over three
// characters per Claude token; rounding down to three keeps the estimate on the safe side.
const CHARS_PER_TOKEN = 3;

export function estimateTokens(text: string): number {
  return Math.ceil(text.length / CHARS_PER_TOKEN);
}
