#!/usr/bin/env node
// RELP beside plain TCP, in the same run, with a real rsyslog as the sender.
//
// Each row: a fresh rsyslogd reads a file of N lines (imfile) and forwards them (omrelp or omfwd
// TCP, RSYSLOG_ForwardFormat) to a fresh receiver on loopback; the time runs from the sender's start
// until the receiver has written all N lines to its output file. Receivers: `pipeline start` with
// the relp or tcp input and a stdout output (to a file), with the memory and the persisted queue;
// and rsyslog itself (imrelp / imtcp into omfile) as the peer. RELP rows run with omrelp's default
// window (librelp: 128 unacknowledged frames) and with windowSize 1024.
//
//   node scripts/bench/inputs/relp.mjs [--lines 20000] [--reps 3] [--only name,name]
//
// Prints a Markdown table (median lines/s of the repetitions, min..max, receiver CPU seconds and
// peak RSS) and writes the raw runs to $BENCH_WORK/relp-<timestamp>/results.jsonl.
import { execFileSync, spawn } from 'node:child_process';
import { appendFileSync, closeSync, existsSync, mkdirSync, openSync, readFileSync, readSync, rmSync, statSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../../..');
const BIN = join(ROOT, 'core/bin/pipeline.js');
const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const LINES = Number(arg('lines', 20000));
const REPS = Number(arg('reps', 3));
const ONLY = arg('only', '')
  .split(',')
  .filter(Boolean);
const WORK = join(process.env.BENCH_WORK ?? join(tmpdir(), 'pipeline-bench'), `relp-${new Date().toISOString().replace(/[-:]|\.\d+/g, '')}`);
const CLK_TCK = 100;

const ROWS = [
  { name: 'pipeline-relp', proto: 'relp', receiver: 'pipeline', queue: 'memory' },
  { name: 'pipeline-relp-persisted', proto: 'relp', receiver: 'pipeline', queue: 'persisted' },
  { name: 'pipeline-relp-w1024', proto: 'relp', receiver: 'pipeline', queue: 'memory', window: 1024 },
  { name: 'pipeline-relp-persisted-w1024', proto: 'relp', receiver: 'pipeline', queue: 'persisted', window: 1024 },
  { name: 'pipeline-tcp', proto: 'tcp', receiver: 'pipeline', queue: 'memory' },
  { name: 'pipeline-tcp-persisted', proto: 'tcp', receiver: 'pipeline', queue: 'persisted' },
  { name: 'rsyslog-imrelp', proto: 'relp', receiver: 'rsyslog' },
  { name: 'rsyslog-imrelp-w1024', proto: 'relp', receiver: 'rsyslog', window: 1024 },
  { name: 'rsyslog-imtcp', proto: 'tcp', receiver: 'rsyslog' },
].filter((r) => ONLY.length === 0 || ONLY.includes(r.name));

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const p = s.address().port;
      s.close(() => resolve(p));
    });
  });
}

function waitPort(port, ms = 15000) {
  const t0 = Date.now();
  return new Promise((resolve, reject) => {
    const attempt = () => {
      const s = net.connect({ host: '127.0.0.1', port }, () => {
        s.destroy();
        resolve();
      });
      s.once('error', () => {
        s.destroy();
        if (Date.now() - t0 > ms) reject(new Error(`nothing listens on ${port}`));
        else setTimeout(attempt, 50);
      });
    };
    attempt();
  });
}

/** Lines in a file, counted by newline bytes read since the last call. */
function lineCounter(file) {
  let offset = 0;
  let lines = 0;
  return () => {
    if (!existsSync(file)) return 0;
    const size = statSync(file).size;
    if (size > offset) {
      const fd = openSync(file, 'r');
      const buf = Buffer.alloc(size - offset);
      readSync(fd, buf, 0, buf.length, offset);
      closeSync(fd);
      for (let i = 0; i < buf.length; i++) if (buf[i] === 10) lines++;
      offset = size;
    }
    return lines;
  };
}

/** CPU seconds (user + system) and peak RSS (MiB) of a live process, from /proc. */
function usage(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const cpu = (Number(f[11]) + Number(f[12])) / CLK_TCK;
    const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return { cpu, rssMiB: hwm ? Number(hwm[1]) / 1024 : NaN };
  } catch {
    return { cpu: NaN, rssMiB: NaN };
  }
}

function start(cmd, args, logFile, stdoutFile) {
  const out = stdoutFile ? openSync(stdoutFile, 'a') : 'ignore';
  const err = openSync(logFile, 'a');
  const child = spawn(cmd, args, { stdio: ['ignore', out, err] });
  if (typeof out === 'number') closeSync(out);
  closeSync(err);
  const exited = new Promise((r) => child.once('exit', r));
  return {
    child,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(t);
    },
  };
}

