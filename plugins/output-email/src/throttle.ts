import type { Clock } from '@pipeline/core';

/**
 * At most `count` mails per `periodMs` per key, over a sliding window: the send times of the last
 * `count` mails of each key are kept, and a new mail may go once the oldest of them is a period
 * old. The state is small (mail is rare) and saved as one value in the spool's key/value table,
 * so a restart does not hand out a fresh allowance.
 */
export class Throttle {
  private readonly sent = new Map<string, number[]>();

  constructor(
    private readonly count: number,
    private readonly periodMs: number,
    private readonly clock: Clock,
    private readonly save: (state: string) => void,
    saved: string | undefined,
  ) {
    if (saved) {
      try {
        for (const [k, times] of Object.entries(JSON.parse(saved) as Record<string, number[]>)) if (Array.isArray(times)) this.sent.set(k, times.filter((t) => typeof t === 'number'));
      } catch {
        // a damaged state only costs one fresh allowance
      }
    }
  }

  get enabled(): boolean {
    return this.count > 0;
  }

  /** Milliseconds until a mail for `key` may go; 0 when it may go now. */
  waitMs(key: string): number {
    if (!this.enabled) return 0;
    const times = this.sent.get(key);
    if (!times || times.length < this.count) return 0;
    const now = this.clock.now();
    const oldest = times[times.length - this.count]!;
    return Math.max(0, oldest + this.periodMs - now);
  }

  /** Counts a mail for `key` as sent now. */
  record(key: string): void {
    if (!this.enabled) return;
    const now = this.clock.now();
    const times = this.sent.get(key) ?? [];
    times.push(now);
    if (times.length > this.count) times.splice(0, times.length - this.count);
    this.sent.set(key, times);
    // forget keys whose window has passed, so the saved state stays small
    for (const [k, t] of this.sent) if (t[t.length - 1]! + this.periodMs <= now) this.sent.delete(k);
    this.save(JSON.stringify(Object.fromEntries(this.sent)));
  }
}
