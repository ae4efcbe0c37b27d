import net from 'node:net';
import tls from 'node:tls';
import type { Logger, Metrics, PendingWrite } from '@pipeline/core';

/**
 * `mode => server`: listens, and writes every event to each client connected at that moment
 * (Logstash's behaviour). The slowest client sets the pace: `send` resolves once every client's
 * socket is below its high-water mark, so a client that reads slowly holds the pipeline back
 * rather than growing a buffer without end. A client that connects later gets only what comes
 * after; with no client connected, events go nowhere.
 */
export interface BroadcastOptions {
  host: string;
  port: number;
  tls?: tls.TlsOptions;
  logger: Logger;
  metrics: Metrics;
}

export class BroadcastServer {
  private server: net.Server | undefined;
  private readonly clients = new Set<net.Socket>();
  private waiters: (() => void)[] = [];
  private readonly m;

  constructor(private readonly o: BroadcastOptions) {
    this.m = { clients: o.metrics.gauge('clients'), accepted: o.metrics.counter('connections'), tlsFailures: o.metrics.counter('tls_handshake_failures') };
  }

  get port(): number {
    const a = this.server?.address();
    return a && typeof a === 'object' ? a.port : 0;
  }

  get clientCount(): number {
    return this.clients.size;
  }

  async listen(): Promise<void> {
    const o = this.o;
    let server: net.Server;
    if (o.tls) {
      server = tls.createServer(o.tls, (s) => this.accepted(s));
      server.on('tlsClientError', (err: Error, s: tls.TLSSocket) => {
        this.m.tlsFailures.inc();
        o.logger.warn({ peer: s.remoteAddress, err: err.message }, 'TLS handshake refused');
        s.destroy();
      });
    } else server = net.createServer((s) => this.accepted(s));
    server.on('error', (e) => o.logger.error({ err: e.message }, 'listener error'));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: o.host, port: o.port }, () => {
        server.off('error', reject);
        resolve();
      });
    });
    o.metrics.gauge('listen_port').set(this.port);
    o.logger.info({ host: o.host, port: this.port, tls: !!o.tls }, 'tcp output listening');
  }

  private accepted(s: net.Socket): void {
    this.clients.add(s);
    this.m.accepted.inc();
    this.m.clients.set(this.clients.size);
    s.setNoDelay(true);
    s.on('data', () => {}); // what clients send is ignored, as in Logstash
    s.on('error', (e) => this.o.logger.debug({ peer: s.remoteAddress, err: e.message }, 'client connection error'));
    s.on('drain', () => this.wake());
    s.on('close', () => {
      this.clients.delete(s);
      this.m.clients.set(this.clients.size);
      this.wake();
    });
  }

  /** Writes `data` to every client; `written` resolves when each has handed it to the kernel (or gone). */
  async send(data: string): Promise<PendingWrite> {
    const writes: Promise<void>[] = [];
    for (const c of this.clients) {
      if (c.destroyed || !c.writable) continue;
      writes.push(new Promise<void>((resolve) => c.write(data, () => resolve())));
    }
    while (this.someNeedDrain()) await new Promise<void>((r) => this.waiters.push(r));
    return { written: Promise.all(writes).then(() => undefined) };
  }

  private someNeedDrain(): boolean {
    for (const c of this.clients) if (c.writableNeedDrain && !c.destroyed) return true;
    return false;
  }

  /** Ends every client connection (destroying those that do not close within 5 s) and stops listening. */
  async close(): Promise<void> {
    const server = this.server;
    for (const c of this.clients) {
      c.end();
      setTimeout(() => c.destroy(), 5000).unref();
    }
    if (server) await new Promise<void>((r) => server.close(() => r()));
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }
}
