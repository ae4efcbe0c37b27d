/**
 * The timeout guard for the patterns the static check (onig/backtrack.ts) could not prove safe.
 * JavaScript cannot interrupt a running RegExp on its own thread, so those patterns run in a
 * worker thread sharing memory with the pipeline thread (layout and protocol: worker-protocol.ts).
 *
 * One guard (one worker, one V8 isolate) serves every grok filter of the thread: each filter
 * registers its guarded patterns and gets entry numbers; items (one value against one pattern) of
 * all filters go into one queue. Items belong to a generation, which starts anew with each batch
 * (the first `prepare` that sees a new batch) and grows with per-event items.
 *
 * The worker runs items in order, ahead of the filters, and writes back per item whether the
 * pattern matched and its capture offsets. `wait(item)` returns when that item is done (usually at
 * once). The pipeline thread never spins: it sleeps in `Atomics.wait`, in slices, reading when the
 * worker started the item in progress; past that time + the item's timeout_millis the worker is
 * terminated (V8 interrupts a running regex), that item is marked timed out, and a fresh worker
 * continues with the next item. A SIGTERM or SIGINT seen by the signal watcher (signal-watch.ts)
 * while waiting ends the wait at once: the item counts as timed out, so the pipeline gets back to
 * its event loop and shuts down.
 */
import { Worker } from 'node:worker_threads';
import { CTL, MAX_ITEMS, META, META_STRIDE, TIME, TIME_BLOCK, pack, sharedNow, type WorkerInit, type WorkerPattern } from './worker-protocol.js';
import { armSignalWatch, disarmSignalWatch, signalSeen } from './signal-watch.js';

const MAX_START_MS = 30_000;
const GEN_MASK = 0x7fff;
/** Longest single sleep while waiting: how soon a signal or the timeout is noticed. */
const SLICE_MS = 50;

export class SharedGuard {
  /** Int32 cells per item in `results`: the widest registered pattern. */
  stride = 1;
  /** Per item: matched flag, then capture offsets (see worker-protocol.ts). Replaced when grown. */
  results!: Int32Array;
  /** Times the worker was replaced after a timeout (for tests and metrics). */
  restarts = 0;
  /** Workers started, and items handed over, since the process started (for tests and metrics). */
  spawns = 0;
  handed = 0;
  /** Items queued in the current generation. */
  count = 0;
  /** The current generation; items of an older one are gone. */
  gen = 0;
  /** Items of the current generation known to be finished (DONE as last read). */
  private knownDone = 0;

  private readonly entries: WorkerPattern[][] = [];
  /** Entry number per pattern already registered: a reload re-creates grok filters with the same patterns. */
  private readonly entryOf = new Map<string, number>();
  private users = 0;
  private worker: Worker | undefined;
  /** Entries were registered since the worker started: it needs replacing before they are used. */
  private stale = true;
  private readonly ctl: Int32Array;
  private readonly times: Float64Array;
  private meta!: Int32Array;
  private text!: Buffer;
  private textUsed = 0;
  private timedOut!: Uint8Array;
  /** Per item: its filter's timeout_millis and time cell (TIME.PATTERN or TIME.EVENT). */
  private itemTimeout!: Float64Array;
  private itemCell!: Uint8Array;
  /** The same for the item in progress when a generation was abandoned (it may still run). */
  private leftoverTimeout = 0;
  private leftoverCell: number = TIME.PATTERN;
  private owner = 0;
  private lastBatch: readonly unknown[] | undefined;
  private nextEvent = 0;

  constructor() {
    this.ctl = new Int32Array(new SharedArrayBuffer(CTL.SIZE * 4));
    this.times = new Float64Array(new SharedArrayBuffer(2 * TIME_BLOCK * 8));
    this.ctl[CTL.STARTED] = -1;
    // room for a batch of 125 events with a few dozen guarded patterns each before growing (growing
    // replaces the worker, which must see the new buffers)
    this.allocate(8192, 512 * 1024, false);
  }

  /** Adds one pattern; returns its entry number. The worker picks it up before it is first used. */
  register(p: WorkerPattern): number {
    this.users++;
    const key = JSON.stringify([p.source, p.flags, p.literal, p.groups, p.repeats]);
    const known = this.entryOf.get(key);
    if (known !== undefined) return known;
    // what is queued runs on the worker as it is: finish it before that worker is replaced
    this.settle();
    this.entries.push([p]);
    this.entryOf.set(key, this.entries.length - 1);
    const stride = 1 + 2 * p.groups.length;
    if (stride > this.stride) {
      this.stride = stride;
      // results laid out with the old stride are unreadable: a new generation in new buffers
      this.allocate(this.timedOut.length, this.text.length / 2, false);
      this.begin();
    }
    this.stale = true;
    return this.entries.length - 1;
  }

