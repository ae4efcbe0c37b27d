import type net from 'node:net';
import type { InputSink, TimerHandle } from '@pipeline/core';
import { StreamListener, type ListenerOptions, type Peer } from '@pipeline/net';
import { RelpSession, type SessionMetrics } from './session.js';

/**
 * The listening side of the RELP input: @pipeline/net's StreamListener (TCP or TLS, client
 * certificates as the tcp input checks them, the same certificate files and reload, the connection
 * cap and metrics), an idle timeout on the plugin's clock, and one RelpSession per connection,
 * which writes its acknowledgements back on the socket.
 */
export interface RelpPeer {
  /** `address:port`, as Logstash's relp input sets `host`. */
  readonly address: string;
  /** Subject of the verified client certificate (Logstash's `sslsubject`). */
  readonly sslsubject?: string;
}

export interface RelpServerOptions extends ListenerOptions {
  maxDataBytes: number;
  /** Turns a syslog frame's data from `peer` into events pushed to `sink`. */
  deliver(peer: RelpPeer, sink: InputSink, data: Buffer, truncated: boolean): void;
}

export class RelpServer {
  private readonly listener: StreamListener;
  private readonly sessions = new Set<RelpSession>();
  private sweeper?: TimerHandle;
  private sink?: InputSink;
  private readonly sm: SessionMetrics;

  constructor(private readonly o: RelpServerOptions) {
    this.listener = new StreamListener(o, (socket, peer, secure) => this.accept(socket, peer, secure));
    const mt = o.metrics;
    this.sm = {
      frames: mt.counter('frames'),
      acks: mt.counter('acks'),
      framingErrors: mt.counter('framing_errors'),
      oversize: mt.counter('oversize_lines'),
      refused: mt.counter('sessions_refused'),
      pauses: mt.counter('backpressure_pauses'),
    };
  }

  get port(): number {
    return this.listener.port;
  }

  get sessionCount(): number {
    return this.sessions.size;
  }

  async listen(sink: InputSink): Promise<void> {
    this.sink = sink;
    await this.listener.listen('RELP');
    const o = this.o;
    if (o.idleTimeoutMs > 0) this.sweeper = o.clock.setInterval(() => this.closeIdle(), Math.max(1, Math.floor(o.idleTimeoutMs / 4)));
  }

  private accept(socket: net.Socket, p: Peer, secure: boolean): void {
    const o = this.o;
    const sink = this.sink!;
    const m = this.listener.m;
    const peer: RelpPeer = { address: `${p.host}:${p.port}`, sslsubject: p.sslsubject };
    // acknowledgements are small writes the sender waits for (its window): with Nagle's algorithm
    // each would wait for the peer's delayed ACK of the previous one, tens of ms per window
    socket.setNoDelay(true);
    const session = new RelpSession(socket, peer.address, {
      sink,
      maxDataBytes: o.maxDataBytes,
      metrics: this.sm,
      warnings: this.listener.warnings,
      deliver: (data, truncated) => o.deliver(peer, sink, data, truncated),
      done: (s) => {
        if (this.sessions.delete(s)) m.open.set(this.sessions.size);
      },
    });
    session.lastActivity = o.clock.now();
    this.sessions.add(session);
    m.total.inc();
    m.open.set(this.sessions.size);
    let first = !secure;
    socket.on('data', (chunk: Buffer) => {
      if (first) {
        first = false;
        if (this.listener.refusedAsTls(socket, p, chunk, 'TLS handshake on a plain RELP port: closing (enable ssl_enable, or turn tls off in omrelp)')) return;
      }
      session.lastActivity = o.clock.now();
      m.bytes.inc(chunk.length);
      session.data(chunk);
    });
    socket.on('close', () => session.closed());
  }

  private closeIdle(): void {
    const limit = this.o.clock.now() - this.o.idleTimeoutMs;
    for (const s of this.sessions) {
      if (s.lastActivity <= limit && !s.busy) {
        this.listener.m.idleClosed.inc();
        this.o.logger.debug({ peer: s.peer }, 'closing idle RELP session');
        s.shutdown();
      }
    }
  }

  /** Re-reads the certificate files; the old ones stay in use when the new ones are unusable. */
  reload(): void {
    this.listener.reload();
  }

  /**
   * Stops accepting; every session sends the acknowledgements it owes once the queue holds their
   * events (so a clean restart repeats nothing), then a serverclose hint. Sessions still busy after
   * a short grace (a peer that does not read) are cut.
   */
  async close(): Promise<void> {
    this.sweeper?.cancel();
    const closed = this.listener.close();
    const sockets = [...this.sessions].map((s) => s.socket);
    for (const s of this.sessions) s.shutdown();
    // each session destroys its socket within its grace period if the peer does not let go
    await Promise.all(sockets.map((so) => (so.closed ? undefined : new Promise((r) => so.once('close', r)))));
    await closed;
  }
}
