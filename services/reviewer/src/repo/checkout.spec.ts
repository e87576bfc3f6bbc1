import { lstat, mkdtemp, readdir, readFile, readlink, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { compileGlobs } from '@kritik/core';
import { buildTarball, type TarEntry } from '@kritik/testing';
import {
  type CheckoutLimits,
  DEFAULT_CHECKOUT_LIMITS,
  describeCheckout,
  extractTarball,
  safeEntryPath,
} from './checkout.js';

const TOP = 'acme-api-ccccccc';

describe(extractTarball.name, () => {
  let root: string;
  let outside: string;
  beforeEach(async () => {
    const base = await mkdtemp(path.join(tmpdir(), 'kritik-checkout-'));
    root = path.join(base, 'checkout');
    outside = path.join(base, 'outside');
    await import('node:fs/promises').then((fs) => Promise.all([fs.mkdir(root), fs.mkdir(outside)]));
  });
  afterEach(() => rm(path.dirname(root), { recursive: true, force: true }));

  const run = async (entries: TarEntry[], limits: Partial<CheckoutLimits> = {}, ignore?: string[]) =>
    extractTarball(Readable.from([await buildTarball(entries)]), root, {
      limits: { ...DEFAULT_CHECKOUT_LIMITS, ...limits },
      ...(ignore ? { ignore: compileGlobs(ignore) } : {}),
    });

  it('writes the files under the top directory GitHub adds, without it', async () => {
    const sut = await run([
      { name: `${TOP}/`, type: 'directory' },
      { name: `${TOP}/src/a.ts`, content: 'export const a = 1;\n' },
      { name: `${TOP}/--help`, content: 'a file named like a flag\n' },
    ]);

    expect(sut).toMatchObject({ files: 2, skipped: {} });
    expect(await readFile(path.join(root, 'src/a.ts'), 'utf8')).toBe('export const a = 1;\n');
    expect(await readFile(path.join(root, '--help'), 'utf8')).toContain('flag');
    expect(describeCheckout(sut)).toBe('');
  });

  it('refuses absolute paths and .. and writes nothing outside the checkout', async () => {
    const sut = await run([
      { name: '/etc/kritik-owned', content: 'x' },
      { name: `${TOP}/../../outside/escaped`, content: 'x' },
      { name: `${TOP}/ok.txt`, content: 'ok' },
    ]);

    expect(sut.skipped).toEqual({ 'absolute path': 1, 'path with ..': 1 });
    expect(await readdir(outside)).toEqual([]);
    expect(await readdir(root)).toEqual(['ok.txt']);
  });

  it('keeps links inside the checkout and refuses links that leave it, so no file is written through one', async () => {
    const sut = await run([
      { name: `${TOP}/src/a.ts`, content: 'a' },
      { name: `${TOP}/inside`, type: 'symlink', linkname: 'src/a.ts' },
      { name: `${TOP}/out`, type: 'symlink', linkname: '../outside' },
      { name: `${TOP}/abs`, type: 'symlink', linkname: '/etc/passwd' },
      { name: `${TOP}/out/planted`, content: 'through the link' },
      { name: `${TOP}/hard`, type: 'link', linkname: '/etc/shadow' },
    ]);

    expect(sut.skipped).toMatchObject({ 'symbolic link leaving the checkout': 2, 'hard link': 1 });
    expect(await readlink(path.join(root, 'inside'))).toBe('src/a.ts');
    expect(await readdir(outside)).toEqual([]);
    expect((await lstat(path.join(root, 'out'))).isDirectory()).toBe(true);
  });

  it('leaves out devices and FIFOs', async () => {
    const sut = await run([
      { name: `${TOP}/dev`, type: 'character-device' },
      { name: `${TOP}/pipe`, type: 'fifo' },
    ]);

    expect(sut.skipped).toEqual({ 'character-device entry': 1, 'fifo entry': 1 });
    expect(await readdir(root)).toEqual([]);
  });

  it('leaves out a file over the per-file limit and goes on with the rest', async () => {
    const sut = await run(
      [
        { name: `${TOP}/big.bin`, content: Buffer.alloc(64 * 1024, 1) },
        { name: `${TOP}/small.ts`, content: 'x' },
      ],
      { maxFileBytes: 32 * 1024 },
    );

    expect(sut).toMatchObject({ files: 1, skipped: { 'file over 32 KiB': 1 } });
    expect(describeCheckout(sut)).toContain('1 file over 32 KiB');
  });

  it('stops at the file limit and says the checkout is partial', async () => {
    const entries = Array.from({ length: 10 }, (_, i) => ({ name: `${TOP}/f${i}.ts`, content: 'x' }));

    const sut = await run(entries, { maxFiles: 4 });

    expect(sut.files).toBe(4);
    expect(sut.limitReached).toBe('more than 4 files');
    expect(describeCheckout(sut)).toContain('stopped at 4 files');
  });

  it('stops at the byte limit', async () => {
    const entries = Array.from({ length: 5 }, (_, i) => ({ name: `${TOP}/f${i}.ts`, content: 'x'.repeat(1000) }));

    const sut = await run(entries, { maxBytes: 2500 });

    expect(sut.files).toBe(2);
    expect(sut.limitReached).toMatch(/^more than/);
  });

  it('does not write the paths the review ignores', async () => {
    const sut = await run(
      [
        { name: `${TOP}/package-lock.json`, content: '{}' },
        { name: `${TOP}/src/a.ts`, content: 'a' },
      ],
      {},
      ['package-lock.json'],
    );

    expect(sut.skipped).toEqual({ 'ignored path': 1 });
    expect(describeCheckout(sut)).toBe('');
  });

  it('keeps the first of two entries with one name', async () => {
    const sut = await run([
      { name: `${TOP}/a.ts`, content: 'first' },
      { name: `${TOP}/a.ts`, content: 'second' },
    ]);

    expect(sut.skipped).toEqual({ 'duplicate entry': 1 });
    expect(await readFile(path.join(root, 'a.ts'), 'utf8')).toBe('first');
  });

  it('rejects an archive that is not gzip', async () => {
    await expect(extractTarball(Readable.from([Buffer.from('not a tarball')]), root)).rejects.toThrow();
  });
});

describe(safeEntryPath.name, () => {
  it.each([
    ['a/b/../../../x', 'path with ..'],
    ['/abs', 'absolute path'],
    ['C:/x', 'absolute path'],
    ['top/a\\..\\b', 'backslash in the path'],
    ['top/a\0b', 'NUL byte in the path'],
  ])('refuses %j', (name, reason) => {
    expect(safeEntryPath(name, 1)).toEqual({ refused: reason });
  });

  it('drops the top directory', () => {
    expect(safeEntryPath('top/./src//a.ts', 1)).toEqual({ path: 'src/a.ts' });
  });
});
