/**
 * The dns filter's options against real name servers on loopback: dnsmasq answering from a hosts
 * file, and a tiny responder of the test's for answers that come late, on the nth try, or never.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { createSocket } from 'node:dgram';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import { Event } from '@pipeline/core';
import { createPlugin, makeContext, optionsFromConfig } from '@pipeline/core/testing';
import dns from '../src/index.js';
import { arpaName, candidates } from '../src/config.js';
import { closeFilter, through } from './helpers.js';
import { startDnsmasq, startTinyDns, type Dnsmasq } from './servers.js';

const HOSTS = [
  '192.0.2.10 web1.test',
  '192.0.2.11 web2.test',
  '2001:db8::10 web6.test',
  '198.51.100.7 mail.test',
  '192.0.2.20 xn--bcher-kva.test',
].join('\n');

let ns: Dnsmasq;
before(async () => {
  ns = await startDnsmasq(HOSTS);
});
after(async () => {
  await ns?.stop();
});

/** A filter on dnsmasq; closed after the test. */
async function dnsFilter(body: string, ctx = makeContext()) {
  const f = await createPlugin(dns, `nameserver => { address => ["${ns.address}"] } ${body}`, ctx);
  return { f, ctx };
}

describe('dns: resolve and reverse', () => {
  it('resolve appends the address by default: the field becomes [name, address]', async () => {
    const { f } = await dnsFilter('resolve => ["host"]');
    const [e] = await through(f, [{ host: 'web1.test' }]);
    assert.deepEqual(e!.get('host'), ['web1.test', '192.0.2.10']);
    assert.equal(e!.tags.length, 0);
    await closeFilter(f);
  });

  it('action => replace puts the answer in place of the value; a one-element array stays an array', async () => {
    const { f } = await dnsFilter('resolve => ["host", "[dst][name]"] action => "replace"');
    const [e] = await through(f, [{ host: 'web2.test', dst: { name: ['mail.test'] } }]);
    assert.equal(e!.get('host'), '192.0.2.11');
    assert.deepEqual(e!.get('[dst][name]'), ['198.51.100.7']);
    await closeFilter(f);
  });

  it('append to a one-element array adds the answer to it', async () => {
    const { f } = await dnsFilter('reverse => ["ip"]');
    const [e] = await through(f, [{ ip: ['192.0.2.10'] }]);
    assert.deepEqual(e!.get('ip'), ['192.0.2.10', 'web1.test']);
    await closeFilter(f);
  });

  it('reverse looks up PTR for IPv4 and IPv6; a punycode answer comes back in Unicode', async () => {
    const { f } = await dnsFilter('reverse => ["a", "b", "c"] action => "replace"');
    const [e] = await through(f, [{ a: '198.51.100.7', b: '2001:db8::10', c: '192.0.2.20' }]);
    assert.deepEqual([e!.get('a'), e!.get('b'), e!.get('c')], ['mail.test', 'web6.test', 'bücher.test']);
    await closeFilter(f);
  });

  it('resolve: A first, AAAA when the name has no A record; an IDN name is asked in punycode; an address stays itself', async () => {
    const { f } = await dnsFilter('resolve => ["a", "b", "c"] action => "replace"');
    const [e] = await through(f, [{ a: 'web6.test', b: 'bücher.test', c: '192.0.2.99' }]);
    assert.deepEqual([e!.get('a'), e!.get('b'), e!.get('c')], ['2001:db8::10', '192.0.2.20', '192.0.2.99']);
    await closeFilter(f);
  });

  it('add_tag applies only when every lookup succeeded; a name that does not exist leaves the event as it was, untagged', async () => {
    const { f } = await dnsFilter('resolve => ["host"] action => "replace" add_tag => ["resolved"]');
    const [ok, nx] = await through(f, [{ host: 'web1.test' }, { host: 'nosuch.test' }]);
    assert.equal(ok!.get('host'), '192.0.2.10');
    assert.deepEqual(ok!.tags, ['resolved']);
    assert.equal(nx!.get('host'), 'nosuch.test');
    assert.deepEqual(nx!.tags, []);
    await closeFilter(f);
  });

  it('fields in order, as Logstash: a missing field is skipped, the first failure ends the event (later fields untouched)', async () => {
    const { f } = await dnsFilter('resolve => ["missing", "a", "b", "c"] action => "replace" add_tag => ["resolved"]');
    const [e] = await through(f, [{ a: 'web1.test', b: 'nosuch.test', c: 'web2.test' }]);
    assert.equal(e!.get('a'), '192.0.2.10');
    assert.equal(e!.get('b'), 'nosuch.test');
    assert.equal(e!.get('c'), 'web2.test', 'after the failure nothing is written');
    assert.deepEqual(e!.tags, []);
    await closeFilter(f);
  });

  it('a value that cannot be looked up ends the event: several values, a number, a non-address for reverse', async () => {
    const { f } = await dnsFilter('reverse => ["ip"] resolve => ["host"] action => "replace" add_tag => ["resolved"]');
    const out = await through(f, [
      { host: 'web1.test', ip: ['192.0.2.10', '192.0.2.11'] },
      { host: 'web1.test', ip: 42 },
      { host: 'web1.test', ip: 'web2.test' },
      { host: ['web1.test', 'web2.test'], ip: '192.0.2.10' },
    ]);
    // resolve fields run first: host is written, then ip stops the event
    assert.deepEqual(out.map((e) => e.get('host')), ['192.0.2.10', '192.0.2.10', '192.0.2.10', ['web1.test', 'web2.test']]);
    assert.deepEqual(out.map((e) => e.get('ip')), [['192.0.2.10', '192.0.2.11'], 42, 'web2.test', '192.0.2.10']);
    for (const e of out) assert.deepEqual(e.tags, []);
    await closeFilter(f);
  });

  it('events come out in the order they went in, whether answered from the cache or the server', async () => {
    const { f } = await dnsFilter('resolve => ["host"] action => "replace" hit_cache_size => 10');
    await through(f, [{ host: 'web1.test' }]); // web1 cached now
    const names = ['web1.test', 'web2.test', 'web1.test', 'mail.test', 'nosuch.test', 'web1.test', 'web6.test', 'web1.test'];
    const out = await through(f, names.map((host, seq) => ({ host, seq })));
    assert.deepEqual(out.map((e) => e.get('seq')), names.map((_, i) => i));
    assert.deepEqual(out.map((e) => e.get('host')), ['192.0.2.10', '192.0.2.11', '192.0.2.10', '198.51.100.7', 'nosuch.test', '192.0.2.10', '2001:db8::10', '192.0.2.10']);
    await closeFilter(f);
  });
});