  /** A filter closed. The last one stops the worker. */
  release(n: number): Promise<void> {
    this.users -= n;
    if (this.users > 0 || this.worker === undefined) return Promise.resolve();
    const w = this.worker;
    this.worker = undefined;
    this.stale = true;
    // REQ keeps its generation: a later worker starts from it (the old one just stops)
    Atomics.store(this.ctl, CTL.OWNER, -1);
    Atomics.notify(this.ctl, CTL.REQ);
    return w.terminate().then(() => undefined);
  }

  /** Whether a worker is running now. */
  get running(): boolean {
    return this.worker !== undefined;
  }

  /** A fresh id for timeout_scope => event (shared by the items of one event of one filter). */
  eventId(): number {
    return (this.nextEvent = (this.nextEvent + 1) & 0x3fffffff);
  }

  /** Called by each filter's prepare: the first call for a batch starts a new generation. */
  startBatch(batch: readonly unknown[]): void {
    if (batch === this.lastBatch) return;
    this.lastBatch = batch;
    this.begin();
  }

  /** (Re)creates the buffers, keeping the current generation's contents if asked. */
  private allocate(items: number, chars: number, keep: boolean): void {
    const meta = new Int32Array(new SharedArrayBuffer(items * META_STRIDE * 4));
    const text = Buffer.from(new SharedArrayBuffer(chars * 2));
    const results = new Int32Array(new SharedArrayBuffer(items * this.stride * 4));
    const timedOut = new Uint8Array(items);
    const itemTimeout = new Float64Array(items);
    const itemCell = new Uint8Array(items);
    if (keep) {
      meta.set(this.meta.subarray(0, this.count * META_STRIDE));
      this.text.copy(text, 0, 0, this.textUsed * 2);
      results.set(this.results.subarray(0, this.count * this.stride));
      timedOut.set(this.timedOut.subarray(0, this.count));
      itemTimeout.set(this.itemTimeout.subarray(0, this.count));
      itemCell.set(this.itemCell.subarray(0, this.count));
    }
    this.meta = meta;
    this.text = text;
    this.results = results;
    this.timedOut = timedOut;
    this.itemTimeout = itemTimeout;
    this.itemCell = itemCell;
    // a running worker holds the old buffers: it must be replaced before the next item
    this.stale = true;
  }

