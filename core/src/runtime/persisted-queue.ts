import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type Database from 'better-sqlite3';
import { openDatabase } from '../spool/sqlite.js';
import { Event } from '../event/event.js';
import { Timestamp } from '../event/timestamp.js';
import type { Logger } from '../plugin/define.js';
import { DiskFullState, isDiskFullError, reserveError, roomFor } from '../spool/disk-full.js';
import { BatchingQueue, runDeliveryCallbacks } from './queue.js';

/**
 * The persisted queue (`queue.type: persisted`): events are written to an SQLite database (WAL)
 * under `path.data/queue/<pipeline id>` as they arrive and deleted only once their batch has
 * passed every output, so what an input handed over survives `kill -9` and is delivered after a
 * restart (at-least-once: a batch in flight at the crash is delivered again).
 *
 * Writes are grouped: pushes collect in memory and are committed in one transaction every
 * `queue.checkpoint.writes` events, or as soon as the event loop turns (so a quiet stream is
 * committed within a tick). The bound is `queue.max_bytes` of stored events, as in Logstash, and
 * `queue.max_events` when set. Acknowledgements are committed per batch, as soon as the batch has
 * passed every output, so kill -9 re-delivers at most the batches in flight
 * (`pipeline.workers` × `pipeline.batch.size` events), however many times it happens.
 *
 * A full disk is back-pressure: when a commit fails for lack of space (SQLITE_FULL, or an I/O
 * error on a full file system) the events stay pending in memory, the queue reports itself not
 * writable (inputs pause: TCP stops reading, UDP counts its drops), the condition is logged with
 * the path and the free space, and the commit is retried with back-off until it goes through.
 * Workers keep delivering what is already on disk; deletions that fail are retried with the
 * commit. A queue that cannot even be created (start-up on a full disk) is opened the same way.
 *
 * On-disk format, version 1: table `events(id INTEGER PRIMARY KEY, data TEXT)` where data is the
 * event's JSON with `@metadata` kept; `meta(key, value)` holds `format_version`.
 */
export const QUEUE_FORMAT_VERSION = 1;

export interface PersistedQueueOptions {
  dir: string;
  maxBytes: number;
  maxEvents: number;
  checkpointWrites: number;
  batchSize: number;
  /** Where a full disk is reported. */
  logger?: Logger;
  /**
   * Free disk space new events never eat into (default 8 MiB: twice SQLite's write-ahead log at
   * its checkpoint size), so deletions and checkpoints still work on a disk the queue filled
   * itself and delivering frees room; below it new events go into the database's free pages only.
   */
  reserveBytes?: number;
}

const DEFAULT_RESERVE = 2 * 1000 * 4096;
/** Deletions retried after a full disk, per transaction. */
const DELETE_CHUNK = 1000;

interface Open {
  db: Database.Database;
  insert: Database.Statement;
  selectAfter: Database.Statement;
  deleteIds: Database.Statement;
  commitPending: () => void;
  deleteRows: (rows: readonly Taken[]) => void;
}

interface Taken {
  id: number;
  bytes: number;
}

export class PersistedQueue extends BatchingQueue {
  /** Undefined until the database could be opened (start-up on a full disk waits for room). */
  private open: Open | undefined;
  private pending: { data: string; bytes: number }[] = [];
  private pendingBytes = 0;
  private commitScheduled = false;
  /** Callers of whenStored(), released by the next commit that leaves nothing pending. */
  private storedWaiters: (() => void)[] = [];
  /** Highest id handed to a worker: the next take reads after it. */
  private cursor = 0;
  private storedBytes = 0;
  private storedEvents = 0;
  private recoveredEvents = 0;
  private takenIds = new Map<Event, Taken>();
  /** Delivered events whose deletion failed on a full disk: retried with the next commit. */
  private deferredDeletes: Taken[] = [];
  private readonly disk: DiskFullState;
  private retryTimer: NodeJS.Timeout | undefined;
  private disposed = false;

  constructor(private readonly o: PersistedQueueOptions) {
    super();
    this.disk = new DiskFullState({ what: 'persisted queue', path: o.dir, logger: o.logger });
    this.tryOpen();
  }