describe('dns: caches (on the virtual clock)', () => {
  it('hit cache: the answer is kept for hit_cache_ttl, then asked again; without the cache every event asks', async () => {
    await ns.setHosts(HOSTS);
    const cached = await dnsFilter('resolve => ["host"] action => "replace" hit_cache_size => 100 hit_cache_ttl => 30');
    const plain = await dnsFilter('resolve => ["host"] action => "replace"');
    const ask = async (f: typeof cached.f) => (await through(f, [{ host: 'web1.test' }]))[0]!.get('host');
    assert.equal(await ask(cached.f), '192.0.2.10');
    assert.equal(await ask(plain.f), '192.0.2.10');
    await ns.setHosts(HOSTS.replace('192.0.2.10 web1.test', '192.0.2.110 web1.test'));
    assert.equal(await ask(plain.f), '192.0.2.110', 'no cache: the server is asked');
    assert.equal(await ask(cached.f), '192.0.2.10', 'cached');
    cached.ctx.clock.advance(29_000);
    assert.equal(await ask(cached.f), '192.0.2.10', 'still within the TTL');
    cached.ctx.clock.advance(1_000);
    assert.equal(await ask(cached.f), '192.0.2.110', 'expired: asked again');
    assert.equal(cached.ctx.metrics.counter('cache_hits').value, 2);
    await closeFilter(cached.f);
    await closeFilter(plain.f);
    await ns.setHosts(HOSTS);
  });

  it('hit cache size: the least recently used answer is evicted', async () => {
    await ns.setHosts(HOSTS);
    const { f } = await dnsFilter('resolve => ["host"] action => "replace" hit_cache_size => 2');
    const ask = async (host: string) => (await through(f, [{ host }]))[0]!.get('host');
    await ask('web1.test');
    await ask('web2.test');
    await ask('web1.test'); // web1 most recently used
    await ask('mail.test'); // evicts web2
    await ns.setHosts(HOSTS.replace('192.0.2.10 web1', '192.0.2.110 web1').replace('192.0.2.11 web2', '192.0.2.111 web2'));
    assert.equal(await ask('web1.test'), '192.0.2.10', 'kept');
    assert.equal(await ask('web2.test'), '192.0.2.111', 'evicted: asked again');
    await closeFilter(f);
    await ns.setHosts(HOSTS);
  });

  it('failed cache: a name that failed is not asked again for failed_cache_ttl', async () => {
    await ns.setHosts(HOSTS);
    const { f, ctx } = await dnsFilter('resolve => ["host"] action => "replace" failed_cache_size => 10 failed_cache_ttl => 5');
    const ask = async () => (await through(f, [{ host: 'late.test' }]))[0]!.get('host');
    assert.equal(await ask(), 'late.test');
    await ns.setHosts(HOSTS + '\n192.0.2.30 late.test');
    assert.equal(await ask(), 'late.test', 'the failure is remembered');
    ctx.clock.advance(5_000);
    assert.equal(await ask(), '192.0.2.30', 'expired: asked again');
    await closeFilter(f);
    await ns.setHosts(HOSTS);
  });

  it('resolve and reverse keep separate entries: an address resolved is itself, reversed is a name', async () => {
    const { f } = await dnsFilter('resolve => ["a"] reverse => ["b"] action => "replace" hit_cache_size => 10');
    const out = await through(f, [{ a: '192.0.2.10', b: '192.0.2.10' }, { a: '192.0.2.10', b: '192.0.2.10' }]);
    for (const e of out) assert.deepEqual([e.get('a'), e.get('b')], ['192.0.2.10', 'web1.test']);
    await closeFilter(f);
  });
});

