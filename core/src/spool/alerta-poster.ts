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
  readonly loop: DeliveryLoop;
  private readonly client: HttpJsonClient;
  private readonly redact: (s: string) => string;

  /**
   * Opens the spool a poster with these options uses: `<path.data>/spool/<kind>-<id>.sqlite` unless
   * configured. Waits (logging) while its disk is too full to open it, so a start-up on a full
   * disk waits instead of failing.
   */
  static openSpool(o: Pick<AlertaPosterOptions, 'kind' | 'spoolPath' | 'spoolMaxBytes' | 'spoolMaxAgeMs'>, ctx: PluginContext): Promise<Spool> {
    return Spool.open({ path: spoolPath(ctx, o.kind, o.spoolPath), clock: ctx.clock, logger: ctx.logger, maxBytes: o.spoolMaxBytes, maxAgeMs: o.spoolMaxAgeMs, what: `${o.kind} spool` });
  }

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
    /** From `AlertaPoster.openSpool` with the same options. */
    readonly spool: Spool,
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

  /**
   * Spools the batch's bodies in one transaction. Returns a promise only when the spool's disk is
   * full: the batch is acknowledged to the pipeline's queue once it is on disk, never before.
   */
  receive(events: readonly Event[]): void | Promise<void> {
    const items: NewItem[] = [];
    let waits: Promise<void>[] | undefined;
    for (const ev of events) {
      const built = this.build(ev);
      if (built.ok) {
        items.push({ payload: JSON.stringify(built.body) });
        continue;
      }
      const reason = this.redact(built.reason);
      const payload = JSON.stringify(built.body);
      const w = this.loop.write(() => this.spool.deadLetterNew(payload, 'invalid', reason));
      if (w !== undefined) (waits ??= []).push(w);
      this.loop.counters.failed.inc();
      this.ctx.logger.error({ reason, ...this.describe(built.body) }, `${this.o.kind}: not sent, Alerta would refuse it`);
    }
    const w = items.length > 0 ? this.loop.enqueue(items) : undefined;
    if (w !== undefined) (waits ??= []).push(w);
    return waits === undefined ? undefined : Promise.all(waits).then(() => undefined);
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
