// Stage 1, gather: what is under review. For a pull request: its state, Kritik's earlier reviews
// (markers from Kritik's own login only), the base-branch config and instruction files, and the
// diff (narrowed to the new commits after a push). Ends early, with a reason, when there is nothing to do.
import {
  type AnswerThread,
  type CheckRunConclusion,
  type PolicyLayer,
  type RepoRef,
  type ReviewCeilings,
  reviewsDrafts,
  type Trigger,
  triggerStop,
} from '@kritik/core';
import type { CodeHost, PullRequestInfo } from '../../code-host/code-host.js';
import { applyPolicy, CONFIG_FILE, type EffectiveConfig, loadConfig } from '../../config/config.js';
import { type DiffFile, fileFromPatch, parseUnifiedDiff } from '../../diff/diff.js';
import { DiffIndex } from '../../diff/line-map.js';
import {
  capInstructionFiles,
  INSTRUCTION_FILES,
  type InstructionFile,
  type PullRequestText,
} from '../../prompt/prompt.js';
import { extractFingerprints, isKritikBody, isSummaryBody, parseReviewMarker, reviewMarker } from '../fingerprint.js';
import type { CheckRunHandle } from './check-run.js';

/** A pull request (GitLab: merge request) on the code host the review was given. */
export interface PullSource {
  kind: 'pull';
  repo: RepoRef;
  pr: number;
  /** The SHA the review was requested for; a PR that moved on is skipped as superseded. */
  headSha?: string;
  baseSha?: string;
  reviewId?: string;
  trigger?: Trigger;
  /**
   * The login Kritik posts as (the App's `<slug>[bot]`, a GitLab token's bot user); only its
   * reviews and comments are read for markers. Asked of the host when absent; unknown trusts none.
   */
  selfLogin?: string;
  /** The platform's limits on what the repository's config may set. */
  ceilings?: ReviewCeilings;
  /** What the matching ReviewPolicies decide; the repository's config is layered under it. */
  policy?: PolicyLayer;
  /** The platform's answer to drafts when the repository's config has none. */
  reviewDrafts?: boolean;
  /** The check run the worker created queued; this review moves it on instead of creating one. */
  checkRunId?: number;
  /** What the repository's team dismissed before (the worker reads it from the learned rules). */
  learned?: { fingerprints: string[]; rules: string[] };
  /** With trigger `answer`: the comment to answer. */
  thread?: AnswerThread;
}

export interface DiffSource {
  kind: 'diff';
  diff: string;
  /** Text of .kritik.yaml to apply, null for defaults. */
  configText: string | null;
  title?: string;
  /** Maintainer instruction files (AGENTS.md...) of the local repository, when one is given. */
  instructionFiles?: InstructionFile[];
}

export type ReviewSource = PullSource | DiffSource;

export interface Collected {
  files: DiffFile[];
  index: DiffIndex;
  /** Files the host listed without a patch (too large to show). */
  missingPatch: Set<string>;
  notes: string[];
}

/** The pull request a review posts to, when it is one. */
export interface PullTarget {
  repo: RepoRef;
  number: number;
  headSha: string;
  baseSha: string;
  marker: string;
  /** The login Kritik posts as, when known: only its own threads are tidied. */
  selfLogin: string | null;
  /** Dismissals the repository already learned, not reported again. */
  learnedFingerprints: ReadonlySet<string>;
  /** Kritik's summary review on this pull request, edited in place instead of posting another. */
  summary?: SummaryReview;
}

export interface SummaryReview {
  id: number;
  htmlUrl: string;
  /** Fingerprints the summary lists, kept hidden in the next version so none is raised again. */
  fingerprints: string[];
}

export interface Gathered {
  pr: PullRequestText;
  loaded: EffectiveConfig;
  collected: Collected;
  /** Fingerprints Kritik already posted on this pull request. */
  seen: ReadonlySet<string>;
  instructionFiles: InstructionFile[];
  /** Rules learned from the team's dismissals, for the prompt and the footer; newest first. */
  learnedRules: string[];
  target?: PullTarget;
}

export interface Stopped {
  stopped: { conclusion: CheckRunConclusion; title: string; reason: string; reviewUrl?: string };
}

const short = (sha: string) => sha.slice(0, 7);

