import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type Database from 'better-sqlite3';
import { openDatabase } from './sqlite.js';
import type { Clock } from '../plugin/clock.js';
import type { Logger } from '../plugin/define.js';
import { DiskFullState, isDiskFullError as isFull, reserveError, roomFor } from './disk-full.js';

/**
 * A durable, ordered spool of outgoing messages (alerts, heartbeats, mails) in one SQLite file.
 * Outputs write every message here first and delete it once delivered, so nothing is lost while
 * the destination is down or the process restarts. It also keeps a dead-letter table for messages
 * the destination refused for good, the idempotency keys of recently delivered messages, staged
 * rows (e.g. an e-mail digest being collected) and a small key/value table for plugin state.
 *
 * When the disk (or the database's page cap) is full, a write reports it (`add` returns
 * `full`, the others false) and nothing is taken in: the caller (the delivery loop) holds on to
 * what it was given, unacknowledged, and tries again with back-off, so the pipeline's queue keeps
 * it until it is on disk here. Nothing acknowledged is ever held only in memory. The condition is
 * logged once per interval with the path and the free space. Nothing throws into the pipeline.
 */
/** Version of the spool's on-disk format. */
export const SPOOL_FORMAT_VERSION = 1;

export interface SpoolOptions {
  /** The database file; its directory is created if needed. */
  path: string;
  clock: Clock;
  logger?: Logger;
  /** Oldest messages are evicted (and handed to the owner to summarise) beyond this many payload bytes. */
  maxBytes?: number;
  /** Messages older than this are expired (and handed to the owner to summarise). */
  maxAgeMs?: number;
  /** How long delivered idempotency keys are remembered. Default: 7 days. */
  dedupWindowMs?: number;
  /** Caps the database file at this many pages (SQLite `max_page_count`); a full cap acts as a full disk. */
  maxPageCount?: number;
  /**
   * Deliveries acknowledged in one transaction (default 1: every delivery is committed before the
   * next message is sent, so kill -9 re-sends at most the one message in flight, however many
   * times it happens). A larger batch trades that bound for fewer commits; the loop also commits
   * whatever is pending as soon as it goes idle. Idempotency keys are in the same transaction.
   */
  ackBatch?: number;
  /** Names the spool in the disk-full log ("alerta spool"). Default "spool". */
  what?: string;
  /**
   * Free disk space new messages never eat into (default 2 MiB: twice the write-ahead log's
   * checkpoint size), kept so deliveries can still be recorded and checkpoints run on a disk the
   * spool filled itself; below it new messages go into the database's free pages only.
   */
  reserveBytes?: number;
}

/** Pages of write-ahead log before a checkpoint (SQLite's default is 1000): bounds the log on a small disk. */
const WAL_AUTOCHECKPOINT = 256;
const DEFAULT_RESERVE = 2 * WAL_AUTOCHECKPOINT * 4096;

export interface SpoolItem {
  readonly seq: number;
  readonly key: string | null;
  readonly createdMs: number;
  attempts: number;
  readonly payload: string;
}

export interface NewItem {
  payload: string;
  /** Idempotency key: an item whose key was delivered (or is already waiting) is not added again. */
  key?: string;
  createdMs?: number;
}

export interface AddResult {
  added: number;
  /** Skipped because the same key is waiting or was delivered. */
  duplicates: number;
  /** Nothing was added: the disk is full. The caller keeps the items and tries again (see `retryMs`). */
  full: boolean;
}

export interface DeadLetter {
  id: number;
  createdMs: number;
  failedMs: number;
  status: string;
  message: string;
  payload: string;
}

export interface StagedRow {
  id: number;
  group: string;
  createdMs: number;
  payload: string;
}

/** True for the errors SQLite raises when it cannot grow the file: a full disk or the page cap. */
export function isDiskFullError(err: unknown, path?: string): boolean {
  return isFull(err, path);
}

interface Row {
  seq: number;
  key: string | null;
  created_ms: number;
  attempts: number;
  payload: string;
}

