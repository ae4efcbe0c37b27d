import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type { Clock } from '../plugin/clock.js';
import type { Logger } from '../plugin/define.js';

/**
 * A durable, ordered spool of outgoing messages (alerts, heartbeats, mails) in one SQLite file.
 * Outputs write every message here first and delete it once delivered, so nothing is lost while
 * the destination is down or the process restarts. It also keeps a dead-letter table for messages
 * the destination refused for good, the idempotency keys of recently delivered messages, staged
 * rows (e.g. an e-mail digest being collected) and a small key/value table for plugin state.
 *
 * When the disk (or the database's page cap) is full, new messages are held in memory, the
 * condition is reported once through the logger and `diskFull`, and they are written to the
 * database as soon as it accepts writes again. Nothing throws into the pipeline.
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
  /** Held in memory at most while the disk is full; beyond it new messages are refused (counted by the caller). */
  memoryLimit?: number;
  /**
   * Deliveries acknowledged in one transaction (default 64). The delivery loop commits whatever is
   * pending as soon as it goes idle, so only a crash in the middle of a busy stream can resend up
   * to this many delivered messages; their idempotency keys are in the same transaction.
   */
  ackBatch?: number;
}

export interface SpoolItem {
  readonly seq: number;
  readonly key: string | null;
  readonly createdMs: number;
  attempts: number;
  readonly payload: string;
  /** True while the item exists only in memory (disk full). */
  readonly inMemory: boolean;
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
  /** Held in memory because the database could not be written. */
  inMemory: number;
  /** Refused: the disk is full and the memory reserve too. */
  refused: number;
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

const FULL_CODES = new Set(['SQLITE_FULL', 'SQLITE_IOERR', 'SQLITE_IOERR_WRITE', 'SQLITE_IOERR_FSYNC', 'SQLITE_IOERR_SHORT_READ']);

/** True for the errors SQLite raises when it cannot grow the file: a full disk or the page cap. */
export function isDiskFullError(err: unknown): boolean {
  const code = (err as { code?: string } | null)?.code;
  return typeof code === 'string' && (FULL_CODES.has(code) || code.startsWith('SQLITE_IOERR'));
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
  private readonly clock: Clock;
  private readonly logger: Logger | undefined;
  private readonly maxBytes: number;
  private readonly maxAgeMs: number;
  private readonly dedupWindowMs: number;
  private readonly memoryLimit: number;
  private readonly memory: SpoolItem[] = [];
  private nextSeq: number;
  private totalBytes: number;
  private dbCount: number;
  private full = false;
  private lastPrune = 0;
  private readonly ackBatch: number;
  /** Delivered messages whose removal is not committed yet: always the oldest ones, in order. */
  private pendingAcks: SpoolItem[] = [];
  private ackFloor = Number.NEGATIVE_INFINITY;

  private readonly stmt: {
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

  constructor(options: SpoolOptions) {
    mkdirSync(dirname(options.path), { recursive: true });
    this.clock = options.clock;
    this.logger = options.logger;
    this.maxBytes = options.maxBytes ?? Number.POSITIVE_INFINITY;
    this.maxAgeMs = options.maxAgeMs ?? Number.POSITIVE_INFINITY;
    this.dedupWindowMs = options.dedupWindowMs ?? 7 * 86_400_000;
    this.memoryLimit = options.memoryLimit ?? 10_000;
    this.ackBatch = Math.max(1, options.ackBatch ?? 64);
    this.db = new Database(options.path);
    // WAL with synchronous=NORMAL survives a process crash; a power cut may lose the last commits.
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
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
    const agg = this.db.prepare('SELECT COUNT(*) AS n, COALESCE(SUM(length(CAST(payload AS BLOB))), 0) AS bytes, COALESCE(MAX(seq), 0) AS max FROM items').get() as {
      n: number;
      bytes: number;
      max: number;
    };
    this.dbCount = agg.n;
    this.totalBytes = agg.bytes;
    this.nextSeq = agg.max + 1;
  }

  /** Messages waiting (on disk and in memory). */
  get depth(): number {
    return this.dbCount - this.pendingAcks.length + this.memory.length;
  }

  /** Payload bytes waiting. */
  get bytes(): number {
    return this.totalBytes;
  }

  /** True while writes fail for lack of space. */
  get diskFull(): boolean {
    return this.full;
  }

  /** Adds messages at the tail, in order, in one transaction. Never throws for a full disk. */
  add(items: readonly NewItem[]): AddResult {
    const result: AddResult = { added: 0, duplicates: 0, inMemory: 0, refused: 0 };
    if (items.length === 0) return result;
    this.flushMemory();
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
      fresh.push({ seq: this.nextSeq++, key, createdMs: it.createdMs ?? now, attempts: 0, payload: it.payload, inMemory: false });
    }
    if (fresh.length === 0) return result;
    if (this.memory.length === 0 && (this.tryWrite(fresh, true) || (this.pendingAcks.length > 0 && (this.sync(), this.tryWrite(fresh))))) {
      result.added = fresh.length;
    } else {
      for (const it of fresh) {
        if (this.memory.length >= this.memoryLimit) {
          result.refused++;
          continue;
        }
        this.memory.push({ ...it, inMemory: true });
        this.totalBytes += Buffer.byteLength(it.payload);
        result.inMemory++;
        result.added++;
      }
    }
    return result;
  }

  private hasKey(key: string): boolean {
    if (this.stmt.hasKey.get(key, key) !== undefined) return true;
    if (this.pendingAcks.some((p) => p.key === key)) return true;
    return this.memory.some((m) => m.key === key);
  }

  private readonly writeMany = (items: readonly SpoolItem[]) => {
    for (const it of items) this.stmt.insert.run(it.seq, it.key, it.createdMs, it.attempts, it.payload);
  };

  /** Writes items in one transaction; on a full disk marks the spool full and returns false. */
  private tryWrite(items: readonly SpoolItem[], quiet = false): boolean {
    try {
      this.db.transaction(this.writeMany)(items);
    } catch (err) {
      if (!isDiskFullError(err)) throw err;
      if (quiet && this.pendingAcks.length > 0) return false; // the caller frees pages and tries again
      if (!this.full) this.logger?.error({ err: (err as Error).message }, 'spool: the disk is full; holding new messages in memory until it has room');
      this.full = true;
      return false;
    }
    this.dbCount += items.length;
    let b = 0;
    for (const it of items) b += Buffer.byteLength(it.payload);
    if (!items[0]!.inMemory) this.totalBytes += b;
    if (this.full && this.memory.length === 0) {
      this.full = false;
      this.logger?.warn('spool: the disk has room again');
    }
    return true;
  }

  /** Moves messages held in memory to the database, once it accepts writes again. */
  private flushMemory(): void {
    if (this.memory.length === 0) return;
    this.sync(); // committed deletions free pages for what waits in memory
    const batch = this.memory.slice();
    if (this.tryWrite(batch)) {
      this.memory.length = 0;
      if (this.full) {
        this.full = false;
        this.logger?.warn('spool: the disk has room again');
      }
    }
  }

  /** The oldest `limit` messages, in order. */
  head(limit: number): SpoolItem[] {
    this.flushMemory();
    const rows = this.stmt.head.all(this.ackFloor, limit) as Row[];
    const out: SpoolItem[] = rows.map((r) => ({ seq: r.seq, key: r.key, createdMs: r.created_ms, attempts: r.attempts, payload: r.payload, inMemory: false }));
    for (let i = 0; out.length < limit && i < this.memory.length; i++) out.push(this.memory[i]!);
    return out;
  }

  /** Removes a delivered message (the oldest) and remembers its key; committed in batches, see `ackBatch`. */
  ack(item: SpoolItem): void {
    if (item.inMemory) {
      this.removeItem(item, () => {
        if (item.key !== null) this.stmt.markDelivered.run(item.key, this.clock.now());
      });
      return;
    }
    this.pendingAcks.push(item);
    this.ackFloor = Math.max(this.ackFloor, item.seq);
    this.totalBytes -= Buffer.byteLength(item.payload);
    if (this.pendingAcks.length >= this.ackBatch) this.sync();
  }

  private readonly commitAcks = (items: readonly SpoolItem[]) => {
    const now = this.clock.now();
    for (const it of items) {
      this.stmt.remove.run(it.seq);
      if (it.key !== null) this.stmt.markDelivered.run(it.key, now);
    }
  };

  /** Commits pending acknowledgements. */
  sync(): void {
    if (this.pendingAcks.length === 0) return;
    const batch = this.pendingAcks;
    try {
      this.db.transaction(this.commitAcks)(batch);
    } catch (err) {
      if (!isDiskFullError(err)) throw err;
      // deleting alone frees space; the keys are lost, the messages are not resent
      this.db.transaction(() => {
        for (const it of batch) this.stmt.remove.run(it.seq);
      })();
    }
    this.dbCount -= batch.length;
    this.pendingAcks = [];
    this.pruneDelivered();
  }

  /** Moves a refused message to the dead-letter table. */
  deadLetter(item: SpoolItem, status: string, message: string): void {
    this.sync();
    this.removeItem(item, () => {
      this.stmt.dead.run(item.createdMs, this.clock.now(), status, message, item.payload);
      if (item.key !== null) this.stmt.markDelivered.run(item.key, this.clock.now());
    });
  }

  /** Records a message refused before it was ever spooled (invalid at the source). */
  deadLetterNew(payload: string, status: string, message: string): void {
    try {
      const now = this.clock.now();
      this.stmt.dead.run(now, now, status, message, payload);
    } catch (err) {
      if (!isDiskFullError(err)) throw err;
      this.logger?.error({ status, message }, 'spool: the disk is full; a dead letter was not stored');
    }
  }

  /** Saves a delivery attempt count (so bounded retries stay bounded across restarts). */
  setAttempts(item: SpoolItem, attempts: number): void {
    item.attempts = attempts;
    if (item.inMemory) return;
    try {
      this.stmt.attempts.run(attempts, item.seq);
    } catch (err) {
      if (!isDiskFullError(err)) throw err;
    }
  }

  private removeItem(item: SpoolItem, extra: () => void): void {
    const bytes = Buffer.byteLength(item.payload);
    if (item.inMemory) {
      const i = this.memory.findIndex((m) => m.seq === item.seq);
      if (i >= 0) {
        this.memory.splice(i, 1);
        this.totalBytes -= bytes;
      }
      try {
        extra();
      } catch (err) {
        if (!isDiskFullError(err)) throw err;
      }
      return;
    }
    try {
      this.db.transaction(() => {
        const r = this.stmt.remove.run(item.seq);
        if (r.changes > 0) {
          this.dbCount--;
          this.totalBytes -= bytes;
        }
        extra();
      })();
    } catch (err) {
      if (!isDiskFullError(err)) throw err;
      // Deleting alone frees space; retry without the bookkeeping row.
      const r = this.stmt.remove.run(item.seq);
      if (r.changes > 0) {
        this.dbCount--;
        this.totalBytes -= bytes;
      }
    }
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
      if (!isDiskFullError(err)) throw err;
    }
  }

