// Unified diff parser: turns `git diff` output (or GitHub's per-file `patch` fragments) into files
// and hunks with old/new line numbers. Tolerant: anything it cannot read is skipped, never thrown.

export type FileStatus = 'added' | 'deleted' | 'modified' | 'renamed' | 'copied';
export type LineKind = 'add' | 'del' | 'ctx';

export interface DiffLine {
  readonly kind: LineKind;
  readonly text: string;
  /** Line number in the old file (null for added lines). */
  readonly oldLine: number | null;
  /** Line number in the new file (null for deleted lines). */
  readonly newLine: number | null;
  /** The line had no trailing newline in its file. */
  noNewline?: boolean;
}

export interface Hunk {
  readonly oldStart: number;
  readonly oldLines: number;
  readonly newStart: number;
  readonly newLines: number;
  /** Text after the second `@@` (usually the enclosing function). */
  readonly section: string;
  readonly lines: DiffLine[];
}

export interface DiffFile {
  /** The path a reviewer talks about: the new path, or the old one for a deleted file. */
  path: string;
  oldPath: string | null;
  newPath: string | null;
  status: FileStatus;
  binary: boolean;
  hunks: Hunk[];
  additions: number;
  deletions: number;
  similarity?: number;
  oldMode?: string;
  newMode?: string;
}

const HUNK_HEADER = /^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@ ?(.*)$/;

/** Parses a whole unified diff (git or plain `diff -u`) into files. */
export function parseUnifiedDiff(text: string): DiffFile[] {
  const lines = splitLines(text);
  const files: DiffFile[] = [];
  let file: DiffFile | null = null;
  let i = 0;
  while (i < lines.length) {
    const line = lines[i]!;
    if (line.startsWith('diff --git ')) {
      file = startFile(parseGitHeaderPaths(line.slice('diff --git '.length)));
      files.push(file);
      i++;
      continue;
    }
    if (line.startsWith('--- ') && lines[i + 1]?.startsWith('+++ ')) {
      const oldPath = parseMarkerPath(line.slice(4));
      const newPath = parseMarkerPath(lines[i + 1]!.slice(4));
      // A plain `diff -u` has no `diff --git` line: each ---/+++ pair after hunks starts a file.
      if (!file || file.hunks.length > 0) {
        file = startFile({ oldPath: oldPath ?? newPath ?? '', newPath: newPath ?? oldPath ?? '' });
        files.push(file);
      }
      file.oldPath = oldPath;
      file.newPath = newPath;
      if (oldPath === null) file.status = 'added';
      else if (newPath === null) file.status = 'deleted';
      i += 2;
      continue;
    }
    if (line.startsWith('@@ ') && file) {
      i = parseHunkAt(lines, i, file);
      continue;
    }
    if (file && file.hunks.length === 0) readExtendedHeader(file, line);
    if (file && line === 'GIT binary patch') {
      file.binary = true;
      i = skipBinaryPatch(lines, i + 1);
      continue;
    }
    i++;
  }
  for (const f of files) finishFile(f);
  return files;
}

/** What a code host's files/compare APIs say about one file, with its `patch` (hunks only). */
export interface PatchMeta {
  filename: string;
  status: string;
  previousFilename?: string | null;
  patch?: string | null;
  additions?: number;
  deletions?: number;
  /** The host left the patch out because the file is over its diff limits (GitLab's `too_large`). */
  tooLarge?: boolean;
}

/**
 * Builds a file from GitHub's per-file metadata and `patch`. A missing patch means a binary file,
 * or a text file GitHub thought too large to show; `patchMissing` tells them apart downstream.
 */
export function fileFromPatch(meta: PatchMeta): DiffFile & { patchMissing: boolean } {
  const status = githubStatus(meta.status);
  const oldPath = status === 'added' ? null : (meta.previousFilename ?? meta.filename);
  const newPath = status === 'deleted' ? null : meta.filename;
  const file = { ...startFile({ oldPath: oldPath ?? meta.filename, newPath: newPath ?? meta.filename }), status };
  file.oldPath = oldPath;
  file.newPath = newPath;
  const patch = meta.patch ?? '';
  const lines = splitLines(patch);
  let i = 0;
  while (i < lines.length) {
    if (lines[i]!.startsWith('@@ ')) i = parseHunkAt(lines, i, file);
    else i++;
  }
  finishFile(file);
  const changed = (meta.additions ?? 0) + (meta.deletions ?? 0);
  const patchMissing = (!meta.patch && changed > 0) || (meta.tooLarge === true && !meta.patch);
  // GitHub omits the patch of binary files and reports no line changes for them.
  if (!meta.patch && changed === 0 && status !== 'renamed' && !patchMissing) file.binary = true;
  if (meta.additions !== undefined && file.hunks.length === 0) file.additions = meta.additions;
  if (meta.deletions !== undefined && file.hunks.length === 0) file.deletions = meta.deletions;
  return { ...file, patchMissing };
}

