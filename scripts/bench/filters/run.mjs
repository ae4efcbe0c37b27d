#!/usr/bin/env node
// Events/s of the reference's grok block (5 patterns, break_on_match) plus its two mutate add_tag
// conditionals, measured through the plugin API on a generated homelab corpus (most lines fall
// through to the generic syslog pattern). Build first: npx tsc -b plugins/filter-grok
//
//   node scripts/bench/filters/run.mjs [--lines 200000] [--rounds 5] [--batch 125] [--mode direct,default,per-event|all]
//
// direct    = timeout_millis => 0 (matching on the pipeline thread, no time limit)
// default   = the default options (timeout_millis => 30000): as the executor drives it, prepare(batch)
//             hands each batch's lines to the match worker in one go, then filter() runs per event
// per-event = the default options without prepare (the path events take that prepare did not see)
// loop      = the peer: a plain loop running the same translated regexes (RegExp.exec, in order,
//             until one matches) on the same lines, timed the same way: the regex engine's own speed
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Event, compileTemplate } from '@pipeline/core';
import { createPlugin } from '@pipeline/core/testing';
import grok, { buildLibrary, compileGrok } from '@pipeline/filter-grok';

const args = Object.fromEntries(process.argv.slice(2).reduce((acc, a, i, all) => (a.startsWith('--') ? [...acc, [a.slice(2), all[i + 1]]] : acc), []));
const LINES = Number(args.lines ?? 200000);
const ROUNDS = Number(args.rounds ?? 5);
const BATCH = Number(args.batch ?? 125);
const MODES = (args.mode ?? 'loop,direct,default') === 'all' ? ['loop', 'direct', 'default', 'per-event'] : (args.mode ?? 'loop,direct,default').split(',');

const here = fileURLToPath(new URL('.', import.meta.url));
const gen = resolve(here, '../../../../shared/bench/corpus/gen.mjs');
if (!existsSync(gen)) throw new Error(`corpus generator not found at ${gen}`);
const tmp = mkdtempSync(join(tmpdir(), 'grok-bench-'));
const corpusFile = join(tmp, 'corpus.log');
execFileSync(process.execPath, [gen, '--lines', String(LINES), '--out', corpusFile]);
const lines = readFileSync(corpusFile, 'utf8').split('\n').filter(Boolean);
rmSync(tmp, { recursive: true, force: true });
const bytes = lines.reduce((n, l) => n + Buffer.byteLength(l), 0);

// the reference's filter block, as pipeline.conf text
const GROK = String.raw`
  match => {
     "message" => [ "%{SYSLOGTIMESTAMP:syslog_timestamp} %{DATA:syslog_program}(?:\[%{POSINT:syslog_pid}\])?: \[%{DATA}\] %{DATA:snort_event} \[Classification: %{DATA:snort_classification}\] \[Priority: %{NUMBER:snort_priority}\] \{%{DATA:snort_protocol}\} %{IP:snort_src_ip}:%{POSINT:snort_src_port} -> %{IP:snort_dest}:%{POSINT:snort_dest_port}",
     "%{SYSLOGTIMESTAMP:syslog_timestamp} %{SYSLOGHOST:syslog_hostname} %{DATA:syslog_program}(?:\[%{POSINT:syslog_pid}\])?: /usr/bin/rsnapshot( -v)? %{DATA:rsnapshot_event}: %{GREEDYDATA:rsnapshot_output}",
     "%{SYSLOGTIMESTAMP:syslog_timestamp} %{SYSLOGHOST:syslog_hostname} %{DATA:syslog_program}(?:\[%{POSINT:syslog_pid}\])?: %{GREEDYDATA:syslog_message}",
     "%{TIMESTAMP_ISO8601:syslog_timestamp} %{SYSLOGHOST:syslog_hostname} %{DATA:syslog_program}(?:\[%{POSINT:syslog_pid}\])?: %{GREEDYDATA:syslog_message}",
     "%{SYSLOGTIMESTAMP:syslog_timestamp} %{DATA:syslog_program}(?:\[%{POSINT:syslog_pid}\])?: %{GREEDYDATA:syslog_message}"]
  }`;

// the block's add_field (applied by the runtime on success) and the mutate add_tag conditionals,
// emulated here with core's own template and tag helpers
const receivedAt = compileTemplate('%{@timestamp}');
const receivedFrom = compileTemplate('%{host}');
const noop = () => {};

