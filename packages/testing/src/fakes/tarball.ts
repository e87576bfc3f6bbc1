// Gzipped tar archives for tests, written with tar-stream: the GitHub fake's tarballs and the
// hostile archives (links out, devices, `..`, huge entries) the checkout must refuse.
import { gzipSync } from 'node:zlib';
import { pack } from 'tar-stream';

export interface TarEntry {
  /** The path as stored in the archive, unchecked: hostile names are the point. */
  name: string;
  type?: 'file' | 'directory' | 'symlink' | 'link' | 'character-device' | 'block-device' | 'fifo';
  content?: string | Buffer;
  /** Target of a symlink or hard link. */
  linkname?: string;
  mode?: number;
}

/** A `.tar.gz` holding `entries` in order. */
export async function buildTarball(entries: readonly TarEntry[]): Promise<Buffer> {
  const archive = pack();
  const chunks: Buffer[] = [];
  const done = new Promise<void>((resolve, reject) => {
    archive.on('data', (chunk) => void chunks.push(chunk as Buffer));
    archive.on('end', () => resolve());
    archive.on('error', reject);
  });
  for (const e of entries) {
    const type = e.type ?? 'file';
    const body = type === 'file' ? Buffer.from(e.content ?? '') : undefined;
    await new Promise<void>((resolve, reject) => {
      const header = {
        name: e.name,
        type,
        mode: e.mode ?? (type === 'directory' ? 0o755 : 0o644),
        ...(e.linkname !== undefined ? { linkname: e.linkname } : {}),
        ...(body ? { size: body.length } : {}),
      };
      const cb = (err?: Error | null) => (err ? reject(err) : resolve());
      if (body) archive.entry(header, body, cb);
      else archive.entry(header, cb);
    });
  }
  archive.finalize();
  await done;
  return gzipSync(Buffer.concat(chunks));
}
