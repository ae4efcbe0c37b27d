// dissect beside grok on the same RFC 3164 syslog lines, in one process and one run: each filter
// parses the same 100,000 lines (fresh events every round, in batches of 125 as the pipeline hands
// them, grok's prepare() included), the filters taking turns batch by batch; a third row sets the
// same six fields from constants (no parsing), the cost both share.
//   node plugins/filter-dissect/bench/vs-grok.mjs [lines] [rounds]
import { Event } from '@pipeline/core';
import { createPlugin } from '@pipeline/core/testing';
import dissect from '@pipeline/filter-dissect';
import grok from '@pipeline/filter-grok';
import { cpus } from 'node:os';

const N = Number(process.argv[2] ?? 100_000);
const ROUNDS = Number(process.argv[3] ?? 11);
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
// The floor both share: the same six fields set on each event from constant strings, no parsing.
const floor = {
  filter(e) {
    const f = e.fields;
    f.pri = '13';
    f.timestamp = 'Feb 5 17:32:18';
    f.logsource = 'web1';
    f.program = 'sshd';
    f.pid = '4242';
    f.msg = 'Accepted';
    e.changed();
    return true;
  },
};

// Same answers first: both must parse every line into the same fields (the timestamp's day padding aside).
for (let i = 0; i < 200; i++) {
  const a = new Event({ message: lines[i] });
  const b = new Event({ message: lines[i] });
  if (!d.filter(a, noop) || g.filter(b, noop) === false || b.hasTag('_grokparsefailure')) throw new Error(`line ${i} did not parse: ${lines[i]}`);
  for (const k of ['pri', 'logsource', 'program', 'pid', 'msg']) if (a.get(k) !== b.get(k)) throw new Error(`line ${i}: ${k} ${a.get(k)} vs ${b.get(k)}`);
  if (a.get('timestamp') !== b.get('timestamp').replace(/  +/, ' ')) throw new Error(`line ${i}: timestamp ${a.get('timestamp')} vs ${b.get('timestamp')}`);
}

const filters = { dissect: d, grok: g, floor };
const names = Object.keys(filters);

/**
 * One round: every filter gets its own fresh events for the same lines, and the filters take turns
 * batch by batch (in a rotating order), each batch timed on its own, so load from outside the
 * process and GC pauses fall on all of them alike rather than on whichever round they hit.
 */
function round(r) {
  const events = names.map(() => lines.map((message) => new Event({ message })));
  const ms = names.map(() => 0);
  for (let i = 0, b = 0; i < N; i += BATCH, b++) {
    for (let k = 0; k < names.length; k++) {
      const j = (k + b + r) % names.length;
      const f = filters[names[j]];
      const batch = events[j].slice(i, i + BATCH);
      const t0 = process.hrtime.bigint();
      f.prepare?.(batch);
      for (const e of batch) f.filter(e, noop);
      ms[j] += Number(process.hrtime.bigint() - t0) / 1e6;
    }
  }
  for (const evs of events) for (const e of evs) if (e.get('msg') === undefined) throw new Error('a line was not parsed');
  return ms;
}

const times = { dissect: [], grok: [], floor: [] };
for (let r = 0; r < ROUNDS; r++) {
  const ms = round(r);
  names.forEach((n, j) => times[n].push(ms[j]));
}
await g.close?.();

const median = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
const rate = (ms) => Math.round(N / (ms / 1000));
const fmt = (n) => n.toLocaleString('en');
console.log(`${N.toLocaleString('en')} RFC 3164 lines, ${ROUNDS} rounds, filters interleaved by batch; node ${process.version}, ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'})`);
for (const name of ['dissect', 'grok', 'floor']) {
  const best = Math.min(...times[name]);
  console.log(`${(name === 'floor' ? 'floor (six constant fields set, no parsing)' : name).padEnd(8)} best ${best.toFixed(1)} ms = ${fmt(rate(best))} events/s; median ${median(times[name]).toFixed(1)} ms = ${fmt(rate(median(times[name])))} events/s`);
}
console.log(`dissect/grok: ${(Math.min(...times.grok) / Math.min(...times.dissect)).toFixed(2)}x at the best round, ${(median(times.grok) / median(times.dissect)).toFixed(2)}x at the median`);
const above = (name, pick) => pick(times[name]) - pick(times.floor);
const best = (a) => Math.min(...a);
console.log(`above the floor: dissect ${above('dissect', best).toFixed(1)} ms, grok ${above('grok', best).toFixed(1)} ms (best rounds) = ${(above('grok', best) / above('dissect', best)).toFixed(2)}x; medians ${above('dissect', median).toFixed(1)} / ${above('grok', median).toFixed(1)} ms`);
