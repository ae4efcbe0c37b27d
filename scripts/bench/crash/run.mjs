#!/usr/bin/env node
// Crash benchmark (issue 7): a 1,000,000-line file read by the file input with the persisted
// queue; the process is killed with kill -9 halfway, started again, and every line is counted:
// missing (must be 0) and delivered twice (at-least-once), with the time each run took.
//   node scripts/bench/crash/run.mjs [--lines 1000000]
import { spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const args = process.argv.slice(2);
const LINES = args.includes('--lines') ? Number(args[args.indexOf('--lines') + 1]) : 1_000_000;
const dir = mkdtempSync(join(tmpdir(), 'pipeline-crash-'));
const input = join(dir, 'app.log');
const out = join(dir, 'out.txt');
const chunks = [];
for (let i = 0; i < LINES; i++) chunks.push(`line-${i}`);
writeFileSync(input, chunks.join('\n') + '\n');
const conf = `input { file { path => ["${input}"] start_position => "beginning" sincedb_write_interval => 1 stat_interval => 0.1 } } output { stdout { codec => line { format => "%{message}" } } }`;
const run = () => {
  const fd = openSync(out, 'a');
  const child = spawn(process.execPath, [join(root, 'core/bin/pipeline.js'), 'start', '-e', conf, '--path.data', join(dir, 'data'), '--queue.type', 'persisted', '--api.enabled', 'false', '--log.level', 'warn'], { stdio: ['ignore', fd, 'inherit'] });
  return { child, fd, exited: new Promise((r) => child.on('exit', r)) };
};
const lineBytes = statSync(input).size / LINES;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const t0 = Date.now();
const first = run();
while ((statSync(out, { throwIfNoEntry: false })?.size ?? 0) < (LINES / 2) * lineBytes) await sleep(20);
first.child.kill('SIGKILL');
await first.exited;
closeSync(first.fd);
const t1 = Date.now();
const delivered1 = readFileSync(out, 'utf8').split('\n').filter(Boolean).length;
const second = run();
const seen = new Map();
for (;;) {
  await sleep(500);
  const text = readFileSync(out, 'utf8');
  seen.clear();
  for (const l of text.split('\n')) if (l) seen.set(l, (seen.get(l) ?? 0) + 1);
  if (seen.size >= LINES) break;
}
const t2 = Date.now();
second.child.kill('SIGTERM');
await second.exited;
closeSync(second.fd);
let missing = 0;
for (let i = 0; i < LINES; i++) if (!seen.has(`line-${i}`)) missing++;
const twice = [...seen.values()].filter((n) => n > 1).length;
console.log(`| lines | delivered before kill -9 | missing after restart | delivered twice | first run s | second run s |`);
console.log(`| --- | --- | --- | --- | --- | --- |`);
console.log(`| ${LINES.toLocaleString('en')} | ${delivered1.toLocaleString('en')} | ${missing} | ${twice.toLocaleString('en')} | ${((t1 - t0) / 1000).toFixed(1)} | ${((t2 - t1) / 1000).toFixed(1)} |`);
rmSync(dir, { recursive: true, force: true });
process.exit(missing === 0 ? 0 : 1);
