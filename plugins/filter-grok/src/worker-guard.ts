/**
 * The timeout guard (timeout_millis > 0). JavaScript cannot interrupt a running RegExp on its own
 * thread, so the patterns run in a worker thread sharing memory with the filter (layout and
 * protocol: worker-protocol.ts).
 *
 * The filter queues items: a whole batch's field values at once from `prepare`, or single values
 * on the per-event path. The worker runs them in order, ahead of the filter, and writes back per
 * item which pattern matched and its capture offsets. `wait(item)` returns when that item is done
 * (usually at once: the worker runs ahead while the pipeline thread does the rest of its work).
 * While waiting, the filter reads when the worker started the item in progress (or its pattern,
 * or its event, per timeout_scope); past that time + timeout_millis the worker is terminated (V8
 * interrupts a running regex), that item is marked timed out, and a fresh worker continues with
 * the next item. Other events are held up by one timeout at most.
 */
import { Worker } from 'node:worker_threads';
import { CTL, MAX_ITEMS, META, META_STRIDE, TIME, TIME_BLOCK, pack, sharedNow, type WorkerInit, type WorkerPattern } from './worker-protocol.js';

export interface GuardOptions {
  timeoutMs: number;
  /** 'pattern': each pattern gets timeoutMs; 'event': all items of one event share it. */
  scope: 'pattern' | 'event';
  breakOnMatch: boolean;
  /** Busy-wait iterations before sleeping (both sides). */
  spin?: number;
}

const MAX_START_MS = 30_000;
const GEN_MASK = 0x7fff;

export class WorkerGuard {
  /** Int32 cells per item in `results`. */
  readonly stride: number;
  /** Per item: pattern flags, then capture offsets (see worker-protocol.ts). Replaced when grown. */
  results!: Int32Array;
  /** Times the worker was replaced after a timeout (for tests and metrics). */
  restarts = 0;
  /** Items queued in the current generation. */
  count = 0;
  /** Items of the current generation known to be finished (DONE as last read). */
  private knownDone = 0;

  private worker!: Worker;
  private readonly ctl: Int32Array;
  private readonly times: Float64Array;
  private meta!: Int32Array;
  private text!: Buffer;
  private textUsed = 0;
  private timedOut!: Uint8Array;
  private gen = 0;
  private owner = 0;
  private readonly spin: number;
  private readonly timeCell: number;

  constructor(
    private readonly entries: WorkerPattern[][],
    private readonly opts: GuardOptions,
  ) {
    this.spin = opts.spin ?? 20_000;
    this.timeCell = opts.scope === 'event' ? TIME.EVENT : TIME.PATTERN;
    this.stride = Math.max(1, ...entries.map((list) => list.length + list.reduce((n, p) => n + 2 * p.groups.length, 0)));
    this.ctl = new Int32Array(new SharedArrayBuffer(CTL.SIZE * 4));
    this.times = new Float64Array(new SharedArrayBuffer(2 * TIME_BLOCK * 8));
    this.ctl[CTL.STARTED] = -1;
    this.allocate(256, 64 * 1024, false);
    this.spawn(0);
  }

  /** (Re)creates the item table, text and result buffers, keeping the current generation's contents if asked. */
  private allocate(items: number, chars: number, keep: boolean): void {
    const meta = new Int32Array(new SharedArrayBuffer(items * META_STRIDE * 4));
    const text = Buffer.from(new SharedArrayBuffer(chars * 2));
    const results = new Int32Array(new SharedArrayBuffer(items * this.stride * 4));
    const timedOut = new Uint8Array(items);
    if (keep) {
      meta.set(this.meta.subarray(0, this.count * META_STRIDE));
      this.text.copy(text, 0, 0, this.textUsed * 2);
      results.set(this.results.subarray(0, this.count * this.stride));
      timedOut.set(this.timedOut.subarray(0, this.count));
    }
    this.meta = meta;
    this.text = text;
    this.results = results;
    this.timedOut = timedOut;
  }

