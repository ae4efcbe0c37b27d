import { timingSafeEqual } from 'node:crypto';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { TextDecoder } from 'node:util';
import zlib from 'node:zlib';
import type { CodecInstance, Event, Fields, InputInstance, InputSink, PluginContext, TimerHandle } from '@pipeline/core';
import { mimeOf } from './codecs.js';
import { EventDecorator, requestHeaders } from './headers.js';
import { secureContextOf, serverTlsOptions, type TlsSettings } from './tls.js';

export interface HttpSettings {
  host: string;
  port: number;
  /** `Basic <base64(user:password)>`, or undefined for no authentication. */
  authToken?: string;
  responseCode: number;
  responseHeaders: [string, string][];
  maxContentLength: number;
  /** Requests that may wait for room in a full queue (threads + max_pending_requests). */
  maxHeld: number;
  tls?: TlsSettings;
  codec: CodecInstance;
  codecs: Map<string, CodecInstance>;
  decorator: EventDecorator;
}

/** Logstash answers 429 to new requests once a request has been blocked this long on a full queue. */
export const BLOCKED_MS = 10_000;
/** How long a stop waits for requests in progress before it closes their connections. */
const STOP_GRACE_MS = 5_000;

/** A request whose body is read, waiting to be decoded into the queue. */
interface Job {
  req: IncomingMessage;
  res: ServerResponse;
  body: Buffer;
  since: number;
}

class BodyTooLarge extends Error {}

/**
 * The http input: one HTTP(S) server; each request's body is decoded by the codec its content
 * type selects, its events pushed to the queue, and the response sent once the queue holds them.
 * With the queue full, up to `maxHeld` requests wait for room (oldest first); more are answered
 * 429 at once, as are all new requests once the oldest has waited BLOCKED_MS.
 */
export class HttpInput implements InputInstance {
  private server?: http.Server;
  private sink?: InputSink;
  private readonly held: Job[] = [];
  private draining = false;
  private stopping = false;
  private stopped!: () => void;
  private readonly done = new Promise<void>((r) => (this.stopped = r));
  private readonly decoders = new Map<string, TextDecoder | null>();
  private readonly m;
  private readonly auth?: Buffer;
  /** ssl_client_authentication => optional: sockets checked already, and what was found. */
  private optional = false;
  private readonly checked = new WeakMap<TLSSocket, boolean>();
  /** Every accepted socket (TLS ones before their handshake too), and those with a request in progress. */
  private readonly sockets = new Set<Socket>();
  private readonly busySockets = new Set<Socket>();

  constructor(
    private readonly o: HttpSettings,
    private readonly ctx: PluginContext,
  ) {
    const mt = ctx.metrics;
    this.m = {
      requests: mt.counter('requests'),
      events: mt.counter('events'),
      bytes: mt.counter('bytes'),
      rejected: mt.counter('requests_rejected'),
      waiting: mt.gauge('requests_waiting'),
      port: mt.gauge('listen_port'),
    };
    if (o.authToken !== undefined) this.auth = Buffer.from(o.authToken);
  }

  private responses(code: number) {
    return this.ctx.metrics.counter('responses', { code: String(code) });
  }

  /** The bound port (useful with port 0). */
  get port(): number {
    const a = this.server?.address() as AddressInfo | null | undefined;
    return a ? a.port : 0;
  }

