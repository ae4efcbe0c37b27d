import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { Writable } from 'node:stream';
import tls from 'node:tls';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { Event, Timestamp, type Logger } from '@pipeline/core';

/** One connection a peer accepted and everything it read from it. */
export interface PeerConnection {
  socket: net.Socket;
  text: string;
  ended: boolean;
  /** Subject CN of a verified client certificate (TLS servers). */
  clientCN?: string;
}

/**
 * A real TCP (or TLS) server standing for the output's peer: it records what each connection
 * brought, can stop reading (a slow peer), and can reset its connections (a peer that dies).
 */
export class Peer {
  readonly connections: PeerConnection[] = [];
  private paused = false;
  readonly raw: net.Socket[] = [];

  private constructor(readonly server: net.Server) {}

  static async start(o: { tls?: tls.TlsOptions; port?: number } = {}): Promise<Peer> {
    const server = o.tls ? tls.createServer(o.tls) : net.createServer();
    const peer = new Peer(server);
    server.on(o.tls ? 'secureConnection' : 'connection', (s: net.Socket) => peer.accepted(s));
    server.on('tlsClientError', () => {});
    // the TCP socket under each TLS one, which is what a reset resets
    if (o.tls) server.on('connection', (raw: net.Socket) => peer.raw.push(raw));
    await new Promise<void>((r) => server.listen(o.port ?? 0, '127.0.0.1', () => r()));
    return peer;
  }

  get port(): number {
    return (this.server.address() as net.AddressInfo).port;
  }

  private accepted(s: net.Socket): void {
    const c: PeerConnection = { socket: s, text: '', ended: false };
    const t = s as tls.TLSSocket;
    if (typeof t.getPeerCertificate === 'function' && t.authorized) c.clientCN = t.getPeerCertificate().subject?.CN as string | undefined;
    this.connections.push(c);
    s.setEncoding('utf8');
    s.on('data', (d: string) => (c.text += d));
    s.on('end', () => {
      c.ended = true;
      s.end(); // a syslog server closes when the sender has finished
    });
    s.on('error', () => {});
    if (this.paused) s.pause();
  }

  /** Everything read, over every connection, in order. */
  text(): string {
    return this.connections.map((c) => c.text).join('');
  }

  pause(): void {
    this.paused = true;
    for (const c of this.connections) c.socket.pause();
  }

  resume(): void {
    this.paused = false;
    for (const c of this.connections) c.socket.resume();
  }

  /** Resets every open connection (RST), as a peer that crashes. */
  reset(): void {
    for (const s of this.raw.length ? this.raw : this.connections.map((c) => c.socket)) if (!s.destroyed) s.resetAndDestroy();
  }

  async close(): Promise<void> {
    for (const c of this.connections) c.socket.destroy();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}

export async function until(cond: () => boolean, what: string, ms = 20_000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Events with messages `m0000`, `m0001`... (equal lengths), all at one instant. */
export function events(n: number, from = 0): Event[] {
  return Array.from({ length: n }, (_, i) => new Event({ message: `m${String(from + i).padStart(4, '0')}` }, Timestamp.parse('2026-03-04T05:06:07.000Z')));
}

/** A logger that keeps its records, to assert what was logged. */
export function recordingLogger(): { logger: Logger; records: Record<string, unknown>[] } {
  const records: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      for (const line of String(chunk).split('\n')) if (line) records.push(JSON.parse(line) as Record<string, unknown>);
      cb();
    },
  });
  return { logger: pino({ level: 'debug' }, stream), records };
}

export function tempDir(): { dir: string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'output-tcp-test-'));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

const BIN = join(resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..'), 'core', 'bin', 'pipeline.js');

/** `pipeline certs ARGS --dir DIR`, as a user makes certificates. */
export function certs(dir: string, ...args: string[]): void {
  const r = spawnSync(process.execPath, [BIN, 'certs', ...args, '--dir', dir], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`pipeline certs ${args.join(' ')}: ${r.stderr}`);
}
