import { createServer, type Server } from 'node:http';
import type { Logger } from 'pino';
import type { Pipeline } from '../runtime/pipeline.js';
import { PrometheusExporter } from './prometheus.js';
import { nodeStats, type ReloadStats } from './stats.js';

/**
 * The monitoring API, on 127.0.0.1:9600 by default as Logstash's: `/` (about), `/_node/stats`,
 * `/_node/stats/<types>` (a comma-separated list of process, events, pipelines, reloads, queue, as
 * Logstash's), `/_node/stats/pipelines/<id>`, and `/metrics` (Prometheus, ./prometheus.ts). A port
 * range ("9600-9700") takes the first free port. Read-only; it never blocks the pipeline.
 */
export interface MonitoringApi {
  readonly port: number;
  close(): Promise<void>;
}

export function parsePortRange(v: unknown): [number, number] {
  const m = /^(\d+)(?:-(\d+))?$/.exec(String(v).trim());
  if (!m) throw new Error(`api.http.port must be a port or a range like 9600-9700, got ${String(v)}`);
  return [Number(m[1]), Number(m[2] ?? m[1])];
}

const ABOUT = ['host', 'name', 'version', 'id', 'status', 'pipeline'];
const TYPES = ['process', 'events', 'pipelines', 'reloads', 'queue'];
const about = (s: Record<string, unknown>) => Object.fromEntries(ABOUT.map((k) => [k, s[k]]));

/** `pipelines()`: the pipelines running now, each with its reload counts (several with pipelines.yml). */
export async function startMonitoringApi(o: { host: string; port: unknown; pipelines: () => readonly { pipeline: Pipeline; reloads: ReloadStats }[]; logger: Logger }): Promise<MonitoringApi | undefined> {
  const [from, to] = parsePortRange(o.port);
  const exporter = new PrometheusExporter();
  const handler = (req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) => {
    const url = (req.url ?? '/').split('?')[0]!;
    const json = (body: unknown) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body, null, url.includes('pretty') || (req.url ?? '').includes('pretty') ? 2 : 0));
    };
    const notFound = (error: string) => {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error, endpoints: ['/', '/_node/stats', '/_node/stats/<types>', '/_node/stats/pipelines/<id>', '/metrics'] }));
    };
    if (req.method !== 'GET') {
      res.writeHead(405).end();
      return;
    }
    const sources = o.pipelines();
    const stats = () => nodeStats(sources);
    const m = /^\/_node\/stats\/([^/]+)(?:\/([^/]+))?\/?$/.exec(url);
    if (url === '/' || url === '') {
      const s = stats();
      json({ host: s.host, version: s.version, status: 'green', pipeline: s.id, pipelines: sources.map((x) => x.pipeline.id) });
    } else if (url === '/_node/stats' || url === '/_node/stats/') json(stats());
    else if (m && m[2] !== undefined && m[1] === 'pipelines') {
      const s = stats();
      const one = (s.pipelines as Record<string, unknown>)[decodeURIComponent(m[2])];
      if (one === undefined) notFound(`no pipeline ${decodeURIComponent(m[2])}`);
      else json({ ...about(s), pipelines: { [decodeURIComponent(m[2])]: one } });
    } else if (m && m[2] === undefined) {
      // Logstash's /_node/stats/<types>: the node's identity, then only the sections asked for.
      const s = stats();
      const types = m[1]!.split(',');
      const unknown = types.filter((t) => !(t in s) || ABOUT.includes(t));
      if (unknown.length) notFound(`no stats type ${unknown.join(', ')} (have ${TYPES.join(', ')})`);
      else json({ ...about(s), ...Object.fromEntries(types.map((t) => [t, s[t]])) });
    } else if (url === '/metrics') {
      exporter.render(sources).then(
        async (text) => {
          res.writeHead(200, { 'content-type': await exporter.contentType });
          res.end(text);
        },
        (err: unknown) => {
          o.logger.error({ err: (err as Error)?.message ?? String(err) }, 'monitoring API: /metrics failed');
          res.writeHead(500, { 'content-type': 'text/plain' }).end(`${(err as Error)?.message ?? String(err)}\n`);
        },
      );
    } else notFound(`no such endpoint ${url}`);
  };
  for (let port = from; port <= to; port++) {
    const server: Server = createServer(handler);
    const ok = await new Promise<boolean>((resolve) => {
      server.once('error', () => resolve(false));
      server.listen(port, o.host, () => resolve(true));
    });
    if (ok) {
      server.unref();
      const actual = (server.address() as { port: number }).port;
      o.logger.info({ address: `${o.host}:${actual}` }, 'monitoring API listening');
      return { port: actual, close: () => new Promise((r) => server.close(() => r())) };
    }
  }
  o.logger.warn({ host: o.host, ports: `${from}-${to}` }, 'monitoring API: no free port, running without it');
  return undefined;
}
