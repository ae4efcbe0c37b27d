/**
 * The timeout guard (timeout_millis > 0). JavaScript cannot interrupt a running RegExp on its own
 * thread, so the patterns run in a worker thread that shares memory with the filter: the filter
 * writes the input (UTF-16) into a SharedArrayBuffer, wakes the worker, and waits with a deadline
 * (spinning briefly first, since most matches take a microsecond). When the deadline passes the
 * worker is terminated (V8 interrupts a running regex) and a fresh one is started; that event gets
 * `_groktimeout` and the next event waits only for the new worker to start.
 * The worker reports only which patterns matched; the filter then re-runs just those patterns to
 * read their captures. A regex run is deterministic, so that re-run takes no longer than the run the
 * worker already finished within the deadline.
 */
import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';
import { CTL } from './worker-protocol.js';

export interface PatternSource {
  source: string;
  flags: string;
  /** Required literal pre-check (see CompiledGrok.literal). */
  literal?: string;
}

export interface GuardOptions {
  timeoutMs: number;
  /** 'pattern': each pattern gets timeoutMs; 'event': all patterns of the event share it. */
  scope: 'pattern' | 'event';
  /** Busy-wait iterations before sleeping (both sides). */
  spin?: number;
}

const MAX_START_MS = 30_000;

export class WorkerGuard {
  private worker!: Worker;
  private port!: MessagePort;
  private ctl!: Int32Array;
  private data!: Uint16Array;
  private readonly spin: number;
  /** Times the worker was replaced after a timeout (for tests and metrics). */
  restarts = 0;

  constructor(
    private readonly entries: PatternSource[][],
    private readonly opts: GuardOptions,
  ) {
    this.spin = opts.spin ?? 20_000;
    this.start();
  }

  private start(capacity = 8192): void {
    const maxPatterns = Math.max(1, ...this.entries.map((e) => e.length));
    const ctlSab = new SharedArrayBuffer((CTL.results + maxPatterns) * 4);
    const dataSab = new SharedArrayBuffer(capacity * 2);
    const { port1, port2 } = new MessageChannel();
    this.ctl = new Int32Array(ctlSab);
    this.data = new Uint16Array(dataSab);
    this.port = port1;
    this.worker = new Worker(new URL('./match-worker.js', import.meta.url), {
      workerData: { entries: this.entries, ctl: ctlSab, data: dataSab, port: port2, spin: this.spin },
      transferList: [port2],
    });
    this.worker.unref();
    port1.unref();
    // block until the worker's regexes are compiled: the filter API is synchronous
    if (Atomics.wait(this.ctl, CTL.ready, 0, MAX_START_MS) === 'timed-out' && Atomics.load(this.ctl, CTL.ready) === 0) {
      throw new Error(`grok: the match worker did not start within ${MAX_START_MS} ms`);
    }
  }

  private ensureCapacity(len: number): void {
    if (len <= this.data.length) return;
    let cap = this.data.length * 2;
    while (cap < len) cap *= 2;
    const sab = new SharedArrayBuffer(cap * 2);
    this.port.postMessage(sab);
    Atomics.store(this.ctl, CTL.state, CTL.RESIZE);
    Atomics.notify(this.ctl, CTL.state);
    while (Atomics.load(this.ctl, CTL.state) !== CTL.DONE) Atomics.wait(this.ctl, CTL.state, CTL.RESIZE, 1000);
    Atomics.store(this.ctl, CTL.state, CTL.IDLE);
    this.data = new Uint16Array(sab);
  }

  /**
   * Runs entry `entry`'s patterns on `input`. Returns the worker's result cells (1 = matched, read
   * before the next call) or undefined when the deadline passed. `eventDeadline` (ms, performance.now
   * clock) bounds the whole event when scope is 'event'.
   */
  run(entry: number, input: string, breakOnMatch: boolean, eventDeadline: number): Int32Array | undefined {
    const len = input.length;
    this.ensureCapacity(len);
    const data = this.data;
    for (let i = 0; i < len; i++) data[i] = input.charCodeAt(i);
    const ctl = this.ctl;
    ctl[CTL.entry] = entry;
    ctl[CTL.length] = len;
    ctl[CTL.breakOnMatch] = breakOnMatch ? 1 : 0;
    Atomics.store(ctl, CTL.state, CTL.REQUEST);
    Atomics.notify(ctl, CTL.state);
    // fast path: most requests finish within the spin
    for (let i = 0; i < this.spin; i++) if (Atomics.load(ctl, CTL.state) === CTL.DONE) return this.finish();
    let progress = Atomics.load(ctl, CTL.progress);
    let deadline = this.opts.scope === 'event' ? eventDeadline : performance.now() + this.opts.timeoutMs;
    for (;;) {
      const left = deadline - performance.now();
      if (left <= 0) {
        if (Atomics.load(ctl, CTL.state) === CTL.DONE) return this.finish();
        if (this.opts.scope === 'pattern') {
          const p = Atomics.load(ctl, CTL.progress);
          if (p !== progress) {
            // the worker moved on to the next pattern: that one gets its own timeout
            progress = p;
            deadline = performance.now() + this.opts.timeoutMs;
            continue;
          }
        }
        this.replace();
        return undefined;
      }
      Atomics.wait(ctl, CTL.state, CTL.REQUEST, Math.min(left, 50));
      if (Atomics.load(ctl, CTL.state) === CTL.DONE) return this.finish();
      if (this.opts.scope === 'pattern') {
        const p = Atomics.load(ctl, CTL.progress);
        if (p !== progress) {
          progress = p;
          deadline = performance.now() + this.opts.timeoutMs;
        }
      }
    }
  }

  private finish(): Int32Array {
    Atomics.store(this.ctl, CTL.state, CTL.IDLE);
    return this.ctl.subarray(CTL.results);
  }

  private replace(): void {
    void this.worker.terminate();
    this.port.close();
    this.restarts++;
    this.start(this.data.length);
  }

  close(): Promise<number> {
    this.port.close();
    return this.worker.terminate();
  }
}