  /**
   * Removes messages older than `maxAgeMs`, then the oldest ones while over `maxBytes`, and returns
   * them (oldest first) so the owner can summarise them. `keep` (a seq) is never removed: it is the
   * message being delivered right now.
   */
  evict(keep?: number): SpoolItem[] {
    const out: SpoolItem[] = [];
    const take = (items: SpoolItem[]) => {
      for (const it of items) {
        if (it.seq === keep) continue;
        this.removeItem(it, () => {});
        out.push(it);
      }
    };
    if (Number.isFinite(this.maxAgeMs)) {
      const cutoff = this.clock.now() - this.maxAgeMs;
      const oldest = (this.stmt.oldestCreated.get() as { m: number | null }).m;
      if (oldest !== null && oldest < cutoff) this.sync();
      if (oldest !== null && oldest < cutoff) take((this.stmt.olderThan.all(cutoff) as Row[]).map(toItem));
      take(this.memory.filter((m) => m.createdMs < cutoff));
    }
    if (this.totalBytes > this.maxBytes) this.sync();
    while (this.totalBytes > this.maxBytes && this.depth > (keep === undefined ? 0 : 1)) {
      const batch = (this.stmt.oldest.all() as Row[]).map(toItem);
      const source = batch.length > 0 ? batch : this.memory.slice(0, 256);
      let progressed = false;
      for (const it of source) {
        if (this.totalBytes <= this.maxBytes) break;
        if (it.seq === keep) continue;
        this.removeItem(it, () => {});
        out.push(it);
        progressed = true;
      }
      if (!progressed) break;
    }
    return out;
  }

