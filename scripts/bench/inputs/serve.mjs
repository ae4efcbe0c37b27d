#!/usr/bin/env node
// Runs one Pipeline input (tcp, tls, udp or syslog) into a null sink, for ../shared/bench/run-peers.sh.
// The sink keeps nothing; to let the harness see progress the way it sees a peer's log files, every
// 20 ms it appends one "\n" per event received since the last flush to OUT/progress.log (1 byte per
// event, batched), so "lines on disk" = events received.
//   node serve.mjs --input tcp|tls|udp|syslog --port P --out DIR [--tls DIR] [--rcvbuf BYTES]
import { appendFileSync, mkdirSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { MetricsRegistry, SystemClock } from '@pipeline/core';

const root = join(dirname(fileURLToPath(import.meta.url)), '../../..');
const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const kind = arg('input', 'tcp');
const port = Number(arg('port'));
const out = arg('out');
const tlsDir = arg('tls', process.env.TLS);
const rcvbuf = arg('rcvbuf');
if (!port || !out) throw new Error('--port and --out are required');

const plugin = kind === 'tls' ? 'tcp' : kind;
const def = (await import(join(root, `plugins/input-${plugin}/dist/src/index.js`))).default;
const base = { host: '127.0.0.1', port };
const options = {
  tcp: { ...base },
  tls: { ...base, ssl_enable: true, ssl_cert: `${tlsDir}/server.pem`, ssl_key: `${tlsDir}/server.key`, ssl_verify: false },
  udp: { ...base, ...(rcvbuf ? { receive_buffer_bytes: Number(rcvbuf) } : {}) },
  syslog: { ...base, ...(rcvbuf ? { receive_buffer_bytes: Number(rcvbuf) } : {}) },
}[kind];
// fill the schema's defaults the way the config loader does
for (const [k, spec] of Object.entries(def.options)) if (!(k in options) && spec.default !== undefined) options[k] = structuredClone(spec.default);

const metrics = new MetricsRegistry();
const abort = new AbortController();
const ctx = {
  logger: pino({ level: process.env.LOG_LEVEL ?? 'warn' }),
  clock: new SystemClock(),
  metrics,
  dataDir: out,
  workingDir: process.cwd(),
  resolvePath: (p) => p,
  signal: abort.signal,
  pipelineId: 'bench',
  id: `bench-${kind}`,
  codec: { name: kind === 'udp' || kind === 'syslog' ? 'plain' : 'line', create() { throw new Error('framed by the input'); } },
  settings: {},
};
const input = await def.create(options, ctx);

mkdirSync(out, { recursive: true });
const progress = join(out, 'progress.log');
let pending = 0;
let total = 0;
const flush = () => {
  if (pending === 0) return;
  appendFileSync(progress, Buffer.alloc(pending, 10));
  total += pending;
  pending = 0;
};
const timer = setInterval(flush, 20);
const sink = { push() { pending++; }, writable: true, whenWritable: () => Promise.resolve() };

const done = input.run(sink);
const stop = async () => {
  await input.stop();
  await done;
  clearInterval(timer);
  flush();
  process.stderr.write(JSON.stringify({ input: kind, events: total, metrics: metrics.snapshot() }) + '\n');
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
