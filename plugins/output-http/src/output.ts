import {
  DeliveryLoop,
  Spool,
  retryAfterMs,
  spoolPath,
  type DeliveryOutcome,
  type Event,
  type NewItem,
  type OutputInstance,
  type PluginContext,
  type SpoolItem,
} from '@pipeline/core';
import { HttpClient, type ClientOptions } from './client.js';
import { readStored, RequestBuilder, type RequestBuilderOptions } from './request.js';

export interface HttpOutputOptions extends RequestBuilderOptions {
  method: string;
  contentType: string;
  user?: string;
  password?: string;
  retryFailed: boolean;
  retryableCodes: number[];
  ignorableCodes: number[];
  client: Omit<ClientOptions, 'clock'>;
  spoolPath?: string;
  spoolMaxBytes: number;
  spoolMaxAgeMs: number;
  retryInitialMs: number;
  retryMaxMs: number;
  retryMaxAttempts: number;
}

/** Retryable answers that mean "not now" (flow control, a proxy without its backend): retried for as long as the spool keeps the message. */
const UNAVAILABLE = new Set([429, 502, 503, 504]);
/** Header names whose configured values are secrets: never in a log line or a dead letter. */
const SECRET_HEADER = /authori[sz]ation|token|key|secret|password|cookie/i;

/** Replaces every configured secret (password, its Basic credential, secret header values) in a text. */
export function makeRedactor(secrets: readonly string[]): (s: string) => string {
  const list = secrets.filter((x) => x.length >= 4).sort((a, b) => b.length - a.length);
  return (s) => {
    let out = s;
    for (const x of list) if (out.includes(x)) out = out.split(x).join('<redacted>');
    return out;
  };
}

/**
 * The http output: each event (each batch with json_batch) becomes one request, written to the
 * durable spool first and sent in order, one at a time, by core's delivery loop, which retries
 * with back-off and dead-letters what the server refuses for good, with its status and answer.
 */
export class HttpOutput implements OutputInstance {
  readonly loop: DeliveryLoop;
  private readonly client: HttpClient;
  private readonly builder: RequestBuilder;
  private readonly staticUrl: URL | undefined;
  private readonly headers: Record<string, string>;
  private readonly redact: (s: string) => string;
  private readonly method: string;

  static async open(o: HttpOutputOptions, ctx: PluginContext): Promise<HttpOutput> {
    const spool = await Spool.open({
      path: spoolPath(ctx, 'http', o.spoolPath),
      clock: ctx.clock,
      logger: ctx.logger,
      maxBytes: o.spoolMaxBytes,
      maxAgeMs: o.spoolMaxAgeMs,
      what: 'http spool',
    });
    return new HttpOutput(o, ctx, spool);
  }

  constructor(
    private readonly o: HttpOutputOptions,
    private readonly ctx: PluginContext,
    readonly spool: Spool,
  ) {
    this.method = o.method.toUpperCase();
    this.builder = new RequestBuilder(o);
    this.staticUrl = o.format === 'json_batch' || !/%\{/.test(o.url) ? new URL(o.url) : undefined;
    const secrets: string[] = [];
    // as Logstash: the content type wins over a Content-Type among `headers`
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(this.builder.staticHeaders)) {
      if (k.toLowerCase() === 'content-type') continue;
      headers[k] = v;
      if (SECRET_HEADER.test(k)) secrets.push(v, v.replace(/^(Bearer|Basic|Key|Token)\s+/i, ''));
    }
    headers['Content-Type'] = o.contentType;
    if (o.user !== undefined) {
      const credential = Buffer.from(`${o.user}:${o.password ?? ''}`, 'utf8').toString('base64');
      headers.Authorization = `Basic ${credential}`; // sent with the first request, as Logstash's eager auth
      secrets.push(credential);
      if (o.password) secrets.push(o.password);
    }
    this.headers = headers;
    this.redact = makeRedactor(secrets);
    this.client = new HttpClient({ ...o.client, clock: ctx.clock });
    this.loop = new DeliveryLoop({
      spool,
      clock: ctx.clock,
      logger: ctx.logger,
      metrics: ctx.metrics,
      retry: { initialMs: o.retryInitialMs, maxMs: o.retryMaxMs, maxAttempts: o.retryMaxAttempts },
      send: (item) => this.send(item),
    });
    if (spool.depth > 0) {
      ctx.logger.info({ waiting: spool.depth }, 'http: delivering what was spooled before the restart');
      this.loop.kick();
    }
  }

  /**
   * Spools the batch's requests in one transaction. Returns a promise only when the spool's disk
   * is full: the batch is acknowledged to the pipeline's queue once it is on disk, never before.
   */
  receive(events: readonly Event[]): void | Promise<void> {
    const payloads = this.builder.payloads(events);
    if (payloads.length === 0) return;
    const items: NewItem[] = new Array(payloads.length);
    for (let i = 0; i < payloads.length; i++) items[i] = { payload: payloads[i]! };
    return this.loop.enqueue(items);
  }

  private async send(item: SpoolItem): Promise<DeliveryOutcome> {
    const stored = readStored(item.payload);
    let url = this.staticUrl;
    if (stored.url !== undefined || url === undefined) {
      try {
        url = new URL(stored.url ?? this.o.url);
        if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`unsupported scheme ${url.protocol}`);
      } catch (err) {
        return { kind: 'reject', status: 'invalid_url', message: this.redact(`'${stored.url ?? this.o.url}' is not an http(s) URL: ${(err as Error).message}`) };
      }
    }
    const headers = stored.headers ? { ...this.headers, ...stored.headers } : this.headers;
    let answer;
    try {
      answer = await this.client.send(this.method, url, headers, stored.body);
    } catch (err) {
      const e = err as { code?: string; message?: string };
      const status = e.code ?? 'ENETWORK';
      const message = this.redact(e.message ?? String(err));
      // as Logstash: with retry_failed => false a failed request is not retried
      if (!this.o.retryFailed) return { kind: 'reject', status, message };
      return { kind: 'retry', unavailable: true, status, message };
    }
    const code = answer.status;
    if ((code >= 200 && code <= 299) || this.o.ignorableCodes.includes(code)) return { kind: 'delivered' };
    const status = String(code);
    const message = this.redact(answer.body);
    if (!this.o.retryableCodes.includes(code) || !this.o.retryFailed) return { kind: 'reject', status, message };
    return { kind: 'retry', unavailable: UNAVAILABLE.has(code), status, message, retryAfterMs: retryAfterMs(answer.retryAfter, this.ctx.clock.now()) };
  }

  /** Resolves when no request is in flight (tests and shutdown use it). */
  whenIdle(): Promise<void> {
    return this.loop.whenIdle();
  }

  async close(): Promise<void> {
    await this.loop.close();
    this.client.close();
  }
}
