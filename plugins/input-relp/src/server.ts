import net from 'node:net';
import tls from 'node:tls';
import type { Clock, InputSink, Logger, Metrics, TimerHandle } from '@pipeline/core';
import { LimitedLog, loadTls, warnExpiring, type TlsFiles } from '@pipeline/input-tcp';
import { RelpSession, type SessionMetrics } from './session.js';

/**
 * The listening side of the RELP input: TCP or TLS (client certificates as the tcp input checks
 * them, the same certificate files and reload), a connection cap, an idle timeout on the plugin's
 * clock, and one RelpSession per connection.
 *
 * It mirrors input-tcp's StreamServer (which cannot be reused as it stands: its connection handler
 * never sees the socket, and a RELP session must write its acknowledgements back).
 */
export interface RelpPeer {
  /** `address:port`, as Logstash's relp input sets `host`. */
  readonly address: string;
  /** Subject of the verified client certificate (Logstash's `sslsubject`). */
  readonly sslsubject?: string;
}

export interface RelpServerOptions {
  host: string;
  port: number;
  tls?: TlsFiles;
  maxConnections: number;
  /** 0 = never. */
  idleTimeoutMs: number;
  keepAlive: boolean;
  maxDataBytes: number;
  logger: Logger;
  metrics: Metrics;
  clock: Clock;
  /** Turns a syslog frame's data from `peer` into events pushed to `sink`. */
  deliver(peer: RelpPeer, sink: InputSink, data: Buffer, truncated: boolean): void;
}

/** TLS records start with content type 22 (handshake) and major version 3. */
const looksLikeTlsHello = (b: Buffer) => b.length >= 2 && b[0] === 0x16 && b[1] === 0x03;

export class RelpServer {
  private server?: net.Server;
  private readonly sessions = new Set<RelpSession>();
  private sweeper?: TimerHandle;
  private readonly warnings: LimitedLog;
  private readonly m;
  private readonly sm: SessionMetrics;

  constructor(private readonly o: RelpServerOptions) {
    this.warnings = new LimitedLog(o.logger, o.clock);
    const mt = o.metrics;
    this.m = {
      open: mt.gauge('connections_open'),
      total: mt.counter('connections_total'),
      refused: mt.counter('connections_refused'),
      idleClosed: mt.counter('connections_idle_closed'),
      errors: mt.counter('connection_errors'),
      bytes: mt.counter('bytes'),
      tlsFailures: mt.counter('tls_handshake_failures'),
      tlsOnPlain: mt.counter('tls_on_plain_port'),
    };
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
    const a = this.server?.address();
    return a && typeof a === 'object' ? a.port : 0;
  }

  get sessionCount(): number {
    return this.sessions.size;
  }

