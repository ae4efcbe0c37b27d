import { createServer, type Server } from 'node:http';
import type { Logger } from 'pino';
import type { Pipeline } from '../runtime/pipeline.js';
import { nodeStats, prometheus, type ReloadStats } from './stats.js';

/**
 * The monitoring API, on 127.0.0.1:9600 by default as Logstash's: `/` (about), `/_node/stats`,
 * `/_node/stats/pipelines`, and `/metrics` (Prometheus). A port range ("9600-9700") takes the
 * first free port. Read-only; it never blocks the pipeline.
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

export async function startMonitoringApi(o: { host: string; port: unknown; pipeline: () => Pipeline; reloads: ReloadStats; logger: Logger }): Promise<MonitoringApi | undefined> {
  const [from, to] = parsePortRange(o.port);
  const handler = (req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) => {
    const url = (req.url ?? '/').split('?')[0]!;
    const json = (body: unknown) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body, null, url.includes('pretty') || (req.url ?? '').includes('pretty') ? 2 : 0));
    };
    if (req.method !== 'GET') {
      res.writeHead(405).end();
      return;
    }
    const p = o.pipeline();
    if (url === '/' || url === '') json({ host: nodeStats(p, o.reloads).host, version: nodeStats(p, o.reloads).version, status: 'green', pipeline: p.id });
    else if (url === '/_node/stats') json(nodeStats(p, o.reloads));
    else if (url === '/_node/stats/pipelines') json({ pipelines: nodeStats(p, o.reloads).pipelines });
    else if (url === '/metrics') {
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
      res.end(prometheus(p, o.reloads));
    } else {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: `no such endpoint ${url}`, endpoints: ['/', '/_node/stats', '/_node/stats/pipelines', '/metrics'] }));
    }
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
