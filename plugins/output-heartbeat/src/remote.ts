import { readFileSync } from 'node:fs';
import {
  classifyHttp,
  classifyNetworkError,
  DeliveryLoop,
  HttpJsonClient,
  Spool,
  spoolPath,
  type DeliveryOutcome,
  type Event,
  type NewItem,
  type OutputInstance,
  type PluginContext,
  type SpoolItem,
} from '@pipeline/core';
import type { BuildResult } from './heartbeat-body.js';
import { makeRedactor } from './redact.js';
import { newestPerOrigin } from './summary.js';

export interface RemoteOptions {
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
 * Alerta mode: every heartbeat is written to the durable spool first, then POSTed to
 * `{endpoint}/heartbeat` in order by the core delivery loop (backoff with jitter on ctx.clock while
 * Alerta is unreachable or answers 5xx/429; other 4xx are dead-lettered with Alerta's message).
 */
export class RemoteHeartbeatOutput implements OutputInstance {
  readonly spool: Spool;
  readonly loop: DeliveryLoop;
  private readonly client: HttpJsonClient;
  private readonly redact: (s: string) => string;

  constructor(
    o: RemoteOptions,
    private readonly build: (ev: Event) => BuildResult,
    private readonly ctx: PluginContext,
  ) {
    this.redact = makeRedactor(o.apiKey);
    const headers: Record<string, string> = {};
    if (o.apiKey) headers.Authorization = `Key ${o.apiKey}`;
    this.client = new HttpJsonClient({
      baseUrl: o.endpoint,
      headers,
      ca: o.caFiles?.map((f) => readFileSync(ctx.resolvePath(f))),
      rejectUnauthorized: o.verifyTls,
      timeoutMs: o.requestTimeoutMs,
    });
    this.spool = new Spool({ path: spoolPath(ctx, 'heartbeat', o.spoolPath), clock: ctx.clock, logger: ctx.logger, maxBytes: o.spoolMaxBytes, maxAgeMs: o.spoolMaxAgeMs });
    this.loop = new DeliveryLoop({
      spool: this.spool,
      clock: ctx.clock,
      logger: ctx.logger,
      metrics: ctx.metrics,
      retry: { initialMs: o.retryInitialMs, maxMs: o.retryMaxMs, maxAttempts: o.retryMaxAttempts },
      send: (item) => this.send(item),
      summarise: newestPerOrigin,
    });
    if (this.spool.depth > 0) {
      ctx.logger.info({ waiting: this.spool.depth }, 'heartbeat: delivering heartbeats spooled before the restart');
      this.loop.kick();
    }
  }

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
      this.ctx.logger.error({ reason, origin: built.body.origin }, 'heartbeat: not sent, it is invalid');
    }
    if (items.length > 0) this.loop.enqueue(items);
  }

  private async send(item: SpoolItem): Promise<DeliveryOutcome> {
    try {
      const res = await this.client.post('/heartbeat', item.payload);
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
