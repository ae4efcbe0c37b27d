import { chmodSync, closeSync, constants, fchmodSync, fstatSync, ftruncateSync, mkdirSync, openSync, statSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Clock, Counter, Gauge } from '@pipeline/core';
import { OpenFile } from './open-file.js';

export interface PoolSettings {
  readonly maxOpen: number;
  readonly gzip: boolean;
  readonly overwrite: boolean;
  readonly createIfDeleted: boolean;
  readonly dirMode: number;
  readonly fileMode: number;
  /** How often (ms) a written file's path is stat'ed to notice rotation by rename or deletion. */
  readonly identityCheckMs: number;
}

export interface PoolMetrics {
  readonly events: Counter;
  readonly filesOpen: Gauge;
  readonly writeErrors: Counter;
  readonly reopens: Counter;
  readonly eventsDropped: Counter;
}

/**
 * Thrown by `acquire` when the file does not exist and `create_if_deleted` is false; `vanished`
 * is the open file whose path disappeared (its buffered lines must go elsewhere).
 */
export class FileMissing extends Error {
  constructor(
    path: string,
    readonly vanished?: OpenFile,
  ) {
    super(`${path} does not exist and create_if_deleted is false`);
  }
}

const APPEND = constants.O_WRONLY | constants.O_CREAT | constants.O_APPEND;
const OVERWRITE = constants.O_WRONLY | constants.O_CREAT;

/**
 * The open files, least recently written first (a Map keeps insertion order; a file is moved to
 * the end whenever a batch writes to it). Opening beyond `maxOpen` flushes and closes the oldest.
 */
export class FilePool {
  private readonly files = new Map<string, OpenFile>();
  /** Directories known to exist, so a reopen does not walk the tree again. */
  private readonly knownDirs = new Set<string>();

  constructor(
    private readonly settings: PoolSettings,
    private readonly clock: Clock,
    private readonly metrics: PoolMetrics,
    /** Called when buffered events are dropped after write failures (for logging). */
    private readonly onDrop: (file: string, events: number, err: unknown) => void,
  ) {}

  get size(): number {
    return this.files.size;
  }

  /** The open file for `path`, opened (and its directories made) if needed; `force` ignores create_if_deleted. */
  acquire(path: string, force = false): OpenFile {
    let f = this.files.get(path);
    if (f !== undefined) {
      if (!this.checkIdentity(f)) throw new FileMissing(path, f);
      this.files.delete(path);
      this.files.set(path, f);
      return f;
    }
    f = this.open(path, force);
    this.files.set(path, f);
    while (this.files.size > this.settings.maxOpen) {
      const oldest = this.files.values().next().value as OpenFile;
      this.close(oldest);
    }
    this.metrics.filesOpen.set(this.files.size);
    return f;
  }

  private open(path: string, force: boolean): OpenFile {
    const { fileMode, createIfDeleted, overwrite } = this.settings;
    this.ensureDir(dirname(path));
    const existed = fileMode >= 0 || !createIfDeleted ? exists(path) : true;
    if (!existed && !createIfDeleted && !force) throw new FileMissing(path);
    let fd: number;
    try {
      fd = openSync(path, overwrite ? OVERWRITE : APPEND, fileMode >= 0 ? fileMode : 0o666);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      // a directory we thought existed was removed meanwhile: make it again, once
      this.knownDirs.clear();
      this.ensureDir(dirname(path));
      fd = openSync(path, overwrite ? OVERWRITE : APPEND, fileMode >= 0 ? fileMode : 0o666);
    }
    if (!existed && fileMode >= 0) fchmodSync(fd, fileMode); // exact mode, regardless of umask
    const st = fstatSync(fd);
    return new OpenFile(path, fd, st.dev, st.ino, this.clock.now(), force);
  }

  private ensureDir(dir: string): void {
    if (this.knownDirs.has(dir)) return;
    const missing: string[] = [];
    for (let d = dir; !exists(d); d = dirname(d)) {
      missing.push(d);
      if (dirname(d) === d) break;
    }
    for (let i = missing.length - 1; i >= 0; i--) {
      try {
        mkdirSync(missing[i]!);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        continue;
      }
      if (this.settings.dirMode >= 0) chmodSync(missing[i]!, this.settings.dirMode);
    }
    if (this.knownDirs.size >= 4096) this.knownDirs.clear();
    this.knownDirs.add(dir);
  }

