import http from 'node:http';
import https from 'node:https';
import type { DeliveryOutcome } from './delivery.js';

/**
 * A small JSON-over-HTTP(S) client for outputs that post to a REST API (Alerta's /alert and
 * /heartbeat): one keep-alive agent per output, an optional CA bundle, a request timeout, and the
 * classification of a response into a delivery outcome. It never logs; callers redact secrets from
 * the messages it returns with `redact`.
 */
export interface HttpJsonClientOptions {
  /** Base URL; request paths are appended to it (`http://host/api` + `/alert`). */
  baseUrl: string;
  /** Headers sent with every request (Authorization, ...). */
  headers?: Record<string, string>;
  /** PEM CA certificates trusted for https. */
  ca?: string | Buffer | (string | Buffer)[];
  /** false accepts any server certificate (ssl_verification_mode => none). */
  rejectUnauthorized?: boolean;
  timeoutMs?: number;
  /** Sockets kept open per host. */
  maxSockets?: number;
}

export interface HttpResponse {
  status: number;
  body: string;
  retryAfter?: string;
}

export class HttpJsonClient {
  private readonly base: URL;
  private readonly agent: http.Agent;
  private readonly mod: typeof http | typeof https;
  private readonly headers: Record<string, string>;
  private readonly timeoutMs: number;
  private readonly basePath: string;

  constructor(o: HttpJsonClientOptions) {
    this.base = new URL(o.baseUrl);
    if (this.base.protocol !== 'http:' && this.base.protocol !== 'https:') throw new Error(`unsupported URL scheme in '${o.baseUrl}'`);
    const secure = this.base.protocol === 'https:';
    this.mod = secure ? https : http;
    this.basePath = this.base.pathname.replace(/\/+$/, '');
    this.agent = secure
      ? new https.Agent({ keepAlive: true, maxSockets: o.maxSockets ?? 4, ca: o.ca, rejectUnauthorized: o.rejectUnauthorized ?? true })
      : new http.Agent({ keepAlive: true, maxSockets: o.maxSockets ?? 4 });
    this.headers = { 'Content-Type': 'application/json', Accept: 'application/json', ...(o.headers ?? {}) };
    this.timeoutMs = o.timeoutMs ?? 10_000;
  }

  /** POSTs a JSON text; resolves with the response, rejects on a network error or timeout. */
  post(path: string, json: string): Promise<HttpResponse> {
    return new Promise((resolve, reject) => {
      // a string body goes out in one write together with the headers (a Buffer would be a
      // separate writev chunk, and a second segment on the wire)
      const req = this.mod.request(
        {
          protocol: this.base.protocol,
          hostname: this.base.hostname,
          port: this.base.port || undefined,
          path: this.basePath + path,
          method: 'POST',
          agent: this.agent,
          headers: { ...this.headers, 'Content-Length': String(Buffer.byteLength(json, 'utf8')) },
          timeout: this.timeoutMs,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const ra = res.headers['retry-after'];
            resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), retryAfter: Array.isArray(ra) ? ra[0] : ra });
          });
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(Object.assign(new Error(`no answer within ${this.timeoutMs} ms`), { code: 'ETIMEDOUT' })));
      req.on('error', reject);
      req.end(json, 'utf8');
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

/** The `message` of an API error body (`{"status":"error","message":...}`), or the start of a non-JSON body. */
export function errorMessage(body: string): string {
  try {
    const j = JSON.parse(body) as { message?: unknown };
    if (j && typeof j.message === 'string') return j.message;
  } catch {
    // not JSON: an HTML page from a proxy, for instance
  }
  return body.replace(/\s+/g, ' ').trim().slice(0, 300);
}

/** Retry-After in ms (seconds or an HTTP date), if present. */
export function retryAfterMs(header: string | undefined, nowMs: number): number | undefined {
  if (!header) return undefined;
  const s = Number(header);
  if (Number.isFinite(s)) return Math.max(0, s * 1000);
  const d = Date.parse(header);
  return Number.isNaN(d) ? undefined : Math.max(0, d - nowMs);
}

/**
 * Maps an HTTP answer to a delivery outcome: 2xx delivered; 502/503/504 the service is unreachable
 * behind its proxy (retried while spooled); 429 and other 5xx transient (bounded retries); every
 * other status permanent.
 */
export function classifyHttp(res: HttpResponse, nowMs: number, redact: (s: string) => string = (s) => s): DeliveryOutcome {
  if (res.status >= 200 && res.status < 300) return { kind: 'delivered' };
  const message = redact(errorMessage(res.body));
  const status = String(res.status);
  if (res.status === 502 || res.status === 503 || res.status === 504) return { kind: 'retry', unavailable: true, status, message, retryAfterMs: retryAfterMs(res.retryAfter, nowMs) };
  if (res.status === 429 || res.status >= 500) return { kind: 'retry', unavailable: false, status, message, retryAfterMs: retryAfterMs(res.retryAfter, nowMs) };
  return { kind: 'reject', status, message };
}

/** Maps a network error (refused, reset, timeout, DNS) to an outcome: the service is unreachable. */
export function classifyNetworkError(err: unknown, redact: (s: string) => string = (s) => s): DeliveryOutcome {
  const e = err as { code?: string; message?: string };
  const code = e?.code ?? 'ENETWORK';
  // TLS verification failures are configuration errors, not outages: retrying cannot fix them,
  // but the spool keeps the messages until the CA is fixed, so they stay "unavailable".
  return { kind: 'retry', unavailable: true, status: code, message: redact(e?.message ?? String(err)) };
}
