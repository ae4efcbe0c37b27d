import type { Redis } from 'ioredis';
import type { Clock, Counter, Logger } from '@pipeline/core';
import type { Command } from './commands.js';
import type { RedisLink } from './link.js';

export interface Congestion {
  /** Most items a list may hold before the output waits; 0 disables the check. */
  threshold: number;
  intervalMs: number;
}

/**
 * Sends a batch's commands and does not return until Redis has taken every one of them: on a lost
 * connection it reconnects (with the link's backoff) and resends only the commands that did not
 * get a reply, so a shipper's `receive` simply waits through an outage and the pipeline's queue
 * fills behind it. A command Redis refuses (OOM, WRONGTYPE) is retried after `retryMs`, as
 * Logstash retries forever. Delivery is at least once: a command whose reply was lost with the
 * connection is sent again.
 */
export class Sender {
  private readonly lastCongestionCheck = new Map<string, number>();

  constructor(
    private readonly link: RedisLink,
    private readonly congestion: Congestion,
    private readonly retryMs: number,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly retried: Counter,
  ) {}

  async send(commands: readonly Command[]): Promise<void> {
    let todo = commands;
    while (todo.length > 0) {
      const c = await this.link.ready();
      let failed: Command[];
      let refused: Error | undefined;
      try {
        if (this.congestion.threshold > 0) await this.waitForRoom(c, todo);
        const pipe = c.pipeline();
        for (const cmd of todo) pipe.call(cmd.name, ...cmd.args);
        const results = await pipe.exec();
        failed = [];
        if (results === null) failed = [...todo];
        else
          for (let i = 0; i < todo.length; i++) {
            const err = results[i]?.[0];
            if (err) {
              failed.push(todo[i]!);
              if (c.status === 'ready') refused ??= err;
            }
          }
      } catch {
        failed = [...todo];
      }
      if (failed.length === 0) return;
      this.retried.inc(failed.length);
      if (this.link.isClosed) throw new Error(`redis output closed with ${failed.length} command(s) not delivered`);
      if (c.status !== 'ready') {
        // connection lost: the next ready() reconnects, moving to the next host, with backoff
        this.link.drop(c);
      } else {
        this.logger.warn({ err: refused?.message, commands: failed.length }, 'redis refused commands; retrying');
        await this.link.sleep(this.retryMs);
      }
      todo = failed;
    }
  }

  /** Logstash's congestion check: while a list is longer than the threshold, wait and look again. */
  private async waitForRoom(c: Redis, commands: readonly Command[]): Promise<void> {
    const seen = new Set<string>();
    for (const cmd of commands) {
      if (cmd.name !== 'RPUSH' || seen.has(cmd.key)) continue;
      seen.add(cmd.key);
      const last = this.lastCongestionCheck.get(cmd.key);
      if (last !== undefined && this.clock.now() - last < this.congestion.intervalMs) continue;
      let warned = false;
      while (!this.link.isClosed && (await c.llen(cmd.key)) > this.congestion.threshold) {
        if (!warned) this.logger.warn({ key: cmd.key, threshold: this.congestion.threshold }, 'redis list over its congestion threshold; waiting for consumers');
        warned = true;
        await this.link.sleep(this.congestion.intervalMs);
      }
      this.lastCongestionCheck.set(cmd.key, this.clock.now());
    }
  }
}