  async listen(sink: InputSink): Promise<void> {
    const o = this.o;
    let server: net.Server;
    if (o.tls) {
      const secure = loadTls(o.tls);
      warnExpiring(secure, o.clock.now(), o.logger);
      const auth = o.tls.clientAuth;
      server = tls.createServer({
        ...secure,
        requestCert: auth !== 'none',
        rejectUnauthorized: auth === 'required',
        handshakeTimeout: o.idleTimeoutMs > 0 ? Math.min(30_000, o.idleTimeoutMs) : 30_000,
      });
      server.on('secureConnection', (s: tls.TLSSocket) => this.accept(s, sink, true));
      server.on('tlsClientError', (err: Error, s: tls.TLSSocket) => {
        this.m.tlsFailures.inc();
        this.warnings.warn({ peer: s.remoteAddress, port: s.remotePort, err: err.message }, 'TLS handshake refused');
        s.destroy();
      });
    } else server = net.createServer((s) => this.accept(s, sink, false));
    server.maxConnections = o.maxConnections;
    server.on('drop', (d?: { remoteAddress?: string }) => {
      this.m.refused.inc();
      this.warnings.warn({ peer: d?.remoteAddress, max_connections: o.maxConnections }, 'connection refused: max_connections reached');
    });
    server.on('error', (e) => o.logger.error({ err: e.message }, 'listener error'));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: o.host, port: o.port, backlog: 1024 }, () => {
        server.off('error', reject);
        resolve();
      });
    });
    if (o.idleTimeoutMs > 0) this.sweeper = o.clock.setInterval(() => this.closeIdle(), Math.max(1, Math.floor(o.idleTimeoutMs / 4)));
    o.metrics.gauge('listen_port').set(this.port);
    o.logger.info({ host: o.host, port: this.port, tls: !!o.tls }, 'listening (RELP)');
  }

  private accept(socket: net.Socket, sink: InputSink, secure: boolean): void {
    const o = this.o;
    const host = socket.remoteAddress?.replace(/^::ffff:/, '') ?? 'unknown';
    const peer: RelpPeer = {
      address: `${host}:${socket.remotePort ?? 0}`,
      sslsubject: secure && (socket as tls.TLSSocket).authorized ? subjectText((socket as tls.TLSSocket).getPeerCertificate()?.subject as never) : undefined,
    };
    if (o.keepAlive) socket.setKeepAlive(true);
    // acknowledgements are small writes the sender waits for (its window): with Nagle's algorithm
    // each would wait for the peer's delayed ACK of the previous one, tens of ms per window
    socket.setNoDelay(true);
    const session = new RelpSession(socket, peer.address, {
      sink,
      maxDataBytes: o.maxDataBytes,
      metrics: this.sm,
      warnings: this.warnings,
      deliver: (data, truncated) => o.deliver(peer, sink, data, truncated),
      done: (s) => {
        if (this.sessions.delete(s)) this.m.open.set(this.sessions.size);
      },
    });
    session.lastActivity = o.clock.now();
    this.sessions.add(session);
    this.m.total.inc();
    this.m.open.set(this.sessions.size);
    let first = !secure;
    socket.on('data', (chunk: Buffer) => {
      if (first) {
        first = false;
        if (looksLikeTlsHello(chunk)) {
          this.m.tlsOnPlain.inc();
          this.warnings.warn({ peer: host, port: socket.remotePort }, 'TLS handshake on a plain RELP port: closing (enable ssl_enable, or turn tls off in omrelp)');
          socket.destroy();
          return;
        }
      }
      session.lastActivity = o.clock.now();
      this.m.bytes.inc(chunk.length);
      session.data(chunk);
    });
    socket.on('error', (e) => {
      this.m.errors.inc();
      o.logger.debug({ peer: peer.address, err: e.message }, 'connection error');
    });
    socket.on('close', () => session.closed());
  }

  private closeIdle(): void {
    const limit = this.o.clock.now() - this.o.idleTimeoutMs;
    for (const s of this.sessions) {
      if (s.lastActivity <= limit && !s.busy) {
        this.m.idleClosed.inc();
        this.o.logger.debug({ peer: s.peer }, 'closing idle RELP session');
        s.shutdown();
      }
    }
  }

  /** Re-reads the certificate files; the old ones stay in use when the new ones are unusable. */
  reload(): void {
    const o = this.o;
    if (!o.tls || !(this.server instanceof tls.Server)) return;
    try {
      const secure = loadTls(o.tls);
      this.server.setSecureContext(secure);
      warnExpiring(secure, o.clock.now(), o.logger);
      o.logger.info('TLS certificates reloaded');
    } catch (e) {
      o.logger.error({ err: (e as Error).message }, 'TLS reload failed; keeping the previous certificates');
    }
  }

  /**
   * Stops accepting; every session sends the acknowledgements it owes once the queue holds their
   * events (so a clean restart repeats nothing), then a serverclose hint. Sessions still busy after
   * a short grace (a peer that does not read) are cut.
   */
  async close(): Promise<void> {
    this.sweeper?.cancel();
    const server = this.server;
    if (!server) return;
    const closed = new Promise<void>((r) => server.close(() => r()));
    const sockets = [...this.sessions].map((s) => s.socket);
    for (const s of this.sessions) s.shutdown();
    // each session destroys its socket within its grace period if the peer does not let go
    await Promise.all(sockets.map((so) => (so.closed ? undefined : new Promise((r) => so.once('close', r)))));
    await closed;
  }
}

/** Logstash's legacy `sslsubject` text (most specific RDN first, as Java prints it). */
function subjectText(subject: Record<string, string | string[]> | undefined): string | undefined {
  if (!subject) return undefined;
  const parts: string[] = [];
  for (const [k, v] of Object.entries(subject)) for (const x of Array.isArray(v) ? v : [v]) parts.push(`${k}=${x}`);
  return parts.reverse().join(',');
}
