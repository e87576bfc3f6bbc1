// Stage 5b, tidy: Kritik's own inline threads whose code a later push changed (GitHub marks them
// outdated) get a short note and are resolved, so a pull request after many pushes has no stale
// open threads. Never fails the review: what could not be tidied is counted and said.
import { type Dismissal, MAX_DISMISSALS_PER_RESULT, MAX_RULE_CHARS } from '@kritik/core';
import type { ConversationPort, ReviewThread } from '../../code-host/code-host.js';
import { extractFingerprints, isKritikBody } from '../fingerprint.js';
import type { PullTarget } from './gather.js';

export interface Tidied {
  resolved: number;
  /** Kritik's findings the team dismissed: a 👎 on them, or their thread resolved by a person. */
  dismissed: Dismissal[];
  /** Fingerprints of the findings whose threads were resolved (the code they were on changed). */
  fingerprints: string[];
  notes: string[];
}

/** The note left in a thread before resolving it. */
export const resolvedNote = (headSha: string) =>
  `The code this finding was on changed in \`${headSha.slice(0, 7)}\`, so Kritik resolves this thread. ` +
  'If the problem is still there in the new code, this review raises it again.';

export async function tidyThreads(
  gh: ConversationPort,
  target: PullTarget,
  progress: (m: string) => void,
): Promise<Tidied> {
  const self = target.selfLogin?.toLowerCase();
  if (!self) return { resolved: 0, dismissed: [], fingerprints: [], notes: [] };
  let threads: ReviewThread[];
  try {
    threads = await gh.listReviewThreads(target.repo, target.number);
  } catch (error) {
    progress(`could not read the review threads: ${(error as Error).message}`);
    return {
      resolved: 0,
      dismissed: [],
      fingerprints: [],
      notes: ['Earlier threads could not be read, so none was resolved.'],
    };
  }
  // Only threads Kritik opened on a finding: a person's thread is theirs to resolve.
  const findings = threads.filter((t) => t.author.toLowerCase() === self && isKritikBody(t.body));
  const stale = findings.filter((t) => !t.isResolved && t.isOutdated);
  const dismissed = dismissals(findings, self, target.learnedFingerprints);
  const fingerprints: string[] = [];
  let failed = 0;
  for (const thread of stale) {
    try {
      await gh.replyToReviewComment(target.repo, target.number, thread.firstCommentId, resolvedNote(target.headSha));
      await gh.resolveReviewThread(target.repo, target.number, thread.id);
      fingerprints.push(...extractFingerprints(thread.body));
    } catch (error) {
      failed++;
      progress(`could not resolve thread ${thread.id}: ${(error as Error).message}`);
    }
  }
  const resolved = stale.length - failed;
  if (resolved > 0) progress(`resolved ${resolved} thread(s) whose code changed`);
  const notes: string[] = [];
  if (resolved > 0) notes.push(`${resolved} earlier thread(s) resolved: the code they were on changed.`);
  if (failed > 0) notes.push(`${failed} earlier thread(s) on changed code could not be resolved.`);
  return { resolved, dismissed, fingerprints, notes };
}

/**
 * Findings the team turned down: a 👎 on Kritik's comment, or the thread resolved by a person
 * while its code stayed as it was (resolved as won't fix). Ones already learned are not repeated.
 */
export function dismissals(findings: readonly ReviewThread[], self: string, learned: ReadonlySet<string>): Dismissal[] {
  const bySelf = (login: string | null) =>
    login !== null && login.replace(/\[bot\]$/, '') === self.replace(/\[bot\]$/, '');
  const out: Dismissal[] = [];
  for (const t of findings) {
    const wontFix = t.isResolved && !t.isOutdated && t.resolvedBy !== null && !bySelf(t.resolvedBy.toLowerCase());
    if (t.thumbsDown === 0 && !wontFix) continue;
    for (const fingerprint of extractFingerprints(t.body)) {
      if (learned.has(fingerprint) || out.some((d) => d.fingerprint === fingerprint)) continue;
      out.push({ fingerprint, rule: ruleFor(t.body, t.path), via: t.thumbsDown > 0 ? 'reaction' : 'resolved' });
    }
  }
  return out.slice(0, MAX_DISMISSALS_PER_RESULT);
}

/** The short rule a dismissal teaches: the finding's title and where, and the reason when given. */
export function ruleFor(findingBody: string, path: string, reason?: string): string {
  const title = /^\*\*[^:*\n]+: (.+?)\*\*/.exec(findingBody)?.[1] ?? 'a finding';
  const why = reason?.replace(/\s+/g, ' ').trim();
  return `${title} (in ${path})${why ? ` — ${why}` : ''}`.slice(0, MAX_RULE_CHARS);
}
