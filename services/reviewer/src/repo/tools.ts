// The read-only tools the model explores the checkout with: read_file, search, list_files. No
// shell, no writes; every path is resolved (links included) and refused outside the checkout.
import type { Dirent } from 'node:fs';
import { open, readdir, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Tool } from '@anthropic-ai/sdk/resources/messages/messages';
import { compileGlobs, type PathMatcher } from '@kritik/core';
import { RE2JS } from 're2js';
import { redactSecrets } from '../checks/checks.js';
import { dataBlock } from '../prompt/prompt.js';
import { inside } from './checkout.js';

export const READ_FILE = 'read_file';
export const SEARCH = 'search';
export const LIST_FILES = 'list_files';

/** Offered to the model beside submit_review; the names and inputs are a public contract. */
export const READ_TOOLS: readonly Tool[] = [
  {
    name: READ_FILE,
    description:
      'Read a file of the repository at the pull request head, as numbered lines. Large files come a page at a time: ask for the next page with start_line.',
    input_schema: {
      type: 'object',
      properties: {
        path: { type: 'string', description: 'Path relative to the repository root.' },
        start_line: { type: 'integer', description: 'First line to return (1-based). Default 1.' },
        end_line: { type: 'integer', description: 'Last line to return. Default: one page.' },
      },
      required: ['path'],
    },
  },
  {
    name: SEARCH,
    description:
      'Search the repository for a regular expression (RE2 syntax: no backreferences or lookaround). Returns path:line:text matches, capped.',
    input_schema: {
      type: 'object',
      properties: {
        pattern: { type: 'string', description: 'RE2 regular expression matched against each line.' },
        path_glob: { type: 'string', description: 'Only search files matching this glob, e.g. src/**/*.ts.' },
      },
      required: ['pattern'],
    },
  },
  {
    name: LIST_FILES,
    description: 'List the repository files, optionally only those matching a glob. Capped.',
    input_schema: {
      type: 'object',
      properties: { glob: { type: 'string', description: 'Glob such as src/**/*.test.ts.' } },
    },
  },
];

export interface ToolLimits {
  /** Characters of one tool result (about a quarter in tokens). */
  maxResultChars: number;
  /** Files larger than this are not read or searched. */
  maxFileBytes: number;
  /** Lines of one read_file page. */
  pageLines: number;
  /** Longer lines are cut, so one minified line cannot fill a result. */
  maxLineChars: number;
  maxMatches: number;
  maxListed: number;
  /** Files walked at most; a larger tree is listed and searched in part, said in the result. */
  maxWalkFiles: number;
  /** Wall-clock cap of one search. */
  searchMs: number;
  maxPatternChars: number;
}

export const DEFAULT_TOOL_LIMITS: ToolLimits = {
  maxResultChars: 12_000,
  maxFileBytes: 1024 * 1024,
  pageLines: 250,
  maxLineChars: 400,
  maxMatches: 60,
  maxListed: 400,
  maxWalkFiles: 20_000,
  searchMs: 2_000,
  maxPatternChars: 500,
};

export interface ToolResult {
  content: string;
  isError: boolean;
}

class ToolFailure extends Error {}

const fail = (message: string): never => {
  throw new ToolFailure(message);
};

/** Tools over one checkout; results are cached, so a repeated call (or a later unit's) costs nothing. */
export class RepoTools {
  /** Files whose content the model read (read_file), relative to the root. */
  readonly filesRead = new Set<string>();
  private readonly cache = new Map<string, ToolResult>();
  private walked?: { files: string[]; truncated: boolean };

  private constructor(
    /** The checkout's real path: every resolved path must stay under it. */
    readonly root: string,
    private readonly ignore: PathMatcher,
    readonly limits: ToolLimits,
  ) {}

  static async open(root: string, options: { ignore?: PathMatcher; limits?: Partial<ToolLimits> } = {}) {
    return new RepoTools(await realpath(root), options.ignore ?? (() => false), {
      ...DEFAULT_TOOL_LIMITS,
      ...options.limits,
    });
  }