  /** Opens (creating) the database; on a full disk schedules another attempt. Other errors throw. */
  private tryOpen(): boolean {
    let db: Database.Database | undefined;
    try {
      mkdirSync(this.o.dir, { recursive: true });
      db = openDatabase(join(this.o.dir, 'queue.sqlite'));
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      db.exec('CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)');
      db.exec('CREATE TABLE IF NOT EXISTS events (id INTEGER PRIMARY KEY AUTOINCREMENT, data TEXT NOT NULL)');
      const version = (db.prepare("SELECT value FROM meta WHERE key = 'format_version'").get() as { value: string } | undefined)?.value;
      if (version === undefined) db.prepare("INSERT INTO meta (key, value) VALUES ('format_version', ?)").run(String(QUEUE_FORMAT_VERSION));
      else if (Number(version) > QUEUE_FORMAT_VERSION) throw new Error(`${this.o.dir}: queue format ${version} is newer than this Pipeline reads (${QUEUE_FORMAT_VERSION}); upgrade Pipeline`);
      const insert = db.prepare('INSERT INTO events (data) VALUES (?)');
      const deleteIds = db.prepare('DELETE FROM events WHERE id = ?');
      const rows = db.prepare('SELECT count(*) AS n, coalesce(sum(length(data)), 0) AS bytes FROM events').get() as { n: number; bytes: number };
      const d = db;
      this.open = {
        db,
        insert,
        deleteIds,
        selectAfter: db.prepare('SELECT id, data FROM events WHERE id > ? ORDER BY id LIMIT ?'),
        commitPending: d.transaction(() => {
          for (const p of this.pending) insert.run(p.data);
          this.pending = [];
          this.pendingBytes = 0;
        }),
        deleteRows: d.transaction((rows: readonly Taken[]) => {
          for (const t of rows) deleteIds.run(t.id);
        }),
      };
      // events pushed while the database could not be opened are already counted
      this.recoveredEvents = rows.n;
      this.storedEvents += rows.n;
      this.storedBytes += rows.bytes;
      return true;
    } catch (err) {
      if (db?.open) db.close();
      this.onWriteFailed(err);
      return false;
    }
  }

  /** Events found on disk at start-up (left by a previous run). */
  get recovered(): number {
    return this.recoveredEvents;
  }

  get capacity(): number {
    return this.o.maxEvents;
  }

  /** Events a worker can take: on disk and not taken; pending ones too unless the disk is full. */
  get size(): number {
    const n = this.storedEvents - this.takenIds.size - this.deferredDeletes.length;
    return this.blocked ? n - this.pending.length : n;
  }

  get bytes(): number {
    return this.storedBytes;
  }

  /** True while the disk is full (or the database could not be opened yet). */
  get blocked(): boolean {
    return this.open === undefined || this.disk.full;
  }

  get writable(): boolean {
    return !this.blocked && this.storedBytes < this.o.maxBytes && this.storedEvents < this.o.maxEvents;
  }

  protected store(event: Event): void {
    const data = JSON.stringify(event.fields);
    this.pending.push({ data, bytes: data.length });
    this.pendingBytes += data.length;
    this.storedBytes += data.length;
    this.storedEvents++;
    if (this.blocked) return; // the retry timer commits them
    if (this.pending.length >= this.o.checkpointWrites) this.commit();
    else if (!this.commitScheduled) {
      this.commitScheduled = true;
      setImmediate(() => this.commit());
    }
  }

  /** Writes what is pending (and retries failed deletions); false if the disk is still full. */
  private commit(): boolean {
    this.commitScheduled = false;
    const open = this.open;
    if (open === undefined || !open.db.open) return false;
    try {
      // deletions first: they free pages for the inserts. In chunks, so that the write-ahead log is
      // checkpointed (and reused) between them instead of growing past the reserve.
      while (this.deferredDeletes.length > 0) {
        const chunk = this.deferredDeletes.slice(0, DELETE_CHUNK);
        open.deleteRows(chunk);
        this.forget(chunk);
        this.deferredDeletes.splice(0, chunk.length);
      }
      if (this.pending.length > 0) {
        const reserve = this.o.reserveBytes ?? DEFAULT_RESERVE;
        if (!roomFor(open.db, this.o.dir, this.pendingBytes, reserve)) throw reserveError(this.o.dir, reserve);
        open.commitPending();
      }
    } catch (err) {
      this.onWriteFailed(err);
      return false;
    }
    if (this.storedWaiters.length > 0) {
      const ws = this.storedWaiters;
      this.storedWaiters = [];
      for (const w of ws) w();
    }
    if (this.disk.full) {
      this.disk.recovered();
      this.releaseWriters();
      this.wake(); // what was pending is on disk now: a waiting worker takes it
    }
    return true;
  }

