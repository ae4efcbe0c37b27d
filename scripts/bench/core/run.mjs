#!/usr/bin/env node
// Core runtime benchmark: events/s through generator -> [filters] -> null, in one process on one
// core, beside a floor measured in the same run: a plain loop making the same event objects and
// handing them to a no-op, which is what any runtime must at least do.
//   node scripts/bench/core/run.mjs [--events N] [--reps R]
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { Event } from '@pipeline/core';
import { loadPipeline } from '../../../core/dist/src/runtime/load.js';
import { DEFAULT_SETTINGS, mergeSettings } from '../../../core/dist/src/runtime/settings.js';

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const arg = (k, d) => (args.includes(k) ? Number(args[args.indexOf(k) + 1]) : d);
const N = arg('--events', 2_000_000);
const REPS = arg('--reps', 3);

const CONFIGS = {
  bare: `input { generator { count => ${N} } } output { null {} }`,
  'three filters': `input { generator { count => ${N} } }
    filter {
      noop { add_tag => ["bench"] }
      noop { add_field => { "stage" => "two" } }
      if [sequence] >= 0 and "bench" in [tags] { noop { add_tag => ["big"] } }
    }
    output { null {} }`,
};

async function runConfig(text) {
  const settings = mergeSettings(DEFAULT_SETTINGS, {
    'config.string': text,
    'path.data': join(here, '.data'),
    'path.plugins': [join(here, 'plugins')],
    'pipeline.workers': 1,
  });
  const p = await loadPipeline({ settings, workingDir: process.cwd(), logger: pino({ level: 'silent' }) });
  const t0 = process.hrtime.bigint();
  p.start();
  await p.done;
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  return N / secs;
}

function floor() {
  const t0 = process.hrtime.bigint();
  let sink = 0;
  const keep = new Array(1024); // keeps events alive, as a queue would, so the loop cannot elide them
  for (let i = 0; i < N; i++) {
    const e = new Event({ message: 'Hello world!', sequence: i, host: 'h' });
    keep[i & 1023] = e;
    sink += e.fields.sequence === i ? 1 : 0;
  }
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  if (sink !== N) throw new Error('floor loop broken');
  return N / secs;
}

const best = async (f) => {
  let b = 0;
  for (let r = 0; r < REPS; r++) b = Math.max(b, await f());
  return b;
};

const fmt = (x) => Math.round(x).toLocaleString('en-US');
const floorRate = await best(async () => floor());
console.log(`| run | events/s (best of ${REPS}, ${fmt(N)} events) | share of floor |`);
console.log('| --- | --- | --- |');
console.log(`| floor: make events in a plain loop | ${fmt(floorRate)} | 1.00 |`);
for (const [name, text] of Object.entries(CONFIGS)) {
  const rate = await best(() => runConfig(text));
  console.log(`| pipeline, ${name} | ${fmt(rate)} | ${(rate / floorRate).toFixed(2)} |`);
}
console.log(`\nnode ${process.version}, ${(await import('node:os')).cpus()[0].model}, ${new Date().toISOString()}`);
