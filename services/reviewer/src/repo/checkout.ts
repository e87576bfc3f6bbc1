// The pull request's head tree on disk: a GitHub tarball streamed through gunzip and tar-stream
// into the review's workspace, entry by entry, refusing what could escape it and within limits.
import { mkdir, open, symlink } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import type { PathMatcher } from '@kritik/core';
import { extract, type Header } from 'tar-stream';

export interface CheckoutLimits {
  /** Bytes of file content written in all. */
  maxBytes: number;
  maxFiles: number;
  /** A larger file is left out (and reported), the rest goes on. */
  maxFileBytes: number;
}

export const DEFAULT_CHECKOUT_LIMITS: CheckoutLimits = {
  maxBytes: 256 * 1024 * 1024,
  maxFiles: 20_000,
  maxFileBytes: 1024 * 1024,
};

/** What was checked out, and what was not with why: the review says it instead of failing. */
export interface Checkout {
  files: number;
  bytes: number;
  /** Entries left out, counted by reason ("symbolic link leaving the checkout": 2). */
  skipped: Record<string, number>;
  /** Set when a total limit stopped the extraction: the checkout is partial. */
  limitReached?: string;
}

export interface ExtractOptions {
  limits?: CheckoutLimits;
  /** Paths the review ignores are not written at all. */
  ignore?: PathMatcher;
}

/** Leading path components dropped: GitHub's tarball and GitLab's archive have one top directory. */
const TOP_DIRS = 1;

/**
 * The archive path as a safe relative path, or why it is refused. Refused: absolute paths, drive
 * letters, `..` anywhere, NUL bytes and backslashes (which some tools read as separators).
 */
export function safeEntryPath(name: string, strip: number): { path: string } | { refused: string } {
  if (name.includes('\0')) return { refused: 'NUL byte in the path' };
  if (name.includes('\\')) return { refused: 'backslash in the path' };
  if (name.startsWith('/') || /^[A-Za-z]:/.test(name)) return { refused: 'absolute path' };
  const parts = name.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) return { refused: 'path with ..' };
  const rest = parts.slice(strip);
  return { path: rest.join('/') };
}

/**
 * Extracts a gzipped tar into `root` (which must exist and be empty). Never follows a link while
 * writing: symbolic links are created last, and only those whose target stays inside the
 * checkout; hard links, devices and FIFOs are left out. Rejects only on a broken archive or I/O.
 */
export async function extractTarball(
  source: AsyncIterable<Uint8Array> | Readable,
  root: string,
  options: ExtractOptions = {},
): Promise<Checkout> {
  const limits = options.limits ?? DEFAULT_CHECKOUT_LIMITS;
  const result: Checkout = { files: 0, bytes: 0, skipped: {} };
  const skip = (reason: string) => {
    result.skipped[reason] = (result.skipped[reason] ?? 0) + 1;
  };
  const links: { at: string; target: string }[] = [];
  // Archive bytes read, skipped entries included: a pile of oversized entries must end too.
  let seen = 0;
  const maxSeen = limits.maxBytes * 4;
  const tar = extract();
  const gunzip = createGunzip();
  const input = source instanceof Readable ? source : Readable.from(source);
  const fail = (error: Error) => tar.destroy(error);
  input.on('error', fail);
  gunzip.on('error', fail);
  input.pipe(gunzip).pipe(tar as unknown as NodeJS.WritableStream);

  try {
    for await (const entry of tar) {
      const header = entry.header;
      seen += header.size ?? 0;
      if (seen > maxSeen) {
        result.limitReached = `the archive is larger than ${mib(maxSeen)}`;
        break;
      }
      const outcome = await place(header);
      if (outcome === 'stop') break;
      if (outcome === 'skip') {
        entry.resume();
        continue;
      }
      const fh = await open(outcome, 'wx', 0o644).catch((error: NodeJS.ErrnoException) => {
        if (error.code === 'EEXIST') return null;
        throw error;
      });
      if (!fh) {
        // `wx` never replaces what is there (a duplicate entry) nor writes through a link.
        skip('duplicate entry');
        entry.resume();
        continue;
      }
      try {
        for await (const chunk of entry) await fh.write(chunk as Uint8Array);
      } finally {
        await fh.close();
      }
      result.files++;
      result.bytes += header.size ?? 0;
    }
  } finally {
    input.unpipe();
    gunzip.destroy();
    input.destroy();
  }

  /** Where a file entry goes, or what to do with any other entry. */
  async function place(header: Header): Promise<string | 'skip' | 'stop'> {
    const checked = safeEntryPath(header.name, TOP_DIRS);
    if ('refused' in checked) {
      skip(checked.refused);
      return 'skip';
    }
    const rel = checked.path;
    if (rel === '') return 'skip';
    const target = path.join(root, rel);
    switch (header.type) {
      case 'directory':
        if (!(await makeDir(target))) skip('path conflict');
        return 'skip';
      case 'symlink': {
        const to = header.linkname ?? '';
        if (path.isAbsolute(to) || !inside(root, path.resolve(path.dirname(target), to)))
          skip('symbolic link leaving the checkout');
        else links.push({ at: target, target: to });
        return 'skip';
      }
      case 'file':
      case 'contiguous-file':
        break;
      case 'link':
        skip('hard link');
        return 'skip';
      default:
        skip(`${header.type} entry`);
        return 'skip';
    }
    if (options.ignore?.(rel)) {
      skip('ignored path');
      return 'skip';
    }
    const size = header.size ?? 0;
    if (size > limits.maxFileBytes) {
      skip(`file over ${mib(limits.maxFileBytes)}`);
      return 'skip';
    }
    if (result.files + 1 > limits.maxFiles) {
      result.limitReached = `more than ${limits.maxFiles} files`;
      return 'stop';
    }
    if (result.bytes + size > limits.maxBytes) {
      result.limitReached = `more than ${mib(limits.maxBytes)} of files`;
      return 'stop';
    }
    if (!(await makeDir(path.dirname(target)))) {
      skip('path conflict');
      return 'skip';
    }
    return target;
  }

  for (const link of links) {
    try {
      await mkdir(path.dirname(link.at), { recursive: true, mode: 0o755 });
      await symlink(link.target, link.at);
    } catch {
      skip('link over an existing path');
    }
  }
  return result;
}

/** A directory a file was already written at (a hostile archive's trick) is a conflict, not a failure. */
async function makeDir(dir: string): Promise<boolean> {
  try {
    await mkdir(dir, { recursive: true, mode: 0o755 });
    return true;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST' || code === 'ENOTDIR') return false;
    throw error;
  }
}

/** Whether `p` is `root` or under it (both resolved). */
export const inside = (root: string, p: string) => p === root || p.startsWith(root + path.sep);

const mib = (bytes: number) =>
  bytes >= 1024 * 1024 ? `${Math.round((bytes / 1024 / 1024) * 10) / 10} MiB` : `${Math.round(bytes / 1024)} KiB`;

/** One sentence for the review of what the checkout left out, or '' when it is complete. */
export function describeCheckout(c: Checkout): string {
  const parts = Object.entries(c.skipped)
    .filter(([reason]) => reason !== 'ignored path')
    .map(([reason, n]) => `${n} ${reason}`);
  const limit = c.limitReached ? `stopped at ${c.files} files (${c.limitReached}); ` : '';
  if (!limit && parts.length === 0) return '';
  return `The repository checkout is partial: ${limit}${parts.length ? `left out: ${parts.join(', ')}` : ''}`.replace(
    /; $/,
    '',
  );
}