export class Spool {
  private readonly db: Database.Database;
  private readonly path: string;
  private readonly clock: Clock;
  private readonly logger: Logger | undefined;
  private readonly maxBytes: number;
  private readonly maxAgeMs: number;
  private readonly dedupWindowMs: number;
  private nextSeq: number;
  private totalBytes: number;
  private dbCount: number;
  private readonly disk: DiskFullState;
  private nextRetryMs = 0;
  private readonly reserveBytes: number;
  private lastPrune = 0;
  private readonly ackBatch: number;
  /** Delivered messages whose removal is not committed yet: always the oldest ones, in order. */
  private pendingAcks: SpoolItem[] = [];
  private ackFloor = Number.NEGATIVE_INFINITY;

  private stmt!: {
    insert: Database.Statement;
    head: Database.Statement;
    remove: Database.Statement;
    attempts: Database.Statement;
    hasKey: Database.Statement;
    markDelivered: Database.Statement;
    wasDelivered: Database.Statement;
    pruneDelivered: Database.Statement;
    dead: Database.Statement;
    olderThan: Database.Statement;
    oldestCreated: Database.Statement;
    oldest: Database.Statement;
    stage: Database.Statement;
    staged: Database.Statement;
    unstage: Database.Statement;
    stagedGroups: Database.Statement;
    getKv: Database.Statement;
    setKv: Database.Statement;
    delKv: Database.Statement;
  };

  /**
   * Opens a spool, waiting (logging, retrying with back-off on `clock`) while its disk is too full
   * to create or open the database: start-up on a full disk waits instead of crash-looping.
   */
  static async open(options: SpoolOptions): Promise<Spool> {
    const disk = new DiskFullState({ what: options.what ?? 'spool', path: options.path, logger: options.logger });
    for (;;) {
      try {
        const spool = new Spool(options);
        disk.recovered(options.clock.now());
        return spool;
      } catch (err) {
        if (!isFull(err, options.path)) throw err;
        const ms = disk.failed(err, 0, options.clock.now());
        await new Promise<void>((resolve) => options.clock.setTimeout(resolve, ms));
      }
    }
  }

  constructor(options: SpoolOptions) {
    mkdirSync(dirname(options.path), { recursive: true });
    this.path = options.path;
    this.clock = options.clock;
    this.logger = options.logger;
    this.maxBytes = options.maxBytes ?? Number.POSITIVE_INFINITY;
    this.maxAgeMs = options.maxAgeMs ?? Number.POSITIVE_INFINITY;
    this.dedupWindowMs = options.dedupWindowMs ?? 7 * 86_400_000;
    this.ackBatch = Math.max(1, options.ackBatch ?? 1);
    this.reserveBytes = options.reserveBytes ?? DEFAULT_RESERVE;
    this.disk = new DiskFullState({ what: options.what ?? 'spool', path: options.path, logger: options.logger });
    this.db = openDatabase(options.path);
    try {
      this.init(options);
    } catch (err) {
      this.db.close(); // a failed open (a full disk) leaves no handle behind
      throw err;
    }
    const agg = this.db.prepare('SELECT COUNT(*) AS n, COALESCE(SUM(length(CAST(payload AS BLOB))), 0) AS bytes, COALESCE(MAX(seq), 0) AS max FROM items').get() as {
      n: number;
      bytes: number;
      max: number;
    };
    this.dbCount = agg.n;
    this.totalBytes = agg.bytes;
    this.nextSeq = agg.max + 1;
  }