  /** Starts a worker at item `index` of the current generation and waits until it is ready. */
  private spawn(index: number): void {
    const ctl = this.ctl;
    this.owner = (this.owner + 1) & 0x3fffffff;
    Atomics.store(ctl, CTL.OWNER, this.owner);
    Atomics.store(ctl, CTL.READY, 0);
    const init: WorkerInit = {
      entries: this.entries,
      stride: this.stride,
      breakOnMatch: this.opts.breakOnMatch,
      patternScope: this.opts.scope === 'pattern',
      spin: this.spin,
      owner: this.owner,
      gen: this.gen,
      index,
      ctl: ctl.buffer as SharedArrayBuffer,
      times: this.times.buffer as SharedArrayBuffer,
      meta: this.meta.buffer as SharedArrayBuffer,
      text: this.text.buffer as SharedArrayBuffer,
      results: this.results.buffer as SharedArrayBuffer,
    };
    this.worker = new Worker(new URL('./match-worker.js', import.meta.url), { workerData: init });
    this.worker.unref();
    // block until the worker's regexes are compiled: the filter API is synchronous
    if (Atomics.wait(ctl, CTL.READY, 0, MAX_START_MS) === 'timed-out' && Atomics.load(ctl, CTL.READY) === 0) {
      throw new Error(`grok: the match worker did not start within ${MAX_START_MS} ms`);
    }
  }

  /** Replaces the worker (the old one stops at its next check, or is interrupted by terminate). */
  private replace(index: number): void {
    const old = this.worker;
    Atomics.store(this.ctl, CTL.OWNER, -1);
    void old.terminate();
    this.spawn(index);
  }

  /**
   * Starts a new generation of `items` items totalling `chars` UTF-16 units. What the worker still
   * runs from the previous one is abandoned (its results are no longer read).
   */
  begin(items: number, chars: number): void {
    this.gen = (this.gen + 1) & GEN_MASK;
    this.count = 0;
    this.knownDone = 0;
    this.textUsed = 0;
    const ctl = this.ctl;
    // REQ first: a worker finishing an old item then finds the new generation (with nothing to do yet)
    Atomics.store(ctl, CTL.REQ, pack(this.gen, 0));
    // STARTED keeps an old item only while it is in progress (wait() then still times it out)
    const started = Atomics.load(ctl, CTL.STARTED);
    if (started !== Atomics.load(ctl, CTL.DONE)) Atomics.compareExchange(ctl, CTL.STARTED, started, -1);
    Atomics.store(ctl, CTL.DONE, pack(this.gen, 0));
    if (items > this.timedOut.length || chars > this.text.length / 2) {
      this.allocate(grow(this.timedOut.length, items), grow(this.text.length / 2, chars), false);
      Atomics.store(this.ctl, CTL.STARTED, -1);
      this.replace(0);
    }
  }

  /** Writes one item (not yet visible to the worker: see publish). Capacity was reserved by begin. */
  put(entry: number, input: string, eventId: number): number {
    const j = this.count++;
    const m = j * META_STRIDE;
    const at = this.textUsed;
    this.text.write(input, at * 2, 'utf16le');
    this.textUsed = at + input.length;
    const meta = this.meta;
    meta[m + META.START] = at;
    meta[m + META.LENGTH] = input.length;
    meta[m + META.ENTRY] = entry;
    meta[m + META.EVENT] = eventId;
    this.timedOut[j] = 0;
    return j;
  }

  /** Hands what was put so far to the worker. */
  publish(): void {
    const ctl = this.ctl;
    Atomics.store(ctl, CTL.REQ, pack(this.gen, this.count));
    if (Atomics.load(ctl, CTL.IDLE) === 1) Atomics.notify(ctl, CTL.REQ);
  }

