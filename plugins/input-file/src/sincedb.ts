import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * Where each file was read up to, keyed by device and inode (a renamed file keeps its place).
 * Next to the offset it keeps the bytes just before it (`tail`), so a file truncated and
 * rewritten past the old offset, or a new file that reuses a deleted file's inode, is recognised
 * and read from its start instead of from a stale offset.
 *
 * On disk (version 1), one header line and one tab-separated line per file:
 *   pipeline-sincedb 1
 *   <dev> <ino> <offset> <last active ms> <tail hex> <path> <completed 0|1>
 * Written to a temporary file and renamed over the old one, so a crash leaves either version.
 */
export const SINCEDB_VERSION = 1;
const HEADER = `pipeline-sincedb ${SINCEDB_VERSION}`;

export interface SinceEntry {
  dev: number;
  ino: number;
  offset: number;
  lastActive: number;
  /** Up to TAIL_BYTES bytes ending at `offset`. */
  tail: Buffer;
  path: string;
  /** Read mode: the file was read to its end and handled. */
  completed: boolean;
}

export const TAIL_BYTES = 64;
export const keyOf = (dev: number, ino: number) => `${dev}:${ino}`;

export class SinceDb {
  readonly entries = new Map<string, SinceEntry>();

  /** `path` undefined (sincedb_path "/dev/null"): entries live for this run only, nothing is read or written. */
  constructor(readonly path: string | undefined) {}

  /** Loads the file; a missing file is an empty db; an unknown version is refused. */
  load(): void {
    if (this.path === undefined) return;
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw e;
    }
    const lines = text.split('\n');
    if (lines[0] !== HEADER) throw new Error(`${this.path}: not a pipeline sincedb version ${SINCEDB_VERSION} (first line '${lines[0]}'); move it away to start over`);
    for (const line of lines.slice(1)) {
      if (!line) continue;
      const c = line.split('\t');
      if (c.length < 7) continue;
      const e: SinceEntry = { dev: +c[0]!, ino: +c[1]!, offset: +c[2]!, lastActive: +c[3]!, tail: Buffer.from(c[4]!, 'hex'), path: c[5]!, completed: c[6] === '1' };
      if ([e.dev, e.ino, e.offset, e.lastActive].some((n) => !Number.isFinite(n))) continue;
      this.entries.set(keyOf(e.dev, e.ino), e);
    }
  }

  /** Drops entries not active for `maxAgeMs`, then writes atomically. */
  save(nowMs: number, maxAgeMs: number): void {
    if (this.path === undefined) return;
    const out = [HEADER];
    for (const [k, e] of this.entries) {
      if (nowMs - e.lastActive > maxAgeMs) {
        this.entries.delete(k);
        continue;
      }
      out.push([e.dev, e.ino, e.offset, e.lastActive, e.tail.toString('hex'), e.path.replace(/[\t\n]/g, ' '), e.completed ? 1 : 0].join('\t'));
    }
    mkdirSync(dirname(this.path), { recursive: true });
    const tmp = `${this.path}.tmp`;
    writeFileSync(tmp, out.join('\n') + '\n', { mode: 0o600 });
    renameSync(tmp, this.path);
  }
}
