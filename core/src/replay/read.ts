import { createReadStream, openSync, readSync, closeSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { createGunzip } from 'node:zlib';

/**
 * Reading archived logs for `pipeline replay`: plain or gzip files (told by their first bytes, not
 * their name), in the order logrotate made them, as lines.
 */

/** True when the file starts with gzip's magic bytes. */
export function isGzip(file: string): boolean {
  const fd = openSync(file, 'r');
  try {
    const b = Buffer.alloc(2);
    return readSync(fd, b, 0, 2, 0) === 2 && b[0] === 0x1f && b[1] === 0x8b;
  } finally {
    closeSync(fd);
  }
}

/**
 * Oldest first, as logrotate names them: `messages.3.gz messages.2.gz messages.1 messages`, and
 * `messages-20240301.gz messages-20240302 messages` (dateext). Files of different logs keep the
 * order they were given in (each log where its first file was named).
 */
export function rotationOrder(files: readonly string[]): string[] {
  const parsed = files.map((f, i) => {
    const name = basename(f).replace(/\.gz$/, '');
    let m = /^(.*)\.(\d{1,4})$/.exec(name);
    if (m) return { f, i, base: join(dirname(f), m[1]!), rank: -Number(m[2]) };
    m = /^(.*)-(\d{8}(?:\d{2})?)$/.exec(name);
    if (m) return { f, i, base: join(dirname(f), m[1]!), rank: Number(m[2]) - 1e12 };
    return { f, i, base: join(dirname(f), name), rank: 0 };
  });
  const firstSeen = new Map<string, number>();
  for (const p of parsed) if (!firstSeen.has(p.base)) firstSeen.set(p.base, p.i);
  return parsed.sort((a, b) => firstSeen.get(a.base)! - firstSeen.get(b.base)! || a.rank - b.rank || a.i - b.i).map((p) => p.f);
}

export function totalBytes(files: readonly string[]): number {
  let n = 0;
  for (const f of files) n += statSync(f).size;
  return n;
}

/**
 * The lines of a file, a chunk's worth at a time (the last line without its newline too; a line's
 * `\n` is removed, a `\r` before it kept, as sec reads it). `onBytes` is told of each chunk's size as
 * read from disk (compressed bytes for a gzip file), for a progress bar.
 */
export async function* readLines(file: string, onBytes?: (n: number) => void): AsyncGenerator<string[]> {
  const raw = createReadStream(file, { highWaterMark: 1 << 20 });
  if (onBytes) raw.on('data', (c) => onBytes((c as Buffer).length));
  let stream: NodeJS.ReadableStream & { setEncoding(e: BufferEncoding): unknown } = raw;
  if (isGzip(file)) {
    const gz = createGunzip();
    raw.on('error', (e) => gz.destroy(e));
    stream = raw.pipe(gz);
  }
  stream.setEncoding('utf8');
  let pending = '';
  try {
    for await (const chunk of stream as AsyncIterable<string>) {
      const text = pending + chunk;
      const lines = text.split('\n');
      pending = lines.pop()!;
      if (lines.length > 0) yield lines;
    }
  } finally {
    raw.destroy();
  }
  if (pending.length > 0) yield [pending];
}
