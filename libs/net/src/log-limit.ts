import type { Clock, Logger } from '@pipeline/core';

/**
 * Logs a recurring warning (refused handshakes, oversize lines...) at most `burst` times per
 * `windowMs`, then once more with the number suppressed, so a hostile peer cannot flood the log.
 */
export class LimitedLog {
  private windowStart = 0;
  private logged = 0;
  private suppressed = 0;

  constructor(
    private readonly logger: Logger,
    private readonly clock: Clock,
    private readonly burst = 10,
    private readonly windowMs = 10_000,
  ) {}

  warn(fields: Record<string, unknown>, msg: string): void {
    const now = this.clock.now();
    if (now - this.windowStart >= this.windowMs) {
      if (this.suppressed > 0) this.logger.warn({ suppressed: this.suppressed }, `${this.suppressed} similar warnings suppressed`);
      this.windowStart = now;
      this.logged = 0;
      this.suppressed = 0;
    }
    if (this.logged < this.burst) {
      this.logged++;
      this.logger.warn(fields, msg);
    } else this.suppressed++;
  }
}