/** The peer: the grok block's own translated regexes, exec'd in order on the message. */
function runLoop() {
  const library = buildLibrary([], '*', {});
  const pats = [...GROK.matchAll(/"(%\{SYSLOG[^"]*|%\{TIMESTAMP[^"]*)"/g)].map((m) => m[1].replace(/\\\\/g, '\\'));
  if (pats.length !== 5) throw new Error(`expected the 5 reference patterns, found ${pats.length}`);
  const regexes = pats.map((p) => compileGrok(p, library, { namedCapturesOnly: true, target: undefined, overwrite: new Set() }).regex);
  const results = [];
  const cpu = [];
  let matched = 0;
  for (let r = 0; r < ROUNDS; r++) {
    let ns = 0n;
    const cpu0 = process.cpuUsage();
    for (let start = 0; start < lines.length; start += BATCH) {
      const batch = [];
      for (let i = start; i < Math.min(lines.length, start + BATCH); i++) batch.push(new Event({ message: lines[i], host: '10.0.0.1', type: 'syslog' }));
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < batch.length; i++) {
        const text = batch[i].fields.message;
        for (let k = 0; k < regexes.length; k++) {
          if (regexes[k].exec(text) !== null) {
            if (r === 0) matched++;
            break;
          }
        }
      }
      ns += process.hrtime.bigint() - t0;
    }
    const used = process.cpuUsage(cpu0);
    results.push(lines.length / (Number(ns) / 1e9));
    cpu.push((used.user + used.system) / 1e6);
  }
  results.sort((a, b) => a - b);
  cpu.sort((a, b) => a - b);
  return { mode: 'loop', median: results[Math.floor(results.length / 2)], best: results[results.length - 1], counts: { matched, snort: '-', rsnapshot: '-' }, cpuPerEvent: (cpu[Math.floor(cpu.length / 2)] / lines.length) * 1e6 };
}

async function runMode(mode) {
  if (mode === 'loop') return runLoop();
  const f = await createPlugin(grok, GROK + (mode === 'direct' ? '\n timeout_millis => 0' : ''));
  const results = [];
  const cpu = [];
  const counts = { matched: 0, snort: 0, rsnapshot: 0 };
  for (let r = 0; r < ROUNDS; r++) {
    // events live in pipeline-sized batches (Logstash's default batch is 125), as in a running
    // pipeline; only the filter stage is timed, not building the events
    let ns = 0n;
    // process CPU time (all threads: the match worker's too), over the whole round
    const cpu0 = process.cpuUsage();
    for (let start = 0; start < lines.length; start += BATCH) {
      const batch = [];
      for (let i = start; i < Math.min(lines.length, start + BATCH); i++) batch.push(new Event({ message: lines[i], host: '10.0.0.1', type: 'syslog' }));
      const t0 = process.hrtime.bigint();
      if (mode === 'default') f.prepare(batch);
      for (let i = 0; i < batch.length; i++) {
        const e = batch[i];
        if (f.filter(e, noop) !== false) {
          const fl = e.fields;
          fl.received_at = receivedAt.render(fl);
          fl.received_from = receivedFrom.render(fl);
        }
        if (e.fields.rsnapshot_event !== undefined) e.tag('rsnapshot');
        if (e.fields.snort_event !== undefined) e.tag('snort');
      }
      ns += process.hrtime.bigint() - t0;
      if (r === 0)
        for (const e of batch) {
          if (!e.hasTag('_grokparsefailure')) counts.matched++;
          if (e.hasTag('snort')) counts.snort++;
          if (e.hasTag('rsnapshot')) counts.rsnapshot++;
        }
    }
    const used = process.cpuUsage(cpu0);
    results.push(lines.length / (Number(ns) / 1e9));
    cpu.push((used.user + used.system) / 1e6);
  }
  await f.close?.();
  results.sort((a, b) => a - b);
  const median = results[Math.floor(results.length / 2)];
  cpu.sort((a, b) => a - b);
  return { mode, median, best: results[results.length - 1], counts, cpuPerEvent: (cpu[Math.floor(cpu.length / 2)] / lines.length) * 1e6 };
}

console.log(`corpus: ${lines.length} lines, ${(bytes / lines.length).toFixed(1)} bytes/line avg; ${ROUNDS} rounds; node ${process.version}`);
let peer;
for (const mode of MODES) {
  const r = await runMode(mode);
  if (mode === 'loop') peer = r.median;
  const mib = (r.median * bytes) / lines.length / 1048576;
  const ratio = peer !== undefined && mode !== 'loop' ? ` (${(r.median / peer).toFixed(2)}x the loop)` : '';
  console.log(
    `${r.mode.padEnd(9)} median${ratio} ${Math.round(r.median).toLocaleString('en')} events/s (${mib.toFixed(1)} MiB/s), best ${Math.round(r.best).toLocaleString('en')}; ` +
      `CPU ${r.cpuPerEvent.toFixed(2)} us/event (all threads, round incl. building events); matched ${r.counts.matched}, snort ${r.counts.snort}, rsnapshot ${r.counts.rsnapshot}`,
  );
}
