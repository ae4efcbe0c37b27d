import http from 'node:http';
import https from 'node:https';
import type { Socket } from 'node:net';
import { gzip } from 'node:zlib';
import type { Clock, TimerHandle } from '@pipeline/core';

/**
 * The HTTP(S) client of the http output: one keep-alive agent per output (per scheme), the three
 * timeouts of Logstash's http client mixin, and its "library" retry: a request whose connection
 * broke before any answer (a keep-alive socket the server had closed: ECONNRESET, EPIPE, "socket
 * hang up") is sent again at once, `automaticRetries` times, for idempotent methods (all methods
 * with `retryNonIdempotent`). Everything else is the delivery loop's business.
 */
export interface ClientOptions {
  clock: Clock;
  keepalive: boolean;
  /** Sockets per agent. */
  maxSockets: number;
  connectTimeoutMs: number;
  socketTimeoutMs: number;
  requestTimeoutMs: number;
  automaticRetries: number;
  retryNonIdempotent: boolean;
  compression: boolean;
  tls: {
    ca?: Buffer[];
    cert?: Buffer;
    key?: Buffer;
    rejectUnauthorized: boolean;
    minVersion?: 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3';
    maxVersion?: 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3';
  };
}

export interface Answer {
  status: number;
  body: string;
  retryAfter?: string;
}

/** What an answer body is cut to (it goes to the log and the dead letters). */
export const MAX_ANSWER_BYTES = 64 * 1024;

const IDEMPOTENT = new Set(['GET', 'HEAD', 'PUT', 'DELETE', 'OPTIONS', 'TRACE']);
/** Errors where the request may not have reached the server's application: safe to send again at once. */
const BROKEN_CONNECTION = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED']);

export class HttpClient {
  private readonly httpAgent: http.Agent;
  private readonly httpsAgent: https.Agent;
  /** Sockets whose connection (and TLS handshake) completed: reused ones get no connect timer. */
  private readonly established = new WeakSet<Socket>();

  constructor(private readonly o: ClientOptions) {
    const base = { keepAlive: o.keepalive, maxSockets: o.maxSockets, maxFreeSockets: o.maxSockets };
    this.httpAgent = new http.Agent(base);
    this.httpsAgent = new https.Agent({
      ...base,
      ca: o.tls.ca,
      cert: o.tls.cert,
      key: o.tls.key,
      rejectUnauthorized: o.tls.rejectUnauthorized,
      minVersion: o.tls.minVersion,
      maxVersion: o.tls.maxVersion,
    });
  }

  /** Sends one request (with the library retries); rejects on a network error or a timeout. */
  async send(method: string, url: URL, headers: Record<string, string>, body: string): Promise<Answer> {
    // a Buffer body, so that Node writes the headers as Latin-1 (with a string body it writes them
    // in the body's encoding): header values are byte strings (see headerValue)
    let payload: Buffer = Buffer.from(body, "utf8");
    if (this.o.compression) {
      const raw = payload;
      payload = await new Promise<Buffer>((resolve, reject) => gzip(raw, (err, out) => (err ? reject(err) : resolve(out))));
      headers = { ...headers, 'Content-Encoding': 'gzip' };
    }
    const retriable = IDEMPOTENT.has(method) || this.o.retryNonIdempotent;
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.once(method, url, headers, payload);
      } catch (err) {
        const e = err as { code?: string; answered?: boolean };
        if (attempt >= this.o.automaticRetries || !retriable || e.answered || !BROKEN_CONNECTION.has(e.code ?? '')) throw err;
      }
    }
  }

  private once(method: string, url: URL, headers: Record<string, string>, payload: Buffer): Promise<Answer> {
    const secure = url.protocol === 'https:';
    return new Promise<Answer>((resolve, reject) => {
      let timer: TimerHandle | undefined;
      let connectTimer: TimerHandle | undefined;
      let answered = false;
      const done = (err: Error | undefined, a?: Answer) => {
        timer?.cancel();
        connectTimer?.cancel();
        timer = connectTimer = undefined;
        if (err) {
          (err as { answered?: boolean }).answered = answered;
          reject(err);
        } else resolve(a!);
      };
      const req = (secure ? https : http).request(
        url,
        {
          method,
          agent: secure ? this.httpsAgent : this.httpAgent,
          headers: { ...headers, 'Content-Length': String(payload.length) },
        },
        (res) => {
          answered = true;
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (c: Buffer) => {
            if (size < MAX_ANSWER_BYTES) chunks.push(c);
            size += c.length;
          });
          res.on('end', () => {
            const ra = res.headers['retry-after'];
            const text = Buffer.concat(chunks).subarray(0, MAX_ANSWER_BYTES).toString('utf8');
            done(undefined, { status: res.statusCode ?? 0, body: text, retryAfter: Array.isArray(ra) ? ra[0] : ra });
          });
          res.on('error', (err) => done(err));
          res.on('aborted', () => done(Object.assign(new Error('the answer was cut off'), { code: 'ECONNRESET' })));
        },
      );
      const fail = (what: string, ms: number) => req.destroy(Object.assign(new Error(`${what} after ${ms} ms`), { code: 'ETIMEDOUT' }));
      timer = this.o.clock.setTimeout(() => fail('no complete answer (request_timeout)', this.o.requestTimeoutMs), this.o.requestTimeoutMs);
      req.setTimeout(this.o.socketTimeoutMs, () => fail('no data on the socket (socket_timeout)', this.o.socketTimeoutMs));
      req.on('socket', (s: Socket) => {
        // a socket from the keep-alive pool is connected (and its TLS session set up) already
        if (this.established.has(s)) return;
        const event = secure ? 'secureConnect' : 'connect';
        connectTimer = this.o.clock.setTimeout(() => fail('no connection (connect_timeout)', this.o.connectTimeoutMs), this.o.connectTimeoutMs);
        s.once(event, () => {
          this.established.add(s);
          connectTimer?.cancel();
          connectTimer = undefined;
        });
      });
      req.on('error', (err) => done(err));
      req.end(payload);
    });
  }

  close(): void {
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }
}
