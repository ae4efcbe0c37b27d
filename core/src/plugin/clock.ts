/**
 * Time as plugins see it. Correlation windows, heartbeats and flush timers read this, never
 * Date.now(), so tests drive them with a VirtualClock and never sleep.
 */
export interface TimerHandle {
  cancel(): void;
}

export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  setInterval(fn: () => void, ms: number): TimerHandle;
}

/**
 * Real time. Its timers keep the process alive, as they must: a tailing input waiting on its next
 * check is the only thing running. The pipeline cancels the timers it armed when it stops, and
 * plugins cancel theirs in stop/close.
 */
export class SystemClock implements Clock {
  now(): number {
    return Date.now();
  }
  setTimeout(fn: () => void, ms: number): TimerHandle {
    const t = setTimeout(fn, ms);
    return { cancel: () => clearTimeout(t) };
  }
  setInterval(fn: () => void, ms: number): TimerHandle {
    const t = setInterval(fn, ms);
    return { cancel: () => clearInterval(t) };
  }
}

interface VirtualTimer {
  due: number;
  seq: number;
  fn: () => void;
  every?: number;
  cancelled: boolean;
}

/** A clock that moves only when told to; `advance` runs every timer that falls due, in order. */
export class VirtualClock implements Clock {
  private current: number;
  private timers: VirtualTimer[] = [];
  private seq = 0;

  constructor(startMs = Date.UTC(2026, 0, 1)) {
    this.current = startMs;
  }

  now(): number {
    return this.current;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    return this.add(fn, ms);
  }

  setInterval(fn: () => void, ms: number): TimerHandle {
    return this.add(fn, ms, Math.max(1, ms));
  }

  private add(fn: () => void, ms: number, every?: number): TimerHandle {
    const t: VirtualTimer = { due: this.current + Math.max(0, ms), seq: this.seq++, fn, every, cancelled: false };
    this.timers.push(t);
    return { cancel: () => void (t.cancelled = true) };
  }

  /** Moves time forward by `ms`, firing due timers at their own instants. */
  advance(ms: number): void {
    this.advanceTo(this.current + ms);
  }

  advanceTo(target: number): void {
    for (;;) {
      this.timers = this.timers.filter((t) => !t.cancelled);
      let next: VirtualTimer | undefined;
      for (const t of this.timers) if (t.due <= target && (!next || t.due < next.due || (t.due === next.due && t.seq < next.seq))) next = t;
      if (!next) break;
      this.current = Math.max(this.current, next.due);
      if (next.every !== undefined) {
        next.due += next.every;
        next.seq = this.seq++;
      } else next.cancelled = true;
      next.fn();
    }
    this.current = Math.max(this.current, target);
  }

  /** Timers still pending (for assertions). */
  get pending(): number {
    return this.timers.filter((t) => !t.cancelled).length;
  }
}
