// The shape of one finding, whoever found it (the model through submit_review, or a check).
import type { Severity } from '@kritik/core';

export interface Finding {
  path: string;
  /** New-file line number. */
  line: number;
  /** Last line of a multi-line range within one hunk. */
  end_line?: number;
  severity: Severity;
  title: string;
  body: string;
  /** Replacement text for line..end_line. */
  suggestion?: string;
}