function receiver(row, dir, port) {
  const out = join(dir, 'out.txt');
  if (row.receiver === 'pipeline') {
    const input = row.proto === 'relp' ? `relp { port => ${port} host => "127.0.0.1" }` : `tcp { port => ${port} host => "127.0.0.1" }`;
    const conf = `input { ${input} } output { stdout { codec => line { format => "%{message}" } } }`;
    const args = [BIN, 'start', '-e', conf, '--path.data', join(dir, 'data'), '--queue.type', row.queue, '--api.enabled', 'false', '--log.level', 'warn'];
    return { out, proc: start(process.execPath, args, join(dir, 'receiver.log'), out) };
  }
  const work = join(dir, 'recv-work');
  mkdirSync(work, { recursive: true });
  const conf = join(dir, 'recv.conf');
  writeFileSync(
    conf,
    [
      `global(workDirectory="${work}" net.enableDNS="off" maxMessageSize="64k")`,
      row.proto === 'relp' ? 'module(load="imrelp")' : 'module(load="imtcp")',
      row.proto === 'relp' ? `input(type="imrelp" port="${port}" address="127.0.0.1")` : `input(type="imtcp" port="${port}" address="127.0.0.1")`,
      'template(name="raw" type="string" string="%rawmsg%\\n")',
      `action(type="omfile" file="${out}" template="raw" asyncWriting="on" flushOnTXEnd="on" ioBufferSize="64k")`,
    ].join('\n') + '\n',
  );
  return { out, proc: start('rsyslogd', ['-n', '-f', conf, '-i', join(work, 'pid')], join(dir, 'receiver.log')) };
}

function sender(row, dir, port, input) {
  const work = join(dir, 'send-work');
  mkdirSync(work, { recursive: true });
  const conf = join(dir, 'send.conf');
  const action =
    row.proto === 'relp'
      ? `action(type="omrelp" target="127.0.0.1" port="${port}"${row.window ? ` windowSize="${row.window}"` : ''} action.resumeRetryCount="-1" action.resumeInterval="1")`
      : `action(type="omfwd" target="127.0.0.1" port="${port}" protocol="tcp" action.resumeRetryCount="-1" action.resumeInterval="1")`;
  writeFileSync(
    conf,
    [
      `global(workDirectory="${work}" net.enableDNS="off" maxMessageSize="64k" localHostname="sender")`,
      'module(load="imfile" mode="inotify")',
      row.proto === 'relp' ? 'module(load="omrelp")' : '',
      `input(type="imfile" file="${input}" tag="app:" freshStartTail="off")`,
      action,
    ].join('\n') + '\n',
  );
  return start('rsyslogd', ['-n', '-f', conf, '-i', join(work, 'pid')], join(dir, 'sender.log'));
}

async function runOnce(row, rep, input) {
  const dir = join(WORK, row.name, String(rep));
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const port = await freePort();
  const r = receiver(row, dir, port);
  await waitPort(port);
  const count = lineCounter(r.out);
  const t0 = performance.now();
  const s = sender(row, dir, port, input);
  let n = 0;
  const limit = t0 + 300_000;
  while ((n = count()) < LINES && performance.now() < limit) await sleep(20);
  const seconds = (performance.now() - t0) / 1000;
  const u = usage(r.proc.child.pid);
  await s.stop();
  await r.proc.stop();
  const result = { row: row.name, rep, lines: n, complete: n >= LINES, seconds, linesPerSec: n / seconds, cpu: u.cpu, rssMiB: u.rssMiB };
  appendFileSync(join(WORK, 'results.jsonl'), JSON.stringify(result) + '\n');
  rmSync(join(dir, 'out.txt'), { force: true });
  return result;
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
};
const fmt = (n) => Math.round(n).toLocaleString('en');

mkdirSync(WORK, { recursive: true });
const input = join(WORK, 'corpus.log');
writeFileSync(input, Array.from({ length: LINES }, (_, i) => `bench line-${i} ${'x'.repeat(40)}\n`).join(''));
const all = new Map(ROWS.map((r) => [r.name, []]));
// interleaved repetitions: the machine's background load spreads over every row alike
for (let rep = 0; rep < REPS; rep++) {
  for (const row of ROWS) {
    const res = await runOnce(row, rep, input);
    all.get(row.name).push(res);
    process.stderr.write(`${row.name} #${rep + 1}: ${fmt(res.linesPerSec)} lines/s${res.complete ? '' : ` INCOMPLETE (${res.lines})`}\n`);
  }
}

const lines = [
  `RELP vs TCP, rsyslog (${/\d+\.\d+\.\d+/.exec(execFileSync('rsyslogd', ['-v']).toString())?.[0]}) sending ${fmt(LINES)} lines (imfile), ${REPS} repetitions, loopback; results in ${WORK}`,
  '',
  '| receiver | protocol | queue | omrelp window | lines/s (median) | min..max | receiver CPU s | receiver peak RSS MiB | complete |',
  '|---|---|---|---|---|---|---|---|---|',
];
for (const row of ROWS) {
  const rs = all.get(row.name);
  const lps = rs.map((r) => r.linesPerSec);
  lines.push(
    `| ${row.name} | ${row.proto} | ${row.queue ?? '-'} | ${row.proto === 'relp' ? (row.window ?? '128 (default)') : '-'} | ${fmt(median(lps))} | ${fmt(Math.min(...lps))}..${fmt(Math.max(...lps))} | ${median(rs.map((r) => r.cpu)).toFixed(2)} | ${median(rs.map((r) => r.rssMiB)).toFixed(1)} | ${rs.filter((r) => r.complete).length}/${rs.length} |`,
  );
}
const table = lines.join('\n') + '\n';
writeFileSync(join(WORK, 'table.md'), table);
process.stdout.write(table);
