import { chmodSync, closeSync, constants, fchmodSync, fdatasyncSync, fstatSync, fsyncSync, ftruncateSync, mkdirSync, openSync, statSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Clock, Counter, Gauge } from '@pipeline/core';
import { OpenFile, type BatchAck } from './open-file.js';

export interface PoolSettings {
  readonly maxOpen: number;
  readonly gzip: boolean;
  readonly overwrite: boolean;
  readonly createIfDeleted: boolean;
  readonly dirMode: number;
  readonly fileMode: number;
  /** How often (ms) a written file's path is stat'ed to notice rotation by rename or deletion. */
  readonly identityCheckMs: number;
  /** `batch`: fdatasync after every write, before the batches are acknowledged; `interval`: by `syncAll`. */
  readonly fsync: 'none' | 'batch' | 'interval';
  /** on_write_failure => drop: lines given up on are acknowledged (lost); retry: left unacknowledged. */
  readonly dropOnFailure: boolean;
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
    /** Called when a file could not be written on an eviction or cleanup: it stays open, for the retry loop. */
    private readonly onKept: (f: OpenFile, err: unknown) => void,
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
    for (const old of this.files.values()) {
      if (this.files.size <= this.settings.maxOpen || old === f) break;
      // one that cannot be written now stays open (briefly over the limit) rather than losing lines
      this.close(old);
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
   * Writes what `f` has buffered. Throws on a write error, keeping the bytes for the next attempt
   * (no line is written twice or torn: a partial write is truncated back and written again whole).
   * Returns false if the path vanished and must not be recreated (the caller re-routes).
   */
  flush(f: OpenFile): boolean {
    if (!f.dirty) return true;
    if (!this.checkIdentity(f)) return false;
    if (this.settings.overwrite) {
      // the newest buffered event supersedes what a failed write left; with none, retry that
      const taken = f.pendingEvents > 0 ? f.takeBytes(this.settings.gzip) : undefined;
      const bytes = taken !== undefined ? taken.bytes : f.unwritten!;
      const events = f.unwrittenEvents + (taken?.events ?? 0);
      const acks = taken === undefined ? f.unwrittenAcks : f.unwrittenAcks.concat(taken.acks);
      f.unwritten = undefined;
      f.unwrittenEvents = 0;
      f.unwrittenAcks = [];
      try {
        ftruncateSync(f.fd, 0);
        writeFully(f.fd, bytes, 0);
      } catch (err) {
        f.unwritten = Buffer.from(bytes);
        f.unwrittenEvents = events;
        f.unwrittenAcks = acks;
        throw err;
      }
      this.written(f, events, acks);
      return true;
    }
    if (f.unwritten !== undefined) {
      const rest = writeFullyOrRest(f.fd, f.unwritten);
      if (rest !== undefined) {
        f.unwritten = rest.bytes === f.unwritten ? f.unwritten : Buffer.from(rest.bytes);
        throw rest.err;
      }
      const n = f.unwrittenEvents;
      const acks = f.unwrittenAcks;
      f.unwritten = undefined;
      f.unwrittenEvents = 0;
      f.unwrittenAcks = [];
      this.written(f, n, acks);
    }
    if (f.pendingEvents === 0) {
      // an overwrite-free file can hold acks without lines only after a reroute; release them
      if (f.acks.length > 0) this.written(f, 0, f.takeBytes(false).acks);
      return true;
    }
    const { bytes, events, acks } = f.takeBytes(this.settings.gzip);
    const rest = writeFullyOrRest(f.fd, bytes);
    if (rest !== undefined) {
      f.unwritten = Buffer.from(rest.bytes); // a copy: `bytes` may be a view of the reused buffer
      f.unwrittenEvents = events;
      f.unwrittenAcks = acks;
      throw rest.err;
    }
    this.written(f, events, acks);
    return true;
  }

  /** Bytes are in the OS: the batches are safe from a crash of this process (and, synced, from power loss). */
  private written(f: OpenFile, events: number, acks: BatchAck[]): void {
    this.metrics.events.inc(events);
    if (this.settings.fsync === 'batch') {
      try {
        this.sync(f);
      } catch (err) {
        // the lines are written but may not be on disk; writing them again would duplicate them,
        // so the batches stay unacknowledged (the persisted queue delivers them after a restart)
        this.metrics.writeErrors.inc();
        for (const a of acks) a.fail(err);
        throw err;
      }
    } else if (this.settings.fsync === 'interval') f.unsynced = true;
    for (let i = 0; i < acks.length; i++) acks[i]!.release();
  }

  private sync(f: OpenFile): void {
    fdatasyncSync(f.fd);
    f.unsynced = false;
    if (!f.dirSynced) {
      // a file created since opening needs its directory entry on disk too (as rsyslog's omfile sync)
      const dfd = openSync(dirname(f.path), constants.O_RDONLY);
      try {
        fsyncSync(dfd);
      } finally {
        closeQuietly(dfd);
      }
      f.dirSynced = true;
    }
  }

  /** fsync => interval: syncs the files written since the last call; returns the errors by file. */
  syncAll(onError: (f: OpenFile, err: unknown) => void): void {
    for (const f of this.files.values()) {
      if (!f.unsynced) continue;
      try {
        this.sync(f);
      } catch (err) {
        this.metrics.writeErrors.inc();
        onError(f, err);
      }
    }
  }

  /**
   * Flushes then closes `f`. If it cannot be written, a non-final close (eviction, stale cleanup)
   * keeps it open and hands it to the retry loop; the final close (shutdown) gives up on its lines.
   */
  close(f: OpenFile, final = false): void {
    try {
      if (!this.flush(f)) this.dropAll(f, new Error('file vanished and create_if_deleted is false'));
      if (f.unsynced) this.sync(f);
    } catch (err) {
      this.metrics.writeErrors.inc();
      if (!final && f.dirty) {
        this.onKept(f, err);
        return;
      }
      this.dropAll(f, err);
    }
    closeQuietly(f.fd);
    f.release();
    this.files.delete(f.path);
    this.metrics.filesOpen.set(this.files.size);
  }

  /**
   * Gives up on what `f` holds: with on_write_failure => drop the batches are acknowledged (the
   * lines are lost, counted); with retry (only at shutdown) they stay unacknowledged, so the
   * persisted queue delivers them after the restart.
   */
  dropAll(f: OpenFile, err: unknown): void {
    const { events, acks } = f.discard();
    if (this.settings.dropOnFailure) for (const a of acks) a.release();
    else for (const a of acks) a.fail(err);
    if (events > 0) {
      if (this.settings.dropOnFailure) this.metrics.eventsDropped.inc(events);
      this.onDrop(f.path, events, err);
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
  closeUnusedSince(since: number, skip: (f: OpenFile) => boolean): void {
    for (const f of this.all()) if (f.lastUsed < since && !skip(f)) this.close(f);
  }

  /**
   * SIGUSR2 (what sec and logrotate postrotate scripts send): writes and closes every file, so the
   * next line for each opens its path again — a file a rotation script moved aside gets a new one
   * at once. A file whose write fails keeps its lines and stays open, as on any failed flush.
   */
  reopenAll(): void {
    for (const f of this.all()) this.close(f);
  }

  /** Shutdown: writes what every file holds, then closes them all. */
  closeAll(): void {
    for (const f of this.all()) this.close(f, true);
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

/**
 * Appends all of `bytes`; on an error returns what must be written again, with the error. A write
 * that failed part-way (disk full mid-buffer) is undone by truncating the file back, so the file
 * never ends in a torn line (or a torn gzip member): a kill -9 during the stall would otherwise leave
 * that fragment glued to the first line the persisted queue delivers again after the restart.
 * If the truncation itself fails, only the unwritten remainder is kept.
 */
function writeFullyOrRest(fd: number, bytes: Buffer): { bytes: Buffer; err: unknown } | undefined {
  let off = 0;
  try {
    while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
  } catch (err) {
    if (off === 0) return { bytes, err };
    try {
      ftruncateSync(fd, fstatSync(fd).size - off);
      return { bytes, err };
    } catch {
      return { bytes: bytes.subarray(off), err };
    }
  }
  return undefined;
}
