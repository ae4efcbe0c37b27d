import { readFileSync } from 'node:fs';
import {
  classifyHttp,
  classifyNetworkError,
  DeliveryLoop,
  definePlugin,
  fieldRef,
  HttpJsonClient,
  opt,
  Spool,
  spoolPath,
  type Event,
} from '@pipeline/core';

/** First cut: heartbeats from `[heartbeat]` fields, spooled and POSTed to Alerta. */
export default definePlugin({
  kind: 'output',
  name: 'heartbeat',
  description: "Sends Alerta heartbeats (POST /heartbeat), spooled on disk while Alerta is down.",
  options: {
    endpoint: opt.string({ required: true, description: 'Alerta API base URL.' }),
    api_key: opt.password({ description: 'API key, sent as `Authorization: Key ...`.' }),
    ssl_certificate_authorities: opt.strings({ description: 'PEM CA files trusted for https.' }),
    spool_path: opt.path({ description: 'Spool database.' }),
  },
  create(o, ctx) {
    const headers: Record<string, string> = {};
    if (o.api_key) headers.Authorization = `Key ${o.api_key}`;
    const client = new HttpJsonClient({ baseUrl: o.endpoint, headers, ca: o.ssl_certificate_authorities?.map((f) => readFileSync(ctx.resolvePath(f))) });
    const spool = new Spool({ path: spoolPath(ctx, 'heartbeat', o.spool_path), clock: ctx.clock, logger: ctx.logger });
    const loop = new DeliveryLoop({
      spool,
      clock: ctx.clock,
      logger: ctx.logger,
      metrics: ctx.metrics,
      retry: { initialMs: 1000, maxMs: 60_000, maxAttempts: 8 },
      async send(item) {
        try {
          return classifyHttp(await client.post('/heartbeat', item.payload), ctx.clock.now());
        } catch (err) {
          return classifyNetworkError(err);
        }
      },
    });
    loop.kick();
    const hb = fieldRef('[heartbeat]');
    return {
      receive(events: readonly Event[]) {
        const items = [];
        for (const e of events) {
          const h = (e.get(hb) ?? {}) as Record<string, unknown>;
          items.push({ payload: JSON.stringify({ origin: h.origin, timeout: h.timeout ?? 86400, tags: h.tags ?? [], attributes: h.attributes ?? {} }) });
        }
        loop.enqueue(items);
      },
      async close() {
        await loop.close();
        client.close();
      },
    };
  },
});
