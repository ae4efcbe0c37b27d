// split on 10k events: a 10-element array from a json filter, and a 10-line message, beside the
// json filter that parses the line (the usual step before split). In-process, filters only:
// node plugins/filter-split/bench/split.mjs
import { Event } from '@pipeline/core';
import { createPlugin } from '@pipeline/core/testing';
import json from '@pipeline/filter-json';
import split from '@pipeline/filter-split';

const N = 10_000;
const item = (i, k) => ({ id: i * 10 + k, user: `u${k}`, action: k % 2 ? 'login' : 'logout', ok: k % 3 !== 0 });
const line = (i) => JSON.stringify({ batch: i, source: 'api', results: Array.from({ length: 10 }, (_, k) => item(i, k)) });
const text = (i) => Array.from({ length: 10 }, (_, k) => `2024-01-02T03:04:0${k}Z host${i % 7} app[${k}]: line ${k} of batch ${i}`).join('\n');

const parse = await createPlugin(json, 'source => "message"');
const byArray = await createPlugin(split, 'field => "results"');
const byArrayTarget = await createPlugin(split, 'field => "results" target => "result"');
const byLine = await createPlugin(split, '');

function bench(name, make, fn) {
  let best = Infinity;
  for (let round = 0; round < 7; round++) {
    const events = Array.from({ length: N }, (_, i) => make(i));
    const t0 = process.hrtime.bigint();
    for (const e of events) fn(e);
    best = Math.min(best, Number(process.hrtime.bigint() - t0) / 1e6);
  }
  console.log(`${name}: ${N} events in ${best.toFixed(1)} ms (best of 7) = ${Math.round(N / (best / 1000)).toLocaleString('en')} events in/s`);
}
let sink = 0;
const count = () => void sink++;
const parsed = (i) => {
  const e = new Event({ message: line(i), host: '192.0.2.10' });
  parse.filter(e, count);
  return e;
};
bench('split, 10-element array, no target', parsed, (e) => byArray.filter(e, count));
bench('split, 10-element array, target (each event keeps the array)', parsed, (e) => byArrayTarget.filter(e, count));
bench('split, 10-line message', (i) => new Event({ message: text(i), host: '192.0.2.10' }), (e) => byLine.filter(e, count));
bench('json, parsing the 10-element line (peer)', (i) => new Event({ message: line(i), host: '192.0.2.10' }), (e) => parse.filter(e, count));