  async run(sink: InputSink): Promise<void> {
    this.sink = sink;
    const o = this.o;
    const server = o.tls ? https.createServer(serverTlsOptions(o.tls)) : http.createServer();
    this.server = server;
    server.on('connection', (s: Socket) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    server.on('request', (req: IncomingMessage, res: ServerResponse) => this.onRequest(req, res));
    // Expect: 100-continue: refuse (401, 413, 429) before the client sends its body
    server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => {
      this.track(req, res);
      if (this.refused(req, res)) return;
      res.writeContinue();
      this.read(req, res);
    });
    if (o.tls) {
      this.optional = o.tls.clientAuth === 'optional';
      server.on('secureConnection', (s: TLSSocket) => void this.badCertificate(s));
      server.on('tlsClientError', (err: Error, s: TLSSocket) => {
        this.ctx.metrics.counter('tls_handshake_failures').inc();
        this.ctx.logger.debug({ peer: s.remoteAddress, err: err.message }, 'TLS handshake failed');
        s.destroy();
      });
    }
    server.on('clientError', (err: Error & { code?: string }, socket) => {
      this.ctx.logger.debug({ err: err.message }, 'HTTP client error');
      if (socket.writable && err.code !== 'ECONNRESET') socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      else socket.destroy();
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: o.host, port: o.port, backlog: 1024 }, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', (e) => this.ctx.logger.error({ err: e.message }, 'http server error'));
    this.m.port.set(this.port);
    this.ctx.logger.info({ host: o.host, port: this.port, ssl_enabled: !!o.tls }, 'listening');
    await this.done;
    await this.shutdown(server);
  }

  stop(): void {
    this.stopping = true;
    this.stopped();
  }

  /** Re-reads the certificate files (SIGHUP); the old ones stay when the new ones are unusable. */
  reload(): void {
    if (!this.o.tls || !(this.server instanceof https.Server)) return;
    try {
      this.server.setSecureContext(secureContextOf(this.o.tls));
      this.ctx.logger.info('TLS certificates reloaded');
    } catch (e) {
      this.ctx.logger.error({ err: (e as Error).message }, 'TLS reload failed; keeping the previous certificates');
    }
  }

  private async shutdown(server: http.Server): Promise<void> {
    const closed = new Promise<void>((r) => server.close(() => r()));
    // what is already read goes to the queue: push never refuses, and the pipeline drains it
    while (this.held.length > 0) this.process(this.held.shift()!);
    this.m.waiting.set(0);
    // idle keep-alive connections and unfinished handshakes go now; the others after their answer
    for (const s of this.sockets) if (!this.busySockets.has(s)) s.destroy();
    server.closeIdleConnections();
    let timer: TimerHandle | undefined;
    const grace = new Promise<void>((r) => (timer = this.ctx.clock.setTimeout(() => r(), STOP_GRACE_MS)));
    await Promise.race([closed, grace]);
    timer?.cancel();
    server.closeAllConnections();
    for (const s of this.sockets) s.destroy();
    await closed;
  }

  /**
   * 'optional': a client without a certificate is served, one whose certificate does not verify is
   * not (Node accepts the handshake with rejectUnauthorized false, so the check is made here: at
   * the secure connection and again at each request, which may be parsed before that event's turn).
   */
  private badCertificate(s: TLSSocket): boolean {
    if (!this.optional) return false;
    let bad = this.checked.get(s);
    if (bad === undefined) {
      bad = !s.authorized && s.getPeerCertificate()?.raw !== undefined;
      this.checked.set(s, bad);
      if (bad) {
        this.ctx.metrics.counter('tls_client_refused').inc();
        this.ctx.logger.warn({ peer: s.remoteAddress, err: String(s.authorizationError) }, 'client certificate refused');
      }
    }
    if (bad) s.destroy();
    return bad;
  }

  /** Marks the request's socket busy until its response is done. */
  private track(req: IncomingMessage, res: ServerResponse): void {
    const s = req.socket;
    // over TLS, the 'connection' socket is the TLS socket's transport (Node keeps it as _parent)
    const raw = (s as { _parent?: Socket })._parent ?? s;
    this.busySockets.add(raw);
    res.once('close', () => {
      this.busySockets.delete(raw);
      if (this.stopping && !s.destroyed) s.destroySoon();
    });
  }

  private onRequest(req: IncomingMessage, res: ServerResponse): void {
    this.track(req, res);
    if (this.refused(req, res)) return;
    this.read(req, res);
  }

  /** The checks made on the headers, before the body is read; true when answered already. */
  private refused(req: IncomingMessage, res: ServerResponse): boolean {
    this.m.requests.inc();
    if (this.optional && this.badCertificate(req.socket as TLSSocket)) return true;
    if (this.stopping) {
      this.reply(res, 503, true);
      return true;
    }
    if (this.auth !== undefined) {
      const given = req.headers.authorization;
      if (given === undefined) {
        this.reply(res, 401, false, [['WWW-Authenticate', 'Basic realm="Pipeline HTTP Input"']]);
        return true;
      }
      const b = Buffer.from(given);
      if (b.length !== this.auth.length || !timingSafeEqual(b, this.auth)) {
        this.reply(res, 401, false);
        return true;
      }
    }
    const length = req.headers['content-length'];
    if (length !== undefined && Number(length) > this.o.maxContentLength) {
      this.reply(res, 413, true);
      return true;
    }
    if (this.busy(true)) {
      this.reject(res);
      return true;
    }
    return false;
  }

  /** No room: the queue is full and `maxHeld` requests wait already, or the oldest waits too long. */
  private busy(atHeaders: boolean): boolean {
    if (this.held.length === 0) return false;
    if (atHeaders && this.ctx.clock.now() - this.held[0]!.since >= BLOCKED_MS) return true;
    return this.held.length >= this.o.maxHeld && !this.sink!.writable;
  }

  private reject(res: ServerResponse): void {
    this.m.rejected.inc();
    this.reply(res, 429, false);
  }

  private read(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    const max = this.o.maxContentLength;
    req.on('data', (c: Buffer) => {
      if (over) return;
      size += c.length;
      if (size > max) {
        over = true;
        chunks.length = 0;
        this.reply(res, 413, true);
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => {
      if (over) return;
      this.m.bytes.inc(size);
      const body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size);
      const enc = req.headers['content-encoding'];
      if (enc === undefined || enc === 'identity') this.admit({ req, res, body, since: 0 });
      else this.inflate(enc, body, (err, out) => {
        if (err instanceof BodyTooLarge) this.reply(res, 413, true);
        else if (err) {
          this.ctx.logger.debug({ err: err.message, encoding: enc }, 'cannot decompress request body');
          this.reply(res, 400, false);
        } else this.admit({ req, res, body: out!, since: 0 });
      });
    });
    req.on('error', () => {});
  }

  /** gzip and deflate bodies (Content-Encoding), inflated no larger than max_content_length. */
  private inflate(enc: string, body: Buffer, cb: (err: Error | null, out?: Buffer) => void): void {
    const e = enc.trim().toLowerCase();
    const opts = { maxOutputLength: this.o.maxContentLength };
    const done = (err: Error | null, out: Buffer) => {
      if (err && (err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') cb(new BodyTooLarge());
      else if (err) cb(err);
      else cb(null, out);
    };
    if (e === 'gzip' || e === 'x-gzip') zlib.gunzip(body, opts, done);
    else if (e === 'deflate') zlib.inflate(body, opts, (err, out) => (err && (err as { code?: string }).code !== 'ERR_BUFFER_TOO_LARGE' ? zlib.inflateRaw(body, opts, done) : done(err, out)));
    else cb(new Error(`unsupported Content-Encoding ${enc}`));
  }

  /** Into the queue now, or to wait for room, or 429. */
  private admit(job: Job): void {
    const sink = this.sink!;
    if (this.held.length === 0 && (sink.writable || this.stopping)) {
      this.process(job);
      return;
    }
    if (this.busy(false)) {
      this.reject(job.res);
      return;
    }
    job.since = this.ctx.clock.now();
    this.held.push(job);
    this.m.waiting.set(this.held.length);
    void this.drain();
  }

  private async drain(): Promise<void> {
    if (this.draining) return;
    this.draining = true;
    const sink = this.sink!;
    try {
      while (this.held.length > 0) {
        if (!sink.writable && !this.stopping) await sink.whenWritable();
        const job = this.held.shift();
        if (job === undefined) break; // taken by shutdown
        this.m.waiting.set(this.held.length);
        this.process(job);
      }
    } finally {
      this.draining = false;
    }
  }

  /** Decodes the body, pushes its events, answers once the queue holds them. */
  private process(job: Job): void {
    const { req, res } = job;
    const sink = this.sink!;
    const o = this.o;
    const contentType = req.headers['content-type'] ?? '';
    const codec = o.codecs.get(mimeOf(contentType)) ?? o.codec;
    const headers: Fields = requestHeaders(req);
    const remote = (req.socket.remoteAddress ?? '').replace(/^::ffff:/, '');
    const data = this.text(contentType, job.body);
    let n = 0;
    try {
      codec.decodeMessage(data, (e: Event) => {
        o.decorator.apply(e, headers, remote, n === 0);
        n++;
        sink.push(e);
      });
    } catch (e) {
      this.ctx.logger.error({ err: (e as Error).message }, 'unable to process request body');
      this.m.events.inc(n);
      this.reply(res, 500, false);
      return;
    }
    this.m.events.inc(n);
    if (sink.whenStored === undefined) this.ok(res);
    else
      void sink.whenStored().then(
        () => this.ok(res),
        (e: unknown) => {
          this.ctx.logger.error({ err: (e as Error).message }, 'queue could not store the events');
          this.reply(res, 503, false);
        },
      );
  }

  /** A body whose Content-Type names a charset is decoded by it; otherwise the codec's charset applies. */
  private text(contentType: string, body: Buffer): Buffer | string {
    const m = /;\s*charset\s*=\s*"?([^";\s]+)"?/i.exec(contentType);
    if (!m) return body;
    const name = m[1]!.toLowerCase();
    let d = this.decoders.get(name);
    if (d === undefined) {
      try {
        d = new TextDecoder(name);
      } catch {
        d = null; // unknown to this runtime: the codec's charset applies
      }
      if (this.decoders.size < 64) this.decoders.set(name, d);
    }
    return d === null ? body : d.decode(body);
  }

  private ok(res: ServerResponse): void {
    const o = this.o;
    if (res.writableEnded || res.destroyed) return;
    this.responses(o.responseCode).inc();
    if (this.stopping) res.setHeader('Connection', 'close');
    if (o.responseCode === 204) {
      for (const [k, v] of o.responseHeaders) res.setHeader(k, v);
      res.writeHead(204);
      res.end();
      return;
    }
    res.setHeader('Content-Type', 'text/plain');
    for (const [k, v] of o.responseHeaders) res.setHeader(k, v);
    res.setHeader('Content-Length', 2);
    res.writeHead(o.responseCode);
    res.end('ok');
  }

  private reply(res: ServerResponse, code: number, close: boolean, headers: [string, string][] = []): void {
    if (res.headersSent || res.destroyed) return;
    this.responses(code).inc();
    for (const [k, v] of headers) res.setHeader(k, v);
    if (close || this.stopping) res.setHeader('Connection', 'close');
    res.setHeader('Content-Length', 0);
    res.writeHead(code);
    res.end();
  }
}
