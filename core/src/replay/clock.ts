import type { Clock, TimerHandle } from '../plugin/clock.js';

/**
 * The clock of `pipeline test` and `pipeline replay`: time is event time. It starts once, at the
 * first event's `@timestamp` (or at a time given up front); before that it reads `initialMs`, the
 * time a date filter guesses a missing year against. Timers armed before the start (the flush
 * timers, a plugin's own at create) are moved with it, as if armed at the start. From then on it
 * only goes forward: `advanceTo` fires every timer falling due on the way, at its own instant, so a
 * three-day gap between two log lines runs the one-second timer passes of those three days.
 *
 * Timers sit in a binary heap ordered by (due, arming order): a replay fires hundreds of thousands.
 */
interface Timer {
  due: number;
  seq: number;
  fn: () => void;
  every: number;
  cancelled: boolean;
}

export class EventClock implements Clock {
  private current: number;
  private begun = false;
  private heap: Timer[] = [];
  private seq = 0;

  constructor(initialMs: number) {
    this.current = initialMs;
  }

  /** True once the clock has been set to event time (start or the first advance). */
  get started(): boolean {
    return this.begun;
  }

  now(): number {
    return this.current;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    return this.add(fn, ms, 0);
  }

  setInterval(fn: () => void, ms: number): TimerHandle {
    return this.add(fn, ms, Math.max(1, ms));
  }

  /** Sets the clock to `ms` and moves the timers armed so far with it. Only once. */
  start(ms: number): void {
    if (this.begun) throw new Error('the event clock has already started');
    const delta = ms - this.current;
    // a uniform shift keeps the heap's order
    for (const t of this.heap) t.due += delta;
    this.current = ms;
    this.begun = true;
  }

  /** Moves to `target` (never back), firing due timers in order; timers may arm timers and advance further. */
  advanceTo(target: number): void {
    if (!this.begun) this.start(target);
    const heap = this.heap;
    while (heap.length > 0 && heap[0]!.due <= target) {
      const t = this.pop();
      if (t.cancelled) continue;
      if (t.due > this.current) this.current = t.due;
      if (t.every > 0) {
        t.due += t.every;
        t.seq = this.seq++;
        this.push(t);
      } else t.cancelled = true;
      t.fn();
    }
    if (target > this.current) this.current = target;
  }

  /** Timers still armed (for assertions). */
  get pending(): number {
    let n = 0;
    for (const t of this.heap) if (!t.cancelled) n++;
    return n;
  }

  private add(fn: () => void, ms: number, every: number): TimerHandle {
    const t: Timer = { due: this.current + Math.max(0, ms), seq: this.seq++, fn, every, cancelled: false };
    this.push(t);
    return { cancel: () => void (t.cancelled = true) };
  }

  private less(a: Timer, b: Timer): boolean {
    return a.due < b.due || (a.due === b.due && a.seq < b.seq);
  }

  private push(t: Timer): void {
    const h = this.heap;
    h.push(t);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(h[i]!, h[p]!)) break;
      [h[i], h[p]] = [h[p]!, h[i]!];
      i = p;
    }
  }

  private pop(): Timer {
    const h = this.heap;
    const top = h[0]!;
    const last = h.pop()!;
    if (h.length > 0) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && this.less(h[l]!, h[m]!)) m = l;
        if (r < h.length && this.less(h[r]!, h[m]!)) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m]!, h[i]!];
        i = m;
      }
    }
    return top;
  }
}