/**
 * The pull request's head is no longer the commit this review was asked for. Not the platform's
 * supersede rule (ReviewLifecycle, ADR 0015), which orders enqueued reviews in Redis: this one reads
 * the host's live head, which moves before its webhook arrives.
 */
const headMovedOn = (requested: string | undefined, current: string) =>
  requested !== undefined && requested !== current;

export function gatherDiff(source: DiffSource, progress: (m: string) => void): Gathered {
  const files = parseUnifiedDiff(source.diff);
  progress(`diff: ${files.length} file(s)`);
  return {
    pr: { title: source.title ?? '(local diff)', body: '' },
    loaded: applyPolicy(loadConfig(source.configText), undefined, undefined),
    collected: { files, index: new DiffIndex(files), missingPatch: new Set(), notes: [] },
    seen: new Set(),
    instructionFiles: capInstructionFiles(source.instructionFiles ?? []),
    learnedRules: [],
  };
}

export async function gatherPull(
  gh: CodeHost,
  source: PullSource,
  dryRun: boolean,
  checkRun: CheckRunHandle,
  progress: (m: string) => void,
): Promise<Gathered | Stopped> {
  const { repo, pr: number } = source;
  const stop = (conclusion: CheckRunConclusion, title: string, reason: string, reviewUrl?: string): Stopped => ({
    stopped: { conclusion, title, reason, ...(reviewUrl ? { reviewUrl } : {}) },
  });
  const pull = await gh.getPull(repo, number);
  if (pull.state !== 'open') return stop('skipped', 'Skipped: not open', `pull request is ${pull.state}`);
  if (headMovedOn(source.headSha, pull.headSha)) {
    const reason = `superseded: the pull request head moved from ${short(source.headSha!)} to ${short(pull.headSha)}`;
    return stop('cancelled', 'Skipped: superseded', reason);
  }
  const headSha = source.headSha ?? pull.headSha;
  const baseSha = source.baseSha ?? pull.baseSha;
  await checkRun.start(headSha);

  const [reviews, comments, self] = await Promise.all([
    gh.listReviews(repo, number),
    gh.listReviewComments(repo, number),
    source.selfLogin ?? gh.currentLogin(),
  ]);
  // Markers are trusted only from Kritik's own login: anyone can write one in a review body.
  const own = (author: string) => self !== null && author.toLowerCase() === self.toLowerCase();
  const ours = reviews.filter((r) => own(r.author) && isKritikBody(r.body));
  const previous = ours.map((r) => ({ review: r, marker: parseReviewMarker(r.body) })).filter((x) => x.marker);
  const sameHead = previous.findLast((x) => x.marker!.head === headSha);
  // Edited in place where the host can; elsewhere each push posts its own summary, as before.
  const summary = gh.updateReview ? ours.find((r) => isSummaryBody(r.body)) : undefined;
  // Only a maintainer's `full review` (the backend checks who asked) pays for a head again.
  const full = source.trigger === 'full_review';
  if (sameHead && !dryRun && !full) {
    return stop(
      'skipped',
      'Skipped: already reviewed',
      `already reviewed at ${short(headSha)}`,
      sameHead.review.htmlUrl,
    );
  }
  // What the team dismissed is never raised again, on any pull request of the repository.
  const seen = new Set([
    ...(source.learned?.fingerprints ?? []),
    ...ours.flatMap((r) => extractFingerprints(r.body)),
    ...comments.filter((c) => own(c.author) && isKritikBody(c.body)).flatMap((c) => extractFingerprints(c.body)),
  ]);
  // A full review ignores the incremental state: the whole pull request, findings not repeated.
  const lastReviewed = full ? undefined : previous.findLast((x) => x.marker!.head !== headSha)?.marker?.head;

  // Configuration and instructions only ever come from the base commit: a PR cannot rewrite its own review rules.
  const [configText, ...instructionTexts] = await Promise.all([
    gh.getFileText(repo, CONFIG_FILE, baseSha),
    ...INSTRUCTION_FILES.map((p) => gh.getFileText(repo, p, baseSha)),
  ]);
  const loaded = applyPolicy(loadConfig(configText ?? null), source.policy, source.ceilings);
  if (loaded.issues.length > 0) progress(`${CONFIG_FILE}: ${loaded.issues.length} problem(s); defaults used for them`);
  const instructionFiles = capInstructionFiles(
    INSTRUCTION_FILES.flatMap((path, i) => (instructionTexts[i] ? [{ path, text: instructionTexts[i] }] : [])),
  );

  if (!dryRun) await checkRun.create(headSha);

  const triggers = source.policy?.triggers;
  const stoppedByPolicy = triggerStop(triggers, {
    trigger: source.trigger ?? 'cli',
    baseRef: pull.baseRef,
    title: pull.title,
    labels: pull.labels,
  });
  if (stoppedByPolicy) return stop('skipped', 'Skipped: review policy', stoppedByPolicy);
  if (pull.draft && !reviewsDrafts(loaded.config.review_drafts, triggers?.drafts ?? source.reviewDrafts)) {
    return stop(
      'skipped',
      'Skipped: draft',
      'draft pull request (set review_drafts: true in .kritik.yaml to review drafts)',
    );
  }

  const collected = await collect(gh, repo, pull, progress);
  if (lastReviewed) await narrowToNewChanges(gh, repo, lastReviewed, headSha, collected, progress);
  return {
    pr: { title: pull.title, body: pull.body },
    loaded,
    collected,
    seen,
    instructionFiles,
    learnedRules: source.learned?.rules ?? [],
    target: {
      repo,
      number,
      headSha,
      baseSha,
      marker: reviewMarker({ head: headSha, base: baseSha, ...(source.reviewId ? { id: source.reviewId } : {}) }),
      selfLogin: self,
      learnedFingerprints: new Set(source.learned?.fingerprints ?? []),
      ...(summary
        ? { summary: { id: summary.id, htmlUrl: summary.htmlUrl, fingerprints: extractFingerprints(summary.body) } }
        : {}),
    },
  };
}

