import { Redis, type RedisOptions } from 'ioredis';
import type { Clock, Logger, TimerHandle } from '@pipeline/core';
import type { HostPort } from './hosts.js';

/**
 * The output's one connection to Redis. ioredis's own reconnection is turned off so that this
 * class decides when to try again and where: each failed attempt moves to the next host of the
 * list (Logstash's behaviour) and waits `reconnectMs`, doubling up to `maxBackoffMs`, on the
 * pipeline's clock. Commands fail at once while disconnected (no offline queue), so the output
 * knows exactly which of its commands reached Redis.
 */
export class RedisLink {
  private client: Redis | undefined;
  private next = 0;
  private failures = 0;
  private closed = false;
  private sleeping: { timer: TimerHandle; wake: () => void } | undefined;

  constructor(
    private readonly hosts: readonly HostPort[],
    private readonly base: RedisOptions,
    private readonly reconnectMs: number,
    private readonly maxBackoffMs: number,
    private readonly clock: Clock,
    private readonly logger: Logger,
  ) {}

  get isClosed(): boolean {
    return this.closed;
  }

  /** A ready connection; tries host after host with backoff until one answers or the link closes. */
  async ready(): Promise<Redis> {
    for (;;) {
      if (this.closed) throw new Error('redis output closed');
      const current = this.client;
      if (current !== undefined && current.status === 'ready') return current;
      if (current !== undefined) this.drop(current);
      const target = this.hosts[this.next]!;
      this.next = (this.next + 1) % this.hosts.length;
      const c = new Redis({
        ...this.base,
        host: target.host,
        port: target.port,
        lazyConnect: true,
        enableOfflineQueue: false,
        maxRetriesPerRequest: 0,
        autoResendUnfulfilledCommands: false,
        retryStrategy: () => null,
      });
      c.on('error', () => {}); // every failure surfaces through a command or connect()
      try {
        await c.connect();
        if (this.closed) {
          c.disconnect();
          continue;
        }
        if (this.failures > 0) this.logger.info({ host: target.host, port: target.port, after: this.failures }, 'redis reachable again');
        this.failures = 0;
        this.client = c;
        return c;
      } catch (err) {
        c.disconnect();
        this.failures++;
        const wait = this.backoffMs();
        // log the first failure and then every tenth, so an outage of hours does not flood the log
        if (this.failures === 1 || this.failures % 10 === 0)
          this.logger.warn({ host: target.host, port: target.port, attempts: this.failures, retryInMs: wait, err: (err as Error).message }, 'redis unreachable, retrying');
        await this.sleep(wait);
      }
    }
  }

  /** Forgets a connection that failed a command; the next `ready()` reconnects. */
  drop(c: Redis): void {
    if (this.client === c) this.client = undefined;
    c.disconnect();
  }

  /** Waits on the pipeline clock; `close()` ends the wait early. */
  sleep(ms: number): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      const wake = () => {
        this.sleeping = undefined;
        resolve();
      };
      this.sleeping = { timer: this.clock.setTimeout(wake, ms), wake };
    });
  }

  backoffMs(): number {
    return Math.min(this.reconnectMs * 2 ** Math.min(this.failures - 1, 16), Math.max(this.reconnectMs, this.maxBackoffMs));
  }

  async close(): Promise<void> {
    this.closed = true;
    const s = this.sleeping;
    if (s) {
      s.timer.cancel();
      s.wake();
    }
    const c = this.client;
    this.client = undefined;
    if (c !== undefined) {
      try {
        await c.quit();
      } catch {
        c.disconnect();
      }
    }
  }
}
