import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Event } from '../event/event.js';
import { Timestamp } from '../event/timestamp.js';
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
 * `queue.max_events` when set.
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
}

export class PersistedQueue extends BatchingQueue {
  private readonly db: Database.Database;
  private readonly insert: Database.Statement;
  private readonly selectAfter: Database.Statement;
  private readonly deleteIds: Database.Statement;
  private readonly commitPending: () => void;
  private pending: { data: string; bytes: number }[] = [];
  private commitScheduled = false;
  /** Callers of whenStored(), released by the next commit that leaves nothing pending. */
  private storedWaiters: (() => void)[] = [];
  /** Highest id handed to a worker: the next take reads after it. */
  private cursor = 0;
  private storedBytes = 0;
  private storedEvents = 0;
  private takenIds = new Map<Event, { id: number; bytes: number }>();

  constructor(private readonly o: PersistedQueueOptions) {
    super();
    mkdirSync(o.dir, { recursive: true });
    this.db = new Database(join(o.dir, 'queue.sqlite'));
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.exec('CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)');
    this.db.exec('CREATE TABLE IF NOT EXISTS events (id INTEGER PRIMARY KEY AUTOINCREMENT, data TEXT NOT NULL)');
    const version = (this.db.prepare("SELECT value FROM meta WHERE key = 'format_version'").get() as { value: string } | undefined)?.value;
    if (version === undefined) this.db.prepare("INSERT INTO meta (key, value) VALUES ('format_version', ?)").run(String(QUEUE_FORMAT_VERSION));
    else if (Number(version) > QUEUE_FORMAT_VERSION) throw new Error(`${o.dir}: queue format ${version} is newer than this Pipeline reads (${QUEUE_FORMAT_VERSION}); upgrade Pipeline`);
    this.insert = this.db.prepare('INSERT INTO events (data) VALUES (?)');
    this.selectAfter = this.db.prepare('SELECT id, data FROM events WHERE id > ? ORDER BY id LIMIT ?');
    this.deleteIds = this.db.prepare('DELETE FROM events WHERE id = ?');
    const rows = this.db.prepare('SELECT count(*) AS n, coalesce(sum(length(data)), 0) AS bytes FROM events').get() as { n: number; bytes: number };
    this.storedEvents = rows.n;
    this.storedBytes = rows.bytes;
    this.commitPending = this.db.transaction(() => {
      for (const p of this.pending) this.insert.run(p.data);
      this.pending = [];
    });
  }

  /** Events found on disk at start-up (left by a previous run). */
  get recovered(): number {
    return this.storedEvents;
  }

  get capacity(): number {
    return this.o.maxEvents;
  }

  get size(): number {
    return this.storedEvents - this.takenIds.size;
  }

  get bytes(): number {
    return this.storedBytes;
  }

  get writable(): boolean {
    return this.storedBytes < this.o.maxBytes && this.storedEvents < this.o.maxEvents;
  }

  protected store(event: Event): void {
    const data = JSON.stringify(event.fields);
    this.pending.push({ data, bytes: data.length });
    this.storedBytes += data.length;
    this.storedEvents++;
    if (this.pending.length >= this.o.checkpointWrites) this.commit();
    else if (!this.commitScheduled) {
      this.commitScheduled = true;
      setImmediate(() => this.commit());
    }
  }

  private commit(): void {
    this.commitScheduled = false;
    if (this.pending.length > 0 && this.db.open) this.commitPending();
    // only after a commit that succeeded: a failed one throws above and keeps its waiters
    if (this.storedWaiters.length > 0 && this.pending.length === 0) {
      const ws = this.storedWaiters;
      this.storedWaiters = [];
      for (const w of ws) w();
    }
  }

  /** Resolves once what was pushed so far is committed (the commit runs within a tick). */
  override whenStored(): Promise<void> {
    if (this.pending.length === 0) return super.whenStored();
    return new Promise((resolve) => this.storedWaiters.push(resolve));
  }

  protected canRelease(): boolean {
    return this.writable;
  }

  protected takeNow(max: number): Event[] {
    this.commit();
    const rows = this.selectAfter.all(this.cursor, max) as { id: number; data: string }[];
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

  /** The batch passed every output: its events leave the disk. */
  ack(batch: Event[]): void {
    if (batch.length > 0 && this.db.open) {
      this.db.transaction(() => {
        for (const e of batch) {
          const t = this.takenIds.get(e);
          if (!t) continue;
          this.deleteIds.run(t.id);
          this.takenIds.delete(e);
          this.storedBytes -= t.bytes;
          this.storedEvents--;
        }
      })();
    }
    runDeliveryCallbacks(batch);
    this.releaseWriters();
  }

  override close(): void {
    this.commit();
    super.close();
  }

  /** Closes the database (after the pipeline has drained). */
  dispose(): void {
    this.commit();
    if (this.db.open) this.db.close();
  }
}