function githubStatus(status: string): FileStatus {
  switch (status) {
    case 'added':
    case 'removed':
    case 'renamed':
    case 'copied':
      return status === 'removed' ? 'deleted' : status;
    default:
      // 'modified', 'changed', 'unchanged': all mean the file exists on both sides.
      return 'modified';
  }
}

function splitLines(text: string): string[] {
  // A diff saved or piped on Windows ends its lines with CRLF: the CR is framing, not content.
  const lines = text.split(/\r?\n/);
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  return lines;
}

function startFile(paths: { oldPath: string; newPath: string }): DiffFile {
  return {
    path: paths.newPath,
    oldPath: paths.oldPath,
    newPath: paths.newPath,
    status: 'modified',
    binary: false,
    hunks: [],
    additions: 0,
    deletions: 0,
  };
}

function finishFile(file: DiffFile): void {
  file.path = file.newPath ?? file.oldPath ?? file.path;
  if (file.status === 'modified' && file.oldPath && file.newPath && file.oldPath !== file.newPath) {
    file.status = 'renamed';
  }
  let additions = 0;
  let deletions = 0;
  for (const h of file.hunks) {
    for (const l of h.lines) {
      if (l.kind === 'add') additions++;
      else if (l.kind === 'del') deletions++;
    }
  }
  file.additions = additions;
  file.deletions = deletions;
}

function readExtendedHeader(file: DiffFile, line: string): void {
  if (line.startsWith('new file mode ')) {
    file.status = 'added';
    file.oldPath = null;
    file.newMode = line.slice('new file mode '.length);
  } else if (line.startsWith('deleted file mode ')) {
    file.status = 'deleted';
    file.newPath = null;
    file.oldMode = line.slice('deleted file mode '.length);
  } else if (line.startsWith('old mode ')) file.oldMode = line.slice('old mode '.length);
  else if (line.startsWith('new mode ')) file.newMode = line.slice('new mode '.length);
  else if (line.startsWith('rename from ')) {
    file.status = 'renamed';
    file.oldPath = unquote(line.slice('rename from '.length));
  } else if (line.startsWith('rename to ')) {
    file.status = 'renamed';
    file.newPath = unquote(line.slice('rename to '.length));
  } else if (line.startsWith('copy from ')) {
    file.status = 'copied';
    file.oldPath = unquote(line.slice('copy from '.length));
  } else if (line.startsWith('copy to ')) {
    file.status = 'copied';
    file.newPath = unquote(line.slice('copy to '.length));
  } else if (line.startsWith('similarity index ')) {
    file.similarity = Number.parseInt(line.slice('similarity index '.length), 10);
  } else if (line.startsWith('Binary files ') && line.endsWith(' differ')) {
    file.binary = true;
    const m = /^Binary files (.+) and (.+) differ$/.exec(line);
    if (m) {
      if (m[1] === '/dev/null') {
        file.status = 'added';
        file.oldPath = null;
      }
      if (m[2] === '/dev/null') {
        file.status = 'deleted';
        file.newPath = null;
      }
    }
  }
}

/** Parses the hunk starting at lines[start]; returns the index after it. */
function parseHunkAt(lines: readonly string[], start: number, file: DiffFile): number {
  const m = HUNK_HEADER.exec(lines[start]!);
  if (!m) return start + 1;
  const oldStart = Number(m[1]);
  const oldLines = m[2] === undefined ? 1 : Number(m[2]);
  const newStart = Number(m[3]);
  const newLines = m[4] === undefined ? 1 : Number(m[4]);
  const hunk: Hunk = { oldStart, oldLines, newStart, newLines, section: m[5] ?? '', lines: [] };
  file.hunks.push(hunk);
  let oldLeft = oldLines;
  let newLeft = newLines;
  let oldNo = oldStart;
  let newNo = newStart;
  let i = start + 1;
  // Counting the lines the header promises is what keeps a removed "-- x" line from being
  // mistaken for a "--- " file header.
  while (i < lines.length && (oldLeft > 0 || newLeft > 0)) {
    const line = lines[i]!;
    const mark = line[0];
    if (mark === '\\') {
      markNoNewline(hunk);
      i++;
      continue;
    }
    if (mark === '+' && newLeft > 0) {
      hunk.lines.push({ kind: 'add', text: line.slice(1), oldLine: null, newLine: newNo++ });
      newLeft--;
    } else if (mark === '-' && oldLeft > 0) {
      hunk.lines.push({ kind: 'del', text: line.slice(1), oldLine: oldNo++, newLine: null });
      oldLeft--;
    } else if ((mark === ' ' || line === '') && oldLeft > 0 && newLeft > 0) {
      // Some tools strip the single space of an empty context line.
      hunk.lines.push({ kind: 'ctx', text: line.slice(1), oldLine: oldNo++, newLine: newNo++ });
      oldLeft--;
      newLeft--;
    } else {
      break; // a truncated or malformed hunk: keep what was read
    }
    i++;
  }
  if (lines[i]?.startsWith('\\')) {
    markNoNewline(hunk);
    i++;
  }
  return i;
}

