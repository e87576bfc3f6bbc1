// `npm run demo`: the newcomer's first command runs the whole platform against the fakes and
// prints what the pull request shows; this asserts what it prints and that it leaves nothing behind.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { ensureBuilt } from '@kritik/e2e';
import { repoRoot } from '@kritik/testing';

jest.setTimeout(180_000);

const run = () =>
  new Promise<{ code: number; stdout: string; stderr: string }>((done) => {
    execFile(
      process.execPath,
      [join(repoRoot(), 'packages', 'standalone', 'dist', 'demo-main.js')],
      { env: { PATH: process.env.PATH, HOME: process.env.HOME }, timeout: 150_000 },
      (error, stdout, stderr) => done({ code: typeof error?.code === 'number' ? error.code : 0, stdout, stderr }),
    );
  });

describe('npm run demo', () => {
  let sut: { code: number; stdout: string; stderr: string };

  beforeAll(async () => {
    ensureBuilt();
    sut = await run();
  });

  it('exits 0 after the review is posted', () => {
    expect({ code: sut.code, stderr: sut.stderr }).toEqual({ code: 0, stderr: '' });
    expect(sut.stdout).toContain('▸ review posted; this is what the pull request shows:');
  });

  it('prints the review body as posted, without its hidden markers', () => {
    expect(sut.stdout).toContain('The discount is applied, but an unknown code breaks the order total.');
    expect(sut.stdout).toContain('**Findings:** 1 major, 1 minor — 2 inline, 0 below.');
    expect(sut.stdout).not.toContain('<!--');
  });

  it('prints each inline comment under the diff line it is attached to', () => {
    const comments = sut.stdout.slice(sut.stdout.indexOf('Inline comments (2)'), sut.stdout.indexOf('── Checks'));
    expect(comments.match(/src\/checkout\/discount\.ts:6\n.*\n.*\n {4}│ \+ {2}return Math\.round/g)).toHaveLength(2);
    expect(comments).toContain('Major: An unknown code makes the total NaN');
    expect(comments).toContain('Minor: Rounding drops the cents');
  });

  it('prints the completed check run with its conclusion', () => {
    expect(sut.stdout).toMatch(/Kritik: neutral — 2 finding\(s\): 1 major, 1 minor/);
  });

  it('stops the platform before it exits', () => {
    const lines = sut.stdout.trimEnd().split('\n');
    expect(lines.at(-1)).toBe('▸ stopping Kritik');
  });
});