  /** A write failed: a full disk is waited out (retry with back-off), anything else is thrown. */
  private onWriteFailed(err: unknown): void {
    if (!isDiskFullError(err, this.o.dir)) throw err;
    const delay = this.disk.failed(err, this.pending.length + this.deferredDeletes.length);
    if (this.retryTimer === undefined && !this.disposed) {
      this.retryTimer = setTimeout(() => {
        this.retryTimer = undefined;
        if (this.disposed) return;
        if (this.open === undefined) {
          if (this.tryOpen()) {
            if (this.recoveredEvents > 0) this.o.logger?.info({ events: this.recoveredEvents }, 'persisted queue: delivering events left by the previous run');
            this.commit();
          }
        } else {
          // give back the write-ahead log's space first (a no-op while there is no room for it)
          try {
            this.open.db.pragma('wal_checkpoint(TRUNCATE)');
          } catch (err) {
            if (!isDiskFullError(err, this.o.dir)) throw err;
          }
          this.commit();
        }
      }, delay);
    }
  }

  private forget(rows: readonly Taken[]): void {
    for (const t of rows) {
      this.storedBytes -= t.bytes;
      this.storedEvents--;
    }
  }

  protected canRelease(): boolean {
    return this.writable;
  }

  protected takeNow(max: number): Event[] {
    if (!this.blocked) this.commit();
    const open = this.open;
    if (open === undefined || !open.db.open) return [];
    const rows = open.selectAfter.all(this.cursor, max) as { id: number; data: string }[];
    const batch: Event[] = [];
    for (const row of rows) {
      const fields = JSON.parse(row.data) as Record<string, unknown>;
      const e = new Event(fields, typeof fields['@timestamp'] === 'string' ? Timestamp.parse(fields['@timestamp']) : undefined);
      this.takenIds.set(e, { id: row.id, bytes: row.data.length });
      batch.push(e);
      this.cursor = row.id;
    }
    return batch;
  }

  /**
   * The batch passed every output: its events leave the disk, in one transaction. On a full disk
   * the deletion waits for the next commit; the batch is delivered all the same, so the inputs'
   * delivery callbacks run (a crash before the deletion goes through re-delivers it: at-least-once).
   */
  ack(batch: Event[]): void {
    const open = this.open;
    if (batch.length > 0 && open !== undefined && open.db.open) {
      const done: Taken[] = [];
      for (let i = 0; i < batch.length; i++) {
        const t = this.takenIds.get(batch[i]!);
        if (t === undefined) continue;
        this.takenIds.delete(batch[i]!);
        done.push(t);
      }
      // tried even while new events wait for room: deletions may use the reserve, and free pages
      if (this.deferredDeletes.length > 0) {
        for (const t of done) this.deferredDeletes.push(t);
      } else {
        try {
          open.deleteRows(done);
          this.forget(done);
        } catch (err) {
          for (const t of done) this.deferredDeletes.push(t);
          this.onWriteFailed(err);
        }
      }
    }
    runDeliveryCallbacks(batch);
    this.releaseWriters();
  }

  /** Resolves once what was pushed so far is committed (the commit runs within a tick). */
  override whenStored(): Promise<void> {
    if (this.pending.length === 0) return super.whenStored();
    return new Promise((resolve) => this.storedWaiters.push(resolve));
  }

  override close(): void {
    if (!this.blocked) this.commit();
    super.close();
  }

  /** Closes the database (after the pipeline has drained). */
  dispose(): void {
    this.commit();
    this.disposed = true;
    if (this.retryTimer !== undefined) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    if (this.pending.length > 0) this.o.logger?.error({ events: this.pending.length, path: this.o.dir }, 'persisted queue: stopping on a full disk; events received since it filled were not written');
    if (this.open?.db.open) this.open.db.close();
  }
}
