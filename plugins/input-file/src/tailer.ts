import { appendFileSync, openSync, readSync, fstatSync, closeSync, statSync, unlinkSync } from 'node:fs';
import type { Clock, InputSink, Logger, Metrics } from '@pipeline/core';
import { discover, type GlobPlan } from './discover.js';
import { LineSplitter } from './lines.js';
import { keyOf, SinceDb, TAIL_BYTES } from './sincedb.js';

/**
 * Follows the files the globs match: finds new ones on each discovery, reads what was appended on
 * each stat tick, follows a file by inode (a rename keeps its place), finishes reading a file that
 * was renamed away or deleted through its still-open descriptor (rename+create rotation), and
 * starts over when a file shrank or its bytes before the saved offset changed (copytruncate).
 * Reads are synchronous and bounded per tick; between files and chunks it yields to the queue.
 */
export interface TailerOptions {
  plans: GlobPlan[];
  excluded: (p: string) => boolean;
  mode: 'tail' | 'read';
  startAtEnd: boolean;
  delimiter: Buffer;
  maxLineBytes: number;
  completedAction: 'log' | 'delete' | 'log_and_delete';
  completedLog?: string;
  sincedb?: SinceDb;
  clock: Clock;
  logger: Logger;
  metrics: Metrics;
  line(text: string, path: string, truncated: boolean, sink: InputSink): void;
}

interface Tracked {
  key: string;
  dev: number;
  ino: number;
  path: string;
  fd: number;
  /** Where the next read starts. */
  readPos: number;
  /** Size at the last check (a change triggers the rewrite check). */
  lastSize: number;
  splitter: LineSplitter;
  /** Bytes just before the committed offset. */
  tail: Buffer;
  seen: boolean;
}

const CHUNK = 256 * 1024;

export class Tailer {
  private readonly tracked = new Map<string, Tracked>();
  private readonly buf = Buffer.allocUnsafe(CHUNK);
  private firstDiscovery = true;
  private readonly m;

  constructor(private readonly o: TailerOptions) {
    const mt = o.metrics;
    this.m = {
      bytes: mt.counter('bytes'),
      discovered: mt.counter('files_discovered'),
      open: mt.gauge('files_open'),
      rotations: mt.counter('rotations'),
      truncations: mt.counter('truncations'),
      completed: mt.counter('files_completed'),
    };
  }

  /** Finds files; new ones are opened at their saved offset, their end, or their start. */
  discover(): void {
    const paths = discover(this.o.plans, this.o.excluded);
    for (const t of this.tracked.values()) t.seen = false;
    for (const p of paths) {
      let st;
      try {
        st = statSync(p);
      } catch {
        continue;
      }
      const key = keyOf(st.dev, st.ino);
      const known = this.tracked.get(key);
      if (known) {
        known.seen = true;
        if (known.path !== p) {
          this.o.logger.debug({ from: known.path, to: p }, 'file renamed');
          known.path = p;
        }
        continue;
      }
      this.open(p, st.dev, st.ino, st.size);
    }
    this.firstDiscovery = false;
  }

  private open(path: string, dev: number, ino: number, size: number): void {
    const key = keyOf(dev, ino);
    const saved = this.o.sincedb?.entries.get(key);
    if (saved?.completed && this.o.mode === 'read' && this.tailMatches(path, saved.offset, saved.tail)) return;
    let fd: number;
    try {
      fd = openSync(path, 'r');
    } catch (e) {
      this.o.logger.warn({ path, err: (e as Error).message }, 'cannot open file');
      return;
    }
    let offset: number;
    let tail: Buffer = Buffer.alloc(0);
    if (saved && saved.offset <= size && this.fdTailMatches(fd, saved.offset, saved.tail)) {
      offset = saved.offset;
      tail = saved.tail;
    } else if (this.o.mode === 'tail' && this.firstDiscovery && this.o.startAtEnd) {
      offset = size;
      tail = this.readTail(fd, offset);
    } else offset = 0;
    const t: Tracked = { key, dev, ino, path, fd, readPos: offset, lastSize: size, splitter: new LineSplitter(this.o.delimiter, this.o.maxLineBytes), tail, seen: true };
    this.tracked.set(key, t);
    this.m.discovered.inc();
    this.m.open.set(this.tracked.size);
    this.o.logger.info({ path, offset }, 'following file');
    this.remember(t);
  }

