// The review and check run the demo's pull request received, laid out as a person sees them on
// GitHub: the review body, each inline comment under the diff line it is attached to, the check.
import type { GitHubCheckRun, GitHubReview, GitHubReviewComment } from '@kritik/testing';

export interface PullRequestView {
  readonly title: string;
  readonly url: string;
  readonly review: GitHubReview | undefined;
  readonly comments: readonly GitHubReviewComment[];
  readonly checkRuns: readonly GitHubCheckRun[];
}

const rule = (title: string) => `── ${title} ${'─'.repeat(Math.max(3, 72 - title.length))}`;
const indent = (text: string, by = '    ') =>
  text
    .trimEnd()
    .split('\n')
    .map((line) => (line ? `${by}${line}` : by.trimEnd()))
    .join('\n');
/** Hidden markers (`<!-- kritik:… -->`) GitHub does not show. */
const visible = (markdown: string) => markdown.replace(/<!--[\s\S]*?-->/g, '').trim();

/** The diff lines up to the commented one (GitHub's `diff_hunk` may run past it): the code above the comment. */
export function linesAbove(hunk: string, line: number, count = 3): string {
  const lines = hunk.split('\n');
  const header = /^@@ -\d+(?:,\d+)? \+(\d+)/.exec(lines[0] ?? '');
  let next = header ? Number(header[1]) : Number.NaN;
  const shown: string[] = [];
  for (const text of header ? lines.slice(1) : lines) {
    shown.push(text);
    if (text.startsWith('-')) continue;
    if (next === line) break;
    next++;
  }
  return shown.slice(-count).join('\n');
}

export function renderPullRequestView(view: PullRequestView): string {
  const out: string[] = [`Pull request: ${view.title}`, view.url, ''];
  out.push(rule('Review'));
  if (!view.review) out.push('    (no review was posted)');
  else {
    out.push(
      `    ${view.review.user.login} ${view.review.state.toLowerCase()} on ${view.review.commit_id.slice(0, 7)}`,
      '',
    );
    out.push(indent(visible(view.review.body)));
  }
  out.push('');
  out.push(rule(`Inline comments (${view.comments.length})`));
  for (const comment of view.comments) {
    const where = comment.start_line ? `${comment.start_line}-${comment.line}` : String(comment.line);
    out.push(`    ${comment.path}:${where}`);
    out.push(indent(linesAbove(comment.diff_hunk, comment.line ?? 0), '    │ '));
    out.push(indent(visible(comment.body), '      '));
    out.push('');
  }
  out.push(rule('Checks'));
  for (const run of view.checkRuns) {
    const state = run.status === 'completed' ? (run.conclusion ?? 'completed') : run.status;
    out.push(`    ${run.name}: ${state}${run.output.title ? ` — ${run.output.title}` : ''}`);
    if (run.output.summary) out.push(indent(visible(run.output.summary), '      '));
  }
  if (view.checkRuns.length === 0) out.push('    (no check run)');
  return `${out.join('\n')}\n`;
}