  private init(options: SpoolOptions): void {
    // WAL with synchronous=NORMAL survives a process crash; a power cut may lose the last commits.
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma(`wal_autocheckpoint = ${WAL_AUTOCHECKPOINT}`);
    if (options.maxPageCount !== undefined) this.db.pragma(`max_page_count = ${Math.floor(options.maxPageCount)}`);
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS items (seq INTEGER PRIMARY KEY, key TEXT, created_ms INTEGER NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0, payload TEXT NOT NULL);
      CREATE UNIQUE INDEX IF NOT EXISTS items_key ON items(key) WHERE key IS NOT NULL;
      CREATE INDEX IF NOT EXISTS items_created ON items(created_ms);
      CREATE TABLE IF NOT EXISTS delivered (key TEXT PRIMARY KEY, at_ms INTEGER NOT NULL) WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS dead (id INTEGER PRIMARY KEY, created_ms INTEGER NOT NULL, failed_ms INTEGER NOT NULL,
        status TEXT NOT NULL, message TEXT NOT NULL, payload TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS staged (id INTEGER PRIMARY KEY, grp TEXT NOT NULL, created_ms INTEGER NOT NULL, payload TEXT NOT NULL);
      CREATE INDEX IF NOT EXISTS staged_grp ON staged(grp, id);
      CREATE TABLE IF NOT EXISTS kv (k TEXT PRIMARY KEY, v TEXT NOT NULL) WITHOUT ROWID;
    `);
    // The on-disk format carries a version (SQLite's user_version): a newer one is refused, an older
    // one is upgraded here when the format changes.
    const version = Number(this.db.pragma('user_version', { simple: true }));
    if (version > SPOOL_FORMAT_VERSION) throw new Error(`${options.path}: spool format ${version} is newer than this Pipeline reads (${SPOOL_FORMAT_VERSION}); upgrade Pipeline`);
    if (version < SPOOL_FORMAT_VERSION) this.db.pragma(`user_version = ${SPOOL_FORMAT_VERSION}`);
    this.stmt = {
      insert: this.db.prepare('INSERT INTO items (seq, key, created_ms, attempts, payload) VALUES (?, ?, ?, ?, ?)'),
      head: this.db.prepare('SELECT seq, key, created_ms, attempts, payload FROM items WHERE seq > ? ORDER BY seq LIMIT ?'),
      remove: this.db.prepare('DELETE FROM items WHERE seq = ?'),
      attempts: this.db.prepare('UPDATE items SET attempts = ? WHERE seq = ?'),
      hasKey: this.db.prepare('SELECT 1 FROM items WHERE key = ? UNION ALL SELECT 1 FROM delivered WHERE key = ? LIMIT 1'),
      markDelivered: this.db.prepare('INSERT OR REPLACE INTO delivered (key, at_ms) VALUES (?, ?)'),
      wasDelivered: this.db.prepare('SELECT 1 FROM delivered WHERE key = ?'),
      pruneDelivered: this.db.prepare('DELETE FROM delivered WHERE at_ms < ?'),
      dead: this.db.prepare('INSERT INTO dead (created_ms, failed_ms, status, message, payload) VALUES (?, ?, ?, ?, ?)'),
      olderThan: this.db.prepare('SELECT seq, key, created_ms, attempts, payload FROM items WHERE created_ms < ? ORDER BY seq'),
      oldestCreated: this.db.prepare('SELECT MIN(created_ms) AS m FROM items'),
      oldest: this.db.prepare('SELECT seq, key, created_ms, attempts, payload FROM items ORDER BY seq LIMIT 256'),
      stage: this.db.prepare('INSERT INTO staged (grp, created_ms, payload) VALUES (?, ?, ?)'),
      staged: this.db.prepare('SELECT id, grp, created_ms, payload FROM staged WHERE grp = ? ORDER BY id'),
      unstage: this.db.prepare('DELETE FROM staged WHERE grp = ?'),
      stagedGroups: this.db.prepare('SELECT grp, MIN(created_ms) AS first_ms FROM staged GROUP BY grp'),
      getKv: this.db.prepare('SELECT v FROM kv WHERE k = ?'),
      setKv: this.db.prepare('INSERT OR REPLACE INTO kv (k, v) VALUES (?, ?)'),
      delKv: this.db.prepare('DELETE FROM kv WHERE k = ?'),
    };
  }

  /** Messages waiting. */
  get depth(): number {
    return this.dbCount - this.pendingAcks.length;
  }

  /** Payload bytes waiting. */
  get bytes(): number {
    return this.totalBytes;
  }

  /** True while writes fail for lack of space. */
  get diskFull(): boolean {
    return this.disk.full;
  }

  /** How long to wait before trying a write that failed on a full disk again (grows with each failure). */
  get retryMs(): number {
    return this.nextRetryMs;
  }

  /** A write failed: a full disk is recorded (and logged, once per interval); anything else is thrown. */
  private failed(err: unknown): void {
    if (!isFull(err, this.path)) throw err;
    this.nextRetryMs = this.disk.failed(err, this.depth, this.clock.now());
  }

  /**
   * Before a write is tried again on a full disk: moves the write-ahead log into the database and
   * truncates it, giving back the log's space (which can be most of what a small disk holds).
   * Fails harmlessly while there is no room for that either.
   */
  reclaim(): void {
    try {
      this.db.pragma('wal_checkpoint(TRUNCATE)');
    } catch (err) {
      if (!isFull(err, this.path)) throw err;
    }
  }

  private succeeded(): void {
    if (this.disk.full) this.disk.recovered(this.clock.now());
  }

  /**
   * Adds messages at the tail, in order, in one transaction: all of them, or (disk full) none, with
   * `full` set. Never throws for a full disk.
   */
  add(items: readonly NewItem[]): AddResult {
    const result: AddResult = { added: 0, duplicates: 0, full: false };
    if (items.length === 0) return result;
    // committed deletions free pages for what is added
    if (this.pendingAcks.length > 0 && !this.sync()) {
      result.full = true;
      return result;
    }
    const now = this.clock.now();
    const fresh: SpoolItem[] = [];
    const seenKeys = new Set<string>();
    for (const it of items) {
      const key = it.key ?? null;
      if (key !== null) {
        if (seenKeys.has(key) || this.hasKey(key)) {
          result.duplicates++;
          continue;
        }
        seenKeys.add(key);
      }
      fresh.push({ seq: this.nextSeq++, key, createdMs: it.createdMs ?? now, attempts: 0, payload: it.payload });
    }
    if (fresh.length === 0) return result;
    if (!this.tryWrite(fresh)) {
      this.nextSeq = fresh[0]!.seq;
      return { added: 0, duplicates: 0, full: true };
    }
    result.added = fresh.length;
    return result;
  }

  private hasKey(key: string): boolean {
    if (this.stmt.hasKey.get(key, key) !== undefined) return true;
    return this.pendingAcks.some((p) => p.key === key);
  }

  private readonly writeMany = (items: readonly SpoolItem[]) => {
    for (const it of items) this.stmt.insert.run(it.seq, it.key, it.createdMs, it.attempts, it.payload);
  };

  /** False (recorded as a full disk) when `bytes` more would eat into the reserve. */
  private room(bytes: number): boolean {
    if (roomFor(this.db, this.path, bytes, this.reserveBytes)) return true;
    this.failed(reserveError(this.path, this.reserveBytes));
    return false;
  }

  /** Writes items in one transaction; on a full disk records it and returns false. */
  private tryWrite(items: readonly SpoolItem[]): boolean {
    let b = 0;
    for (const it of items) b += Buffer.byteLength(it.payload);
    if (!this.room(b)) return false;
    try {
      this.db.transaction(this.writeMany)(items);
    } catch (err) {
      this.failed(err);
      return false;
    }
    this.dbCount += items.length;
    this.totalBytes += b;
    this.succeeded();
    return true;
  }

  /** The oldest `limit` messages, in order. */
  head(limit: number): SpoolItem[] {
    const rows = this.stmt.head.all(this.ackFloor, limit) as Row[];
    return rows.map(toItem);
  }

  /**
   * Removes a delivered message (the oldest) and remembers its key, committed every `ackBatch`
   * deliveries (default: each). False if that commit failed on a full disk: the delivery stays
   * pending in memory (it is not sent again by this process) and is committed by the next `sync`.
   */
  ack(item: SpoolItem): boolean {
    this.pendingAcks.push(item);
    this.ackFloor = Math.max(this.ackFloor, item.seq);
    this.totalBytes -= Buffer.byteLength(item.payload);
    if (this.pendingAcks.length >= this.ackBatch) return this.sync();
    return true;
  }

  /** Remembers an idempotency key as delivered without a message (an event that went out in a digest). */
  markDelivered(key: string): boolean {
    try {
      this.stmt.markDelivered.run(key, this.clock.now());
    } catch (err) {
      this.failed(err);
      return false;
    }
    return true;
  }

  private readonly commitAcks = (items: readonly SpoolItem[]) => {
    const now = this.clock.now();
    for (const it of items) {
      this.stmt.remove.run(it.seq);
      if (it.key !== null) this.stmt.markDelivered.run(it.key, now);
    }
  };

  /**
   * Commits pending acknowledgements (deletions and their idempotency keys, in one transaction).
   * False on a full disk: they stay pending and are tried again by the next call.
   */
  sync(): boolean {
    if (this.pendingAcks.length === 0) return true;
    const batch = this.pendingAcks;
    try {
      this.db.transaction(this.commitAcks)(batch);
    } catch (err) {
      this.failed(err);
      return false;
    }
    this.dbCount -= batch.length;
    this.pendingAcks = [];
    this.succeeded();
    this.pruneDelivered();
    return true;
  }

  /** Moves a refused message to the dead-letter table; false (nothing changed) on a full disk. */
  deadLetter(item: SpoolItem, status: string, message: string): boolean {
    if (!this.sync()) return false;
    return this.removeItem(item, () => {
      this.stmt.dead.run(item.createdMs, this.clock.now(), status, message, item.payload);
      if (item.key !== null) this.stmt.markDelivered.run(item.key, this.clock.now());
    });
  }

  /** Records a message refused before it was ever spooled (invalid at the source); false on a full disk. */
  deadLetterNew(payload: string, status: string, message: string): boolean {
    try {
      const now = this.clock.now();
      this.stmt.dead.run(now, now, status, message, payload);
    } catch (err) {
      this.failed(err);
      return false;
    }
    return true;
  }

  /** Saves a delivery attempt count (so bounded retries stay bounded across restarts). */
  setAttempts(item: SpoolItem, attempts: number): void {
    item.attempts = attempts;
    try {
      this.stmt.attempts.run(attempts, item.seq);
    } catch (err) {
      // the count only bounds retries of a transient error; a full disk costs at most a few more
      if (!isFull(err, this.path)) throw err;
    }
  }

  /** Deletes one message (with `extra` in the same transaction); false on a full disk. */
  private removeItem(item: SpoolItem, extra: () => void): boolean {
    let removed = false;
    try {
      this.db.transaction(() => {
        removed = this.stmt.remove.run(item.seq).changes > 0;
        extra();
      })();
    } catch (err) {
      this.failed(err);
      return false;
    }
    if (removed) {
      this.dbCount--;
      this.totalBytes -= Buffer.byteLength(item.payload);
    }
    return true;
  }

  /** True when a message with this idempotency key was delivered within the dedup window. */
  wasDelivered(key: string): boolean {
    if (this.pendingAcks.some((p) => p.key === key)) return true;
    return this.stmt.wasDelivered.get(key) !== undefined;
  }

  private pruneDelivered(): void {
    const now = this.clock.now();
    if (now - this.lastPrune < 60_000) return;
    this.lastPrune = now;
    try {
      this.stmt.pruneDelivered.run(now - this.dedupWindowMs);
    } catch (err) {
      if (!isFull(err, this.path)) throw err;
    }
  }

  /**
   * Removes messages older than `maxAgeMs`, then the oldest ones while over `maxBytes`, and returns
   * them (oldest first) so the owner can summarise them. `keep` (a seq) is never removed: it is the
   * message being delivered right now. `bySize` false applies the age cap only.
   */
  evict(keep?: number, bySize = true): SpoolItem[] {
    const out: SpoolItem[] = [];
    // on a full disk nothing is evicted: its summary could not be written in its place
    if (this.disk.full) return out;
    let stuck = false;
    const take = (items: SpoolItem[]) => {
      for (const it of items) {
        if (stuck) return;
        if (it.seq === keep) continue;
        if (!this.removeItem(it, () => {})) stuck = true;
        else out.push(it);
      }
    };
    if (Number.isFinite(this.maxAgeMs)) {
      const cutoff = this.clock.now() - this.maxAgeMs;
      const oldest = (this.stmt.oldestCreated.get() as { m: number | null }).m;
      if (oldest !== null && oldest < cutoff && this.sync()) take((this.stmt.olderThan.all(cutoff) as Row[]).map(toItem));
    }
    if (!bySize) return out;
    if (this.totalBytes > this.maxBytes && !this.sync()) return out;
    while (!stuck && this.totalBytes > this.maxBytes && this.depth > (keep === undefined ? 0 : 1)) {
      const batch = (this.stmt.oldest.all() as Row[]).map(toItem);
      let progressed = false;
      for (const it of batch) {
        if (this.totalBytes <= this.maxBytes) break;
        if (it.seq === keep) continue;
        if (!this.removeItem(it, () => {})) {
          stuck = true;
          break;
        }
        out.push(it);
        progressed = true;
      }
      if (!progressed) break;
    }
    return out;
  }

  /** True while the payload bytes waiting exceed `maxBytes`. */
  get overSize(): boolean {
    return this.totalBytes > this.maxBytes;
  }

  /** Puts a message in front of every waiting one (a summary of evicted messages); false on a full disk. */
  addAtHead(payload: string, createdMs: number, key: string | null = null): boolean {
    if (!this.sync()) return false;
    const first = this.head(1)[0];
    const seq = first ? first.seq - 1 : this.nextSeq++;
    return this.tryWrite([{ seq, key, createdMs, attempts: 0, payload }]);
  }

  deadLetters(): DeadLetter[] {
    return (this.db.prepare('SELECT id, created_ms, failed_ms, status, message, payload FROM dead ORDER BY id').all() as Record<string, never>[]).map((r) => ({
      id: r.id,
      createdMs: r.created_ms,
      failedMs: r.failed_ms,
      status: r.status,
      message: r.message,
      payload: r.payload,
    }));
  }

  /**
   * Moves dead letters back to the end of the queue (all of them, or those with the given ids), to
   * be delivered again: `pipeline dlq replay`. Returns how many were moved.
   */
  requeueDead(ids?: readonly number[]): number {
    const rows = this.deadLetters().filter((d) => ids === undefined || ids.includes(d.id));
    const drop = this.db.prepare('DELETE FROM dead WHERE id = ?');
    let moved = 0;
    this.db.transaction(() => {
      for (const d of rows) {
        const item: SpoolItem = { seq: this.nextSeq++, key: null, createdMs: d.createdMs, attempts: 0, payload: d.payload };
        if (!this.tryWrite([item])) break;
        drop.run(d.id);
        moved++;
      }
    })();
    return moved;
  }

  // ---- staged rows: collected before they become one message (e-mail digests) ----

  /** Stores a row of a group being collected; false (nothing stored) on a full disk. */
  stage(group: string, payload: string): boolean {
    if (!this.room(Buffer.byteLength(payload))) return false;
    try {
      this.stmt.stage.run(group, this.clock.now(), payload);
    } catch (err) {
      this.failed(err);
      return false;
    }
    this.succeeded();
    return true;
  }

  staged(group: string): StagedRow[] {
    return (this.stmt.staged.all(group) as { id: number; grp: string; created_ms: number; payload: string }[]).map((r) => ({
      id: r.id,
      group: r.grp,
      createdMs: r.created_ms,
      payload: r.payload,
    }));
  }

  /** Groups with staged rows and the time of their first row. */
  stagedGroups(): { group: string; firstMs: number }[] {
    return (this.stmt.stagedGroups.all() as { grp: string; first_ms: number }[]).map((r) => ({ group: r.grp, firstMs: r.first_ms }));
  }

  /**
   * Turns a group's staged rows into one message atomically: the rows go, the message is added.
   * False on a full disk: nothing changed, the rows stay staged.
   */
  promoteStaged(group: string, message: NewItem): boolean {
    const item: SpoolItem = { seq: this.nextSeq++, key: message.key ?? null, createdMs: message.createdMs ?? this.clock.now(), attempts: 0, payload: message.payload };
    try {
      this.db.transaction(() => {
        this.stmt.unstage.run(group);
        this.writeMany([item]);
      })();
    } catch (err) {
      this.nextSeq = item.seq;
      this.failed(err);
      return false;
    }
    this.dbCount++;
    this.totalBytes += Buffer.byteLength(item.payload);
    this.succeeded();
    return true;
  }

  // ---- small persistent state ----

  getState(key: string): string | undefined {
    return (this.stmt.getKv.get(key) as { v: string } | undefined)?.v;
  }

  setState(key: string, value: string | undefined): void {
    try {
      if (value === undefined) this.stmt.delKv.run(key);
      else this.stmt.setKv.run(key, value);
    } catch (err) {
      if (!isFull(err, this.path)) throw err;
      this.logger?.error({ key, path: this.path }, 'spool: the disk is full; state not saved');
    }
  }

  close(): void {
    if (this.db.open && !this.sync()) this.logger?.warn({ deliveries: this.pendingAcks.length, path: this.path }, 'spool: closing on a full disk; these delivered messages could not be marked and will be sent again');
    if (this.db.open) this.db.close();
  }
}

function toItem(r: Row): SpoolItem {
  return { seq: r.seq, key: r.key, createdMs: r.created_ms, attempts: r.attempts, payload: r.payload };
}
