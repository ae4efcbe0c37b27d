#!/usr/bin/env node
// Many grok filters in one process (issue 20): a config with N grok filters (default options: the
// 30 s timeout guard on) beside the same config with 0 groks, in the same run. Each is a whole
// `pipeline start` process (generator -> filters -> file), timed from spawn to exit (start-up,
// compiling every pattern, and all events written), with its peak RSS from /usr/bin/time.
//   node scripts/bench/grok-many/run.mjs [--filters 200] [--events 200] [--reps 3] [--distinct]
// By default filters sharing a base pattern differ in their field names only (grok then translates
// and V8 compiles each structure once); --distinct makes every filter's regex different.
//
// The filters cycle through common grok patterns, one of them under a conditional as real configs
// have them; several are not proven safe by the static check (COMBINEDAPACHELOG, the snort line),
// so the shared guard worker starts too. Build first: npx tsc -b core plugins/filter-grok ...
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const args = Object.fromEntries(process.argv.slice(2).reduce((acc, a, i, all) => (a.startsWith('--') ? [...acc, [a.slice(2), all[i + 1]]] : acc), []));
const FILTERS = Number(args.filters ?? 200);
// one event per filter, as issue 20 measured it (this is about the cost of many filters, not throughput)
const EVENTS = Number(args.events ?? 200);
const REPS = Number(args.reps ?? 3);
const DISTINCT = 'distinct' in args;
const root = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../..');
const bin = join(root, 'core/bin/pipeline.js');

const PATTERNS = [
  String.raw`%{SYSLOGTIMESTAMP:ts} %{SYSLOGHOST:host} %{DATA:program}(?:\[%{POSINT:pid}\])?: %{GREEDYDATA:msg}`,
  String.raw`%{COMBINEDAPACHELOG}`,
  String.raw`%{SYSLOGTIMESTAMP:ts} %{DATA:program}(?:\[%{POSINT:pid}\])?: \[%{DATA}\] %{DATA:event} \[Classification: %{DATA:class}\] \[Priority: %{NUMBER:prio}\] \{%{DATA:proto}\} %{IP:src}:%{POSINT:sport} -> %{IP:dst}:%{POSINT:dport}`,
  String.raw`%{IP:client} %{WORD:method} %{URIPATHPARAM:request} %{NUMBER:bytes} %{NUMBER:duration}`,
  String.raw`%{TIMESTAMP_ISO8601:ts} %{LOGLEVEL:level} %{GREEDYDATA:msg}`,
  String.raw`Accepted %{WORD:auth} for %{USERNAME:user} from %{IP:from} port %{INT:port}`,
  String.raw`%{SYSLOGTIMESTAMP:ts} %{SYSLOGHOST:host} sshd(?:\[%{POSINT:pid}\])?: %{GREEDYDATA:ssh}`,
  String.raw`%{HTTPDATE:when} %{QUOTEDSTRING:q}`,
];
const LINES = [
  '<38>Mar  1 00:00:05 jumpbox sshd[18205]: Accepted publickey for alice from 198.51.100.7 port 52544 ssh2',
  '203.0.113.9 - - [01/Mar/2026:00:00:07 +0000] "GET /index.html HTTP/1.1" 200 512 "-" "curl/8.5.0"',
  '<33>Mar  1 00:00:00 snort[2729]: [1:2001219:20] ET SCAN Potential SSH Scan [Classification: Attempted Information Leak] [Priority: 2] {TCP} 203.0.113.168:31145 -> 10.0.0.1:22',
  '2026-03-01T00:00:09Z INFO service started in 120 ms',
];

function config(n, out) {
  const filters = [];
  for (let i = 0; i < n; i++) {
    let p = PATTERNS[i % PATTERNS.length].replace(/%\{([A-Z0-9_]+):([a-z]+)\}/g, `%{$1:$2_${i}}`);
    // --distinct: every regex differs in structure too (nothing shared between filters); an
    // optional prefix keeps the pattern's required literal and its backtracking shape
    if (DISTINCT) p = `(?:x${i})?${p}`;
    const g = `grok { match => { "message" => ${JSON.stringify(p)} } }`;
    filters.push(i % 10 === 9 ? `if "x${i}" not in [tags] { ${g} }` : g);
  }
  return `input { generator { count => ${Math.ceil(EVENTS / LINES.length)} lines => ${JSON.stringify(LINES)} } }
filter {
${filters.join('\n')}
}
output { file { path => ${JSON.stringify(out)} codec => line { format => "%{message}" } } }`;
}

function runOnce(n) {
  const dir = mkdtempSync(join(tmpdir(), 'grok-many-'));
  try {
    const out = join(dir, 'out.log');
    const conf = join(dir, 'p.conf');
    writeFileSync(conf, config(n, out));
    const t0 = process.hrtime.bigint();
    const r = spawnSync('/usr/bin/time', ['-f', '%M %e %U %S', process.execPath, bin, 'start', '-f', conf, '--path.data', join(dir, 'data'), '--log.level', 'warn'], { encoding: 'utf8', cwd: root });
    const secs = Number(process.hrtime.bigint() - t0) / 1e9;
    if (r.status !== 0) throw new Error(`pipeline exited ${r.status}: ${r.stderr}`);
    const last = r.stderr.trim().split('\n').pop().split(' ');
    const lines = readFileSync(out, 'utf8').split('\n').filter(Boolean).length;
    return { secs, rssMiB: Number(last[0]) / 1024, cpu: Number(last[2]) + Number(last[3]), lines };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

if (args.print) { console.log(config(FILTERS, args.print)); process.exit(0); }
console.log(`${FILTERS} grok filters${DISTINCT ? ' (all distinct regexes)' : ''} vs 0, ${EVENTS} events, ${REPS} runs each, node ${process.version}, load ${execFileSync('cat', ['/proc/loadavg'], { encoding: 'utf8' }).split(' ').slice(0, 3).join(' ')}`);
const rows = {};
for (let r = 0; r < REPS; r++) {
  for (const n of [0, FILTERS]) {
    const x = runOnce(n);
    (rows[n] ??= []).push(x);
    console.log(`run ${r + 1}: ${String(n).padStart(3)} groks  ${x.secs.toFixed(2)} s until all ${x.lines} events are out, CPU ${x.cpu.toFixed(2)} s, peak RSS ${x.rssMiB.toFixed(0)} MiB`);
  }
}
const base = median(rows[0].map((x) => x.secs));
for (const n of [0, FILTERS]) {
  const t = median(rows[n].map((x) => x.secs));
  const rss = median(rows[n].map((x) => x.rssMiB));
  const cpu = median(rows[n].map((x) => x.cpu));
  console.log(`median ${String(n).padStart(3)} groks: ${t.toFixed(2)} s (${(t / base).toFixed(2)}x the 0-grok run), CPU ${cpu.toFixed(2)} s, peak RSS ${rss.toFixed(0)} MiB`);
}
