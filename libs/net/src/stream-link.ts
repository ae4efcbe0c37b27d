import net from 'node:net';
import tls from 'node:tls';
import type { Clock, Logger, Metrics, PendingWrite, TimerHandle } from '@pipeline/core';

/**
 * One outgoing TCP or TLS connection that does not lose what it was given when the peer goes away.
 *
 * TCP gives a sender no word of what the peer program has read: bytes the kernel accepted from us
 * may still sit in our send buffer, in flight, or in the peer's receive buffer when the peer
 * restarts, and are then gone. So the link keeps every chunk it wrote until the kernel has accepted
 * `resendWindowBytes` more bytes after it on the same connection (see resend-window.ts: past that point
 * TCP's flow control proves the peer program read it), and after a reconnection writes everything
 * it kept again, in order, before anything new: delivery is at least once, and what may arrive twice
 * is at most the window plus the chunk that crossed it.
 *
 * Back-pressure: `send` resolves once its chunk is written into the socket and the socket is below
 * its high-water mark; while the connection is down it waits, reconnecting every `reconnectMs`,
 * doubling up to `maxBackoffMs`, on the pipeline's clock. The `written` promise it hands back
 * resolves when the kernel has accepted the chunk (on this connection or a later one).
 */
export interface LinkOptions {
  host: string;
  port: number;
  /** TLS options for each connection attempt (called each time, so renewed files are read), or none for plain TCP. */
  tls?: () => tls.ConnectionOptions;
  reconnectMs: number;
  maxBackoffMs: number;
  resendWindowBytes: number;
  connectTimeoutMs: number;
  /** How long `close` waits for the peer to close its side after ours. */
  closeTimeoutMs?: number;
  clock: Clock;
  logger: Logger;
  metrics: Metrics;
}

interface Chunk {
  readonly data: string;
  readonly bytes: number;
  /** Offset just past this chunk on the connection it was last written to. */
  end: number;
  /** Accepted by the kernel at least once: its `written` has resolved. */
  confirmed: boolean;
  settle: ((err?: Error) => void) | undefined;
}

export class StreamLink {
  private chunks: (Chunk | undefined)[] = [];
  /** Index of the oldest chunk kept. */
  private head = 0;
  /** Index of the next chunk to write on the current connection. */
  private next = 0;
  private socket: net.Socket | undefined;
  private connected = false;
  private connecting = false;
  private generation = 0;
  /** Bytes handed to `write()` on this connection, and accepted by the kernel (write callbacks). */
  private written = 0;
  private accepted = 0;
  private held = 0;
  private failures = 0;
  private everUp = false;
  private retry: TimerHandle | undefined;
  private closing = false;
  private destroyed = false;
  private ending: ((clean: boolean) => void) | undefined;
  private waiters: (() => void)[] = [];
  private readonly m;

  constructor(private readonly o: LinkOptions) {
    const mt = o.metrics;
    this.m = {
      connected: mt.gauge('connected'),
      attempts: mt.counter('connect_attempts'),
      connections: mt.counter('connections'),
      connectFailures: mt.counter('connect_failures'),
      disconnects: mt.counter('disconnects'),
      resentBytes: mt.counter('resent_bytes'),
      held: mt.gauge('held_bytes'),
    };
  }

  /** True while a connection is up (for tests and status). */
  get isConnected(): boolean {
    return this.connected;
  }

  /** Bytes kept: the resend window plus what is not yet accepted. */
  get heldBytes(): number {
    return this.held;
  }

  /** Queues `data` for the peer; resolves when the socket has taken it (see the class comment). */
  async send(data: string): Promise<PendingWrite> {
    if (this.closing || this.destroyed) throw new Error(`connection to ${this.o.host}:${this.o.port} is closed`);
    let settle!: (err?: Error) => void;
    const written = new Promise<void>((resolve, reject) => (settle = (err) => (err ? reject(err) : resolve())));
    written.catch(() => {}); // the pipeline observes it; an unobserved rejection must not be fatal
    const bytes = Buffer.byteLength(data);
    this.chunks.push({ data, bytes, end: 0, confirmed: false, settle });
    this.held += bytes;
    this.m.held.set(this.held);
    if (this.connected) this.pump();
    else this.ensureConnecting();
    await this.until(() => this.destroyed || (this.connected && this.next === this.chunks.length && !this.socket!.writableNeedDrain));
    if (this.destroyed) throw new Error(`connection to ${this.o.host}:${this.o.port} was destroyed`);
    return { written };
  }

