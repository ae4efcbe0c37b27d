// The dns filter's throughput against dnsmasq on loopback, beside plain loops of node:dns Resolver
// calls to the same dnsmasq in the same run: node plugins/filter-dns/bench/throughput.mjs [names]
// (build first: npx tsc -b plugins/filter-dns). Prints one line per case.
import { Resolver } from 'node:dns/promises';
import { Event } from '@pipeline/core';
import { createPlugin, makeContext } from '@pipeline/core/testing';
import dns from '../dist/src/index.js';
import { startDnsmasq } from '../dist/test/servers.js';

const N = Number(process.argv[2] ?? 5000);
const addr = (i) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
const ns = await startDnsmasq(Array.from({ length: N }, (_, i) => `${addr(i + 1)} h${i + 1}.test`).join('\n'));
const names = Array.from({ length: N }, (_, i) => `h${i + 1}.test`);
const rate = (n, ms) => `${Math.round(n / (ms / 1000)).toLocaleString('en')}/s`;
const line = (what, n, ms) => console.log(`${what.padEnd(62)} ${String(n).padStart(7)} in ${ms.toFixed(0).padStart(5)} ms  ${rate(n, ms).padStart(10)}`);

async function loopSerial() {
  const r = new Resolver({ timeout: 500, tries: 2 });
  r.setServers([ns.address]);
  const t0 = performance.now();
  for (const n of names) await r.resolve4(n);
  line('plain loop: await resolve4, one at a time', N, performance.now() - t0);
}
async function loopConcurrent(k) {
  const r = new Resolver({ timeout: 500, tries: 2 });
  r.setServers([ns.address]);
  let next = 0;
  const t0 = performance.now();
  await Promise.all(Array.from({ length: k }, async () => { while (next < N) await r.resolve4(names[next++]); }));
  line(`plain loop: resolve4, ${k} in flight`, N, performance.now() - t0);
}
async function filterRun(body, events, label) {
  const f = await createPlugin(dns, `nameserver => "${ns.address}" resolve => ["host"] action => "replace" ${body}`, makeContext());
  const run = async (evs) => {
    const out = [];
    const emit = (e) => void out.push(e);
    const t0 = performance.now();
    for (const host of evs) {
      const e = new Event({ host });
      f.filter(e, emit);
      if (!e.cancelled) out.push(e);
    }
    while (out.length < evs.length) {
      await new Promise((r) => setImmediate(r));
      f.flush(emit, false);
    }
    const ms = performance.now() - t0;
    if (out[0].get('host') !== addr(1) && out[0].get('host') !== addr(Number(evs[0].slice(1, -5)))) throw new Error('not resolved: ' + out[0].get('host'));
    return ms;
  };
  return { f, run };
}

await loopSerial();
await loopConcurrent(100);
{
  const { f, run } = await filterRun(process.env.BODY ?? '', null);
  line('filter, no cache, first run (resolver thread starting)', N, await run(names));
  line('filter, no cache: every event a lookup (100 in flight)', N, await run(names));
  await f.close();
}
{
  const { f, run } = await filterRun(`hit_cache_size => ${N}`, null);
  await run(names); // warm
  const M = 500_000;
  const evs = Array.from({ length: M }, (_, i) => names[i % N]);
  line('filter, warm hit cache: every event answered from it', M, await run(evs));
  await f.close();
}
{
  const base = await createPlugin(dns, 'resolve => []', makeContext());
  const M = 500_000;
  const t0 = performance.now();
  for (let i = 0; i < M; i++) base.filter(new Event({ host: names[i % N] }), () => {});
  line('floor: the same events through a dns filter with no fields', M, performance.now() - t0);
  await base.close();
}
await ns.stop();
