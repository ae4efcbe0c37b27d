import type { Redis } from 'ioredis';
import type { Counter, Logger } from '@pipeline/core';
import type { EntryBatch } from './delivery.js';

/**
 * Acknowledges delivered stream entries: settled batches are gathered and sent as one XACK per
 * stream on the next turn of the event loop. A failed XACK keeps its ids and is tried again with
 * the next flush; until then the entries stay pending, so at worst they are delivered twice.
 */
/** Acknowledged ids remembered per stream against a late reply (see `recentlyAcked`). */
const RECENT_ACKED = 10_000;

export class Acker {
  private readonly due = new Map<string, string[]>();
  private scheduled = false;
  private flushing: Promise<void> = Promise.resolve();
  /** Entries read and not yet acknowledged, per stream (a claim pass skips what we hold). */
  readonly inFlight = new Map<string, Set<string>>();
  private outstanding = 0;
  private idleWaiters: (() => void)[] = [];

  constructor(
    private readonly cmd: Redis,
    private readonly group: string,
    private readonly logger: Logger,
    private readonly acked: Counter,
  ) {}

  /**
   * Entries acknowledged lately, per stream. The reader (its own connection) and the claim pass and
   * XACK (the command connection) race: a reply produced just before our XACK ran can still bring
   * an entry we have delivered and acknowledged. Bounded: the newest RECENT_ACKED ids per stream.
   */
  private readonly recentlyAcked = new Map<string, Set<string>>();

  /** Records a batch as read; returns false for entries already held or just acknowledged by ourselves. */
  hold(stream: string, id: string): boolean {
    let set = this.inFlight.get(stream);
    if (set === undefined) this.inFlight.set(stream, (set = new Set()));
    if (set.has(id) || this.recentlyAcked.get(stream)?.has(id)) return false;
    set.add(id);
    return true;
  }

  private rememberAcked(stream: string, ids: readonly string[]): void {
    let recent = this.recentlyAcked.get(stream);
    if (recent === undefined) this.recentlyAcked.set(stream, (recent = new Set()));
    for (const id of ids) recent.add(id);
    // a Set iterates in insertion order: drop the oldest past the bound
    if (recent.size > RECENT_ACKED) {
      let drop = recent.size - RECENT_ACKED;
      for (const id of recent) {
        if (drop-- <= 0) break;
        recent.delete(id);
      }
    }
  }

  opened(): void {
    this.outstanding++;
  }

  /** A batch's events have all been delivered: acknowledge its entries. */
  readonly settle = (batch: EntryBatch): void => {
    this.outstanding--;
    for (const [stream, ids] of batch.ids) {
      const list = this.due.get(stream);
      if (list === undefined) this.due.set(stream, [...ids]);
      else for (const id of ids) list.push(id);
    }
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => {
        this.scheduled = false;
        this.flushing = this.flushing.then(() => this.flush());
      });
    }
  };

  private async flush(): Promise<void> {
    for (const [stream, ids] of this.due) {
      this.due.delete(stream);
      if (ids.length === 0) continue;
      try {
        await this.cmd.xack(stream, this.group, ...ids);
        this.acked.inc(ids.length);
        // held until acknowledged, so a claim pass cannot take back an entry whose XACK is on its way
        const set = this.inFlight.get(stream);
        if (set !== undefined) for (const id of ids) set.delete(id);
        this.rememberAcked(stream, ids);
      } catch (err) {
        this.logger.warn({ err: (err as Error).message, stream, entries: ids.length }, 'XACK failed; will retry');
        const back = this.due.get(stream);
        this.due.set(stream, back ? [...ids, ...back] : ids);
        setTimeout(() => (this.flushing = this.flushing.then(() => this.flush())), 1000).unref();
        return;
      }
    }
    if (this.outstanding === 0 && this.due.size === 0) {
      const ws = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of ws) w();
    }
  }

  /** Resolves once every batch read so far has been settled and acknowledged. */
  async drained(): Promise<void> {
    for (;;) {
      await this.flushing;
      if (this.outstanding === 0 && this.due.size === 0 && !this.scheduled) return;
      await new Promise<void>((r) => this.idleWaiters.push(r));
    }
  }

  /** Waits for the acknowledgements already due (settled batches) to be sent. */
  async flushDue(): Promise<void> {
    await new Promise((r) => setImmediate(r));
    await this.flushing;
  }

  get pendingBatches(): number {
    return this.outstanding;
  }
}
