#!/usr/bin/env node
// File input benchmarks (issue 13).
//   node plugins/input-file/bench/run.mjs throughput [--lines 1000000] [--sincedb-write-lines 10000] [--queue memory|persisted]
//     a file read from its start into the null output; lines/s from the process start to the last
//     event (start-up included: the previous code never let the API answer during the read).
//   node plugins/input-file/bench/run.mjs crashes [--lines 1000000] [--kills 3] [--queue memory|persisted]
//     stdout to a file, kill -9 each time another fifth of the file is delivered, a last run to the
//     end: lines lost, lines delivered again per restart, output size over the file's.
// --root DIR runs another checkout's build (e.g. the code before a change) for a side-by-side row.
import { spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { get } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const args = process.argv.slice(2);
const mode = args[0] ?? 'throughput';
const arg = (name, dflt) => (args.includes(`--${name}`) ? args[args.indexOf(`--${name}`) + 1] : dflt);
const root = resolve(arg('root', join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..')));
const LINES = Number(arg('lines', 1_000_000));
const QUEUE = arg('queue', 'memory');
const writeLines = arg('sincedb-write-lines', undefined);
const BIN = join(root, 'core/bin/pipeline.js');
const dir = mkdtempSync(join(tmpdir(), 'pipeline-file-bench-'));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function writeInput(path, n, pad) {
  const parts = [];
  for (let i = 0; i < n; i++) parts.push(`line-${i}${pad}\n`);
  writeFileSync(path, parts.join(''));
}

function freePort() {
  return new Promise((r) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => r(port));
    });
  });
}

function stats(port) {
  return new Promise((resolve) => {
    const req = get({ host: '127.0.0.1', port, path: '/_node/stats/pipelines', timeout: 2000 }, (res) => {
      let b = '';
      res.on('data', (d) => (b += d)).on('end', () => {
        try {
          resolve(JSON.parse(b).pipelines.main.events);
        } catch {
          resolve(undefined);
        }
      });
    });
    req.on('timeout', () => req.destroy()).on('error', () => resolve(undefined));
  });
}

function start(conf, extra, stdout = 'ignore') {
  const child = spawn(process.execPath, [BIN, 'start', '-e', conf, '--path.data', join(dir, 'data'), '--queue.type', QUEUE, '--log.level', 'warn', ...extra], { stdio: ['ignore', stdout, 'inherit'] });
  return { child, exited: new Promise((r) => child.on('exit', r)) };
}

const fileOpts = `start_position => "beginning" stat_interval => 0.1${writeLines !== undefined ? ` sincedb_write_lines => ${writeLines}` : ''}`;

async function throughput() {
  const input = join(dir, 'app.log');
  // about 100 bytes a line, as syslog lines are
  writeInput(input, LINES, ' ' + 'x'.repeat(84));
  const port = await freePort();
  const t0 = performance.now();
  const p = start(`input { file { path => ["${input}"] ${fileOpts} } } output { null {} }`, ['--api.http.port', String(port)]);
  let answers = 0;
  for (;;) {
    const e = await stats(port);
    if (e && e.in > 0 && e.out < LINES) answers++;
    if (e && e.out >= LINES) break;
    await sleep(20);
  }
  const s = (performance.now() - t0) / 1000;
  // CPU seconds of the pipeline process (utime + stime), steadier than wall time on a busy machine
  const f = readFileSync(`/proc/${p.child.pid}/stat`, 'utf8').split(') ')[1].split(' ');
  const cpu = (Number(f[11]) + Number(f[12])) / 100;
  p.child.kill('SIGTERM');
  await p.exited;
  console.log(`| ${root} | ${QUEUE} | ${writeLines ?? 'default'} | ${LINES.toLocaleString('en')} | ${s.toFixed(2)} s | ${Math.round(LINES / s).toLocaleString('en')} | ${cpu.toFixed(2)} s | ${answers} |`);
}

function tally(file) {
  const seen = new Map();
  let total = 0;
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return { seen, total };
  }
  for (const l of text.slice(0, text.lastIndexOf('\n') + 1).split('\n')) {
    if (!l) continue;
    seen.set(l, (seen.get(l) ?? 0) + 1);
    total++;
  }
  return { seen, total };
}

async function crashes() {
  const kills = Number(arg('kills', 3));
  const input = join(dir, 'app.log');
  writeInput(input, LINES, '');
  const out = join(dir, 'out.txt');
  const conf = `input { file { path => ["${input}"] ${fileOpts} } } output { stdout { codec => line { format => "%{message}" } } }`;
  const perRestart = [];
  let prevDup = 0;
  for (let k = 0; k <= kills; k++) {
    const fd = openSync(out, 'a');
    const p = start(conf, ['--api.enabled', 'false'], fd);
    const goal = k < kills ? ((k + 1) * LINES) / (kills + 2) : LINES;
    let t;
    for (;;) {
      await sleep(k < kills ? 20 : 300);
      t = tally(out);
      if (t.seen.size >= goal) break;
    }
    if (k < kills) p.child.kill('SIGKILL');
    else p.child.kill('SIGTERM');
    await p.exited;
    closeSync(fd);
    t = tally(out);
    const dup = t.total - t.seen.size;
    if (k > 0) perRestart.push(dup - prevDup);
    prevDup = dup;
  }
  const t = tally(out);
  let lost = 0;
  for (let i = 0; i < LINES; i++) if (!t.seen.has(`line-${i}`)) lost++;
  console.log(`| ${root} | ${QUEUE} | ${LINES.toLocaleString('en')} | ${kills} | ${lost} | ${perRestart.map((n) => n.toLocaleString('en')).join(', ')} | ${(t.total / LINES).toFixed(3)}× |`);
}

try {
  if (mode === 'throughput') await throughput();
  else if (mode === 'crashes') await crashes();
  else throw new Error(`unknown mode ${mode}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
