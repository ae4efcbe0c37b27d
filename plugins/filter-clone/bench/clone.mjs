// clone on 10k syslog-shaped events (the fields the reference grok leaves, ~12), beside mutate
// replace (a cheap filter) and the JSON text an output writes per event. In-process, filters
// only: node plugins/filter-clone/bench/clone.mjs
import { Event } from '@pipeline/core';
import { createPlugin } from '@pipeline/core/testing';
import clone from '@pipeline/filter-clone';
import mutate from '@pipeline/filter-mutate';

const N = 10_000;
const fields = (i) => ({
  message: `<38>Jan  2 03:04:05 web${i % 7} sshd[${1000 + i}]: Failed password for invalid user admin from 203.0.113.${i % 250} port ${40000 + i} ssh2`,
  host: '192.0.2.10',
  syslog_timestamp: 'Jan  2 03:04:05',
  syslog_hostname: `web${i % 7}`,
  syslog_program: 'sshd',
  syslog_pid: String(1000 + i),
  syslog_message: `Failed password for invalid user admin from 203.0.113.${i % 250} port ${40000 + i} ssh2`,
  received_at: '2024-01-02T03:04:05.000Z',
  received_from: '192.0.2.10',
  tags: ['syslog'],
  '@metadata': { input: 'tcp' },
});
const one = await createPlugin(clone, 'clones => ["copy"]');
const oneTagged = await createPlugin(clone, 'clones => ["copy"] add_tag => ["cloned"] add_field => { "copy_of" => "%{syslog_hostname}" }');
const three = await createPlugin(clone, 'clones => ["a", "b", "c"]');
const add = await createPlugin(mutate, 'replace => { "copy_of" => "%{syslog_hostname}" }');

function bench(name, fn) {
  let best = Infinity;
  for (let round = 0; round < 7; round++) {
    const events = Array.from({ length: N }, (_, i) => new Event(fields(i)));
    const t0 = process.hrtime.bigint();
    for (const e of events) fn(e);
    best = Math.min(best, Number(process.hrtime.bigint() - t0) / 1e6);
  }
  console.log(`${name}: ${N} events in ${best.toFixed(1)} ms (best of 7) = ${Math.round(N / (best / 1000)).toLocaleString('en')} events/s`);
}
let sink = 0;
const count = () => void sink++;
bench('clone, one name', (e) => one.filter(e, count));
bench('clone, one name with add_tag and add_field', (e) => oneTagged.filter(e, count));
bench('clone, three names', (e) => three.filter(e, count));
bench('mutate replace, one sprintf field (peer)', (e) => add.filter(e, count));
bench('event.json(), what an output writes (peer)', (e) => void (sink += e.json().length));