function markNoNewline(hunk: Hunk): void {
  const last = hunk.lines[hunk.lines.length - 1];
  if (last) last.noNewline = true;
}

function skipBinaryPatch(lines: readonly string[], start: number): number {
  let i = start;
  while (i < lines.length && !lines[i]!.startsWith('diff --git ')) i++;
  return i;
}

/** `--- a/path\t2024-01-01` → `path`; `/dev/null` → null. */
function parseMarkerPath(raw: string): string | null {
  let path = raw;
  if (!path.startsWith('"')) {
    const tab = path.indexOf('\t');
    if (tab >= 0) path = path.slice(0, tab);
  }
  path = unquote(path.trimEnd());
  if (path === '/dev/null') return null;
  return stripPrefix(path);
}

function stripPrefix(path: string): string {
  return /^[abciwo12]\//.test(path) ? path.slice(2) : path;
}

/** The two paths of `diff --git a/x b/y`, quoted or not, even when they contain spaces. */
function parseGitHeaderPaths(rest: string): { oldPath: string; newPath: string } {
  if (rest.startsWith('"')) {
    const end = findClosingQuote(rest, 0);
    const oldPath = unquote(rest.slice(0, end + 1));
    const newPath = unquote(rest.slice(end + 2));
    return { oldPath: stripPrefix(oldPath), newPath: stripPrefix(newPath) };
  }
  const quoted = rest.indexOf(' "');
  if (quoted >= 0) {
    return { oldPath: stripPrefix(rest.slice(0, quoted)), newPath: stripPrefix(unquote(rest.slice(quoted + 1))) };
  }
  // Unquoted and equal on both sides (the usual case): the line is "a/P b/P".
  const half = (rest.length - 1) / 2;
  if (Number.isInteger(half) && rest[half] === ' ' && rest.slice(2, half) === rest.slice(half + 3)) {
    const p = rest.slice(2, half);
    return { oldPath: p, newPath: p };
  }
  const sep = rest.indexOf(' b/');
  if (sep >= 0) return { oldPath: stripPrefix(rest.slice(0, sep)), newPath: rest.slice(sep + 3) };
  const [a = '', b = a] = rest.split(' ');
  return { oldPath: stripPrefix(a), newPath: stripPrefix(b) };
}

function findClosingQuote(s: string, open: number): number {
  for (let i = open + 1; i < s.length; i++) {
    if (s[i] === '\\') i++;
    else if (s[i] === '"') return i;
  }
  return s.length - 1;
}

const ESCAPES: Record<string, string> = {
  n: '\n',
  t: '\t',
  '"': '"',
  '\\': '\\',
  a: '\x07',
  b: '\b',
  f: '\f',
  v: '\v',
  r: '\r',
};

/** Undoes git's C-style quoting of unusual paths, including octal-escaped UTF-8 bytes. */
export function unquote(path: string): string {
  if (!(path.startsWith('"') && path.endsWith('"') && path.length >= 2)) return path;
  const body = path.slice(1, -1);
  const bytes: number[] = [];
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (c !== '\\') {
      bytes.push(...Buffer.from(c, 'utf8'));
      continue;
    }
    const next = body[i + 1] ?? '';
    if (/[0-7]/.test(next)) {
      const oct = body.slice(i + 1, i + 4);
      bytes.push(Number.parseInt(oct, 8));
      i += 3;
    } else {
      bytes.push(...Buffer.from(ESCAPES[next] ?? next, 'utf8'));
      i += 1;
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

/** The new-side text of a line, for fingerprints; null when the line is not in the diff. */
export function newLineText(file: DiffFile, line: number): string | null {
  for (const h of file.hunks) {
    if (line < h.newStart || line >= h.newStart + h.newLines) continue;
    for (const l of h.lines) if (l.newLine === line) return l.text;
  }
  return null;
}
