// Stage 2, plan: which files the model reviews and which it does not (with why), the deterministic
// checks' findings, secrets redacted from everything that goes on, and the requests packed to budget.
import {
  compileGlobs,
  compileIgnore,
  MODEL_CATALOGUE,
  type ModelCatalogue,
  type PathMatcher,
  priceOf,
} from '@kritik/core';
import { type PackResult, packRequests } from '../../budget/budget.js';
import { redactSecrets, runChecks } from '../../checks/checks.js';
import { DEFAULT_IGNORE, type KritikConfig } from '../../config/config.js';
import type { DiffFile } from '../../diff/diff.js';
import { overheadTokens, type PullRequestText } from '../../prompt/prompt.js';
import type { RawFinding } from '../findings.js';
import { inlineCode } from '../sanitize.js';
import type { SkippedFile } from '../summary.js';
import type { Gathered } from './gather.js';

export interface Plan {
  config: KritikConfig;
  /** Title and body with secrets redacted. */
  pr: PullRequestText;
  /** Paths the review leaves alone (defaults and .kritik.yaml), for the diff and the checkout. */
  ignored: PathMatcher;
  reviewable: DiffFile[];
  skipped: SkippedFile[];
  /** Findings of the deterministic checks (secrets, conflict markers). */
  checkFindings: RawFinding[];
  notes: string[];
  /** The model's requests; absent when no model runs. */
  requests?: PackResult & { overhead: { cached: number; other: number } };
}

/** Share of max_input_tokens a unit may fill when the model explores: the rest is for what it reads. */
const EXPLORE_PACK_SHARE = 0.5;

/** `max_input_tokens` never above the model's context window, as the catalogue gives it. */
function withinContextWindow(config: KritikConfig, catalogue: ModelCatalogue, notes: string[]): KritikConfig {
  const window = Object.hasOwn(catalogue, config.model) ? catalogue[config.model]?.contextWindow : undefined;
  if (window === undefined || config.max_input_tokens <= window) return config;
  notes.push(
    `max_input_tokens (${config.max_input_tokens}) is above the context window of ${inlineCode(config.model)}; ${window} was used.`,
  );
  return { ...config, max_input_tokens: window };
}

export function plan(
  gathered: Gathered,
  withModel: boolean,
  explore = false,
  catalogue: ModelCatalogue = MODEL_CATALOGUE,
): Plan {
  const notes = [...gathered.collected.notes];
  const config = withinContextWindow(gathered.loaded.config, catalogue, notes);
  const userIgnore = compileGlobs(config.ignore.filter((g) => !g.startsWith('!')));
  const ignored = compileIgnore([...DEFAULT_IGNORE, ...config.ignore]);
  const skipped: SkippedFile[] = [];
  const reviewable: DiffFile[] = [];
  // Everything after this point sees the redacted files and text: no secret reaches the model.
  const checks = runChecks(gathered.collected.files, ignored);
  const pr = { title: redactSecrets(gathered.pr.title).text, body: redactSecrets(gathered.pr.body).text };
  for (const f of checks.files) {
    if (gathered.collected.missingPatch.has(f.path))
      skipped.push({ path: f.path, reason: 'too large: the code host shows no diff for it' });
    else if (f.binary) skipped.push({ path: f.path, reason: 'binary file' });
    else if (f.newPath === null) skipped.push({ path: f.path, reason: 'deleted' });
    else if (ignored(f.path))
      skipped.push({
        path: f.path,
        reason: userIgnore(f.path) ? 'ignored by .kritik.yaml' : 'ignored (lock, vendored, generated or binary)',
      });
    else if (f.hunks.length === 0) skipped.push({ path: f.path, reason: 'no content change (rename or mode only)' });
    else reviewable.push(f);
  }
  const checkFindings: RawFinding[] = checks.findings.map(({ rule: _rule, ...f }) => ({ ...f, source: 'check' }));
  const result: Plan = { config, pr, ignored, reviewable, skipped, checkFindings, notes };
  if (!withModel || reviewable.length === 0) return result;

  if (!priceOf(config.model, catalogue).known)
    notes.push(`No price is known for model ${inlineCode(config.model)}; the budget assumed the most expensive rate.`);
  const overhead = overheadTokens(config, pr);
  const packed = packRequests({
    files: reviewable,
    overheadTokens: overhead.cached + overhead.other,
    maxInputTokens: explore ? Math.floor(config.max_input_tokens * EXPLORE_PACK_SHARE) : config.max_input_tokens,
  });
  for (const f of packed.tooLarge) {
    skipped.push({ path: f.path, reason: `too large: one hunk exceeds max_input_tokens (${config.max_input_tokens})` });
  }
  return { ...result, requests: { ...packed, overhead } };
}
