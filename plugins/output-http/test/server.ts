/**
 * A real HTTP(S) server on loopback for the tests: it records every request (method, path,
 * headers, body, the connection it came on) and answers with what the test scripted (`next`),
 * or by `handler`, or 200 "ok".
 */
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { gunzipSync } from 'node:zlib';

export interface Received {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  /** The body as text (gunzipped when it came with Content-Encoding: gzip). */
  body: string;
  raw: Buffer;
  connection: number;
  /** The status it was answered with (undefined while unanswered, or when the connection was cut). */
  status?: number;
}

export interface Scripted {
  status?: number;
  body?: string;
  headers?: Record<string, string>;
  /** Wait this long (real ms) before answering. */
  delayMs?: number;
  /** Cut the connection instead of answering. */
  destroy?: boolean;
  /** Never answer (the test cuts it with `stop`). */
  hang?: boolean;
}

export type Handler = (req: Received) => Scripted | undefined;

export class TestServer {
  /** Requests answered with a status (scripted failures included), in order. */
  readonly received: Received[] = [];
  /** Every request that arrived, answered or not. */
  readonly attempts: Received[] = [];
  private readonly script: Scripted[] = [];
  private readonly server: http.Server;
  private readonly sockets = new Set<Socket>();
  private listening = false;
  private waiters: { n: number; resolve: () => void }[] = [];
  port = 0;
  connections = 0;
  handler: Handler | undefined;
  /** Applied to every request without a scripted answer. */
  delayMs = 0;

  private constructor(
    tls: https.ServerOptions | undefined,
    private readonly secure: boolean,
  ) {
    const h = (req: http.IncomingMessage, res: http.ServerResponse) => this.handle(req, res);
    this.server = tls ? https.createServer(tls, h) : http.createServer(h);
    this.server.keepAliveTimeout = 30_000;
    const onSocket = (s: Socket) => {
      this.connections++;
      (s as Socket & { n?: number }).n = this.connections;
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    };
    this.server.on(tls ? 'secureConnection' : 'connection', onSocket);
    // TLS handshakes that fail never reach secureConnection; keep them closable too
    if (tls) this.server.on('connection', (s: Socket) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
  }

  static async start(o: { port?: number; tls?: https.ServerOptions; handler?: Handler } = {}): Promise<TestServer> {
    const s = new TestServer(o.tls, o.tls !== undefined);
    s.handler = o.handler;
    await s.up(o.port ?? 0);
    return s;
  }

  /** A server that is not listening yet: `url` is a port nothing answers on until `up`. */
  static async reserved(port: number): Promise<TestServer> {
    const s = new TestServer(undefined, false);
    s.port = port;
    return s;
  }

  get url(): string {
    return `${this.secure ? 'https' : 'http'}://127.0.0.1:${this.port}`;
  }

  async up(port = this.port): Promise<void> {
    if (this.listening) return;
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, '127.0.0.1', () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    this.port = (this.server.address() as AddressInfo).port;
    this.listening = true;
  }

  /** Stops listening and cuts every connection: clients see connection refused. */
  async down(): Promise<void> {
    if (!this.listening) return;
    this.listening = false;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const s of this.sockets) s.destroy();
    await closed;
  }

  stop(): Promise<void> {
    return this.down();
  }

  /** The next requests get these answers, in order. */
  next(...answers: Scripted[]): void {
    this.script.push(...answers);
  }

  /** Resolves once `n` requests have arrived in all. */
  waitFor(n: number): Promise<void> {
    if (this.received.length >= n) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ n, resolve }));
  }

  bodies(): string[] {
    return this.received.map((r) => r.body);
  }

  /** Bodies of the requests answered 2xx, in arrival order. */
  delivered(): string[] {
    return this.received.filter((r) => r.status !== undefined && r.status < 300).map((r) => r.body);
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      const body = req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw).toString('utf8') : raw.toString('utf8');
      const rec: Received = { method: req.method ?? '', path: req.url ?? '', headers: req.headers, body, raw, connection: (req.socket as Socket & { n?: number }).n ?? 0 };
      this.attempts.push(rec);
      const a = this.script.shift() ?? this.handler?.(rec) ?? {};
      const answer = () => {
        if (a.destroy) {
          req.socket.destroy();
          return;
        }
        if (a.hang) return;
        rec.status = a.status ?? 200;
        this.received.push(rec);
        res.writeHead(a.status ?? 200, { 'Content-Type': 'text/plain; charset=utf-8', ...(a.headers ?? {}) });
        res.end(a.body ?? (a.status === undefined || a.status < 300 ? 'ok' : `status ${a.status}`));
        this.waiters = this.waiters.filter((w) => (this.received.length >= w.n ? (w.resolve(), false) : true));
      };
      const delay = a.delayMs ?? this.delayMs;
      if (delay > 0) setTimeout(answer, delay);
      else answer();
    });
  }
}
