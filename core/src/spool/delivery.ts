import type { Clock, TimerHandle } from '../plugin/clock.js';
import type { Logger } from '../plugin/define.js';
import type { Counter, Gauge, Metrics } from '../plugin/metrics.js';
import type { NewItem, Spool, SpoolItem } from './spool.js';

/**
 * Delivers a spool's messages one at a time, oldest first, to a destination (an HTTP API, an SMTP
 * server). What a send attempt can come back with:
 * - `delivered`: the message is removed from the spool.
 * - `retry` with `unavailable: true`: the destination cannot be reached (connection refused,
 *   timeout, 502/503/504). The message stays at the head and is retried with capped exponential
 *   backoff and jitter for as long as the spool keeps it (its age and size caps decide).
 * - `retry` without `unavailable`: the destination answered with a transient error (500, 429, an
 *   SMTP 4xx). Retried the same way, but at most `maxAttempts` times, then dead-lettered with the
 *   destination's message.
 * - `reject`: refused for good (400, 401, 403, 415, SMTP 5xx): dead-lettered at once, never retried.
 * Timers run on the injected clock, so tests drive outages on a virtual clock.
 *
 * A full spool disk is back-pressure, not loss: a write that does not fit (`enqueue`, or any spool
 * write passed to `write`) returns a promise that resolves once it is on disk, and later writes
 * queue behind it in order. An output returns that promise from `receive`, so the pipeline does
 * not acknowledge the batch to its queue (and, with the persisted queue, keeps it on disk) until
 * the spool has committed it. Writes are retried with back-off (and as soon as a delivery frees
 * room); delivery pauses while its acknowledgements cannot be committed, so a crash re-sends at
 * most the one message in flight.
 *
 * The size cap is for outages. While the destination answers, a spool over its size cap is
 * back-pressure too: `enqueue` returns a promise that resolves once deliveries bring it under the
 * cap, so a source faster than the destination slows to its pace instead of evicting what it has
 * not sent (which starved delivery: the oldest messages were evicted as fast as they came). During
 * an outage (the destination unreachable or failing) the caps evict the oldest messages and the
 * owner summarises them, so the pipeline goes on and the spool stays bounded.
 */
export type DeliveryOutcome =
  | { kind: 'delivered' }
  | { kind: 'retry'; unavailable: boolean; status: string; message: string; retryAfterMs?: number }
  | { kind: 'reject'; status: string; message: string };

export interface RetryPolicy {
  /** First backoff, ms. */
  initialMs: number;
  /** Backoff cap, ms. */
  maxMs: number;
  /** Attempts for transient errors (not for an unreachable destination) before dead-lettering. */
  maxAttempts: number;
}

export interface DeliveryOptions {
  spool: Spool;
  clock: Clock;
  logger: Logger;
  metrics: Metrics;
  retry: RetryPolicy;
  send(item: SpoolItem): Promise<DeliveryOutcome>;
  /**
   * Called with messages evicted by the spool's age or size cap (oldest first); returns the
   * payloads to put back in front of the queue (typically one summary), or nothing.
   */
  summarise?(evicted: SpoolItem[]): string[];
  /** Jitter source in [0, 1); tests may fix it. */
  random?: () => number;
}

/** The metric names every spooled output reports. */
export interface DeliveryCounters {
  delivered: Counter;
  retried: Counter;
  spooled: Counter;
  failed: Counter;
  dropped: Counter;
  duplicates: Counter;
  depth: Gauge;
  bytes: Gauge;
  diskFull: Gauge;
}

export function deliveryCounters(metrics: Metrics): DeliveryCounters {
  return {
    delivered: metrics.counter('delivered'),
    retried: metrics.counter('retried'),
    spooled: metrics.counter('spooled'),
    failed: metrics.counter('failed'),
    dropped: metrics.counter('dropped'),
    duplicates: metrics.counter('duplicates'),
    depth: metrics.gauge('spool_depth'),
    bytes: metrics.gauge('spool_bytes'),
    diskFull: metrics.gauge('spool_disk_full'),
  };
}

/** Keys of summary messages, so a summary evicted in its turn is not counted as a dropped message. */
const SUMMARY_KEY = '\u0000summary:';

export class DeliveryLoop {
  private summaries = 0;
  readonly counters: DeliveryCounters;
  private readonly o: DeliveryOptions;
  private readonly random: () => number;
  private sending = false;
  private timer: TimerHandle | undefined;
  /** True from a retryable failure until the next success: new messages wait on disk. */
  private outage = false;
  private closed = false;
  private idleWaiters: (() => void)[] = [];
  private current: Promise<void> | undefined;
  /** Spool writes waiting for room on a full disk, in order. */
  private waiting: { op: () => boolean; resolve: () => void }[] = [];
  /** The next attempt after a full disk (writes and acknowledgements). */
  private diskTimer: TimerHandle | undefined;
  /** A delivery (or dead letter) could not be committed: nothing more is sent until it is. */
  private ackBlocked = false;
  /** Callers of `enqueue` waiting for the spool to come under its size cap (destination reachable). */
  private roomWaiters: (() => void)[] = [];

