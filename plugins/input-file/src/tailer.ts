import { appendFileSync, openSync, readSync, fstatSync, closeSync, statSync, unlinkSync } from 'node:fs';
import type { Clock, InputSink, Logger, Metrics } from '@pipeline/core';
import { DeliveryTracker, Outstanding, SEGMENT_LINES } from './delivery.js';
import { discover, type GlobPlan } from './discover.js';
import { LineSplitter, type LineFn } from './lines.js';
import { keyOf, SinceDb, TAIL_BYTES, type SinceEntry } from './sincedb.js';

/**
 * Follows the files the globs match: finds new ones on each discovery, reads what was appended on
 * each stat tick, follows a file by inode (a rename keeps its place), finishes reading a file that
 * was renamed away or deleted through its still-open descriptor (rename+create rotation), and
 * starts over when a file shrank or its bytes before the saved offset changed (copytruncate).
 *
 * Each file's sincedb entry records only what has been delivered (see DeliveryTracker), not what
 * was read: with the memory queue, lines read but still in the queue at a crash are read again.
 * Reads are synchronous, CHUNK bytes at a time; between chunks the loop yields to the event loop
 * (timers, the monitoring API, the persisted queue's commits, the sincedb writes) and waits while
 * the queue is full.
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
  /** One line of the file `key` (its dev:ino, which a rename keeps). */
  line(bytes: Buffer, path: string, truncated: boolean, sink: InputSink, onDelivered: (() => void) | undefined, key: string): void;
  /** The file `key` will give no more lines in sequence (finished, or truncated and read again from its start). */
  ended?(key: string): void;
  /** A sincedb entry changed; `lines` lines were delivered (0: some other change). */
  progress(lines: number): void;
  /** Bytes per read (file_chunk_size). */
  chunkBytes?: number;
  /** Reads of one file before moving on to the next (file_chunk_count). */
  chunkCount?: number;
  /** The order files are read in (file_sort_by, file_sort_direction). */
  sortBy?: 'last_modified' | 'path';
  sortDescending?: boolean;
  /** Files not modified for this long when found are left alone until they change (ignore_older). */
  ignoreOlderMs?: number;
  /** A file is followed from `offset`; it holds `size` bytes now (read mode's progress line). */
  opened?(size: number, offset: number): void;
}

interface Tracked {
  key: string;
  dev: number;
  ino: number;
  path: string;
  fd: number;
  /** Where the next read starts. */
  readPos: number;
  /** Offset just after the last complete line read. */
  committed: number;
  /** Size at the last check (a change triggers the rewrite check). */
  lastSize: number;
  splitter: LineSplitter;
  /** Bytes just before `committed` (the rewrite check). */
  tail: Buffer;
  /** Bytes just before `readPos`: the tails of lines that end near the start of the next chunk. */
  carry: Buffer;
  /** Where this file's lines have been delivered up to: what its sincedb entry records. */
  tracker: DeliveryTracker;
  /** Its sincedb entry, updated in place as the watermark moves. */
  entry: SinceEntry;
  seen: boolean;
  /** Read to its end (rotated away, or read mode): closed once its lines are delivered. */
  finished: boolean;
  /** Read mode: handle as completed once delivered. */
  completes: boolean;
}

/** 64 KiB: a few hundred to a few thousand lines between two turns of the event loop. */
const CHUNK = 64 * 1024;
const EMPTY = Buffer.alloc(0);
const yieldToLoop = () => new Promise<void>((r) => setImmediate(r));

export class Tailer {
  private readonly tracked = new Map<string, Tracked>();

  /** Files open (being read, or read and waiting for their lines' delivery). */
  get openFiles(): number {
    return this.tracked.size;
  }
  private readonly buf: Buffer;
  private readonly chunk: number;
  private firstDiscovery = true;
  /** Files left alone by ignore_older, with their size then: read from there once they change. */
  private readonly ignored = new Map<string, { size: number; mtimeMs: number }>();
  private readonly m;
  /** Lines pushed whose delivery has not been confirmed yet, over all files. */
  readonly outstanding = new Outstanding();