  /** Whether one more item of `chars` units fits into the current generation without growing. */
  fits(chars: number): boolean {
    return this.count < this.timedOut.length && this.count < MAX_ITEMS && this.textUsed + chars <= this.text.length / 2;
  }

  /**
   * Adds one item to the current generation (the per-event path), growing the buffers when needed.
   * Returns its index, or -1 when the generation is full (the caller then begins a new one).
   */
  append(entry: number, input: string, eventId: number): number {
    if (!this.fits(input.length)) {
      if (this.count >= MAX_ITEMS) return -1;
      // finish what is queued (the worker must not read the buffers while they are copied)
      if (this.count > 0) this.wait(this.count - 1);
      this.allocate(grow(this.timedOut.length, this.count + 1), grow(this.text.length / 2, this.textUsed + input.length), true);
      this.replace(this.count);
    }
    const j = this.put(entry, input, eventId);
    this.publish();
    return j;
  }

  /**
   * Waits until item j of the current generation is done. True: its results are in `results` at
   * j * stride. False: it ran past the timeout (the worker was replaced).
   */
  wait(j: number): boolean {
    // items below knownDone were seen finished: no need to touch the cache line the worker writes
    if (j < this.knownDone) return this.timedOut[j] === 0;
    const ctl = this.ctl;
    const spin = this.spin;
    for (let i = 0; i < spin; i++) {
      const done = Atomics.load(ctl, CTL.DONE) & 0xffff;
      if (done > j) {
        this.knownDone = done;
        return this.timedOut[j] === 0;
      }
    }
    const g = this.gen;
    const timeoutMs = this.opts.timeoutMs;
    let idleSince = -1;
    for (;;) {
      const done = Atomics.load(ctl, CTL.DONE);
      if ((done & 0xffff) > j) {
        this.knownDone = done & 0xffff;
        return this.timedOut[j] === 0;
      }
      const started = Atomics.load(ctl, CTL.STARTED);
      // an item is in progress: one of this generation (STARTED === DONE), or a leftover of an earlier one
      const busy = started !== -1 && (started >>> 16 !== g || started === done);
      let waitMs = 50;
      if (busy) {
        idleSince = -1;
        const left = this.times[(this.owner & 1) * TIME_BLOCK + this.timeCell]! + timeoutMs - sharedNow();
        if (left <= 0) {
          if (Atomics.load(ctl, CTL.DONE) !== done || Atomics.load(ctl, CTL.STARTED) !== started) continue;
          this.timeOut(started);
          continue;
        }
        waitMs = Math.min(left, 50);
      } else {
        const now = performance.now();
        if (idleSince < 0) idleSince = now;
        else if (now - idleSince > MAX_START_MS) throw new Error(`grok: the match worker made no progress for ${MAX_START_MS} ms`);
      }
      Atomics.store(ctl, CTL.WAITER, 1);
      if (Atomics.load(ctl, CTL.DONE) === done) Atomics.wait(ctl, CTL.DONE, done, waitMs);
      Atomics.store(ctl, CTL.WAITER, 0);
    }
  }

  /** The item `started` overran its time: mark it, and let a fresh worker go on after it. */
  private timeOut(started: number): void {
    let index = 0;
    if (started >>> 16 === this.gen) {
      const j = started & 0xffff;
      this.timedOut[j] = 1;
      index = j + 1;
      Atomics.store(this.ctl, CTL.DONE, pack(this.gen, index));
    }
    Atomics.store(this.ctl, CTL.STARTED, -1);
    this.restarts++;
    this.replace(index);
  }

  close(): Promise<number> {
    Atomics.store(this.ctl, CTL.OWNER, -1);
    Atomics.store(this.ctl, CTL.REQ, pack((this.gen + 1) & GEN_MASK, 0));
    Atomics.notify(this.ctl, CTL.REQ);
    return this.worker.terminate();
  }
}

function grow(have: number, need: number): number {
  let n = Math.max(1, have);
  while (n < need) n *= 2;
  return n;
}
