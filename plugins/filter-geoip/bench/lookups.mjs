#!/usr/bin/env node
/**
 * geoip lookups per second: through the filter (events in, fields written) beside a plain loop of
 * reader.get over a MaxMind reader opened exactly as the filter opens it (the filter's own
 * openDatabaseSync: the same file, a decoded-record cache of the same cache_size), on the same
 * addresses, in the same run, alternating rounds; the median round of each is printed.
 *
 *   hits:   300 distinct addresses, cache_size 1000: every lookup is a hit of the filter's address cache
 *   misses: 20,000 distinct addresses cycled through cache_size 1000: the address LRU misses every
 *           time (decoded records, shared by the addresses of a network, still hit the reader's cache)
 *   cold:   the same with cache_size 1: the reader's record cache misses too (both sides)
 *
 * Events come in batches of 1,000 made outside the timed part. The reader loop only looks up; the filter also reads the source field, writes the City fields
 * into the event and counts. A last column is maxmind.open()'s reader (tiny-lru record cache of
 * 10,000): what a plain maxmind user gets by default.
 *
 *   node plugins/filter-geoip/bench/lookups.mjs [--db path.mmdb] [--rounds 7] [--events 100000]
 * Build first: npx tsc -b plugins/filter-geoip
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Event } from '@pipeline/core';
import { createPlugin, makeContext, MetricsRegistry } from '@pipeline/core/testing';
import maxmind, { Reader } from 'maxmind';
import { openDatabaseSync } from '../dist/src/database.js';
import geoip from '../dist/src/index.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const FIXTURES = join(HERE, '../../../../shared/fixtures/geoip');
const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? dflt : process.argv[i + 1];
};
const DB = arg('db', join(FIXTURES, 'GeoIP2-City-Test.mmdb'));
const ROUNDS = Number(arg('rounds', 7));
const EVENTS = Number(arg('events', 100_000));

// ---- addresses inside networks of the test City database that have coordinates ----
let seed = 42;
/** mulberry32: a deterministic run, the same addresses every time */
const rand = () => {
  let t = (seed = (seed + 0x6d2b79f5) | 0);
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
};
const source = JSON.parse(readFileSync(join(FIXTURES, 'GeoIP2-City-Test.json'), 'utf8'));
const v4nets = [];
const v6nets = [];
for (const rec of source) {
  const [net, r] = Object.entries(rec)[0];
  if (r.location?.latitude === undefined) continue;
  const [addr, len] = net.split('/');
  if (addr.includes('.')) v4nets.push([addr.replace(/^::/, ''), Number(len) - (addr.startsWith('::') ? 96 : 0)]);
  else v6nets.push([addr, Number(len)]);
}
function v4in([addr, len]) {
  const base = addr.split('.').reduce((a, o) => a * 256 + Number(o), 0);
  const size = 2 ** (32 - len);
  const a = base - (base % size) + Math.floor(rand() * size);
  return [a >>> 24, (a >>> 16) & 255, (a >>> 8) & 255, a & 255].join('.');
}
function v6in([addr, len]) {
  // the networks here are /29 to /32: keep the first two groups (masked by the prefix), vary the rest
  const g = addr.split('::')[0].split(':').map((x) => parseInt(x, 16));
  while (g.length < 2) g.push(0);
  const keep = len - 16;
  const low = Math.floor(rand() * 2 ** (16 - keep));
  g[1] = (g[1] & ~(2 ** (16 - keep) - 1) & 0xffff) | low;
  const rest = Array.from({ length: 6 }, () => Math.floor(rand() * 65536).toString(16));
  return [g[0].toString(16), g[1].toString(16), ...rest].join(':');
}
function addresses(n) {
  const set = new Set();
  while (set.size < n) {
    const ip = rand() < 0.5 ? v4in(v4nets[Math.floor(rand() * v4nets.length)]) : v6in(v6nets[Math.floor(rand() * v6nets.length)]);
    // a more specific network without coordinates may sit inside one: keep addresses the filter enriches
    if (probe.get(ip)?.location?.latitude !== undefined) set.add(ip);
  }
  return [...set];
}

