// Reads the reviewer's result from whatever carried it: the termination message (one JSON
// object) or, as a fallback, its output, whose last JSON line is the result.
import { type ReviewResult, reviewResultSchema } from '@kritik/core';

function parseOne(text: string): ReviewResult | undefined {
  try {
    const parsed = reviewResultSchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/** The result in `text`: the whole text as JSON, else the last line that is a valid result. */
export function parseReviewResult(text: string | undefined): ReviewResult | undefined {
  if (!text) return undefined;
  const whole = parseOne(text.trim());
  if (whole) return whole;
  const lines = text.split('\n');
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = lines[i]!.trim();
    if (line.startsWith('{')) {
      const result = parseOne(line);
      if (result) return result;
    }
  }
  return undefined;
}