  /**
   * Reopens `f` if its path no longer names the file it has open (renamed by logrotate `create`,
   * or deleted). Returns false when the path vanished and create_if_deleted is false.
   */
  private checkIdentity(f: OpenFile): boolean {
    const now = this.clock.now();
    if (now - f.lastIdentityCheck < this.settings.identityCheckMs) return true;
    f.lastIdentityCheck = now;
    const st = statSync(f.path, { throwIfNoEntry: false });
    if (st !== undefined && st.ino === f.ino && st.dev === f.dev) return true;
    if (st === undefined) {
      // Renamed away (the open file still has a link): logrotate `create` is probably between its
      // rename and its create. Creating the file now would race it (logrotate then moves our new
      // file aside as `<name>-<date>.backup`), so lines keep going to the renamed file until the
      // next check; only a path still missing then is created. A deleted file (no link left) is
      // replaced at once, since lines written to it would be lost.
      const renamed = fstatSync(f.fd).nlink > 0;
      if (renamed && (f.missingSince === undefined || now - f.missingSince < this.settings.identityCheckMs)) {
        f.missingSince ??= now;
        return true;
      }
      if (!this.settings.createIfDeleted && !f.alwaysCreate) return false;
    }
    f.missingSince = undefined;
    // open the new file before closing the old one: if that fails (permissions, disk), lines keep
    // going to the renamed file and the next check tries again
    let fresh: OpenFile;
    try {
      fresh = this.open(f.path, true);
    } catch (err) {
      this.metrics.writeErrors.inc();
      this.onDrop(f.path, 0, err);
      return true;
    }
    closeQuietly(f.fd);
    f.fd = fresh.fd;
    f.dev = fresh.dev;
    f.ino = fresh.ino;
    this.metrics.reopens.inc();
    return true;
  }

  /**
   * Writes what `f` has buffered. Throws on a write error, keeping the unwritten bytes for the
   * next attempt (no line is written twice: a partial write keeps only its remainder).
   * Returns false if the path vanished and must not be recreated (the caller re-routes).
   */
  flush(f: OpenFile): boolean {
    if (!f.dirty) return true;
    if (!this.checkIdentity(f)) return false;
    if (this.settings.overwrite) {
      const { bytes, events } = f.takeBytes(this.settings.gzip);
      try {
        ftruncateSync(f.fd, 0);
        writeFully(f.fd, bytes, 0);
      } catch (err) {
        f.unwritten = Buffer.from(bytes);
        f.unwrittenEvents = events;
        throw err;
      }
      this.written(f, events);
      return true;
    }
    if (f.unwritten !== undefined) {
      const rest = writeFullyOrRest(f.fd, f.unwritten);
      if (rest !== undefined) {
        f.unwritten = rest.bytes;
        throw rest.err;
      }
      const n = f.unwrittenEvents;
      f.unwritten = undefined;
      f.unwrittenEvents = 0;
      this.written(f, n);
    }
    if (f.pendingEvents === 0) return true;
    const { bytes, events } = f.takeBytes(this.settings.gzip);
    const rest = writeFullyOrRest(f.fd, bytes);
    if (rest !== undefined) {
      f.unwritten = Buffer.from(rest.bytes); // a copy: `bytes` may be a view of the reused buffer
      f.unwrittenEvents = events;
      throw rest.err;
    }
    this.written(f, events);
    return true;
  }

  private written(f: OpenFile, events: number): void {
    f.failedFlushes = 0;
    this.metrics.events.inc(events);
  }

  /** Flushes then closes `f`; what cannot be written is dropped (counted and reported). */
  close(f: OpenFile): void {
    try {
      if (!this.flush(f)) this.dropAll(f, new Error('file vanished and create_if_deleted is false'));
    } catch (err) {
      this.metrics.writeErrors.inc();
      this.dropAll(f, err);
    }
    closeQuietly(f.fd);
    f.release();
    this.files.delete(f.path);
    this.metrics.filesOpen.set(this.files.size);
  }

  dropAll(f: OpenFile, err: unknown): void {
    const n = f.discard();
    if (n > 0) {
      this.metrics.eventsDropped.inc(n);
      this.onDrop(f.path, n, err);
    }
  }

  /** Forgets `f` without flushing (its data was moved elsewhere). */
  forget(f: OpenFile): void {
    closeQuietly(f.fd);
    f.release();
    this.files.delete(f.path);
    this.metrics.filesOpen.set(this.files.size);
  }

  all(): OpenFile[] {
    return [...this.files.values()];
  }

  /** Closes files not written to since `since` (stale cleanup). */
  closeUnusedSince(since: number): void {
    for (const f of this.all()) if (f.lastUsed < since) this.close(f);
  }

  closeAll(): void {
    for (const f of this.all()) this.close(f);
  }
}

function exists(p: string): boolean {
  return statSync(p, { throwIfNoEntry: false }) !== undefined;
}

function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    /* already closed or the device went away: nothing to keep */
  }
}

function writeFully(fd: number, bytes: Buffer, position: number | null): void {
  let off = 0;
  while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off, position === null ? null : position + off);
}

/** Appends all of `bytes`; on an error returns the part not written, with the error. */
function writeFullyOrRest(fd: number, bytes: Buffer): { bytes: Buffer; err: unknown } | undefined {
  let off = 0;
  try {
    while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
  } catch (err) {
    return { bytes: bytes.subarray(off), err };
  }
  return undefined;
}