  private fdTailMatches(fd: number, offset: number, tail: Buffer): boolean {
    if (tail.length === 0) return true; // offset 0: nothing to compare
    if (offset < tail.length) return false;
    const b = Buffer.alloc(tail.length);
    return readSync(fd, b, 0, tail.length, offset - tail.length) === tail.length && b.equals(tail);
  }

  private tailMatches(path: string, offset: number, tail: Buffer): boolean {
    let fd: number | undefined;
    try {
      fd = openSync(path, 'r');
      return this.fdTailMatches(fd, offset, tail);
    } catch {
      return false;
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
  }

  private readTail(fd: number, offset: number): Buffer {
    const n = Math.min(TAIL_BYTES, offset);
    const b = Buffer.alloc(n);
    readSync(fd, b, 0, n, offset - n);
    return b;
  }

  private committed(t: Tracked): number {
    return t.readPos - t.splitter.pending;
  }

  private remember(t: Tracked, completed = false): void {
    const db = this.o.sincedb;
    if (!db) return;
    db.entries.set(t.key, { dev: t.dev, ino: t.ino, offset: this.committed(t), lastActive: this.o.clock.now(), tail: t.tail, path: t.path, completed });
  }

  /** Reads every followed file to its current end; files gone from the globs are finished and closed. */
  async readAll(sink: InputSink, stopping: () => boolean): Promise<void> {
    for (const t of [...this.tracked.values()]) {
      if (stopping()) return;
      await this.readFile(t, sink, stopping);
      if (!t.seen) {
        // renamed away or deleted: its descriptor was read to the end above
        this.m.rotations.inc();
        this.o.logger.info({ path: t.path }, 'file rotated away or deleted; finished reading it');
        this.close(t);
      }
    }
  }

  private async readFile(t: Tracked, sink: InputSink, stopping: () => boolean): Promise<void> {
    let size: number;
    try {
      size = fstatSync(t.fd).size;
    } catch {
      return;
    }
    if (size < t.readPos || (size !== t.lastSize && !this.fdTailMatches(t.fd, this.committed(t), t.tail))) {
      this.m.truncations.inc();
      this.o.logger.info({ path: t.path, size, offset: t.readPos }, 'file truncated or rewritten; reading from its start');
      t.splitter.reset();
      t.readPos = 0;
      t.tail = Buffer.alloc(0);
    }
    t.lastSize = size;
    const path = t.path;
    const emit = (text: string, truncated: boolean) => this.o.line(text, path, truncated, sink);
    while (t.readPos < size) {
      if (!sink.writable) await sink.whenWritable();
      if (stopping()) break;
      const n = readSync(t.fd, this.buf, 0, Math.min(CHUNK, size - t.readPos), t.readPos);
      if (n <= 0) break;
      this.m.bytes.inc(n);
      t.splitter.push(this.buf.subarray(0, n), emit);
      t.readPos += n;
    }
    const c = this.committed(t);
    if (c > 0) t.tail = this.readTail(t.fd, c);
    if (this.o.mode === 'read' && t.readPos >= size && !stopping()) {
      const rest = t.splitter.takeRest();
      if (rest !== undefined) emit(rest, false);
      if (t.readPos > 0) t.tail = this.readTail(t.fd, t.readPos);
      this.complete(t);
      return;
    }
    this.remember(t);
  }

  private complete(t: Tracked): void {
    this.remember(t, true);
    this.m.completed.inc();
    const action = this.o.completedAction;
    if ((action === 'log' || action === 'log_and_delete') && this.o.completedLog) appendFileSync(this.o.completedLog, t.path + '\n');
    if (action === 'delete' || action === 'log_and_delete') {
      try {
        unlinkSync(t.path);
      } catch (e) {
        this.o.logger.warn({ path: t.path, err: (e as Error).message }, 'cannot delete completed file');
      }
    }
    this.close(t);
  }

  private close(t: Tracked): void {
    try {
      closeSync(t.fd);
    } catch {
      /* already closed */
    }
    this.tracked.delete(t.key);
    this.m.open.set(this.tracked.size);
  }

  /** Saves offsets of every followed file and closes them. */
  closeAll(): void {
    for (const t of [...this.tracked.values()]) {
      this.remember(t);
      this.close(t);
    }
  }
}