  /** Starts a worker at item `index` of the current generation and waits until it is ready. */
  private spawn(index: number): void {
    const ctl = this.ctl;
    if (this.worker !== undefined) {
      Atomics.store(ctl, CTL.OWNER, -1);
      void this.worker.terminate();
    }
    this.owner = (this.owner + 1) & 0x3fffffff;
    Atomics.store(ctl, CTL.OWNER, this.owner);
    Atomics.store(ctl, CTL.READY, 0);
    const init: WorkerInit = {
      entries: this.entries,
      stride: this.stride,
      breakOnMatch: true,
      patternScope: true,
      spin: 0,
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
    this.spawns++;
    this.worker.unref();
    this.stale = false;
    // block until the worker's regexes are compiled: the filter API is synchronous (a sleep, not a spin)
    if (Atomics.wait(ctl, CTL.READY, 0, MAX_START_MS) === 'timed-out' && Atomics.load(ctl, CTL.READY) === 0) {
      throw new Error(`grok: the match worker did not start within ${MAX_START_MS} ms`);
    }
  }

  /** Makes sure a worker with the current entries and buffers runs, starting at the next unqueued item. */
  private ensureWorker(): void {
    if (!this.stale && this.worker !== undefined) return;
    // (whatever made it stale waited for the queued items first: they are all done)
    Atomics.store(this.ctl, CTL.STARTED, -1);
    this.spawn(this.count);
  }

  /** Waits for every queued item (they are then done or timed out). */
  private settle(): void {
    if (this.count > 0 && this.worker !== undefined) this.wait(this.count - 1);
  }

  /** Starts a new generation. What the worker still runs from the previous one is abandoned. */
  private begin(): void {
    const ctl = this.ctl;
    const started = Atomics.load(ctl, CTL.STARTED);
    if (started !== -1 && started >>> 16 === this.gen) {
      this.leftoverTimeout = this.itemTimeout[started & 0xffff]!;
      this.leftoverCell = this.itemCell[started & 0xffff]!;
    }
    this.gen = (this.gen + 1) & GEN_MASK;
    this.count = 0;
    this.knownDone = 0;
    this.textUsed = 0;
    // REQ first: a worker finishing an old item then finds the new generation (with nothing to do yet)
    Atomics.store(ctl, CTL.REQ, pack(this.gen, 0));
    // STARTED keeps an old item only while it is in progress (wait() then still times it out)
    if (started !== Atomics.load(ctl, CTL.DONE)) Atomics.compareExchange(ctl, CTL.STARTED, started, -1);
    Atomics.store(ctl, CTL.DONE, pack(this.gen, 0));
  }

  /**
   * Queues one item and hands it to the worker. Returns its index in the current generation; the
   * caller keeps `gen` with it (a later generation makes the index meaningless).
   */
  append(entry: number, input: string, eventId: number, timeoutMs: number, eventScope: boolean): number {
    if (this.count >= MAX_ITEMS) this.begin();
    if (this.count >= this.timedOut.length || this.textUsed + input.length > this.text.length / 2) {
      // the worker must not read the buffers while they are copied
      this.settle();
      this.allocate(grow(this.timedOut.length, this.count + 1), grow(this.text.length / 2, this.textUsed + input.length), true);
    }
    this.ensureWorker();
    const j = this.count++;
    this.handed++;
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
    this.itemTimeout[j] = timeoutMs;
    this.itemCell[j] = eventScope ? TIME.EVENT : TIME.PATTERN;
    const ctl = this.ctl;
    Atomics.store(ctl, CTL.REQ, pack(this.gen, this.count));
    if (Atomics.load(ctl, CTL.IDLE) === 1) Atomics.notify(ctl, CTL.REQ);
    return j;
  }

  /**
   * Waits until item j of the current generation is done. True: its results are in `results` at
   * j * stride. False: it ran past its timeout (the worker was replaced), or a shutdown signal came.
   */
  wait(j: number): boolean {
    // items below knownDone were seen finished: no need to touch the cache line the worker writes
    if (j < this.knownDone) return this.timedOut[j] === 0;
    let slices = 0;
    try {
      return this.waitFor(j, () => {
        if (++slices === 2) armSignalWatch();
      });
    } finally {
      if (slices >= 2) disarmSignalWatch();
    }
  }

  private waitFor(j: number, onSlice: () => void): boolean {
    const ctl = this.ctl;
    const g = this.gen;
    let idleSince = -1;
    for (;;) {
      const done = Atomics.load(ctl, CTL.DONE);
      if ((done & 0xffff) > j && done >>> 16 === g) {
        this.knownDone = done & 0xffff;
        return this.timedOut[j] === 0;
      }
      const started = Atomics.load(ctl, CTL.STARTED);
      // an item is in progress: one of this generation (STARTED === DONE), or a leftover of an earlier one
      const busy = started !== -1 && (started >>> 16 !== g || started === done);
      let waitMs = SLICE_MS;
      if (busy) {
        idleSince = -1;
        const mine = started >>> 16 === g;
        const timeoutMs = mine ? this.itemTimeout[started & 0xffff]! : this.leftoverTimeout;
        const cell = mine ? this.itemCell[started & 0xffff]! : this.leftoverCell;
        const left = this.times[(this.owner & 1) * TIME_BLOCK + cell]! + timeoutMs - sharedNow();
        if (left <= 0 || signalSeen()) {
          if (Atomics.load(ctl, CTL.DONE) !== done || Atomics.load(ctl, CTL.STARTED) !== started) continue;
          this.timeOut(started);
          continue;
        }
        waitMs = Math.min(left, SLICE_MS);
      } else {
        const now = performance.now();
        if (idleSince < 0) idleSince = now;
        else if (now - idleSince > MAX_START_MS) throw new Error(`grok: the match worker made no progress for ${MAX_START_MS} ms`);
      }
      onSlice();
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
    } else index = Atomics.load(this.ctl, CTL.DONE) & 0xffff;
    Atomics.store(this.ctl, CTL.STARTED, -1);
    this.restarts++;
    this.spawn(index);
  }
}

function grow(have: number, need: number): number {
  let n = Math.max(1, have);
  while (n < need) n *= 2;
  return n;
}

let shared: SharedGuard | undefined;

/** The guard of this thread (created on first use; its worker starts when an item first needs it). */
export function sharedGuard(): SharedGuard {
  return (shared ??= new SharedGuard());
}
