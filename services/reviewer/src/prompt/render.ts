// Renders diff hunks for the model in a compact form that carries each line's new-file number,
// so findings come back with line numbers that map straight onto the diff.
import type { DiffFile, DiffLine, Hunk } from '../diff/diff.js';

/** Runs of removed lines longer than this are shortened: the model cannot comment on them anyway. */
const MAX_REMOVED_RUN = 12;
const REMOVED_RUN_KEEP = 4;

export interface RenderOptions {
  part?: { index: number; of: number };
  /** Leave out the file header line. */
  noHeader?: boolean;
}

export function renderFileHeader(file: DiffFile, part?: { index: number; of: number }): string {
  const notes: string[] = [file.status];
  if (file.status === 'renamed' || file.status === 'copied') notes.push(`from ${file.oldPath}`);
  if (part && part.of > 1) notes.push(`part ${part.index} of ${part.of}`);
  return `### ${file.path} (${notes.join(', ')})`;
}

export function renderHunks(file: DiffFile, hunks: readonly Hunk[], options: RenderOptions = {}): string {
  const out: string[] = options.noHeader ? [] : [renderFileHeader(file, options.part)];
  for (const h of hunks) {
    out.push(`@@ -${h.oldStart},${h.oldLines} +${h.newStart},${h.newLines} @@${h.section ? ` ${h.section}` : ''}`);
    let run: DiffLine[] = [];
    const flush = () => {
      if (run.length > MAX_REMOVED_RUN) {
        for (const l of run.slice(0, REMOVED_RUN_KEEP)) out.push(renderLine(l));
        out.push(`-[${run.length - REMOVED_RUN_KEEP} more removed lines]`);
      } else {
        for (const l of run) out.push(renderLine(l));
      }
      run = [];
    };
    for (const l of h.lines) {
      if (l.kind === 'del') {
        run.push(l);
        continue;
      }
      flush();
      out.push(renderLine(l));
    }
    flush();
  }
  return out.join('\n');
}

/**
 * `12+added`, `13 context`, `-removed`: the number runs straight into the mark, so a line is
 * unambiguous without padding, which would cost tokens on every line.
 */
function renderLine(l: DiffLine): string {
  const text = l.text;
  const eol = l.noNewline ? ' [no newline at end of file]' : '';
  if (l.kind === 'del') return `-${text}${eol}`;
  return `${l.newLine}${l.kind === 'add' ? '+' : ' '}${text}${eol}`;
}
