import { readFileSync } from 'node:fs';
import {
  classifyHttp,
  classifyNetworkError,
  DeliveryLoop,
  HttpJsonClient,
  spoolPath,
  Spool,
  type DeliveryOutcome,
  type Event,
  type NewItem,
  type OutputInstance,
  type PluginContext,
  type SpoolItem,
} from '@pipeline/core';
import { compileAlertBuilder, type AlertBuilderOptions } from './alert-body.js';
import { makeRedactor } from './redact.js';
import { summariseEvicted } from './summary.js';

export interface AlertaOutputOptions extends AlertBuilderOptions {
  endpoint: string;
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

/** The alerta output: every event becomes an alert, spooled on disk, then POSTed in order. */
export class AlertaOutput implements OutputInstance {
  readonly spool: Spool;
  readonly loop: DeliveryLoop;
  private readonly client: HttpJsonClient;
  private readonly build: ReturnType<typeof compileAlertBuilder>;
  private readonly redact: (s: string) => string;

  constructor(o: AlertaOutputOptions, private readonly ctx: PluginContext) {
    this.redact = makeRedactor(o.apiKey);
    this.build = compileAlertBuilder(o);
    const headers: Record<string, string> = {};
    if (o.apiKey) headers.Authorization = `Key ${o.apiKey}`;
    this.client = new HttpJsonClient({
      baseUrl: o.endpoint,
      headers,
      ca: o.caFiles?.map((f) => readFileSync(ctx.resolvePath(f))),
      rejectUnauthorized: o.verifyTls,
      timeoutMs: o.requestTimeoutMs,
    });
    this.spool = new Spool({ path: spoolPath(ctx, 'alerta', o.spoolPath), clock: ctx.clock, logger: ctx.logger, maxBytes: o.spoolMaxBytes, maxAgeMs: o.spoolMaxAgeMs });
    const origin = `pipeline/${ctx.pipelineId}/${ctx.id}`;
    this.loop = new DeliveryLoop({
      spool: this.spool,
      clock: ctx.clock,
      logger: ctx.logger,
      metrics: ctx.metrics,
      retry: { initialMs: o.retryInitialMs, maxMs: o.retryMaxMs, maxAttempts: o.retryMaxAttempts },
      send: (item) => this.send(item),
      summarise: (evicted) => [summariseEvicted(evicted, origin)],
    });
    if (this.spool.depth > 0) {
      ctx.logger.info({ waiting: this.spool.depth }, 'alerta: delivering alerts spooled before the restart');
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
      const message = this.redact(built.reason);
      this.spool.deadLetterNew(JSON.stringify(built.body), 'invalid', message);
      this.loop.counters.failed.inc();
      this.ctx.logger.error({ reason: message, resource: built.body.resource, event: built.body.event }, 'alerta: alert not sent, Alerta would refuse it');
    }
    this.loop.enqueue(items);
  }

  private async send(item: SpoolItem): Promise<DeliveryOutcome> {
    try {
      const res = await this.client.post('/alert', item.payload);
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
