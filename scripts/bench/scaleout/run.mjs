#!/usr/bin/env node
// Scale-out benchmark: events/s from a shipper (generator -> redis output, data_type stream)
// through redis-server to 1 or 2 indexers (redis input, one consumer group -> null), each a
// separate process, on this machine; and redis-server's own CPU share from /proc/<pid>/stat.
//   node scripts/bench/scaleout/run.mjs [--events N]
// Two phases per indexer count, so each side is measured on its own and together:
//   drain: the stream is filled first, then the indexers empty it (consumer side alone);
//   live:  shipper and indexers run at once, end to end.
import { fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { startRedis } from '../../../plugins/output-redis/dist/src/testing.js';

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const N = args.includes('--events') ? Number(args[args.indexOf('--events') + 1]) : 200_000;
const TICK = 1000 / 100; // USER_HZ is 100 on Linux

function cpuTicks(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(f[11]) + Number(f[12]); // utime + stime (fields 14, 15)
}

function node(config) {
  const child = fork(join(here, 'node.mjs'), [config], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const started = new Promise((resolve) => child.on('message', (m) => m.started && resolve()));
  const finished = new Promise((resolve) => child.on('message', (m) => m.cpuMs !== undefined && resolve(m.cpuMs)));
  return { child, started, finished };
}

const server = await startRedis();
const r = new Redis({ port: server.port, host: '127.0.0.1' });
const shipperConf = (key) =>
  `input { generator { count => ${N} message => "<13>Nov 27 12:00:00 web-1 sshd[4242]: Failed password for invalid user admin from 192.0.2.7 port 51234 ssh2" } }
   output { redis { host => "127.0.0.1:${server.port}" data_type => "stream" key => "${key}" max_len => ${N * 2} } }`;
const indexerConf = (key, i) =>
  `input { redis { port => ${server.port} data_type => "stream" key => "${key}" consumer => "indexer-${i}" batch_count => 500 } }
   output { null {} }`;

async function groupState(key) {
  try {
    const groups = await r.xinfo('GROUPS', key);
    const g = groups.find((x) => x[1] === 'pipeline');
    if (!g) return { read: 0, pending: 0 };
    const field = (name) => Number(g[g.indexOf(name) + 1]);
    return { read: field('entries-read'), pending: field('pending') };
  } catch {
    return { read: 0, pending: 0 };
  }
}

/** Times from the first entry read to the last one acknowledged, watched through XINFO GROUPS. */
async function waitConsumed(key) {
  let first;
  for (;;) {
    const s = await groupState(key);
    if (first === undefined && s.read > 0) first = performance.now();
    if (s.read >= N && s.pending === 0) return { first, end: performance.now() };
    await new Promise((res) => setTimeout(res, 2));
  }
}

async function phase(label, indexers, live) {
  const key = `bench-${label}-${indexers}`;
  let shipRate;
  const redis0 = cpuTicks(server.pid);
  if (!live) {
    // shipper alone: from its first XADD to its last, watched through XLEN
    const s = node(shipperConf(key));
    let first;
    let len = 0;
    while (len < N) {
      len = await r.xlen(key);
      if (first === undefined && len > 0) first = performance.now();
      if (len < N) await new Promise((res) => setTimeout(res, 2));
    }
    shipRate = N / ((performance.now() - first) / 1000);
    await s.finished;
  }
  const redis1 = cpuTicks(server.pid);
  const t1 = performance.now();
  const idx = Array.from({ length: indexers }, (_, i) => node(indexerConf(key, i)));
  await Promise.all(idx.map((x) => x.started));
  let shipper;
  if (live) shipper = node(shipperConf(key));
  const { first, end } = await waitConsumed(key);
  const secs = (end - first) / 1000;
  // redis CPU over the whole phase (process starts included), as a share of one core
  const redisCpu = ((cpuTicks(server.pid) - redis1) * TICK) / (end - t1);
  if (shipper) await shipper.finished;
  for (const x of idx) x.child.kill('SIGTERM');
  const idxCpu = await Promise.all(idx.map((x) => x.finished));
  await r.del(key);
  return { label, indexers, rate: N / secs, shipRate, redisCpu, idxCpu, fillRedisCpu: live ? undefined : ((redis1 - redis0) * TICK) / 1000 };
}

const fmt = (x) => Math.round(x).toLocaleString('en-US');
const rows = [];
for (const live of [false, true]) for (const n of [1, 2]) rows.push(await phase(live ? 'live' : 'drain', n, live));
console.log(`| phase | indexers | events/s through the indexers | redis-server CPU (share of one core) | shipper alone, events/s |`);
console.log('| --- | --- | --- | --- | --- |');
for (const x of rows)
  console.log(`| ${x.label} | ${x.indexers} | ${fmt(x.rate)} | ${(x.redisCpu * 100).toFixed(0)}% | ${x.shipRate ? fmt(x.shipRate) : '(runs alongside)'} |`);
console.log(`\n${fmt(N)} events per run; node ${process.version}, ${cpus().length} × ${cpus()[0].model}, ${new Date().toISOString()}`);
r.disconnect();
await server.stop();
