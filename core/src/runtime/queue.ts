import type { Event } from '../event/event.js';

/**
 * The queue between inputs and workers. Bounded: once it holds `capacity` events it reports
 * itself not writable, and inputs stop reading until a worker has taken a batch and room is back
 * below the low-water mark (one batch under capacity, so producers and workers do not ping-pong
 * on every event). `push` never refuses an event: an input may finish the chunk it is decoding.
 */
const DELIVERED = Symbol('pipeline.onDelivered');
const STORED: Promise<void> = Promise.resolve();
type WithCallback = Event & { [DELIVERED]?: () => void };

/** Attaches an input's delivery callback to an event (not serialised, not cloned). */
export function setDeliveryCallback(e: Event, cb: () => void): void {
  (e as WithCallback)[DELIVERED] = cb;
}

/** Runs the delivery callbacks of a batch that has passed every output. */
export function runDeliveryCallbacks(batch: readonly Event[]): void {
  for (let i = 0; i < batch.length; i++) {
    const cb = (batch[i] as WithCallback)[DELIVERED];
    if (cb !== undefined) {
      (batch[i] as WithCallback)[DELIVERED] = undefined;
      cb();
    }
  }
}

export interface EventQueue {
  push(event: Event): void;
  readonly writable: boolean;
  whenWritable(): Promise<void>;
  /** The next batch: up to `max` events, waiting up to `delayMs` to fill it; null once closed and empty. */
  take(max: number, delayMs: number): Promise<Event[] | null>;
  /** Called after a batch has passed every output (a persisted queue deletes it then). */
  ack(batch: Event[]): void;
  /** No more pushes: `take` drains what is left, then returns null. */
  close(): void;
  /** Wakes a waiting `take` early (periodic flushes), returning whatever is there, possibly []. */
  wake(): void;
  /**
   * Resolves once every event pushed so far is held by the queue: at once for the memory queue,
   * after the transaction holding them has committed for the persisted queue (so they survive
   * kill -9). Inputs that acknowledge to their sender on receipt (RELP) wait for this.
   */
  whenStored(): Promise<void>;
  readonly size: number;
  readonly capacity: number;
}

/**
 * What both queues share: waiting for a batch to fill (at most `delayMs`), waking a waiting worker
 * early, and holding back inputs until there is room again. Subclasses say how big they are, when
 * they are writable, and how a batch is taken out.
 */
export abstract class BatchingQueue implements EventQueue {
  protected closed = false;
  private writableWaiters: (() => void)[] = [];
  private takeWaiter: (() => void) | undefined;
  private woken = false;
  /** Highest size seen, for tests and metrics. */
  peak = 0;

  abstract readonly size: number;
  abstract readonly capacity: number;
  abstract readonly writable: boolean;
  protected abstract store(event: Event): void;
  protected abstract takeNow(max: number): Event[];
  /** Whether held-back inputs may go on (the memory queue waits for a low-water mark). */
  protected abstract canRelease(): boolean;
  abstract ack(batch: Event[]): void;

  push(event: Event): void {
    this.store(event);
    const n = this.size;
    if (n > this.peak) this.peak = n;
    const w = this.takeWaiter;
    if (w !== undefined) {
      this.takeWaiter = undefined;
      w();
    }
  }

  /** A pushed event is stored as soon as `store` returns, unless a subclass commits later. */
  whenStored(): Promise<void> {
    return STORED;
  }

  whenWritable(): Promise<void> {
    if (this.writable || this.closed) return Promise.resolve();
    return new Promise((resolve) => this.writableWaiters.push(resolve));
  }

  protected releaseWriters(): void {
    if (this.writableWaiters.length > 0 && (this.closed || this.canRelease())) {
      const ws = this.writableWaiters;
      this.writableWaiters = [];
      for (const w of ws) w();
    }
  }

  async take(max: number, delayMs: number): Promise<Event[] | null> {
    if (this.size >= max) return this.takeNow(max);
    if (this.size === 0) {
      if (this.closed) return null;
      await new Promise<void>((resolve) => (this.takeWaiter = resolve));
      if (this.size === 0) {
        this.woken = false;
        return this.closed ? null : [];
      }
    }
    if (this.size < max && !this.closed && delayMs > 0) {
      // wait for the batch to fill, at most delayMs
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, delayMs);
        const self = this;
        function done() {
          clearTimeout(timer);
          self.takeWaiter = undefined;
          resolve();
        }
        const check = () => {
          if (self.size >= max || self.closed || self.woken) done();
          else self.takeWaiter = check;
        };
        this.takeWaiter = check;
      });
    }
    this.woken = false;
    return this.takeNow(max);
  }

  close(): void {
    this.closed = true;
    this.releaseWriters();
    this.wake();
  }

  wake(): void {
    this.woken = true;
    const w = this.takeWaiter;
    if (w !== undefined) {
      this.takeWaiter = undefined;
      w();
    }
  }
}

/** The in-memory queue: an array with a moving head. */
export class MemoryQueue extends BatchingQueue {
  private buf: Event[] = [];
  private head = 0;
  private readonly lowWater: number;

  constructor(
    readonly capacity: number,
    batchSize: number,
  ) {
    super();
    this.lowWater = Math.max(0, capacity - Math.max(1, batchSize));
  }

  get size(): number {
    return this.buf.length - this.head;
  }

  get writable(): boolean {
    return this.size < this.capacity;
  }

  protected store(event: Event): void {
    this.buf.push(event);
  }

  protected canRelease(): boolean {
    return this.size <= this.lowWater;
  }

  protected takeNow(max: number): Event[] {
    const n = Math.min(max, this.size);
    const batch = this.buf.slice(this.head, this.head + n);
    this.head += n;
    if (this.head > 4096 && this.head * 2 > this.buf.length) {
      this.buf = this.buf.slice(this.head);
      this.head = 0;
    }
    this.releaseWriters();
    return batch;
  }

  ack(batch: Event[]): void {
    runDeliveryCallbacks(batch);
  }
}
