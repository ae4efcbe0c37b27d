import { statfsSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Logger } from '../plugin/define.js';

/**
 * What the persisted queue and the spools share about a full disk: telling a full disk from other
 * errors, reporting it (once per interval, with the path and the free space), and the back-off
 * between attempts to write again. A full disk is back-pressure: the writer stops accepting and
 * retries by itself; nothing crashes and nothing already accepted is dropped.
 */

/** Below this much free space, an SQLite I/O error on write is taken for a full disk. */
const NEARLY_FULL_BYTES = 1024 * 1024;

/** Free bytes for an unprivileged writer on the file system holding `path` (or its directory, for a file not created yet); undefined if unknown. */
export function freeBytes(path: string): number | undefined {
  try {
    const s = statfsSync(path);
    return s.bavail * s.bsize;
  } catch {
    // not there (yet): ask about its directory
  }
  try {
    const s = statfsSync(dirname(path));
    return s.bavail * s.bsize;
  } catch {
    return undefined;
  }
}

/**
 * True for errors that mean "no room to write": SQLITE_FULL (a full disk, or the page cap),
 * ENOSPC / EDQUOT from the file system, and SQLite's I/O errors when the file system holding
 * `path` is (nearly) out of space — SQLite reports a short write or a failed fsync/truncate on a
 * full disk as SQLITE_IOERR_*. Any other I/O error is a real fault and is not hidden.
 */
export function isDiskFullError(err: unknown, path?: string): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return false;
  if (code === 'SQLITE_FULL' || code === 'ENOSPC' || code === 'EDQUOT') return true;
  if (!code.startsWith('SQLITE_IOERR')) return false;
  if (path === undefined) return true;
  const free = freeBytes(path);
  return free === undefined || free < NEARLY_FULL_BYTES;
}

/**
 * An SQLite database in WAL mode needs disk space even to delete: every commit appends pages to
 * the write-ahead log, and a checkpoint copies them into the database file (which grows for pages
 * that were only in the log). A writer that filled its disk to the last byte could then neither
 * deliver (its deletions fail) nor free anything: stuck until someone else frees space. So new
 * data stops at a reserve (`reserveBytes` free), kept for deletions and checkpoints, and goes on
 * into the database's own free pages (left by deliveries) while the disk stays below it.
 */
export function roomFor(db: { pragma(source: string, options: { simple: true }): unknown }, path: string, bytes: number, reserveBytes: number): boolean {
  const free = freeBytes(path);
  if (free === undefined || free >= reserveBytes + bytes) return true;
  const pageSize = Number(db.pragma('page_size', { simple: true }));
  const freePages = Number(db.pragma('freelist_count', { simple: true }));
  // rows and b-tree overhead: ask for twice the payload, plus a page
  return freePages * pageSize >= 2 * bytes + pageSize;
}

/** The error a write refused for the reserve is reported with (a full disk, for the callers). */
export function reserveError(path: string, reserveBytes: number): Error {
  return Object.assign(new Error(`less than ${reserveBytes} bytes free on the disk of ${path} (kept for deletions and checkpoints)`), { code: 'ENOSPC' });
}

export interface DiskFullOptions {
  /** What is written (named in the log): "persisted queue", "alerta spool". */
  what: string;
  /** A file or directory on the file system that filled up (for the log and statfs). */
  path: string;
  logger?: Logger;
  /** Repeats of the "still full" warning are at most this often. Default 30 s. */
  logIntervalMs?: number;
  /** First retry delay; doubled on every failure up to `maxRetryMs`. Defaults 100 ms and 5 s. */
  initialRetryMs?: number;
  maxRetryMs?: number;
}

/**
 * The state of one writer against a full disk. `failed(err)` records a failed write and returns
 * the delay before the next attempt; `recovered()` ends the episode (logged once). The first failure
 * is logged at once, then at most once per interval while it lasts, each time with the free space.
 */
export class DiskFullState {
  private since = 0;
  private lastLog = 0;
  private attempts = 0;
  private held = 0;
  private readonly logIntervalMs: number;
  private readonly initialRetryMs: number;
  private readonly maxRetryMs: number;

  constructor(private readonly o: DiskFullOptions) {
    this.logIntervalMs = o.logIntervalMs ?? 30_000;
    this.initialRetryMs = o.initialRetryMs ?? 100;
    this.maxRetryMs = o.maxRetryMs ?? 5_000;
  }

  get full(): boolean {
    return this.attempts > 0;
  }

  /**
   * Records a failed write (`held`: what waits for room, for the log) and returns the delay in ms
   * before trying again.
   */
  failed(err: unknown, held: number, now = Date.now()): number {
    this.held = held;
    if (this.attempts === 0) this.since = now;
    this.attempts++;
    if (this.attempts === 1 || now - this.lastLog >= this.logIntervalMs) {
      this.lastLog = now;
      this.o.logger?.error(
        {
          path: this.o.path,
          free_bytes: freeBytes(this.o.path),
          waiting: held,
          full_for_s: Math.round((now - this.since) / 1000),
          err: (err as Error)?.message,
        },
        `${this.o.what}: the disk is full; not accepting more until there is room (retrying)`,
      );
    }
    return Math.min(this.maxRetryMs, this.initialRetryMs * 2 ** Math.min(20, this.attempts - 1));
  }

  /** A write went through after a full disk: logged once, with how long it lasted. */
  recovered(now = Date.now()): void {
    if (this.attempts === 0) return;
    this.o.logger?.warn(
      { path: this.o.path, free_bytes: freeBytes(this.o.path), waited: this.held, full_for_s: Math.round((now - this.since) / 1000) },
      `${this.o.what}: the disk has room again; accepting`,
    );
    this.attempts = 0;
    this.held = 0;
  }
}
