import dgram from 'node:dgram';
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import type { Clock, Counter, Logger, Metrics, TimerHandle } from '@pipeline/core';

/**
 * Sends datagrams to one host, as Logstash's udp output does: a send the socket refuses is tried
 * again `retryCount` times, `retryBackoffMs` apart, then dropped and counted; a datagram too large
 * for the network (EMSGSIZE) is dropped at once. The host name is resolved once and again after a
 * failure, not per datagram. `sendBatch` resolves when every datagram of the batch has been handed
 * to the kernel or given up: that is the output's back-pressure (libuv queues what the socket
 * cannot take yet).
 */
export interface UdpSenderOptions {
  host: string;
  retryCount: number;
  retryBackoffMs: number;
  clock: Clock;
  logger: Logger;
  metrics: Metrics;
}

interface Target {
  address: string;
  family: 4 | 6;
}

export class UdpSender {
  private target: Target | undefined;
  private readonly sockets = new Map<4 | 6, dgram.Socket>();
  /** Retries waiting for their back-off, each with what drops it when the sender closes. */
  private readonly timers = new Map<TimerHandle, () => void>();
  private closed = false;
  private lastErrorLog = -Infinity;
  private readonly m: { sent: Counter; failures: Counter; dropped: Counter; oversize: Counter };

  constructor(private readonly o: UdpSenderOptions) {
    const mt = o.metrics;
    this.m = { sent: mt.counter('datagrams_sent'), failures: mt.counter('send_failures'), dropped: mt.counter('datagrams_dropped'), oversize: mt.counter('datagrams_too_large') };
  }

  /** Sends each payload to its port (`ports[i]`, or `port` for all); resolves once all are sent or dropped. */
  sendBatch(payloads: readonly string[], port: number | readonly number[]): Promise<void> {
    if (payloads.length === 0) return Promise.resolve();
    // an address is known at once; a name is resolved before the batch, which then goes out in order
    if (this.target === undefined && isIP(this.o.host) !== 0) void this.resolveTarget();
    if (this.target === undefined)
      return this.resolveTarget().then(
        () => this.sendBatch(payloads, port),
        () => this.sendNow(payloads, port),
      );
    return this.sendNow(payloads, port);
  }

  private sendNow(payloads: readonly string[], port: number | readonly number[]): Promise<void> {
    return new Promise<void>((resolve) => {
      let left = payloads.length;
      const done = () => {
        if (--left === 0) resolve();
      };
      for (let i = 0; i < payloads.length; i++) this.attempt(payloads[i]!, typeof port === 'number' ? port : port[i]!, 0, done);
    });
  }

  private attempt(payload: string, port: number, tries: number, done: () => void): void {
    if (this.closed) {
      this.m.dropped.inc();
      return done();
    }
    const t = this.target;
    if (t === undefined) {
      this.resolveTarget().then(
        () => this.attempt(payload, port, tries, done),
        (err: Error) => this.failed(err, payload, port, tries, done),
      );
      return;
    }
    this.socketFor(t.family).send(payload, port, t.address, (err) => {
      if (!err) {
        this.m.sent.inc();
        return done();
      }
      this.failed(err, payload, port, tries, done);
    });
  }

  private failed(err: Error, payload: string, port: number, tries: number, done: () => void): void {
    const code = (err as NodeJS.ErrnoException).code;
    this.m.failures.inc();
    if (code === 'EMSGSIZE') {
      this.m.oversize.inc();
      this.m.dropped.inc();
      this.logError({ err: err.message, bytes: Buffer.byteLength(payload) }, 'datagram too large, dropped');
      return done();
    }
    this.target = undefined; // resolved again before the next datagram
    if (tries < this.o.retryCount && !this.closed) {
      this.o.logger.debug({ err: err.message, port, attempt: tries + 1 }, 'udp send failed, retrying');
      const timer = this.o.clock.setTimeout(() => {
        this.timers.delete(timer);
        this.attempt(payload, port, tries + 1, done);
      }, this.o.retryBackoffMs);
      this.timers.set(timer, () => {
        this.m.dropped.inc();
        done();
      });
      return;
    }
    this.m.dropped.inc();
    this.logError({ err: err.message, host: this.o.host, port, attempts: tries + 1 }, 'udp send failed, datagram dropped');
    done();
  }

  /** At most one error line per second, so a dead route does not write a line per event. */
  private logError(fields: Record<string, unknown>, msg: string): void {
    const now = this.o.clock.now();
    if (now - this.lastErrorLog < 1000) return;
    this.lastErrorLog = now;
    this.o.logger.error({ ...fields, dropped_total: this.m.dropped.value }, msg);
  }

  private resolving: Promise<void> | undefined;

  private resolveTarget(): Promise<void> {
    const host = this.o.host;
    const ip = isIP(host);
    if (ip !== 0) {
      this.target = { address: host, family: ip as 4 | 6 };
      return Promise.resolve();
    }
    return (this.resolving ??= lookup(host).then(
      (r) => {
        this.resolving = undefined;
        this.target = { address: r.address, family: r.family === 6 ? 6 : 4 };
      },
      (err: Error) => {
        this.resolving = undefined;
        throw err;
      },
    ));
  }

  private socketFor(family: 4 | 6): dgram.Socket {
    let s = this.sockets.get(family);
    if (s === undefined) {
      s = dgram.createSocket(family === 6 ? 'udp6' : 'udp4');
      s.on('error', (err) => this.o.logger.warn({ err: err.message }, 'udp socket error'));
      this.sockets.set(family, s);
    }
    return s;
  }

  close(): Promise<void> {
    this.closed = true;
    const waiting = [...this.timers];
    this.timers.clear();
    for (const [t, drop] of waiting) {
      t.cancel();
      drop();
    }
    const all = [...this.sockets.values()].map((s) => new Promise<void>((r) => s.close(() => r())));
    this.sockets.clear();
    return Promise.all(all).then(() => undefined);
  }
}