  /** Runs one tool call; every failure is an error result the model can act on, never a throw. */
  async run(name: string, input: unknown): Promise<ToolResult> {
    const key = `${name}\n${JSON.stringify(input)}`;
    const cached = this.cache.get(key);
    if (cached) return cached;
    let result: ToolResult;
    try {
      const args = (typeof input === 'object' && input !== null ? input : {}) as Record<string, unknown>;
      const text =
        name === READ_FILE
          ? await this.readFile(args)
          : name === SEARCH
            ? await this.search(args)
            : name === LIST_FILES
              ? await this.listFiles(args)
              : fail(`unknown tool ${name}; use ${READ_FILE}, ${SEARCH}, ${LIST_FILES} or submit_review`);
      // File contents are untrusted like the diff: delimited as data, and no secret reaches the model.
      result = { content: dataBlock(name, this.cap(redactSecrets(text).text)), isError: false };
    } catch (error) {
      const message = error instanceof ToolFailure ? error.message : `could not run ${name}: ${codeOf(error)}`;
      result = { content: message, isError: true };
    }
    this.cache.set(key, result);
    return result;
  }

  private cap(text: string): string {
    const max = this.limits.maxResultChars;
    return text.length <= max ? text : `${text.slice(0, max)}\n[result cut at ${max} characters]`;
  }

  /** The path's real location inside the checkout, or a failure saying why not. */
  async resolve(input: unknown): Promise<{ abs: string; rel: string }> {
    if (typeof input !== 'string' || input.trim() === '') return fail('path must be a non-empty string');
    if (input.includes('\0')) return fail('path contains a NUL byte');
    if (path.isAbsolute(input))
      return fail(`${input}: absolute paths are refused; give a path relative to the repository root`);
    const lexical = path.resolve(this.root, input);
    if (!inside(this.root, lexical)) return fail(`${input}: outside the repository checkout`);
    let real: string;
    try {
      real = await realpath(lexical);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') return fail(`${input}: no such file in the repository`);
      if (code === 'ELOOP') return fail(`${input}: symbolic link loop`);
      return fail(`${input}: cannot be read (${code ?? 'error'})`);
    }
    if (!inside(this.root, real)) return fail(`${input}: a link that leads outside the repository checkout`);
    return { abs: real, rel: path.relative(this.root, lexical).split(path.sep).join('/') };
  }

  private async readText(abs: string, rel: string): Promise<string> {
    const info = await stat(abs);
    if (info.isDirectory()) return fail(`${rel}: is a directory; use ${LIST_FILES} with a glob such as ${rel}/**`);
    if (!info.isFile()) return fail(`${rel}: not a regular file`);
    if (info.size > this.limits.maxFileBytes) {
      return fail(
        `${rel}: too large to read (${info.size} bytes, limit ${this.limits.maxFileBytes}); use ${SEARCH} with path_glob to find lines in other files`,
      );
    }
    const fh = await open(abs, 'r');
    try {
      const bytes = await fh.readFile();
      if (bytes.subarray(0, 8192).includes(0)) return fail(`${rel}: binary file`);
      return bytes.toString('utf8');
    } finally {
      await fh.close();
    }
  }

  private line(text: string): string {
    const max = this.limits.maxLineChars;
    return text.length <= max ? text : `${text.slice(0, max)} [line cut: ${text.length} characters]`;
  }

  private async readFile(args: Record<string, unknown>): Promise<string> {
    const { abs, rel } = await this.resolve(args.path);
    const lines = (await this.readText(abs, rel)).split('\n');
    if (lines.at(-1) === '') lines.pop();
    const total = lines.length;
    const start = integer(args.start_line, 'start_line') ?? 1;
    if (start < 1) return fail('start_line must be 1 or more');
    if (total === 0) return `${rel}: empty file`;
    if (start > total) return fail(`${rel} has ${total} lines; start_line ${start} is past the end`);
    const wanted = integer(args.end_line, 'end_line') ?? start + this.limits.pageLines - 1;
    if (wanted < start) return fail('end_line must not be before start_line');
    const end = Math.min(total, wanted, start + this.limits.pageLines - 1);
    this.filesRead.add(rel);
    const out: string[] = [];
    let used = 0;
    let last = start - 1;
    for (let n = start; n <= end; n++) {
      const row = `${n}: ${this.line(lines[n - 1]!)}`;
      if (used + row.length > this.limits.maxResultChars - 300) break;
      out.push(row);
      used += row.length + 1;
      last = n;
    }
    const more =
      last < total ? `\n[lines ${last + 1}-${total} not shown: call ${READ_FILE} with start_line=${last + 1}]` : '';
    return `${rel} (lines ${start}-${last} of ${total})\n${out.join('\n')}${more}`;
  }

