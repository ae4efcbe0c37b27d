import type { Logger } from '@pipeline/core';
import type { Clock } from '@pipeline/core';

/**
 * Logs a recurring problem at most once per interval, with the count of occurrences it swallowed,
 * so a stream of bad paths from a hostile host cannot flood the log.
 */
export class RateLimitedLog {
  private last = -Infinity;
  private suppressed = 0;

  constructor(
    private readonly logger: Logger,
    private readonly clock: Clock,
    private readonly level: 'warn' | 'error',
    private readonly intervalMs = 10_000,
  ) {}

  log(fields: Record<string, unknown>, msg: string): void {
    const now = this.clock.now();
    if (now - this.last < this.intervalMs) {
      this.suppressed++;
      return;
    }
    this.last = now;
    const extra = this.suppressed > 0 ? { suppressed: this.suppressed } : {};
    this.suppressed = 0;
    this.logger[this.level]({ ...fields, ...extra }, msg);
  }
}
