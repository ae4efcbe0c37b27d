#!/usr/bin/env node
// Events/s into the `file` output with 200 distinct dynamic paths (%{host}-%{syslog_program}),
// 1,000,000 events in batches of 125, json_lines as the default codec, real files in a temp dir;
// and a peer in the same run: a plain Node loop doing the same grouping per batch, JSON.stringify
// per event and one writeSync per file per batch on fds it keeps open (no buffering across batches).
//   node scripts/bench/outputs/file.mjs [--events N] [--batch B] [--paths P]
// Run it on one core to compare with the target: taskset -c 0 node scripts/bench/outputs/file.mjs
import { closeSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { Event, MetricsRegistry, SystemClock, Timestamp } from '@pipeline/core';

const root = join(dirname(fileURLToPath(import.meta.url)), '../../..');
const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const TOTAL = arg('events', 1_000_000);
const BATCH = arg('batch', 125);
const PATHS = arg('paths', 200);
const HOSTS = 20;
const PROGRAMS = PATHS / HOSTS;
const ONLY = process.argv.includes('--only-pipeline'); // for profiling: skip the peer and flush_interval 0

const fileDef = (await import(join(root, 'plugins/output-file/dist/src/index.js'))).default;
const jsonLinesDef = (await import(join(root, 'plugins/codec-json_lines/dist/src/index.js'))).default;

// a pool of syslog-shaped events, cycled (the output does not change events)
const POOL = 20_000;
const pool = [];
for (let i = 0; i < POOL; i++) {
  const host = `host${i % HOSTS}`;
  const prog = `prog${Math.floor(i / HOSTS) % PROGRAMS}`;
  pool.push(
    new Event(
      {
        host,
        syslog_program: prog,
        syslog_pid: String(1000 + (i % 5000)),
        message: `<30>Mar  4 05:06:07 ${host} ${prog}[${1000 + (i % 5000)}]: session ${i} opened for user u${i % 97} from 10.0.${i % 255}.${i % 7}`,
        tags: ['syslog'],
        type: 'syslog',
      },
      new Timestamp(Date.UTC(2026, 2, 4, 5, 6, 7) + i),
    ),
  );
}
const batches = [];
for (let off = 0; off < POOL; off += BATCH) batches.push(pool.slice(off, off + BATCH));

function countLines(dir) {
  let n = 0;
  let files = 0;
  for (const f of readdirSync(dir)) {
    const b = readFileSync(join(dir, f));
    files++;
    for (let i = 0; i < b.length; i++) if (b[i] === 10) n++;
  }
  return { lines: n, files };
}

function context(dir) {
  const ctx = {
    logger: pino({ level: 'warn' }),
    clock: new SystemClock(),
    metrics: new MetricsRegistry(),
    dataDir: dir,
    workingDir: dir,
    resolvePath: (p) => join(dir, p),
    signal: new AbortController().signal,
    pipelineId: 'bench',
    id: 'bench-file',
    settings: {},
  };
  ctx.codec = { name: 'json_lines', create: () => jsonLinesDef.create({ delimiter: '\n', charset: 'UTF-8' }, ctx) };
  return ctx;
}

async function pipelineFile(flushInterval) {
  const dir = mkdtempSync(join(tmpdir(), 'bench-file-out-'));
  const options = { path: 'logs/%{host}-%{syslog_program}.log', flush_interval: flushInterval };
  for (const [k, spec] of Object.entries(fileDef.options)) if (!(k in options) && spec.default !== undefined) options[k] = spec.default;
  fileDef.check?.(options);
  const ctx = context(dir);
  const out = await fileDef.create(options, ctx);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (let sent = 0, b = 0; sent < TOTAL; sent += BATCH, b = (b + 1) % batches.length) await out.receive(batches[b]);
  await out.close();
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const check = countLines(join(dir, 'logs'));
  rmSync(dir, { recursive: true, force: true });
  return { ms, cpuMs: (cpu.user + cpu.system) / 1000, ...check };
}

async function peer() {
  const dir = mkdtempSync(join(tmpdir(), 'bench-file-peer-'));
  const logs = join(dir, 'logs');
  (await import('node:fs')).mkdirSync(logs);
  const fds = new Map();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (let sent = 0, b = 0; sent < TOTAL; sent += BATCH, b = (b + 1) % batches.length) {
    const groups = new Map();
    for (const e of batches[b]) {
      const p = `${logs}/${e.fields.host}-${e.fields.syslog_program}.log`;
      const line = JSON.stringify(e) + '\n';
      const before = groups.get(p);
      groups.set(p, before === undefined ? line : before + line);
    }
    for (const [p, text] of groups) {
      let fd = fds.get(p);
      if (fd === undefined) fds.set(p, (fd = openSync(p, 'a')));
      writeSync(fd, text);
    }
    await undefined; // the output's receive is awaited too
  }
  for (const fd of fds.values()) closeSync(fd);
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const check = countLines(logs);
  rmSync(dir, { recursive: true, force: true });
  return { ms, cpuMs: (cpu.user + cpu.system) / 1000, ...check };
}

const show = (name, r) => {
  const rate = Math.round((TOTAL / r.ms) * 1000);
  console.log(`${name.padEnd(44)} ${String(rate).padStart(9)} events/s  (${(r.ms / 1000).toFixed(2)} s wall, ${(r.cpuMs / 1000).toFixed(2)} s CPU, ${r.files} files, ${r.lines} lines)`);
  if (r.lines !== TOTAL) throw new Error(`${name}: ${r.lines} lines on disk, expected ${TOTAL}`);
  return rate;
};

console.log(`file output: ${TOTAL} events, batches of ${BATCH}, ${PATHS} dynamic paths, json_lines (node ${process.version})`);
// a short warm-up of both, so neither pays the JIT alone
await pipelineFile(2).catch(() => {});
const ours = show('pipeline file output (flush_interval 2)', await pipelineFile(2));
if (ONLY) process.exit(0);
const ours0 = show('pipeline file output (flush_interval 0)', await pipelineFile(0));
const theirs = show('peer: plain Node, one writeSync/file/batch', await peer());
console.log(`ratio pipeline/peer: ${(ours / theirs).toFixed(2)} (flush_interval 2), ${(ours0 / theirs).toFixed(2)} (flush_interval 0)`);