describe('dns: timeouts, retries, concurrency', () => {
  it('max_retries: a lookup that times out is tried again; answered on the third attempt it succeeds', async () => {
    const tiny = await startTinyDns((q, nth) => (nth < 3 ? { drop: true } : { answer: '192.0.2.77' }));
    const f = await createPlugin(dns, `nameserver => "${tiny.address}" resolve => ["host"] action => "replace" timeout => 0.2 max_retries => 2`);
    const [e] = await through(f, [{ host: 'flaky.example' }]);
    assert.equal(e!.get('host'), '192.0.2.77');
    assert.deepEqual(e!.tags, []);
    assert.equal(tiny.queries('flaky.example'), 3, 'three attempts');
    await closeFilter(f);
    await tiny.close();
  });

  it('every attempt timed out: tag_on_timeout, the field as it was, no add_tag; max_retries => 1 asks twice', async () => {
    const tiny = await startTinyDns(() => ({ drop: true }));
    const f = await createPlugin(dns, `nameserver => ["${tiny.address}"] resolve => ["host"] timeout => 0.1 max_retries => 1 add_tag => ["resolved"]`);
    const [e] = await through(f, [{ host: 'never.example' }]);
    assert.equal(e!.get('host'), 'never.example');
    assert.deepEqual(e!.tags, ['_dnstimeout']);
    assert.equal(tiny.queries('never.example'), 2, 'two attempts');
    await closeFilter(f);
    await tiny.close();
  });

  it('tag_on_timeout names the tags; a timeout enters the failed cache, whose later hits are not tagged (as Logstash)', async () => {
    const tiny = await startTinyDns(() => ({ drop: true }));
    const f = await createPlugin(dns, `nameserver => "${tiny.address}" reverse => ["ip"] timeout => 0.1 max_retries => 0 tag_on_timeout => ["slow_dns", "x"] failed_cache_size => 5`);
    const [a, b] = await through(f, [{ ip: '203.0.113.9' }]).then(async (first) => [...first, ...(await through(f, [{ ip: '203.0.113.9' }]))]);
    assert.deepEqual(a!.tags, ['slow_dns', 'x']);
    assert.deepEqual(b!.tags, []);
    assert.equal(b!.get('ip'), '203.0.113.9');
    assert.equal(tiny.queries('9.113.0.203.in-addr.arpa'), 1, 'the second event was answered by the failed cache');
    await closeFilter(f);
    await tiny.close();
  });

  it('lookups run concurrently, at most max_concurrent_lookups at once; the answers keep the events in order', async () => {
    const tiny = await startTinyDns((q) => ({ answer: '192.0.2.' + q.name.split('.')[0]!.slice(1), delayMs: 60 }));
    const f = await createPlugin(dns, `nameserver => "${tiny.address}" resolve => ["host"] action => "replace" max_concurrent_lookups => 5`);
    const events = Array.from({ length: 30 }, (_, i) => ({ host: `h${i + 1}.example`, seq: i }));
    const out = await through(f, events);
    assert.deepEqual(out.map((e) => e.get('seq')), events.map((e) => e.seq));
    assert.deepEqual(out.map((e) => e.get('host')), events.map((_, i) => `192.0.2.${i + 1}`));
    assert.equal(tiny.maxOutstanding, 5, `at most 5 at once, and 5 were (saw ${tiny.maxOutstanding})`);
    await closeFilter(f);
    await tiny.close();
  });

  it('the same name asked by several held events is one query', async () => {
    const tiny = await startTinyDns(() => ({ answer: '192.0.2.5', delayMs: 30 }));
    const f = await createPlugin(dns, `nameserver => "${tiny.address}" resolve => ["a", "b"] action => "replace"`);
    const out = await through(f, [{ a: 'same.example', b: 'same.example' }, { a: 'same.example' }]);
    assert.deepEqual(out.map((e) => [e.get('a'), e.get('b')]), [['192.0.2.5', '192.0.2.5'], ['192.0.2.5', undefined]]);
    assert.equal(tiny.queries('same.example'), 1);
    await closeFilter(f);
    await tiny.close();
  });

  it('max_held_events: past it the oldest held event goes on at once, its unanswered lookup counted as timed out', async () => {
    const tiny = await startTinyDns(() => ({ drop: true }));
    const f = await createPlugin(dns, `nameserver => "${tiny.address}" resolve => ["host"] timeout => 5 max_retries => 0 max_held_events => 3`);
    const out: Event[] = [];
    const emit = (e: Event) => void out.push(e);
    for (let i = 0; i < 5; i++) {
      const e = new Event({ host: `n${i}.example`, seq: i });
      f.filter(e, emit);
      assert.equal(e.cancelled, true);
    }
    // no time has passed: two were let go to keep three held
    assert.deepEqual(out.map((e) => e.get('seq')), [0, 1]);
    for (const e of out) {
      assert.deepEqual(e.tags, ['_dnstimeout']);
      assert.equal(e.cancelled, false);
    }
    await closeFilter(f);
    await tiny.close();
  });

  it('the final flush waits for the answers owed, then lets every held event go', async () => {
    // the flush blocks this thread, so the servers live elsewhere: a dnsmasq whose never.test zone goes to a socket that never reads
    const hole = createSocket('udp4');
    await new Promise<void>((resolve) => hole.bind(0, '127.0.0.1', () => resolve()));
    const ns2 = await startDnsmasq(HOSTS, [`/never.test/127.0.0.1#${hole.address().port}`]);
    const f = await createPlugin(dns, `nameserver => "${ns2.address}" resolve => ["host"] reverse => ["ip"] action => "replace" timeout => 0.3 max_retries => 0`);
    const out: Event[] = [];
    const emit = (e: Event) => void out.push(e);
    for (const host of ['web1.test', 'x.never.test', 'web2.test']) f.filter(new Event({ host, ip: '198.51.100.7' }), emit);
    assert.equal(out.length, 0);
    // as the pipeline does when it stops: no event-loop turn between the last batch and the final flush
    f.flush!(emit, true);
    assert.deepEqual(out.map((e) => [e.get('host'), e.get('ip')]), [['192.0.2.10', 'mail.test'], ['x.never.test', '198.51.100.7'], ['192.0.2.11', 'mail.test']]);
    assert.deepEqual(out.map((e) => e.tags), [[], ['_dnstimeout'], []]);
    await closeFilter(f);
    await ns2.stop();
    hole.close();
  });

  it('a name server that refuses the connection: retried, then the event goes on untouched and untagged', async () => {
    const tiny = await startTinyDns(() => ({ drop: true }));
    const port = tiny.port;
    await tiny.close(); // nothing listens there now
    const ctx = makeContext();
    const f = await createPlugin(dns, `nameserver => "127.0.0.1:${port}" resolve => ["host"] timeout => 0.2 max_retries => 1 failed_cache_size => 10`, ctx);
    const [e] = await through(f, [{ host: 'web1.test' }]);
    assert.equal(e!.get('host'), 'web1.test');
    assert.deepEqual(e!.tags, []);
    assert.equal(ctx.metrics.counter('failures').value, 1);
    // as Logstash (a SocketError is not cached): the next event asks again
    await through(f, [{ host: 'web1.test' }]);
    assert.equal(ctx.metrics.counter('lookups').value, 2);
    await closeFilter(f);
  });
});

