/**
 * Test helpers for the http input: a sink that records events and can play a full queue, a
 * runner that starts the input on a fresh test context, an HTTP(S) request helper, and a small
 * PKI made with openssl.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import type { Event, InputSink } from '@pipeline/core';
import { createPlugin, makeContext, type TestContext } from '@pipeline/core/testing';
import httpInput, { type HttpInput } from '../src/index.js';

export interface RecordingSink extends InputSink {
  readonly events: Event[];
  writable: boolean;
  /** Plays a full queue (false) or makes room again (true). */
  setWritable(w: boolean): void;
}

export function recordingSink(extra: Partial<InputSink> = {}): RecordingSink {
  const events: Event[] = [];
  let writable = true;
  let waiters: (() => void)[] = [];
  return {
    events,
    push: (e) => void events.push(e),
    get writable() {
      return writable;
    },
    whenWritable: () => (writable ? Promise.resolve() : new Promise<void>((r) => waiters.push(r))),
    setWritable(w: boolean) {
      writable = w;
      if (w) {
        const ws = waiters;
        waiters = [];
        for (const r of ws) r();
      }
    },
    ...extra,
  } as RecordingSink;
}

export async function waitFor(pred: () => boolean, what: string, ms = 10_000): Promise<void> {
  const t0 = Date.now();
  while (!pred()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

export interface Started {
  input: HttpInput;
  sink: RecordingSink;
  ctx: TestContext;
  port: number;
  logs: Record<string, unknown>[];
  metric(name: string): number;
  stop(): Promise<void>;
}

/** Starts the input from a config body (port 0 and 127.0.0.1 unless the body says otherwise). */
export async function start(config: string, over: Parameters<typeof makeContext>[0] = {}, sink: RecordingSink = recordingSink()): Promise<Started> {
  const logs: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      for (const line of String(chunk).split('\n')) if (line) logs.push(JSON.parse(line) as Record<string, unknown>);
      cb();
    },
  });
  const ctx = makeContext({ logger: pino({ level: 'debug' }, stream), ...over });
  const body = `${/\bport\s*=>/.test(config) ? '' : 'port => 0 '}${/\bhost\s*=>/.test(config) ? '' : 'host => "127.0.0.1" '}${config}`;
  const input = (await createPlugin(httpInput, body, ctx)) as HttpInput;
  let failed: unknown;
  const running = input.run(sink).catch((e: unknown) => {
    failed = e;
  });
  await waitFor(() => input.port > 0 || failed !== undefined, 'the http input to listen');
  if (failed) throw failed;
  const metric = (name: string) => (ctx.metrics.snapshot()[name] as number | undefined) ?? 0;
  return {
    input,
    sink,
    ctx,
    port: input.port,
    logs,
    metric,
    async stop() {
      input.stop();
      await running;
      if (failed) throw failed;
    },
  };
}

export interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export interface RequestOptions extends https.RequestOptions {
  body?: string | Buffer;
  /** Send the body in several chunks (Transfer-Encoding: chunked). */
  chunks?: (string | Buffer)[];
  tls?: boolean;
}

/** One request; resolves with the status, headers and body text. */
export function request(port: number, o: RequestOptions = {}): Promise<Reply> {
  const { body, chunks, tls, ...rest } = o;
  const mod = tls ? https : http;
  return new Promise((resolve, reject) => {
    const req = mod.request({ host: '127.0.0.1', port, method: 'POST', path: '/', ...(tls ? { servername: 'localhost' } : {}), ...rest }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: text }));
      res.on('error', reject);
    });
    req.on('error', reject);
    if (chunks) {
      for (const c of chunks) req.write(c);
      req.end();
    } else req.end(body);
  });
}

export function tempDir(prefix: string): { dir: string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

function openssl(args: string[], cwd: string): void {
  const r = spawnSync('openssl', args, { cwd, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`openssl ${args.join(' ')} failed: ${r.stderr}`);
}

/**
 * A CA (ca.pem), a server certificate for localhost and 127.0.0.1 signed by it (server.pem,
 * server.key, and server.enc.key encrypted with "secret"), a client certificate of the same CA
 * (client.pem/key), and a client of another CA (intruder.pem/key, its CA other-ca.pem). EC keys.
 */
export function makePki(dir: string): void {
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  const ca = (name: string, cn: string) => openssl(['req', '-x509', ...ec, '-keyout', `${name}.key`, '-out', `${name}.pem`, '-days', '30', '-subj', `/CN=${cn}`], dir);
  const leaf = (name: string, cn: string, caName: string, ext: string) => {
    writeFileSync(join(dir, `${name}.ext`), ext);
    openssl(['req', ...ec, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`], dir);
    openssl(['x509', '-req', '-in', `${name}.csr`, '-CA', `${caName}.pem`, '-CAkey', `${caName}.key`, '-CAcreateserial', '-out', `${name}.pem`, '-days', '30', '-extfile', `${name}.ext`], dir);
  };
  ca('ca', 'Pipeline Test CA');
  ca('other-ca', 'Someone Else CA');
  leaf('server', 'localhost', 'ca', 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
  leaf('client', 'client1', 'ca', 'extendedKeyUsage=clientAuth\n');
  leaf('intruder', 'intruder', 'other-ca', 'extendedKeyUsage=clientAuth\n');
  openssl(['pkcs8', '-topk8', '-in', 'server.key', '-out', 'server.enc.key', '-passout', 'pass:secret', '-v2', 'aes-256-cbc'], dir);
}