  constructor(options: DeliveryOptions) {
    this.o = options;
    this.random = options.random ?? Math.random;
    this.counters = deliveryCounters(options.metrics);
    this.updateGauges();
  }

  /** True while the destination is failing and messages wait for a retry. */
  get inOutage(): boolean {
    return this.outage;
  }

  /**
   * Spools messages (in order) and starts delivering them. Returns nothing once they are in the
   * spool, or (full disk) a promise that resolves once they are: the caller must not acknowledge
   * them before.
   */
  enqueue(items: readonly NewItem[]): void | Promise<void> {
    const done = this.write(() => {
      const r = this.o.spool.add(items);
      if (r.full) return false;
      this.counters.duplicates.inc(r.duplicates);
      if (this.outage) this.counters.spooled.inc(r.added);
      return true;
    });
    this.updateGauges();
    this.kick();
    if (this.outage || !this.o.spool.overSize) return done;
    // the destination is up but slower than the source: wait for room rather than evict
    const room = new Promise<void>((resolve) => this.roomWaiters.push(resolve));
    return done === undefined ? room : done.then(() => room);
  }

  /** Lets `enqueue` callers go on: the spool is under its size cap, an outage began, or it closes. */
  private releaseRoomWaiters(force: boolean): void {
    if (this.roomWaiters.length === 0 || (!force && this.o.spool.overSize)) return;
    const waiters = this.roomWaiters;
    this.roomWaiters = [];
    for (const w of waiters) w();
  }

  /**
   * Runs a spool write (`op` returns false when the disk is full) now, or, when it does not fit or
   * other writes already wait, once there is room, in order. Nothing while it waits is lost: the
   * caller holds the promise and, with it, the acknowledgement of what it was given.
   */
  write(op: () => boolean): void | Promise<void> {
    if (this.waiting.length === 0 && op()) return;
    return new Promise<void>((resolve) => {
      this.waiting.push({ op, resolve });
      this.scheduleDiskRetry();
    });
  }

  /** True while spool writes wait for room on a full disk. */
  get waitingForDisk(): boolean {
    return this.waiting.length > 0 || this.diskTimer !== undefined;
  }

  /** Runs the waiting writes in order; false if the disk is still full. */
  private retryWrites(): boolean {
    while (this.waiting.length > 0) {
      const w = this.waiting[0]!;
      if (!w.op()) return false;
      this.waiting.shift();
      w.resolve();
    }
    return true;
  }

  private scheduleDiskRetry(): void {
    if (this.diskTimer !== undefined || this.closed) return;
    this.diskTimer = this.o.clock.setTimeout(() => {
      this.diskTimer = undefined;
      this.o.spool.reclaim();
      const acked = this.o.spool.sync();
      if (acked) this.ackBlocked = false;
      const ok = acked && this.retryWrites();
      this.updateGauges();
      if (!ok) this.scheduleDiskRetry();
      // sending goes on while new messages wait for room: delivering is what frees it
      this.kick();
    }, Math.max(1, this.o.spool.retryMs));
  }

  /** Starts a delivery pass unless one is running, a retry is scheduled, or a delivery is not yet recorded. */
  kick(): void {
    if (this.closed || this.sending || this.timer || this.ackBlocked) return;
    this.current = this.pump();
  }

  /** A delivery or dead letter could not be committed (full disk): pause sending until it is. */
  private blockOnAck(): void {
    this.ackBlocked = true;
    this.scheduleDiskRetry();
  }

