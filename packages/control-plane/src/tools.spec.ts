import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { findExecutable, installHint, repoRoot, requireTool } from './tools.js';

describe(findExecutable.name, () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'kritik-find-executable-'));
    for (const sub of ['a', 'b', 'b/tool-dir']) mkdirSync(join(dir, sub), { recursive: true });
    writeFileSync(join(dir, 'a', 'tool'), 'not executable');
    writeFileSync(join(dir, 'b', 'tool'), '#!/bin/sh\n');
    chmodSync(join(dir, 'b', 'tool'), 0o755);
    chmodSync(join(dir, 'b', 'tool-dir'), 0o755);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('takes the first executable file along the path, skipping files without the x bit', () => {
    const path = [join(dir, 'a'), join(dir, 'b')].join(delimiter);
    expect(findExecutable('tool', path)).toBe(join(dir, 'b', 'tool'));
  });

  it('does not take a directory for an executable', () => {
    expect(findExecutable('tool-dir', join(dir, 'b'))).toBeUndefined();
  });

  it('resolves a name with a slash against the working directory, not the path', () => {
    expect(findExecutable('./b/tool', '', dir)).toBe(join(dir, 'b', 'tool'));
    expect(findExecutable('./a/tool', join(dir, 'b'), dir)).toBeUndefined();
  });
});

describe(requireTool.name, () => {
  it('finds a tool on PATH', () => {
    const sut = requireTool('node');

    expect(existsSync(sut)).toBe(true);
  });

  it('names the install script when a project tool is missing', () => {
    expect(() => requireTool('kritik-no-such-tool')).toThrow(/npm run tools.*bash scripts\/tools\.sh/);
  });
});

describe(installHint.name, () => {
  it('names the Debian package for etcd', () => {
    expect(installHint('etcd')).toContain('apt-get install -y etcd-server');
  });
});

describe(repoRoot.name, () => {
  it('is the directory holding scripts/tools.sh', () => {
    expect(existsSync(join(repoRoot(), 'scripts', 'tools.sh'))).toBe(true);
  });
});
