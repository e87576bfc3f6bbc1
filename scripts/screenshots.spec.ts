// The docs' screenshots can be taken: the demo runs, its posted review renders, Chromium photographs it.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

jest.setTimeout(120_000);

const root = resolve(__dirname, '..');
const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

describe('scripts/screenshots.ts', () => {
  // Chromium comes from Debian through scripts/tools.sh, like redis-server.
  it('photographs the review and the check run the demo posted', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kritik-screenshots-test-'));
    try {
      execFileSync(join(root, 'node_modules/.bin/tsx'), [join(root, 'scripts/screenshots.ts'), dir], {
        cwd: root,
        stdio: 'pipe',
      });

      for (const name of ['demo-review.png', 'demo-check-run.png']) {
        const image = readFileSync(join(dir, name));
        expect(image.subarray(0, 8)).toEqual(PNG);
        // Width and height from the IHDR chunk: the element, not an empty page.
        expect(image.readUInt32BE(16)).toBeGreaterThan(400);
        expect(image.readUInt32BE(20)).toBeGreaterThan(50);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
