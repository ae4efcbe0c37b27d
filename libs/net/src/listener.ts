import net from 'node:net';
import tls from 'node:tls';
import type { Clock, Logger, Metrics } from '@pipeline/core';
import { LimitedLog } from './log-limit.js';
import { loadTls, subjectText, warnExpiring, type TlsFiles } from './tls-files.js';

/**
 * The listening socket every stream input needs, whatever its protocol (the tcp input's line
 * framing, RELP's sessions): TCP or TLS with optional client certificates and certificate reload,
 * a connection cap, the refusal of a TLS hello on a plain port, and the connection metrics. It
 * hands each accepted socket, with who is on the other end, to the server that owns the protocol.
 */
export interface Peer {
  /** The address, or the peer's name once a reverse lookup named it (the tcp input's `dns_reverse_lookup_enabled`). */
  readonly host: string;
  /** The address, always. */
  readonly ip: string;
  readonly port: number;
  /** Subject of the verified client certificate (Logstash's `sslsubject`). */
  readonly sslsubject?: string;
}

export interface ListenerOptions {
  host: string;
  port: number;
  tls?: TlsFiles;
  maxConnections: number;
  /** 0 = never; also bounds the TLS handshake. */
  idleTimeoutMs: number;
  keepAlive: boolean;
  logger: Logger;
  metrics: Metrics;
  clock: Clock;
}

/** What the owner of a connection is told: the socket, the peer, whether it came over TLS. */
export type AcceptHandler = (socket: net.Socket, peer: Peer, secure: boolean) => void;

/** TLS records start with content type 22 (handshake) and major version 3. */
const looksLikeTlsHello = (b: Buffer) => b.length >= 2 && b[0] === 0x16 && b[1] === 0x03;

export class StreamListener {
  private server?: net.Server;
  readonly warnings: LimitedLog;
  readonly m;

  constructor(
    private readonly o: ListenerOptions,
    private readonly accept: AcceptHandler,
  ) {
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
  }

  /** The bound port (useful with port 0). */
  get port(): number {
    const a = this.server?.address();
    return a && typeof a === 'object' ? a.port : 0;
  }

  /** Listens; `what` names the protocol in the log line. */
  async listen(what = ''): Promise<void> {
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
      server.on('secureConnection', (s: tls.TLSSocket) => this.accepted(s, true));
      server.on('tlsClientError', (err: Error, s: tls.TLSSocket) => {
        this.m.tlsFailures.inc();
        this.warnings.warn({ peer: s.remoteAddress, port: s.remotePort, err: err.message }, 'TLS handshake refused');
        s.destroy();
      });
    } else server = net.createServer((s) => this.accepted(s, false));
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
    o.metrics.gauge('listen_port').set(this.port);
    o.logger.info({ host: o.host, port: this.port, tls: !!o.tls }, what ? `listening (${what})` : 'listening');
  }

  private accepted(socket: net.Socket, secure: boolean): void {
    const ip = socket.remoteAddress?.replace(/^::ffff:/, '') ?? 'unknown';
    const peer: Peer = {
      host: ip,
      ip,
      port: socket.remotePort ?? 0,
      sslsubject: secure && (socket as tls.TLSSocket).authorized ? subjectText((socket as tls.TLSSocket).getPeerCertificate()?.subject as never) : undefined,
    };
    if (this.o.keepAlive) socket.setKeepAlive(true);
    socket.on('error', (e) => {
      this.m.errors.inc();
      this.o.logger.debug({ peer: peer.host, err: e.message }, 'connection error');
    });
    this.accept(socket, peer, secure);
  }

  /**
   * Call with the first chunk of a plain connection: a TLS hello there is a misconfigured client
   * (TLS against the plain port); it is counted, logged (rate-limited) and the socket destroyed.
   */
  refusedAsTls(socket: net.Socket, peer: Peer, chunk: Buffer, message: string): boolean {
    if (!looksLikeTlsHello(chunk)) return false;
    this.m.tlsOnPlain.inc();
    this.warnings.warn({ peer: peer.host, port: peer.port }, message);
    socket.destroy();
    return true;
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

  /** Stops accepting; resolves once every connection has closed (the owner closes them). */
  close(): Promise<void> {
    const server = this.server;
    if (!server) return Promise.resolve();
    return new Promise<void>((r) => server.close(() => r()));
  }
}