  /** Resolves when nothing is being sent: the spool is empty or the next attempt waits for a timer. */
  whenIdle(): Promise<void> {
    if (!this.sending) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private updateGauges(): void {
    this.counters.depth.set(this.o.spool.depth);
    this.counters.bytes.set(this.o.spool.bytes);
    this.counters.diskFull.set(this.o.spool.diskFull ? 1 : 0);
  }

  private evictAndSummarise(keep?: number, bySize = true): void {
    const evicted = this.o.spool.evict(keep, bySize);
    if (evicted.length === 0) return;
    let real = 0;
    for (const it of evicted) if (!it.key?.startsWith(SUMMARY_KEY)) real++;
    this.counters.dropped.inc(real);
    this.o.logger.warn({ evicted: evicted.length }, 'spool caps reached: oldest messages summarised instead of replayed');
    const summaries = this.o.summarise?.(evicted) ?? [];
    const now = this.o.clock.now();
    for (let i = summaries.length - 1; i >= 0; i--) {
      if (!this.o.spool.addAtHead(summaries[i]!, now, `${SUMMARY_KEY}${now}:${this.summaries++}`)) {
        this.o.logger.error({ evicted: evicted.length }, 'spool: the disk filled while writing the summary of evicted messages; the summary is lost');
        break;
      }
    }
  }

  private async pump(): Promise<void> {
    this.sending = true;
    try {
      while (!this.closed) {
        // the size cap evicts only in an outage; otherwise it holds enqueue back (see above)
        this.evictAndSummarise(undefined, this.outage);
        const item = this.o.spool.head(1)[0];
        if (!item) break;
        let outcome: DeliveryOutcome;
        try {
          outcome = await this.o.send(item);
        } catch (err) {
          outcome = { kind: 'retry', unavailable: true, status: 'error', message: (err as Error).message };
        }
        if (outcome.kind === 'delivered') {
          const recorded = this.o.spool.ack(item);
          this.counters.delivered.inc();
          if (this.outage) this.o.logger.info({ waiting: this.o.spool.depth }, 'destination reachable again: delivering spooled messages');
          this.outage = false;
          if (!recorded) {
            // the delivery is not committed: send nothing more until it is (bounded re-sends)
            this.blockOnAck();
            break;
          }
          // a delivery frees room: writes waiting for it go in now
          if (this.waiting.length > 0) this.retryWrites();
        } else if (outcome.kind === 'reject') {
          if (!this.o.spool.deadLetter(item, outcome.status, outcome.message)) {
            this.blockOnAck(); // still at the head: decided again once there is room
            break;
          }
          this.counters.failed.inc();
          this.o.logger.error({ status: outcome.status, message: outcome.message }, 'destination refused a message: dead-lettered');
        } else {
          const attempts = item.attempts + 1;
          if (!outcome.unavailable && attempts >= this.o.retry.maxAttempts) {
            if (!this.o.spool.deadLetter(item, outcome.status, outcome.message)) {
              this.blockOnAck();
              break;
            }
            this.counters.failed.inc();
            this.o.logger.error({ status: outcome.status, message: outcome.message, attempts }, 'giving up after bounded retries: dead-lettered');
            continue;
          }
          this.o.spool.setAttempts(item, attempts);
          this.counters.retried.inc();
          if (!this.outage) {
            this.outage = true;
            // in an outage the caps evict: held-back callers go on
            this.releaseRoomWaiters(true);
            this.counters.spooled.inc(this.o.spool.depth);
            this.o.logger.warn({ status: outcome.status, message: outcome.message }, 'delivery failed: spooling and retrying');
          }
          this.scheduleRetry(attempts, outcome.retryAfterMs);
          break;
        }
        this.updateGauges();
        // a delivery or a dead letter freed room
        this.releaseRoomWaiters(false);
      }
    } finally {
      // idle or waiting for a retry: make the acknowledgements durable now
      if (!this.o.spool.sync()) this.blockOnAck();
      this.sending = false;
      this.updateGauges();
      this.releaseRoomWaiters(false);
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
    }
  }

  /** Capped exponential backoff with "equal jitter": half fixed, half random. */
  backoffMs(attempts: number): number {
    const exp = Math.min(this.o.retry.maxMs, this.o.retry.initialMs * 2 ** Math.min(30, attempts - 1));
    return Math.round(exp / 2 + (exp / 2) * this.random());
  }

  private scheduleRetry(attempts: number, retryAfterMs?: number): void {
    const delay = Math.max(this.backoffMs(attempts), Math.min(retryAfterMs ?? 0, this.o.retry.maxMs));
    this.timer = this.o.clock.setTimeout(() => {
      this.timer = undefined;
      this.kick();
    }, delay);
  }

  /** Retries now (skips a pending backoff): used when new evidence says the destination is back. */
  retryNow(): void {
    if (this.timer) {
      this.timer.cancel();
      this.timer = undefined;
    }
    this.kick();
  }

  /** Stops delivering; what is left stays in the spool for the next start. */
  async close(): Promise<void> {
    this.closed = true;
    this.timer?.cancel();
    this.timer = undefined;
    this.diskTimer?.cancel();
    this.diskTimer = undefined;
    await this.current;
    // what they enqueued is in the spool, committed: their acknowledgement may go
    this.releaseRoomWaiters(true);
    // writes still waiting were never acknowledged to the pipeline's queue: they are not lost
    if (this.waiting.length > 0) this.o.logger.warn({ writes: this.waiting.length }, 'spool closed on a full disk with writes waiting (left unacknowledged in the queue)');
    this.o.spool.close();
  }
}
