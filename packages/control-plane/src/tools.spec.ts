import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { installHint, repoRoot, requireTool } from './tools.js';

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
