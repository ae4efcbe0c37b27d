/**
 * Test helpers for the network inputs (`@pipeline/net/testing`): a sink that records what
 * an input pushes and can simulate a full queue, a poll-until helper, and a runner that starts an
 * input instance and finds the port it bound.
 */

import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import type { Event, InputInstance, InputSink, PluginDefinition } from '@pipeline/core';
import { certsCreateCA, certsCreateClient, certsCreateServer, createPlugin, makeContext, type TestContext } from '@pipeline/core/testing';

export interface RecordingSink extends InputSink {
  readonly events: Event[];
  /** Simulates a full queue (false) or makes room again (true). */
  setWritable(w: boolean): void;
  writable: boolean;
}

export function recordingSink(): RecordingSink {
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
    setWritable(w) {
      writable = w;
      if (w) {
        const ws = waiters;
        waiters = [];
        for (const r of ws) r();
      }
    },
  };
}

/** Polls `pred` every 10 ms until it is true; fails after `ms` with `what`. */
export async function waitFor(pred: () => boolean, what: string, ms = 10_000): Promise<void> {
  const t0 = Date.now();
  while (!pred()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export interface CommandResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion (bounded by `timeoutMs`), feeding `input` on stdin. */
export function runCommand(cmd: string, args: string[], input?: string | Buffer, timeoutMs = 20_000): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    const t = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
    p.on('error', (e) => {
      clearTimeout(t);
      reject(new Error(`${cmd} could not run (is it installed?): ${e.message}`));
    });
    p.on('close', (code) => {
      clearTimeout(t);
      resolve({ code, stdout, stderr });
    });
    p.stdin.on('error', () => {});
    p.stdin.end(input);
  });
}

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
  // network inputs report their bound port; the file input its first scan
  await waitFor(() => metric('listen_port') > 0 || metric('scans') > 0 || failed !== undefined, 'the input to start');
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

/** The PKI functions behind `pipeline certs` (from @pipeline/core/testing). */
export interface CertsModule {
  certsCreateCA: typeof certsCreateCA;
  certsCreateServer: typeof certsCreateServer;
  certsCreateClient: typeof certsCreateClient;
}
export async function certs(): Promise<CertsModule> {
  return { certsCreateCA, certsCreateServer, certsCreateClient };
}


/** The repository's CLI (libs/net/dist/src/testing.js -> core/bin/pipeline.js). */
export const PIPELINE_BIN = new URL('../../../../core/bin/pipeline.js', import.meta.url).pathname;

export interface OptionsRun {
  /** `pipeline start -t` output and exit code. */
  check: CommandResult;
  /** stderr of `pipeline start` up to `ready` (JSON log lines), then stopped with SIGTERM. */
  startLog: string;
}

/**
 * Runs a config file through `pipeline start -t`, then through a real `pipeline start` until a log
 * line's msg contains `ready` (the input is up), and stops it: for the tests that every option a
 * Logstash doc lists is accepted, and that the ignored ones are warned about once at start.
 */
export async function checkThenStart(conf: string, ready: string, dataDir: string, timeoutMs = 30_000): Promise<OptionsRun> {
  const check = await runCommand(process.execPath, [PIPELINE_BIN, 'start', '-t', '-f', conf, '--path.data', dataDir]);
  if (check.code !== 0) return { check, startLog: '' };
  const p = spawn(process.execPath, [PIPELINE_BIN, 'start', '-f', conf, '--path.data', dataDir, '--api.enabled', 'false', '--log.format', 'json'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  p.stderr.on('data', (d) => (log += d));
  const exited = new Promise<void>((r) => p.on('close', () => r()));
  try {
    await waitFor(() => log.includes(ready) || p.exitCode !== null, `'${ready}' in the log`, timeoutMs);
  } finally {
    p.kill('SIGTERM');
    await exited;
  }
  return { check, startLog: log };
}