// ---- the two sides ----
const probe = new Reader(readFileSync(DB)); // only to pick addresses
const opened = await maxmind.open(DB); // maxmind.open's default: a 10,000-record decoder cache

async function scenario(name, distinct, cacheSize) {
  const addrs = addresses(distinct);
  const seq = Array.from({ length: EVENTS }, (_, i) => addrs[i % addrs.length]);
  const plain = openDatabaseSync(DB, cacheSize).reader; // as the filter opens it
  const metrics = new MetricsRegistry();
  const filter = await createPlugin(geoip, `source => "ip" database => "${DB}" cache_size => ${cacheSize}`, makeContext({ metrics }));
  // warm-up (JIT, and the hit scenario's cache)
  for (let i = 0; i < Math.min(EVENTS, 20_000); i++) filter.filter(new Event({ ip: seq[i] }), () => {});
  const base = metrics.snapshot();
  let found = 0;
  const filterRates = [];
  const plainRates = [];
  const openedRates = [];
  // Events come in batches of BATCH, as a pipeline hands them over (its default batch is 125):
  // each batch is made outside the timed part and dropped after, so the live set stays small.
  const BATCH = 1000;
  for (let r = 0; r < ROUNDS; r++) {
    let filterNs = 0;
    let plainNs = 0;
    let openedNs = 0;
    for (let from = 0; from < EVENTS; from += BATCH) {
      const to = Math.min(EVENTS, from + BATCH);
      const events = [];
      for (let i = from; i < to; i++) events.push(new Event({ ip: seq[i] }));
      let t = process.hrtime.bigint();
      for (let i = 0; i < events.length; i++) filter.filter(events[i], () => {});
      filterNs += Number(process.hrtime.bigint() - t);
      if (events[events.length - 1].get('geoip') === undefined) throw new Error('the filter did not enrich');

      t = process.hrtime.bigint();
      for (let i = from; i < to; i++) if (plain.get(seq[i]) !== null) found++;
      plainNs += Number(process.hrtime.bigint() - t);

      t = process.hrtime.bigint();
      for (let i = from; i < to; i++) if (opened.get(seq[i]) !== null) found++;
      openedNs += Number(process.hrtime.bigint() - t);
    }
    filterRates.push(EVENTS / (filterNs / 1e9));
    plainRates.push(EVENTS / (plainNs / 1e9));
    openedRates.push(EVENTS / (openedNs / 1e9));
  }
  await filter.close();
  const s = metrics.snapshot();
  const hits = (s.cache_hits ?? 0) - (base.cache_hits ?? 0);
  const misses = (s.cache_misses ?? 0) - (base.cache_misses ?? 0);
  if (found !== 2 * EVENTS * ROUNDS) throw new Error(`the reader found ${found} of ${2 * EVENTS * ROUNDS}`);
  const median = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
  return { name, distinct, cacheSize, hitRate: hits / (hits + misses), filter: median(filterRates), plain: median(plainRates), opened: median(openedRates) };
}

const fmt = (n) => `${Math.round(n / 1000)} k/s`.padStart(10);
console.log(`geoip lookups/s, node ${process.version}, ${DB.split('/').pop()}, ${EVENTS} lookups x ${ROUNDS} rounds (median)`);
console.log(`${'scenario'.padEnd(44)} ${'filter'.padStart(10)} ${'reader.get'.padStart(10)} ${'ratio'.padStart(6)} ${'open()+lru'.padStart(10)}`);
for (const sc of [await scenario('hits', 300, 1000), await scenario('misses', 20_000, 1000), await scenario('cold', 20_000, 1)]) {
  const label = `${sc.name}: ${sc.distinct} addrs, cache_size ${sc.cacheSize}, ${(sc.hitRate * 100).toFixed(1)}% hit`;
  console.log(`${label.padEnd(44)} ${fmt(sc.filter)} ${fmt(sc.plain)} ${(sc.filter / sc.plain).toFixed(2).padStart(5)}x ${fmt(sc.opened)}`);
}