describe('dns: nameserver, hosts files and the system resolver', () => {
  it('nameserver as a string, an array, or a hash; search domains apply to names with fewer dots than ndots', async () => {
    for (const ns1 of [`"${ns.address}"`, `["${ns.address}"]`, `{ address => "${ns.address}" }`]) {
      const f = await createPlugin(dns, `nameserver => ${ns1} resolve => ["host"] action => "replace"`);
      assert.equal((await through(f, [{ host: 'web1.test' }]))[0]!.get('host'), '192.0.2.10', ns1);
      await closeFilter(f);
    }
    const f = await createPlugin(dns, `nameserver => { address => ["${ns.address}"] search => ["nowhere.test", "test"] } resolve => ["host"] action => "replace"`);
    const out = await through(f, [{ host: 'web1' }, { host: 'web2.test' }]);
    assert.deepEqual(out.map((e) => e.get('host')), ['192.0.2.10', '192.0.2.11']);
    await closeFilter(f);
    const g = await createPlugin(dns, `nameserver => { address => ["${ns.address}"] search => ["test"] ndots => 2 } resolve => ["host"] action => "replace"`);
    // one dot, below ndots 2: the search domain comes first (mail.test.test is NXDOMAIN), then the name itself
    assert.equal((await through(g, [{ host: 'mail.test' }]))[0]!.get('host'), '198.51.100.7');
    await closeFilter(g);
  });

  it('refuses a malformed nameserver at load', () => {
    const bad = [
      ['"not-an-ip"', /not an IP address/],
      ['"127.0.0.1:0"', /port must be 1-65535/],
      ['{ search => ["x"] }', /must include 'address'/],
      ['{ address => [] }', /cannot be empty/],
      ['{ address => "127.0.0.1" search => ["a","b","c","d","e","f","g"] }', /at most 6/],
      ['{ address => "127.0.0.1" ndots => 0 }', /ndots/],
      ['{ address => "127.0.0.1" port => 53 }', /unknown key/],
    ] as const;
    for (const [value, re] of bad) {
      const opts = optionsFromConfig(dns, `nameserver => ${value} resolve => ["h"]`);
      assert.throws(() => dns.check!(opts as never, { resolvePath: (p) => p }), re, value);
    }
    const ok = optionsFromConfig(dns, 'nameserver => ["127.0.0.1:5353", "[::1]:5353", "::1", "192.0.2.1"]');
    assert.doesNotThrow(() => dns.check!(ok as never, { resolvePath: (p) => p }));
  });

  it('hostsfile: read before DNS; given without nameserver, only the hosts files answer (Logstash)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dns-hosts-'));
    const file = join(dir, 'hosts');
    writeFileSync(file, '# own\n192.0.2.200 web1.test alias1\n2001:db8::200 only6.test\n');
    const both = await createPlugin(dns, `hostsfile => ["${file}"] nameserver => "${ns.address}" resolve => ["a", "b", "c"] reverse => ["d"] action => "replace"`);
    const [e] = await through(both, [{ a: 'web1.test', b: 'ALIAS1', c: 'web2.test', d: '192.0.2.200' }]);
    assert.deepEqual([e!.get('a'), e!.get('b'), e!.get('c'), e!.get('d')], ['192.0.2.200', '192.0.2.200', '192.0.2.11', 'web1.test']);
    await closeFilter(both);
    const ctx = makeContext();
    const only = await createPlugin(dns, `hostsfile => ["${file}"] resolve => ["a", "b"] action => "replace"`, ctx);
    const [g] = await through(only, [{ a: 'only6.test', b: 'web2.test' }]);
    assert.deepEqual([g!.get('a'), g!.get('b')], ['2001:db8::200', 'web2.test']);
    assert.equal(ctx.metrics.counter('lookups').value, 0, 'no DNS lookup at all');
    await closeFilter(only);
    assert.throws(() => dns.check!(optionsFromConfig(dns, `hostsfile => ["${join(dir, 'missing')}"]`) as never, { resolvePath: (p) => p }), /cannot read hosts file/);
    rmSync(dir, { recursive: true, force: true });
  });

  it('no nameserver: the system resolver, its servers from /etc/resolv.conf, and /etc/hosts', async () => {
    const lines: string[] = [];
    const logger = pino({ level: 'info' }, new Writable({ write: (c, _e, cb) => (lines.push(String(c)), cb()) }));
    const ctx = makeContext({ logger });
    const f = await createPlugin(dns, 'resolve => ["host"] action => "replace"', ctx);
    const rc = readFileSync('/etc/resolv.conf', 'utf8');
    const servers = [...rc.matchAll(/^\s*nameserver\s+(\S+)/gm)].map((m) => m[1]!);
    const info = lines.map((l) => JSON.parse(l)).find((r) => r.msg === 'dns resolver');
    assert.deepEqual(info.servers, servers.slice(0, 3));
    const hosts = readFileSync('/etc/hosts', 'utf8');
    if (/^127\.0\.0\.1\s+(.*\s)?localhost(\s|$)/m.test(hosts)) {
      const [e] = await through(f, [{ host: 'localhost' }]);
      assert.equal(e!.get('host'), '127.0.0.1');
    }
    await closeFilter(f);
  });
});

describe('dns: names', () => {
  it('PTR names of IPv4 and IPv6 addresses (compressed, with an embedded IPv4)', () => {
    assert.equal(arpaName('203.0.113.9'), '9.113.0.203.in-addr.arpa');
    assert.equal(arpaName('2001:db8::10'), '0.1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa');
    assert.equal(arpaName('::ffff:192.0.2.1'), '1.0.2.0.0.0.0.c.f.f.f.f.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa');
  });
  it('search candidates as Ruby Resolv: enough dots first as is, else the search domains first; a trailing dot is absolute', () => {
    assert.deepEqual(candidates('web1', ['a.test', 'b.test'], 1), ['web1.a.test', 'web1.b.test', 'web1']);
    assert.deepEqual(candidates('web1.x', ['a.test'], 1), ['web1.x', 'web1.x.a.test']);
    assert.deepEqual(candidates('web1.x', ['a.test'], 2), ['web1.x.a.test', 'web1.x']);
    assert.deepEqual(candidates('web1.', ['a.test'], 1), ['web1']);
  });
});
