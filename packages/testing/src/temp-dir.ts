// A temp directory for the files one spec writes (config files, certificates), so that a run
// leaves nothing behind: `remove()` it in afterAll.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export class TempDir {
  readonly path: string;
  private files = 0;

  constructor(prefix: string) {
    this.path = mkdtempSync(join(tmpdir(), prefix));
  }

  /** Writes `text` to a new file named after `name` (a counter keeps each call's file apart); returns its path. */
  write(name: string, text: string): string {
    const file = join(this.path, `${++this.files}-${name}`);
    writeFileSync(file, text);
    return file;
  }

  remove(): void {
    rmSync(this.path, { recursive: true, force: true });
  }
}
