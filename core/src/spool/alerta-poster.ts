import { readFileSync } from 'node:fs';
import type { Event } from '../event/event.js';
import type { OutputInstance, PluginContext } from '../plugin/define.js';
import { DeliveryLoop, type DeliveryOutcome } from './delivery.js';
import { classifyHttp, classifyNetworkError, HttpJsonClient } from './http.js';
import { spoolPath } from './paths.js';
import { Spool, type NewItem, type SpoolItem } from './spool.js';

/**
 * What the alerta and heartbeat outputs share: each event is built into a JSON body, written to the
 * durable spool, then POSTed to `{endpoint}{path}` in order by the delivery loop (backoff with
 * jitter on ctx.clock while Alerta is unreachable or answers 5xx/429; other 4xx dead-lettered with
 * Alerta's message, the API key redacted). A body the builder already knows Alerta would refuse is
 * dead-lettered without being sent.
 */
export type BuiltBody<B> = { ok: true; body: B } | { ok: false; body: B; reason: string };

export interface AlertaPosterOptions {
  /** Spool file prefix and log label: `alerta`, `heartbeat`. */
  kind: string;
  /** API path POSTed to: `/alert`, `/heartbeat`. */
  path: string;
  endpoint: string;
  /** Empty or undefined: no Authorization header. */
  apiKey?: string;
  caFiles?: string[];
  verifyTls: boolean;
  requestTimeoutMs: number;
  spoolPath?: string;
  spoolMaxBytes: number;
  spoolMaxAgeMs: number;
  retryInitialMs: number;
  retryMaxMs: number;
  retryMaxAttempts: number;
}

/**
 * Alerta repeats an unknown API key in its 401 answer ("API key parameter '<key>' is invalid"), so
 * every message logged or dead-lettered passes through here: the configured key, a quoted key after
 * "API key", and `Key`/`Bearer` credentials are replaced by `<redacted>`.
 */
export function makeApiKeyRedactor(apiKey: string | undefined): (s: string) => string {
  const quoted = /(API key[^']*')[^']*(')/gi;
  const credential = /\b(Key|Bearer)\s+[A-Za-z0-9_\-.~+/=]{8,}/g;
  return (s) => {
    let out = s.replace(quoted, '$1<redacted>$2').replace(credential, '$1 <redacted>');
    if (apiKey) out = out.split(apiKey).join('<redacted>');
    return out;
  };
}

export class AlertaPoster<B extends object> implements OutputInstance {
  readonly spool: Spool;
  readonly loop: DeliveryLoop;
  private readonly client: HttpJsonClient;
  private readonly redact: (s: string) => string;

  constructor(
    private readonly o: AlertaPosterOptions,
    private readonly build: (ev: Event) => BuiltBody<B>,
    private readonly ctx: PluginContext,
    hooks: {
      /** Replaces messages the spool's caps evicted (a summary alert, the newest heartbeat per origin). */
      summarise?: (evicted: SpoolItem[]) => string[];
      /** Fields that identify a refused body in the log. */
      describe: (body: B) => Record<string, unknown>;
    },
  ) {
    this.describe = hooks.describe;
    this.redact = makeApiKeyRedactor(o.apiKey);
    const headers: Record<string, string> = {};
    if (o.apiKey) headers.Authorization = `Key ${o.apiKey}`;
    this.client = new HttpJsonClient({
      baseUrl: o.endpoint,
      headers,
      ca: o.caFiles?.map((f) => readFileSync(ctx.resolvePath(f))),
      rejectUnauthorized: o.verifyTls,
      timeoutMs: o.requestTimeoutMs,
    });
    this.spool = new Spool({ path: spoolPath(ctx, o.kind, o.spoolPath), clock: ctx.clock, logger: ctx.logger, maxBytes: o.spoolMaxBytes, maxAgeMs: o.spoolMaxAgeMs });
    this.loop = new DeliveryLoop({
      spool: this.spool,
      clock: ctx.clock,
      logger: ctx.logger,
      metrics: ctx.metrics,
      retry: { initialMs: o.retryInitialMs, maxMs: o.retryMaxMs, maxAttempts: o.retryMaxAttempts },
      send: (item) => this.send(item),
      summarise: hooks.summarise,
    });
    if (this.spool.depth > 0) {
      ctx.logger.info({ waiting: this.spool.depth }, `${o.kind}: delivering what was spooled before the restart`);
      this.loop.kick();
    }
  }

  private readonly describe: (body: B) => Record<string, unknown>;

  receive(events: readonly Event[]): void {
    const items: NewItem[] = [];
    for (const ev of events) {
      const built = this.build(ev);
      if (built.ok) {
        items.push({ payload: JSON.stringify(built.body) });
        continue;
      }
      const reason = this.redact(built.reason);
      this.spool.deadLetterNew(JSON.stringify(built.body), 'invalid', reason);
      this.loop.counters.failed.inc();
      this.ctx.logger.error({ reason, ...this.describe(built.body) }, `${this.o.kind}: not sent, Alerta would refuse it`);
    }
    if (items.length > 0) this.loop.enqueue(items);
  }

  private async send(item: SpoolItem): Promise<DeliveryOutcome> {
    try {
      const res = await this.client.post(this.o.path, item.payload);
      return classifyHttp(res, this.ctx.clock.now(), this.redact);
    } catch (err) {
      return classifyNetworkError(err, this.redact);
    }
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