  /**
   * Writes out everything kept, ends the connection and waits for the peer to close its side: a
   * peer that reads to the end before closing has then read it all. A connection that fails on the
   * way is made again and the window written again. Waits as long as the peer stays away, as
   * `send` does (the pipeline waits for its outputs at shutdown).
   */
  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    for (;;) {
      if (this.destroyed) return;
      if (this.head === this.chunks.length && !this.connected && !this.connecting && this.retry === undefined) break;
      if (this.head < this.chunks.length) this.ensureConnecting();
      await this.until(
        () =>
          this.destroyed ||
          (this.connected && this.next === this.chunks.length && this.accepted === this.written) ||
          (!this.connected && !this.connecting && this.retry === undefined && this.head === this.chunks.length),
      );
      if (!this.connected) continue;
      if (await this.endConnection()) {
        this.dropAll();
        break;
      }
    }
    this.retry?.cancel();
    this.retry = undefined;
  }

  /** Drops the connection and everything kept at once; pending writes reject. */
  destroy(): void {
    this.destroyed = true;
    this.retry?.cancel();
    this.retry = undefined;
    this.socket?.destroy();
    for (let i = this.head; i < this.chunks.length; i++) this.chunks[i]!.settle?.(new Error('connection destroyed before the data was written'));
    this.chunks = [];
    this.head = this.next = 0;
    this.held = 0;
    this.m.held.set(0);
    this.wake();
  }

  private pump(): void {
    const s = this.socket!;
    const gen = this.generation;
    while (this.next < this.chunks.length && !s.writableNeedDrain) {
      const c = this.chunks[this.next++]!;
      this.written += c.bytes;
      c.end = this.written;
      s.write(c.data, (err) => {
        if (!err && gen === this.generation) this.onAccepted(c);
      });
    }
  }

  private onAccepted(c: Chunk): void {
    this.accepted = c.end;
    if (!c.confirmed) {
      c.confirmed = true;
      c.settle?.();
      c.settle = undefined;
    }
    this.trim();
    this.wake();
  }

  /** Forgets chunks the peer has certainly read: `resendWindowBytes` accepted after them on this connection. */
  private trim(): void {
    const window = this.o.resendWindowBytes;
    while (this.head < this.next) {
      const c = this.chunks[this.head]!;
      if (!c.confirmed || this.accepted - c.end < window) break;
      this.chunks[this.head++] = undefined;
      this.held -= c.bytes;
    }
    if (this.head > 1024 && this.head * 2 > this.chunks.length) {
      this.chunks = this.chunks.slice(this.head);
      this.next -= this.head;
      this.head = 0;
    }
    this.m.held.set(this.held);
  }

  private dropAll(): void {
    for (let i = this.head; i < this.chunks.length; i++) this.chunks[i]!.settle?.();
    this.chunks = [];
    this.head = this.next = 0;
    this.held = 0;
    this.m.held.set(0);
  }

  private ensureConnecting(): void {
    if (this.connected || this.connecting || this.retry !== undefined || this.destroyed) return;
    this.connect();
  }

  private connect(): void {
    const o = this.o;
    this.connecting = true;
    this.m.attempts.inc();
    const gen = ++this.generation;
    let secure: tls.ConnectionOptions | undefined;
    try {
      secure = o.tls?.();
    } catch (e) {
      this.connecting = false;
      this.onDown(gen, false, e as Error);
      return;
    }
    const s = secure ? tls.connect({ ...secure, host: o.host, port: o.port }) : net.connect({ host: o.host, port: o.port });
    let failure: Error | undefined;
    let up = false;
    const timer = o.clock.setTimeout(() => s.destroy(new Error(`no connection within ${o.connectTimeoutMs} ms`)), o.connectTimeoutMs);
    s.once(secure ? 'secureConnect' : 'connect', () => {
      timer.cancel();
      up = true;
      this.onUp(s, gen);
    });
    s.on('error', (e) => (failure ??= e));
    // nothing is expected from the peer; reading lets its close be seen as soon as it happens
    s.on('data', () => {});
    s.on('drain', () => {
      if (gen !== this.generation || !this.connected) return;
      this.pump();
      this.wake();
    });
    s.on('close', () => {
      timer.cancel();
      this.onDown(gen, up, failure);
    });
  }

  private onUp(s: net.Socket, gen: number): void {
    if (gen !== this.generation) return;
    s.setNoDelay(true);
    s.setKeepAlive(true, 60_000);
    this.connecting = false;
    this.connected = true;
    this.socket = s;
    this.written = this.accepted = 0;
    let resend = 0;
    for (let i = this.head; i < this.chunks.length; i++) if (this.chunks[i]!.end > 0) resend += this.chunks[i]!.bytes;
    this.m.connections.inc();
    this.m.connected.set(1);
    this.m.resentBytes.inc(resend);
    if (this.everUp || this.failures > 0) this.o.logger.info({ host: this.o.host, port: this.o.port, attempts: this.failures, resend_bytes: resend }, 'connected again; writing again what the peer may not have read');
    else this.o.logger.info({ host: this.o.host, port: this.o.port, tls: !!this.o.tls }, 'connected');
    this.everUp = true;
    this.failures = 0;
    this.next = this.head;
    this.pump();
    this.wake();
  }

  private onDown(gen: number, up: boolean, err: Error | undefined): void {
    if (gen !== this.generation) return;
    this.connected = false;
    this.connecting = false;
    this.socket = undefined;
    this.m.connected.set(0);
    const ending = this.ending;
    this.ending = undefined;
    if (ending) {
      ending(err === undefined);
      if (err === undefined) return this.wake();
    }
    if (this.destroyed) return this.wake();
    const o = this.o;
    if (up) {
      this.m.disconnects.inc();
      this.failures = 1;
      o.logger.warn({ host: o.host, port: o.port, err: err?.message ?? 'closed by the peer', held_bytes: this.held }, 'connection lost; what it may not have delivered is kept to be written again');
    } else {
      this.failures++;
      this.m.connectFailures.inc();
      // the first failure and every tenth, so an outage of hours does not flood the log
      if (this.failures === 1 || this.failures % 10 === 0)
        o.logger.warn({ host: o.host, port: o.port, attempts: this.failures, retry_in_ms: this.backoffMs(), err: err?.message }, 'cannot connect, retrying');
    }
    if (this.head < this.chunks.length) {
      this.retry = o.clock.setTimeout(() => {
        this.retry = undefined;
        this.ensureConnecting();
        this.wake();
      }, this.backoffMs());
    }
    this.wake();
  }

  /** `reconnectMs` after the first failure, doubling with each further one, up to `maxBackoffMs`. */
  backoffMs(): number {
    const { reconnectMs, maxBackoffMs } = this.o;
    return Math.min(reconnectMs * 2 ** Math.min(Math.max(this.failures, 1) - 1, 20), Math.max(reconnectMs, maxBackoffMs));
  }

  /** Ends our side; true when the peer then closed its side without an error (or never answered). */
  private endConnection(): Promise<boolean> {
    const s = this.socket!;
    return new Promise<boolean>((resolve) => {
      const timer = this.o.clock.setTimeout(() => s.destroy(), this.o.closeTimeoutMs ?? 10_000);
      this.ending = (clean) => {
        timer.cancel();
        resolve(clean);
      };
      s.end();
    });
  }

  private wake(): void {
    const w = this.waiters;
    if (w.length === 0) return;
    this.waiters = [];
    for (const f of w) f();
  }

  private async until(cond: () => boolean): Promise<void> {
    while (!cond()) await new Promise<void>((r) => this.waiters.push(r));
  }
}
