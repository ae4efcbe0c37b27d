// The javascript filter's per-event cost beside mutate making the same change, in the same run.
// In-process, filters only (no queue, codec or output): events are made in batches of 125 (the
// default pipeline.batch.size) and each batch goes through the filter, as the executor hands it
// on; 200,000 events per round, best of 15 rounds, the cases taking turns round by round so noise
// on the shared machine hits all of them. "floor" makes the events and filters nothing: a filter's
// own cost is its time minus the floor.
//   node plugins/filter-javascript/bench/set-vs-mutate.mjs
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Event } from '@pipeline/core';
import { createPlugin } from '@pipeline/core/testing';
import javascript from '@pipeline/filter-javascript';
import mutate from '@pipeline/filter-mutate';

const N = 200_000;
const BATCH = 125;
const ROUNDS = 15;
const dir = mkdtempSync(join(tmpdir(), 'js-bench-'));
writeFileSync(join(dir, 'set.js'), "function filter(event) { event.set('x', 1); return [event]; }\n");
const cases = [
  ['floor (make the events, no filter)', null],
  ['mutate { replace => { "x" => "1" } } (peer)', await createPlugin(mutate, 'replace => { "x" => "1" }')],
  ['javascript { code => "event.set(\'x\', 1)" }', await createPlugin(javascript, `code => "event.set('x', 1)"`)],
  ['javascript { path => set.js } (filter: event.set(\'x\', 1); return [event])', await createPlugin(javascript, `path => "${join(dir, 'set.js')}"`)],
  ['javascript { code => "event.set(\'[a][b]\', event.get(\'message\').length)" }', await createPlugin(javascript, `code => "event.set('[a][b]', event.get('message').length)"`)],
];
rmSync(dir, { recursive: true, force: true });

const noop = () => {};
const batch = new Array(BATCH);
const best = cases.map(() => Infinity);
for (let round = 0; round < ROUNDS; round++) {
  cases.forEach(([, f], i) => {
    const t0 = process.hrtime.bigint();
    for (let done = 0; done < N; done += BATCH) {
      for (let k = 0; k < BATCH; k++) batch[k] = new Event({ message: `line ${done + k} of the benchmark`, host: 'h1' });
      if (f)
        for (let k = 0; k < BATCH; k++) {
          const e = batch[k];
          f.filter(e, noop);
          e.changed(); // as the executor does after a filter that is not readsOnly
        }
    }
    best[i] = Math.min(best[i], Number(process.hrtime.bigint() - t0));
  });
}
const floor = best[0] / N;
cases.forEach(([name], i) => {
  const ns = best[i] / N;
  const own = i === 0 ? '' : `, filter's own ${(ns - floor).toFixed(0)} ns/event = ${Math.round(1e9 / (ns - floor)).toLocaleString('en')} events/s`;
  console.log(`${name}: ${Math.round(1e9 / ns).toLocaleString('en')} events/s (${ns.toFixed(0)} ns/event${own})`);
});