  private async search(args: Record<string, unknown>): Promise<string> {
    const pattern = args.pattern;
    if (typeof pattern !== 'string' || pattern === '') return fail('pattern must be a non-empty string');
    if (pattern.length > this.limits.maxPatternChars)
      return fail(`pattern longer than ${this.limits.maxPatternChars} characters`);
    let re: RE2JS;
    try {
      re = RE2JS.compile(pattern);
    } catch (error) {
      return fail(`invalid regular expression (RE2 syntax): ${(error as Error).message.slice(0, 200)}`);
    }
    const only = typeof args.path_glob === 'string' && args.path_glob.trim() ? compileGlobs([args.path_glob]) : null;
    const { files, truncated } = await this.walk();
    const deadline = Date.now() + this.limits.searchMs;
    const matches: string[] = [];
    let searched = 0;
    let stopped = '';
    for (const rel of files) {
      if (only && !only(rel)) continue;
      if (Date.now() > deadline) {
        stopped = `search stopped after ${this.limits.searchMs} ms (${searched} files searched); narrow path_glob`;
        break;
      }
      let text: string;
      try {
        const { abs } = await this.resolve(rel);
        text = await this.readText(abs, rel);
      } catch {
        continue; // binary, too large, a link out: not searchable, like grep -I
      }
      searched++;
      const lines = text.split('\n');
      for (let i = 0; i < lines.length && matches.length < this.limits.maxMatches; i++) {
        if (re.test(lines[i]!)) matches.push(`${rel}:${i + 1}:${this.line(lines[i]!).slice(0, 200)}`);
      }
      if (matches.length >= this.limits.maxMatches) {
        stopped = `first ${this.limits.maxMatches} matches shown; narrow the pattern or path_glob`;
        break;
      }
    }
    const notes = [stopped, truncated ? `only the first ${files.length} files of the checkout are searched` : '']
      .filter(Boolean)
      .map((n) => `[${n}]`);
    if (matches.length === 0)
      return [`no match for ${JSON.stringify(pattern)} in ${searched} files`, ...notes].join('\n');
    return [...matches, ...notes].join('\n');
  }

  private async listFiles(args: Record<string, unknown>): Promise<string> {
    const glob = typeof args.glob === 'string' && args.glob.trim() ? args.glob : null;
    const only = glob ? compileGlobs([glob]) : null;
    const { files, truncated } = await this.walk();
    const hits = only ? files.filter(only) : files;
    const shown = hits.slice(0, this.limits.maxListed);
    const notes = [
      hits.length > shown.length ? `[${hits.length - shown.length} more; narrow the glob]` : '',
      truncated ? `[the checkout has more than ${files.length} files; only those are listed]` : '',
    ].filter(Boolean);
    if (hits.length === 0) return [`no files${glob ? ` match ${JSON.stringify(glob)}` : ''}`, ...notes].join('\n');
    return [...shown, ...notes].join('\n');
  }

  /** Every file path under the root (links not followed), sorted, up to maxWalkFiles. */
  private async walk(): Promise<{ files: string[]; truncated: boolean }> {
    if (this.walked) return this.walked;
    const files: string[] = [];
    let truncated = false;
    const queue = [''];
    while (queue.length > 0 && !truncated) {
      const dir = queue.shift()!;
      let entries: Dirent[];
      try {
        entries = await readdir(path.join(this.root, dir), { withFileTypes: true });
      } catch {
        continue;
      }
      entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      for (const e of entries) {
        const rel = dir ? `${dir}/${e.name}` : e.name;
        if (e.isDirectory()) {
          if (e.name !== '.git' && !this.ignore(`${rel}/_`)) queue.push(rel);
        } else if ((e.isFile() || e.isSymbolicLink()) && !this.ignore(rel)) {
          if (files.length >= this.limits.maxWalkFiles) {
            truncated = true;
            break;
          }
          files.push(rel);
        }
      }
    }
    this.walked = { files: files.sort(), truncated };
    return this.walked;
  }
}

function integer(value: unknown, name: string): number | undefined {
  if (value === undefined || value === null) return undefined;
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n)) return fail(`${name} must be an integer`);
  return n;
}

function codeOf(error: unknown): string {
  return (error as NodeJS.ErrnoException)?.code ?? (error as Error)?.message?.slice(0, 200) ?? String(error);
}
