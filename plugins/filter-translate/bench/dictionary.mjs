#!/usr/bin/env node
// A 100,000-entry dictionary through the translate filter: load time of YAML, JSON and CSV files
// (through the plugin's check + create, as a pipeline start does), the full YAML parser on the same
// entries for comparison, and exact lookups per second through filter() beside a plain Map.get loop
// over the same keys in the same run (the floor: what a lookup costs without an event).
//   npx tsc -b plugins/filter-translate && node plugins/filter-translate/bench/dictionary.mjs
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Event } from '@pipeline/core';
import { createPlugin, makeContext } from '@pipeline/core/testing';
import translate, { parseText } from '../dist/src/index.js';

const N = 100_000;
const dir = mkdtempSync(join(tmpdir(), 'translate-bench-'));
const keys = Array.from({ length: N }, (_, i) => `user${i}`);
const files = {
  yaml: join(dir, 'dict.yml'),
  json: join(dir, 'dict.json'),
  csv: join(dir, 'dict.csv'),
};
writeFileSync(files.yaml, keys.map((k, i) => `${k}: User Number ${i}`).join('\n') + '\n');
writeFileSync(files.json, JSON.stringify(Object.fromEntries(keys.map((k, i) => [k, `User Number ${i}`]))));
writeFileSync(files.csv, keys.map((k, i) => `${k},User Number ${i}`).join('\n') + '\n');

const ms = (t) => (performance.now() - t).toFixed(0);
const rate = (n, t) => Math.round(n / ((performance.now() - t) / 1000)).toLocaleString('en-US');

const filters = {};
for (const [format, path] of Object.entries(files)) {
  const t = performance.now();
  filters[format] = await createPlugin(translate, `source => "user" target => "name" override => true dictionary_path => "${path}" refresh_interval => 0`, makeContext());
  console.log(`load ${format.padEnd(4)} ${N} entries: ${ms(t)} ms`);
}
{
  // the full YAML parser on the same entries (a nested entry at the end sends the file to it)
  const text = keys.map((k, i) => `${k}: User Number ${i}`).join('\n') + '\nnested:\n  a: 1\n';
  const t = performance.now();
  const entries = parseText(text, 'yaml');
  console.log(`load yaml ${entries.length} entries with the full YAML parser (no line reader): ${ms(t)} ms`);
}

const LOOKUPS = 1_000_000;
const map = new Map(keys.map((k, i) => [k, `User Number ${i}`]));
const events = Array.from({ length: 1000 }, (_, i) => new Event({ user: keys[(i * 7919) % N] }));
const probe = events.map((e) => e.get('user'));
for (let round = 0; round < 3; round++) {
  let t = performance.now();
  let hits = 0;
  for (let i = 0; i < LOOKUPS; i++) if (map.get(probe[i % 1000]) !== undefined) hits++;
  const floor = rate(LOOKUPS, t);
  t = performance.now();
  const f = filters.yaml;
  for (let i = 0; i < LOOKUPS; i++) f.filter(events[i % 1000], () => {});
  const through = rate(LOOKUPS, t);
  if (hits !== LOOKUPS || events[0].get('name') !== map.get(probe[0])) throw new Error('lookups missed');
  console.log(`round ${round + 1}: plain Map.get ${floor} lookups/s; translate filter() ${through} lookups/s (event get + Map.get + event set)`);
}
rmSync(dir, { recursive: true, force: true });