/** The PR's files: one unified diff, or per-file patches (GitHub's 406 fallback, GitLab's MR diffs). */
async function collect(
  gh: CodeHost,
  repo: RepoRef,
  pull: PullRequestInfo,
  progress: (m: string) => void,
): Promise<Collected> {
  const notes: string[] = [];
  const missingPatch = new Set<string>();
  let files: DiffFile[];
  const changes = await gh.pullChanges(repo, pull);
  if (changes.kind === 'diff') {
    files = parseUnifiedDiff(changes.diff);
  } else {
    progress('reading the changed files page by page');
    files = changes.files.map((m) => {
      const f = fileFromPatch(m);
      if (f.patchMissing) missingPatch.add(f.path);
      return f;
    });
    notes.push(...changes.notes);
  }
  progress(`${files.length} changed file(s)`);
  return { files, index: new DiffIndex(files), missingPatch, notes };
}

/**
 * After a new push, only what changed since the last reviewed SHA goes to the model; findings are
 * still placed against the whole PR diff, which is what the host accepts comments on.
 */
async function narrowToNewChanges(
  gh: CodeHost,
  repo: RepoRef,
  lastReviewed: string,
  headSha: string,
  collected: Collected,
  progress: (m: string) => void,
): Promise<void> {
  const comparison = await gh.compare(repo, lastReviewed, headSha);
  if (!comparison || (comparison.status !== 'ahead' && comparison.status !== 'identical')) {
    collected.notes.push(`The branch was rewritten since the last review (${short(lastReviewed)}); reviewed in full.`);
    return;
  }
  const changed = new Map<string, DiffFile>();
  for (const meta of comparison.files) {
    const f = fileFromPatch(meta);
    if (collected.index.file(f.path)) changed.set(f.path, f);
  }
  const before = collected.files.length;
  collected.files = collected.files
    .filter((f) => changed.has(f.path))
    .map((f) => {
      const inc = changed.get(f.path)!;
      // Binary and unpatched files keep the PR's own entry so they are reported as before.
      return inc.hunks.length > 0 ? { ...f, hunks: inc.hunks, additions: inc.additions, deletions: inc.deletions } : f;
    });
  collected.notes.push(
    `Incremental review: changes since ${short(lastReviewed)} (${collected.files.length} of ${before} files); earlier findings are not repeated.`,
  );
  progress(`incremental: ${collected.files.length} file(s) changed since ${short(lastReviewed)}`);
}
