// Stage 5b, tidy: Kritik's own inline threads whose code a later push changed (GitHub marks them
// outdated) get a short note and are resolved, so a pull request after many pushes has no stale
// open threads. Never fails the review: what could not be tidied is counted and said.
import type { GitHubPort } from '../../github/github.js';
import { extractFingerprints, isKritikBody } from '../fingerprint.js';
import type { PullTarget } from './gather.js';

export interface Tidied {
  resolved: number;
  /** Fingerprints of the findings whose threads were resolved (the code they were on changed). */
  fingerprints: string[];
  notes: string[];
}

/** The note left in a thread before resolving it. */
export const resolvedNote = (headSha: string) =>
  `The code this finding was on changed in \`${headSha.slice(0, 7)}\`, so Kritik resolves this thread. ` +
  'If the problem is still there in the new code, this review raises it again.';

export async function tidyThreads(gh: GitHubPort, target: PullTarget, progress: (m: string) => void): Promise<Tidied> {
  const self = target.selfLogin?.toLowerCase();
  if (!self) return { resolved: 0, fingerprints: [], notes: [] };
  let threads: Awaited<ReturnType<GitHubPort['listReviewThreads']>>;
  try {
    threads = await gh.listReviewThreads(target.repo, target.number);
  } catch (error) {
    progress(`could not read the review threads: ${(error as Error).message}`);
    return { resolved: 0, fingerprints: [], notes: ['Earlier threads could not be read, so none was resolved.'] };
  }
  // Only threads Kritik opened on a finding: a person's thread is theirs to resolve.
  const stale = threads.filter(
    (t) => !t.isResolved && t.isOutdated && t.author.toLowerCase() === self && isKritikBody(t.body),
  );
  const fingerprints: string[] = [];
  let failed = 0;
  for (const thread of stale) {
    try {
      await gh.replyToReviewComment(target.repo, target.number, thread.firstCommentId, resolvedNote(target.headSha));
      await gh.resolveReviewThread(thread.id);
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
  return { resolved, fingerprints, notes };
}
