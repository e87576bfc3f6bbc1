// Maps a finding's path and line range to a place GitHub accepts for an inline review comment:
// the RIGHT side, on a line inside one hunk. Whatever cannot be placed goes to the summary.
import type { DiffFile } from './diff.js';

export type Placement =
  | { inline: true; path: string; line: number; startLine?: number }
  | { inline: false; path: string; reason: string };

interface Range {
  start: number;
  end: number;
}

/** Every file of a diff by path (old paths of renamed files too), with its new-side hunk ranges. */
export class DiffIndex {
  private readonly byPath = new Map<string, { file: DiffFile; ranges: Range[] }>();

  constructor(files: readonly DiffFile[]) {
    for (const file of files) {
      // Inside a hunk the new-side lines from newStart on are all context or added lines,
      // each of which GitHub accepts as a RIGHT-side comment target.
      const ranges =
        file.newPath === null || file.binary
          ? []
          : file.hunks
              .filter((h) => h.newLines > 0)
              .map((h) => ({ start: h.newStart, end: h.newStart + h.newLines - 1 }));
      const entry = { file, ranges };
      this.byPath.set(file.path, entry);
      if (file.oldPath && !this.byPath.has(file.oldPath)) this.byPath.set(file.oldPath, entry);
    }
  }

  file(path: string): DiffFile | undefined {
    return this.lookup(path)?.file;
  }

  private lookup(path: string) {
    const p = normalisePath(path);
    // Models sometimes echo git's a/ b/ prefixes.
    return this.byPath.get(p) ?? (/^[ab]\//.test(p) ? this.byPath.get(p.slice(2)) : undefined);
  }

  get files(): DiffFile[] {
    return [...new Set([...this.byPath.values()].map((e) => e.file))];
  }

  /** Where a finding on `line` (through `endLine`) can be posted. */
  place(path: string, line: number, endLine?: number): Placement {
    const entry = this.lookup(path);
    if (!entry) return { inline: false, path, reason: 'file is not part of the diff' };
    const target = entry.file.path;
    if (!Number.isInteger(line) || line < 1) return { inline: false, path: target, reason: 'no valid line number' };
    const end = endLine !== undefined && Number.isInteger(endLine) && endLine > line ? endLine : line;
    if (entry.ranges.length === 0) {
      const why = entry.file.newPath === null ? 'file was deleted' : 'file has no reviewable lines';
      return { inline: false, path: target, reason: why };
    }
    // The first hunk the range overlaps wins; a range spanning hunks is clipped to that hunk,
    // because GitHub rejects multi-line comments that leave a hunk.
    for (const r of entry.ranges) {
      const start = Math.max(line, r.start);
      const stop = Math.min(end, r.end);
      if (start > stop) continue;
      return start === stop
        ? { inline: true, path: target, line: stop }
        : { inline: true, path: target, line: stop, startLine: start };
    }
    return { inline: false, path: target, reason: `line ${line} is outside the diff` };
  }
}

function normalisePath(path: string): string {
  return path.replace(/^\.\//, '').replace(/^\/+/, '');
}