  constructor(private readonly o: TailerOptions) {
    this.chunk = o.chunkBytes ?? CHUNK;
    // the rewrite check keeps the TAIL_BYTES before an offset from one read: never smaller than that
    this.buf = Buffer.allocUnsafe(Math.max(this.chunk, TAIL_BYTES));
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
      if (!known && this.o.ignoreOlderMs !== undefined) {
        const was = this.ignored.get(key);
        if (was === undefined ? this.o.clock.now() - st.mtimeMs > this.o.ignoreOlderMs : was.mtimeMs === st.mtimeMs && was.size === st.size) {
          if (was === undefined) {
            this.ignored.set(key, { size: st.size, mtimeMs: st.mtimeMs });
            this.o.logger.debug({ path: p }, 'ignore_older: file not modified recently; left alone until it changes');
          }
          continue;
        }
        if (was !== undefined) {
          // it changed since: what it held when found stays ignored, what came since is read
          this.ignored.delete(key);
          this.open(p, st.dev, st.ino, st.size, was.size);
          continue;
        }
      }
      if (known) {
        known.seen = true;
        if (known.path !== p) {
          this.o.logger.debug({ from: known.path, to: p }, 'file renamed');
          known.path = p;
          known.entry.path = p;
        }
        continue;
      }
      this.open(p, st.dev, st.ino, st.size);
    }
    this.firstDiscovery = false;
  }

  private open(path: string, dev: number, ino: number, size: number, from?: number): void {
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
    if (saved && saved.offset <= size && this.fdTailMatches(fd, saved.offset, saved.tail)) offset = saved.offset;
    else if (from !== undefined && from <= size) offset = from;
    else if (this.o.mode === 'tail' && this.firstDiscovery && this.o.startAtEnd) offset = size;
    else offset = 0;
    const tail = offset > 0 ? this.readTail(fd, offset) : EMPTY;
    const entry: SinceEntry = { dev, ino, offset, lastActive: this.o.clock.now(), tail, path, completed: false };
    const t: Tracked = {
      key,
      dev,
      ino,
      path,
      fd,
      readPos: offset,
      committed: offset,
      lastSize: size,
      splitter: new LineSplitter(this.o.delimiter, this.o.maxLineBytes),
      tail,
      carry: tail,
      tracker: undefined as unknown as DeliveryTracker,
      entry,
      seen: true,
      finished: false,
      completes: false,
    };
    t.tracker = this.trackerFor(t, offset, tail);
    this.tracked.set(key, t);
    this.o.sincedb?.entries.set(key, entry);
    this.m.discovered.inc();
    this.m.open.set(this.tracked.size);
    this.o.logger.info({ path, offset }, 'following file');
    this.o.opened?.(size, offset);
    this.o.progress(0);
  }

  private trackerFor(t: Tracked, offset: number, tail: Buffer): DeliveryTracker {
    const tracker: DeliveryTracker = new DeliveryTracker(offset, tail, this.outstanding, (lines) => {
      const e = t.entry;
      e.offset = tracker.watermark;
      e.tail = tracker.tail;
      e.lastActive = this.o.clock.now();
      // back in the db if sincedb_clean_after dropped it while the file sat idle
      this.o.sincedb?.entries.set(t.key, e);
      this.o.progress(lines);
      if (t.finished && tracker.idle) this.close(t);
    });
    return tracker;
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

  /**
   * The TAIL_BYTES bytes before index `end` of the chunk in `buf` that starts at `chunkStart`,
   * taken from the bytes as they were read (reading them back later could see a rewritten file).
   */
  private tailAt(t: Tracked, chunkStart: number, end: number): Buffer {
    const want = Math.min(TAIL_BYTES, chunkStart + end);
    if (end >= want) return Buffer.from(this.buf.subarray(end - want, end));
    return Buffer.concat([t.carry.subarray(t.carry.length - (want - end)), this.buf.subarray(0, end)]);
  }

  /** Reads every followed file to its current end; files gone from the globs are finished. */
  async readAll(sink: InputSink, stopping: () => boolean): Promise<void> {
    // rounds: each file gets at most chunkCount reads per round, in the configured order
    let files = this.ordered([...this.tracked.values()].filter((t) => !t.finished));
    while (files.length > 0) {
      const more: Tracked[] = [];
      for (const t of files) {
        if (t.finished) continue;
        if (stopping()) return;
        if (await this.readFile(t, sink, stopping)) {
          more.push(t);
          continue;
        }
        if (!t.finished && !t.seen) {
          // renamed away or deleted: its descriptor was read to the end above
          this.m.rotations.inc();
          this.o.logger.info({ path: t.path }, 'file rotated away or deleted; finished reading it');
          this.finish(t);
        }
      }
      files = more;
    }
  }

  /** file_sort_by / file_sort_direction: by modification time (Logstash's default, oldest first) or path. */
  private ordered(files: Tracked[]): Tracked[] {
    const by = this.o.sortBy;
    if (by === undefined || files.length < 2) return files;
    const key = new Map<Tracked, number | string>();
    for (const t of files) {
      let m = 0;
      if (by === 'last_modified') {
        try {
          m = fstatSync(t.fd).mtimeMs;
        } catch {
          /* gone: read it whenever */
        }
      }
      key.set(t, by === 'path' ? t.path : m);
    }
    const dir = this.o.sortDescending ? -1 : 1;
    return files.sort((a, b) => {
      const x = key.get(a)!;
      const y = key.get(b)!;
      return (x < y ? -1 : x > y ? 1 : 0) * dir;
    });
  }

  /** Reads what `t` holds, at most chunkCount chunks; true when it stopped there with more to read. */
  private async readFile(t: Tracked, sink: InputSink, stopping: () => boolean): Promise<boolean> {
    let size: number;
    try {
      size = fstatSync(t.fd).size;
    } catch {
      return false;
    }
    if (size < t.readPos || (size !== t.lastSize && !this.fdTailMatches(t.fd, t.committed, t.tail))) {
      this.m.truncations.inc();
      this.o.logger.info({ path: t.path, size, offset: t.readPos }, 'file truncated or rewritten; reading from its start');
      this.o.ended?.(t.key);
      t.splitter.reset();
      t.readPos = t.committed = 0;
      t.tail = t.carry = EMPTY;
      // lines of the old content still in the queue no longer say anything about this file
      t.tracker.detach();
      t.tracker = this.trackerFor(t, 0, EMPTY);
      t.entry.offset = 0;
      t.entry.tail = EMPTY;
      this.o.progress(0);
    }
    t.lastSize = size;
    t.entry.lastActive = this.o.clock.now();
    const path = t.path;
    const track = sink.tracksDelivery === true;
    let chunkStart = 0;
    const emit: LineFn = (text, truncated, end) => {
      const tracker = t.tracker;
      this.o.line(text, path, truncated, sink, tracker.add(track), t.key);
      if (end >= 0 && tracker.openLines >= SEGMENT_LINES) tracker.seal(chunkStart + end, this.tailAt(t, chunkStart, end));
    };
    let first = true;
    let chunks = 0;
    const maxChunks = this.o.chunkCount ?? Infinity;
    while (t.readPos < size) {
      if (chunks++ >= maxChunks) return true;
      // A turn of the event loop between chunks, full queue or not: room in the queue comes back
      // through promises alone, and a reader and worker handing over in microtasks would starve
      // timers, I/O and the outputs' write callbacks (so deliveries) until the file is read.
      if (!first) await yieldToLoop();
      first = false;
      if (!sink.writable) await sink.whenWritable();
      if (stopping()) break;
      const n = readSync(t.fd, this.buf, 0, Math.min(this.chunk, size - t.readPos), t.readPos);
      if (n <= 0) break;
      this.m.bytes.inc(n);
      chunkStart = t.readPos;
      const end = t.splitter.push(this.buf.subarray(0, n), emit);
      t.readPos += n;
      if (end >= 0) {
        t.tail = this.tailAt(t, chunkStart, end);
        t.committed = chunkStart + end;
        // lines after the last full segment, or bytes skipped without a line: sealed at the chunk's last line
        if (t.tracker.openLines > 0 || t.committed > t.tracker.sealedEnd) t.tracker.seal(t.committed, t.tail);
      }
      t.carry = n >= TAIL_BYTES ? Buffer.from(this.buf.subarray(n - TAIL_BYTES, n)) : this.tailAt(t, chunkStart, n);
    }
    if (this.o.mode === 'read' && t.readPos >= size && !stopping()) {
      const rest = t.splitter.takeRest();
      if (rest !== undefined) this.o.line(rest, path, false, sink, t.tracker.add(track), t.key);
      if (rest !== undefined || t.readPos > t.committed) {
        t.committed = t.readPos;
        t.tail = this.readTail(t.fd, t.readPos);
        t.tracker.seal(t.committed, t.tail);
      }
      t.completes = true;
      this.finish(t);
    }
    return false;
  }

  /** Nothing more to read from `t`: it is closed (and completed) once its lines are delivered. */
  private finish(t: Tracked): void {
    t.finished = true;
    this.o.ended?.(t.key);
    // the head of an oversize line that will never end: nothing more can complete it
    if (t.tracker.openLines > 0) t.tracker.seal(t.readPos, this.readTail(t.fd, t.readPos));
    if (t.tracker.idle) this.close(t);
  }

  private close(t: Tracked): void {
    if (this.tracked.get(t.key) !== t) return; // closed already
    if (t.completes) this.complete(t);
    try {
      closeSync(t.fd);
    } catch {
      /* already closed */
    }
    this.tracked.delete(t.key);
    this.m.open.set(this.tracked.size);
  }

  /** Read mode, after every line of the file was delivered: remembered as done, then the action. */
  private complete(t: Tracked): void {
    t.entry.completed = true;
    this.o.progress(0);
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
  }

  /** Closes every file (at stop, after the deliveries were waited for); entries keep the watermarks. */
  closeAll(): void {
    for (const t of [...this.tracked.values()]) {
      t.completes &&= t.tracker.idle;
      this.close(t);
    }
  }
}
