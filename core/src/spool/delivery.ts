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

  /** Spools messages (in order) and starts delivering them. */
  enqueue(items: readonly NewItem[]): void {
    const r = this.o.spool.add(items);
    this.counters.duplicates.inc(r.duplicates);
    if (r.refused > 0) {
      this.counters.failed.inc(r.refused);
      this.o.logger.error({ refused: r.refused }, 'spool full (disk and memory reserve): messages dropped');
    }
    if (this.outage) this.counters.spooled.inc(r.added);
    this.updateGauges();
    this.kick();
  }

  /** Starts a delivery pass unless one is running or a retry is scheduled. */
  kick(): void {
    if (this.closed || this.sending || this.timer) return;
    this.current = this.pump();
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

  private evictAndSummarise(keep?: number): void {
    const evicted = this.o.spool.evict(keep);
    if (evicted.length === 0) return;
    let real = 0;
    for (const it of evicted) if (!it.key?.startsWith(SUMMARY_KEY)) real++;
    this.counters.dropped.inc(real);
    this.o.logger.warn({ evicted: evicted.length }, 'spool caps reached: oldest messages summarised instead of replayed');
    const summaries = this.o.summarise?.(evicted) ?? [];
    const now = this.o.clock.now();
    for (let i = summaries.length - 1; i >= 0; i--) this.o.spool.addAtHead(summaries[i]!, now, `${SUMMARY_KEY}${now}:${this.summaries++}`);
  }

  private async pump(): Promise<void> {
    this.sending = true;
    try {
      while (!this.closed) {
        this.evictAndSummarise();
        const item = this.o.spool.head(1)[0];
        if (!item) break;
        let outcome: DeliveryOutcome;
        try {
          outcome = await this.o.send(item);
        } catch (err) {
          outcome = { kind: 'retry', unavailable: true, status: 'error', message: (err as Error).message };
        }
        if (outcome.kind === 'delivered') {
          this.o.spool.ack(item);
          this.counters.delivered.inc();
          if (this.outage) this.o.logger.info({ waiting: this.o.spool.depth }, 'destination reachable again: delivering spooled messages');
          this.outage = false;
        } else if (outcome.kind === 'reject') {
          this.o.spool.deadLetter(item, outcome.status, outcome.message);
          this.counters.failed.inc();
          this.o.logger.error({ status: outcome.status, message: outcome.message }, 'destination refused a message: dead-lettered');
        } else {
          const attempts = item.attempts + 1;
          if (!outcome.unavailable && attempts >= this.o.retry.maxAttempts) {
            this.o.spool.deadLetter(item, outcome.status, outcome.message);
            this.counters.failed.inc();
            this.o.logger.error({ status: outcome.status, message: outcome.message, attempts }, 'giving up after bounded retries: dead-lettered');
            continue;
          }
          this.o.spool.setAttempts(item, attempts);
          this.counters.retried.inc();
          if (!this.outage) {
            this.outage = true;
            this.counters.spooled.inc(this.o.spool.depth);
            this.o.logger.warn({ status: outcome.status, message: outcome.message }, 'delivery failed: spooling and retrying');
          }
          this.scheduleRetry(attempts, outcome.retryAfterMs);
          break;
        }
        this.updateGauges();
      }
    } finally {
      // idle or waiting for a retry: make the acknowledgements durable now
      this.o.spool.sync();
      this.sending = false;
      this.updateGauges();
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
    await this.current;
    this.o.spool.close();
  }
}
