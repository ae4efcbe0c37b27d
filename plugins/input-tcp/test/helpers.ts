import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import type { InputInstance, PluginDefinition } from '@pipeline/core';
import { createPlugin, makeContext, type TestContext } from '@pipeline/core/testing';
import { recordingSink, waitFor, type RecordingSink } from '../src/testing.js';

export interface Started {
  input: InputInstance;
  sink: RecordingSink;
  ctx: TestContext;
  port: number;
  running: Promise<void>;
  logs: Record<string, unknown>[];
  metric(name: string): number;
  stop(): Promise<void>;
}

/** Starts an input from a config body on a fresh test context; `logs` collects its log records. */
export async function start(def: PluginDefinition<'input'>, config: string, over: Parameters<typeof makeContext>[0] = {}): Promise<Started> {
  const logs: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      for (const line of String(chunk).split('\n')) if (line) logs.push(JSON.parse(line));
      cb();
    },
  });
  const ctx = makeContext({ logger: pino({ level: 'debug' }, stream), ...over });
  const input = await createPlugin(def, config, ctx);
  const sink = recordingSink();
  let failed: unknown;
  const running = input.run(sink).catch((e) => {
    failed = e;
  });
  const metric = (name: string) => (ctx.metrics.snapshot()[name] as number | undefined) ?? 0;
  await waitFor(() => metric('listen_port') > 0 || failed !== undefined, 'the input to listen');
  if (failed) throw failed;
  return {
    input,
    sink,
    ctx,
    port: metric('listen_port'),
    running,
    logs,
    metric,
    async stop() {
      await input.stop();
      await running;
    },
  };
}

/** Opens a TCP connection and writes `data`; resolves with the socket once written. */
export function connect(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: '127.0.0.1', port }, () => resolve(s));
    s.once('error', reject);
  });
}

export async function sendAndClose(port: number, data: string | Buffer): Promise<void> {
  const s = await connect(port);
  await new Promise<void>((r) => s.end(data, () => r()));
  await new Promise<void>((r) => (s.closed ? r() : s.once('close', () => r())));
}

export function tempDir(prefix: string): { dir: string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** The PKI functions behind `pipeline certs` (core/src/certs), until core exports them. */
export interface CertsModule {
  certsCreateCA(dir: string, o?: object): { cert: string; key: string };
  certsCreateServer(dir: string, o?: object): { cert: string; key: string };
  certsCreateClient(dir: string, name: string, o?: object): { cert: string; key: string };
}
export async function certs(): Promise<CertsModule> {
  const url = new URL('../../../../core/dist/src/certs/index.js', import.meta.url);
  return (await import(url.href)) as CertsModule;
}

export { waitFor };
