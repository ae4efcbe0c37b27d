// dissect beside grok on the same RFC 3164 syslog lines, in one process and one run: each filter
// parses the same 100,000 lines (fresh events every round, in batches of 125 as the pipeline hands
// them, grok's prepare() included), rounds alternating between the two.
//   node plugins/filter-dissect/bench/vs-grok.mjs [lines] [rounds]
import { Event } from '@pipeline/core';
import { createPlugin } from '@pipeline/core/testing';
import dissect from '@pipeline/filter-dissect';
import grok from '@pipeline/filter-grok';
import { cpus } from 'node:os';

const N = Number(process.argv[2] ?? 100_000);
const ROUNDS = Number(process.argv[3] ?? 7);
const BATCH = 125;

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const HOSTS = ['gw', 'web1', 'db-2', 'nas.lan', 'mail01'];
const PROGRAMS = ['sshd', 'CRON', 'postfix/smtpd', 'kernel-audit', 'dnsmasq-dhcp'];
const MESSAGES = [
  'Accepted publickey for alice from 192.0.2.10 port 52311 ssh2: ED25519 SHA256:Zk2x',
  '(root) CMD (run-parts /etc/cron.hourly)',
  'connect from unknown[198.51.100.23]',
  'Failed password for invalid user admin from 203.0.113.7 port 40022 ssh2',
  'DHCPACK(br0) 192.168.1.50 aa:bb:cc:dd:ee:ff laptop',
];
// A deterministic spread of lines: single-digit days are space-padded ("Feb  5"), as RFC 3164 writes them.
const lines = Array.from({ length: N }, (_, i) => {
  const day = String(1 + (i % 28)).padStart(2, ' ');
  const t = `${String(i % 24).padStart(2, '0')}:${String((i * 7) % 60).padStart(2, '0')}:${String((i * 13) % 60).padStart(2, '0')}`;
  return `<${(i * 11) % 192}>${MONTHS[i % 12]} ${day} ${t} ${HOSTS[i % 5]} ${PROGRAMS[(i >> 1) % 5]}[${1000 + (i % 30000)}]: ${MESSAGES[(i >> 2) % 5]}`;
});

const d = await createPlugin(dissect, `mapping => { "message" => "<%{pri}>%{timestamp->} %{+timestamp} %{+timestamp} %{logsource} %{program}[%{pid}]: %{msg}" }`);
const g = await createPlugin(grok, `match => { "message" => "<%{NONNEGINT:pri}>%{SYSLOGTIMESTAMP:timestamp} %{SYSLOGHOST:logsource} %{DATA:program}\\[%{POSINT:pid}\\]: %{GREEDYDATA:msg}" }`);
const noop = () => {};

// Same answers first: both must parse every line into the same fields (the timestamp's day padding aside).
for (let i = 0; i < 200; i++) {
  const a = new Event({ message: lines[i] });
  const b = new Event({ message: lines[i] });
  if (!d.filter(a, noop) || g.filter(b, noop) === false || b.hasTag('_grokparsefailure')) throw new Error(`line ${i} did not parse: ${lines[i]}`);
  for (const k of ['pri', 'logsource', 'program', 'pid', 'msg']) if (a.get(k) !== b.get(k)) throw new Error(`line ${i}: ${k} ${a.get(k)} vs ${b.get(k)}`);
  if (a.get('timestamp') !== b.get('timestamp').replace(/  +/, ' ')) throw new Error(`line ${i}: timestamp ${a.get('timestamp')} vs ${b.get('timestamp')}`);
}

function round(f) {
  const events = lines.map((message) => new Event({ message }));
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < events.length; i += BATCH) {
    const batch = events.slice(i, i + BATCH);
    f.prepare?.(batch);
    for (const e of batch) f.filter(e, noop);
  }
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  for (const e of events) if (e.get('msg') === undefined) throw new Error('a line was not parsed');
  return ms;
}

const times = { dissect: [], grok: [] };
for (let r = 0; r < ROUNDS; r++) {
  times.dissect.push(round(d));
  times.grok.push(round(g));
}
await g.close?.();

const median = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
const rate = (ms) => Math.round(N / (ms / 1000));
const fmt = (n) => n.toLocaleString('en');
console.log(`${N.toLocaleString('en')} RFC 3164 lines, ${ROUNDS} rounds each, alternating; node ${process.version}, ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'})`);
for (const name of ['dissect', 'grok']) {
  const best = Math.min(...times[name]);
  console.log(`${name.padEnd(8)} best ${best.toFixed(1)} ms = ${fmt(rate(best))} events/s; median ${median(times[name]).toFixed(1)} ms = ${fmt(rate(median(times[name])))} events/s`);
}
console.log(`dissect/grok: ${(Math.min(...times.grok) / Math.min(...times.dissect)).toFixed(2)}x at the best round, ${(median(times.grok) / median(times.dissect)).toFixed(2)}x at the median`);
