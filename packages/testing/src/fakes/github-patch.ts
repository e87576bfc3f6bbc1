// How GitHub (and GitLab, whose diffs carry the same hunks) reads a file's `patch` when it places
// review comments, and the unified diff GitHub returns for a pull request. Deliberately independent
// of the reviewer's diff engine: it is the oracle that engine is tested against.

export interface PatchFile {
  filename: string;
  status: string;
  patch?: string;
  previous_filename?: string;
}

export interface Hunk {
  /** Line numbers a comment may use on each side: context and added lines RIGHT, context and deleted LEFT. */
  right: Set<number>;
  left: Set<number>;
  /** Context lines, new line number → old line number (GitLab places them with both). */
  context: Map<number, number>;
  /** Added lines, new line number → the old side's counter there (what GitLab's line code holds). */
  added: Map<number, number>;
  text: string;
}

function patchLines(patch: string): string[] {
  return patch.replace(/\n$/, '').split('\n');
}

export function parseHunks(patch: string): Hunk[] {
  const hunks: Hunk[] = [];
  let current: Hunk | undefined;
  let oldLine = 0;
  let newLine = 0;
  for (const line of patchLines(patch)) {
    const header = /^@@ -(\d+)(?:,\d+)? \+(\d+)(?:,\d+)? @@/.exec(line);
    if (header) {
      current = { right: new Set(), left: new Set(), context: new Map(), added: new Map(), text: line };
      hunks.push(current);
      oldLine = Number(header[1]);
      newLine = Number(header[2]);
      continue;
    }
    if (!current) continue;
    current.text += `\n${line}`;
    if (line.startsWith('+')) {
      current.added.set(newLine, oldLine);
      current.right.add(newLine++);
    } else if (line.startsWith('-')) current.left.add(oldLine++);
    else if (line.startsWith(' ') || line === '') {
      current.context.set(newLine, oldLine);
      current.left.add(oldLine++);
      current.right.add(newLine++);
    }
  }
  return hunks;
}

/** Lines after the first hunk header, the range of the deprecated `position` parameter. */
export function positionCount(patch: string): number {
  const lines = patchLines(patch);
  const first = lines.findIndex((l) => l.startsWith('@@'));
  return first < 0 ? 0 : lines.length - first - 1;
}

export interface CommentPlacement {
  line?: number;
  side?: string;
  start_line?: number;
  start_side?: string;
  position?: number;
}

/** The hunk a review comment lands in, or undefined when GitHub would answer "Line could not be resolved". */
export function resolveComment(patch: string | undefined, c: CommentPlacement): Hunk | undefined {
  if (!patch) return undefined;
  const hunks = parseHunks(patch);
  if (c.line === undefined) {
    if (c.position === undefined || c.position < 1 || c.position > positionCount(patch)) return undefined;
    return hunks[0];
  }
  const side = (c.side ?? 'RIGHT').toUpperCase() === 'LEFT' ? 'left' : 'right';
  const hunk = hunks.find((h) => h[side].has(c.line!));
  if (!hunk) return undefined;
  if (c.start_line === undefined) return hunk;
  const startSide = (c.start_side ?? c.side ?? 'RIGHT').toUpperCase() === 'LEFT' ? 'left' : 'right';
  const ordered = startSide !== side || c.start_line < c.line;
  return ordered && hunk[startSide].has(c.start_line) ? hunk : undefined;
}

export function countChanges(patch: string | undefined): { additions: number; deletions: number } {
  let additions = 0;
  let deletions = 0;
  for (const line of (patch ?? '').split('\n')) {
    if (line.startsWith('+')) additions++;
    else if (line.startsWith('-')) deletions++;
  }
  return { additions, deletions };
}

/** The `application/vnd.github.v3.diff` text of a set of files, as `git diff` prints it. */
export function unifiedDiff(files: PatchFile[]): string {
  return files
    .map((f) => {
      const from = f.previous_filename ?? f.filename;
      const lines = [`diff --git a/${from} b/${f.filename}`];
      if (f.status === 'added') lines.push('new file mode 100644');
      if (f.status === 'removed') lines.push('deleted file mode 100644');
      if (f.status === 'renamed') lines.push(`rename from ${from}`, `rename to ${f.filename}`);
      if (f.patch === undefined) {
        if (f.status !== 'renamed') lines.push(`Binary files a/${from} and b/${f.filename} differ`);
        return `${lines.join('\n')}\n`;
      }
      lines.push(f.status === 'added' ? '--- /dev/null' : `--- a/${from}`);
      lines.push(f.status === 'removed' ? '+++ /dev/null' : `+++ b/${f.filename}`);
      return `${lines.join('\n')}\n${f.patch}${f.patch.endsWith('\n') ? '' : '\n'}`;
    })
    .join('');
}
