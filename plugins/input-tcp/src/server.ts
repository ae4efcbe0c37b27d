import net from 'node:net';
import tls from 'node:tls';
import type { Clock, InputSink, Logger, Metrics, TimerHandle } from '@pipeline/core';
import { LimitedLog } from './log-limit.js';
import { loadTls, subjectText, warnExpiring, type TlsFiles } from './tls-files.js';

/**
 * A listening TCP or TLS server with the limits every stream input needs: a connection cap, an
 * idle timeout (driven by the plugin's clock), back-pressure (a full queue pauses the socket until
 * it has room), TLS with optional client certificates and certificate reload, and the metrics.
 * What the bytes mean is up to the per-connection handler the input supplies.
 */
export interface Peer {
  readonly host: string;
  readonly port: number;
  /** Subject of the verified client certificate (Logstash's `sslsubject`). */
  readonly sslsubject?: string;
}

export interface ConnectionHandler {
  data(chunk: Buffer): void;
  /** The connection ended (either side): emit what is buffered. */
  end(): void;
}

export interface StreamServerOptions {
  host: string;
  port: number;
  tls?: TlsFiles;
  maxConnections: number;
  /** 0 = never. */
  idleTimeoutMs: number;
  keepAlive: boolean;
  logger: Logger;
  metrics: Metrics;
  clock: Clock;
  open(peer: Peer, sink: InputSink): ConnectionHandler;
}

interface Conn {
  socket: net.Socket;
  handler: ConnectionHandler;
  lastActivity: number;
  paused: boolean;
  ended: boolean;
}

/** TLS records start with content type 22 (handshake) and major version 3. */
const looksLikeTlsHello = (b: Buffer) => b.length >= 2 && b[0] === 0x16 && b[1] === 0x03;

export class StreamServer {
  private server?: net.Server;
  private readonly conns = new Set<Conn>();
  private sweeper?: TimerHandle;
  private readonly warnings: LimitedLog;
  private readonly m;

  constructor(private readonly o: StreamServerOptions) {
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
      pauses: mt.counter('backpressure_pauses'),
    };
  }

  /** The bound port (useful with port 0). */
  get port(): number {
    const a = this.server?.address();
    return a && typeof a === 'object' ? a.port : 0;
  }

  get connectionCount(): number {
    return this.conns.size;
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
    } else {
      server = net.createServer((s) => this.accept(s, sink, false));
    }
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
    o.logger.info({ host: o.host, port: this.port, tls: !!o.tls }, 'listening');
  }

  private accept(socket: net.Socket, sink: InputSink, secure: boolean): void {
    const o = this.o;
    const peer: Peer = {
      host: socket.remoteAddress?.replace(/^::ffff:/, '') ?? 'unknown',
      port: socket.remotePort ?? 0,
      sslsubject: secure && (socket as tls.TLSSocket).authorized ? subjectText((socket as tls.TLSSocket).getPeerCertificate()?.subject as never) : undefined,
    };
    if (o.keepAlive) socket.setKeepAlive(true);
    const conn: Conn = { socket, handler: o.open(peer, sink), lastActivity: o.clock.now(), paused: false, ended: false };
    this.conns.add(conn);
    this.m.total.inc();
    this.m.open.set(this.conns.size);
    let first = !secure;
    socket.on('data', (chunk: Buffer) => {
      if (first) {
        first = false;
        if (looksLikeTlsHello(chunk)) {
          this.m.tlsOnPlain.inc();
          this.warnings.warn({ peer: peer.host, port: peer.port }, 'TLS handshake on a plain TCP port: closing (enable ssl_enable, or point the client at the TLS port)');
          conn.ended = true;
          socket.destroy();
          return;
        }
      }
      conn.lastActivity = o.clock.now();
      this.m.bytes.inc(chunk.length);
      conn.handler.data(chunk);
      if (!sink.writable && !conn.paused) this.pause(conn, sink);
    });
    socket.on('error', (e) => {
      this.m.errors.inc();
      o.logger.debug({ peer: peer.host, err: e.message }, 'connection error');
    });
    socket.on('close', () => {
      this.finish(conn);
      this.conns.delete(conn);
      this.m.open.set(this.conns.size);
    });
  }

  private pause(conn: Conn, sink: InputSink): void {
    conn.paused = true;
    conn.socket.pause();
    this.m.pauses.inc();
    void sink.whenWritable().then(() => {
      conn.paused = false;
      if (!conn.socket.destroyed) conn.socket.resume();
    });
  }

  private finish(conn: Conn): void {
    if (conn.ended) return;
    conn.ended = true;
    conn.handler.end();
  }

  private closeIdle(): void {
    const limit = this.o.clock.now() - this.o.idleTimeoutMs;
    for (const c of this.conns) {
      if (c.lastActivity <= limit && !c.paused) {
        this.m.idleClosed.inc();
        this.o.logger.debug({ peer: c.socket.remoteAddress }, 'closing idle connection');
        this.finish(c);
        c.socket.destroy();
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

  /** Stops accepting, closes every connection after handing over its buffered frame. */
  async close(): Promise<void> {
    this.sweeper?.cancel();
    const server = this.server;
    if (!server) return;
    const closed = new Promise<void>((r) => server.close(() => r()));
    for (const c of this.conns) {
      this.finish(c);
      c.socket.destroy();
    }
    await closed;
  }
}