  /** Puts a message in front of every waiting one (a summary of evicted messages). */
  addAtHead(payload: string, createdMs: number, key: string | null = null): void {
    this.sync();
    const first = this.head(1)[0];
    const seq = first ? first.seq - 1 : this.nextSeq++;
    const item: SpoolItem = { seq, key, createdMs, attempts: 0, payload, inMemory: false };
    if (!this.tryWrite([item])) {
      this.memory.unshift({ ...item, inMemory: true });
      this.totalBytes += Buffer.byteLength(payload);
    }
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
        const item: SpoolItem = { seq: this.nextSeq++, key: null, createdMs: d.createdMs, attempts: 0, payload: d.payload, inMemory: false };
        if (!this.tryWrite([item])) break;
        drop.run(d.id);
        moved++;
      }
    })();
    return moved;
  }

  // ---- staged rows: collected before they become one message (e-mail digests) ----

  stage(group: string, payload: string): boolean {
    try {
      this.stmt.stage.run(group, this.clock.now(), payload);
      return true;
    } catch (err) {
      if (!isDiskFullError(err)) throw err;
      this.logger?.error({ group }, 'spool: the disk is full; a staged row was not stored');
      return false;
    }
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

  /** Turns a group's staged rows into one message atomically: the rows go, the message is added. */
  promoteStaged(group: string, message: NewItem): void {
    const item: SpoolItem = { seq: this.nextSeq++, key: message.key ?? null, createdMs: message.createdMs ?? this.clock.now(), attempts: 0, payload: message.payload, inMemory: false };
    try {
      this.db.transaction(() => {
        this.stmt.unstage.run(group);
        this.writeMany([item]);
      })();
      this.dbCount++;
      this.totalBytes += Buffer.byteLength(item.payload);
    } catch (err) {
      if (!isDiskFullError(err)) throw err;
      this.memory.push({ ...item, inMemory: true });
      this.totalBytes += Buffer.byteLength(item.payload);
      this.stmt.unstage.run(group);
    }
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
      if (!isDiskFullError(err)) throw err;
      this.logger?.error({ key }, 'spool: the disk is full; state not saved');
    }
  }

  close(): void {
    if (this.db.open) this.sync();
    if (this.memory.length > 0) this.logger?.error({ lost: this.memory.length }, 'spool: closing with messages that could not be written to the full disk');
    if (this.db.open) this.db.close();
  }
}

function toItem(r: Row): SpoolItem {
  return { seq: r.seq, key: r.key, createdMs: r.created_ms, attempts: r.attempts, payload: r.payload, inMemory: false };
}
