// The command line's Io in memory, so CLI specs run `main` in-process and read what it printed.
import type { Io } from '../src/cli/io.js';

export function memoryIo(stdin = '', files: Record<string, string> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const io: Io = {
    stdout: (t) => out.push(t),
    stderr: (t) => err.push(t),
    readStdin: async () => stdin,
    readFile: async (p) => {
      if (p in files) return files[p]!;
      throw Object.assign(new Error(`ENOENT: no such file, open '${p}'`), { code: 'ENOENT' });
    },
    writeFile: async (p, t) => {
      files[p] = t;
    },
    stdinIsTty: false,
  };
  return { io, stdout: () => out.join(''), stderr: () => err.join(''), files };
}
