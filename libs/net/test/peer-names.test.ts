import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import net from 'node:net';
import { describe, it } from 'node:test';
import { makeContext, VirtualClock } from '@pipeline/core/testing';
import { PeerNames, systemPeerName } from '../src/peer-names.js';
import { StreamServer } from '../src/stream-server.js';
import { recordingSink, waitFor } from '../src/testing.js';

/** A resolver the test answers by hand, counting the lookups. */
function manual() {
  const asked: string[] = [];
  const answers = new Map<string, (name: string | undefined) => void>();
  return {
    asked,
    answer: (ip: string, name: string | undefined) => answers.get(ip)!(name),
    resolve: (ip: string) => {
      asked.push(ip);
      return new Promise<string | undefined>((r) => answers.set(ip, r));
    },
  };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('PeerNames', () => {
  it('the system resolver names 127.0.0.1 as /etc/hosts does (getnameinfo, confirmed forward); an unnamed address gets none', async () => {
    // what getent (nsswitch: files, then dns) says is what the input says
    const getent = execFileSync('getent', ['hosts', '127.0.0.1'], { encoding: 'utf8' }).trim().split(/\s+/)[1];
    assert.equal(await systemPeerName('127.0.0.1'), getent);
    assert.equal(getent, 'localhost', 'Debian (and CI) name 127.0.0.1 localhost in /etc/hosts');
    // TEST-NET-1 has no PTR records
    assert.equal(await systemPeerName('192.0.2.77'), undefined);
  });

  it('looks an address up once: later connections get the cached name at once until the TTL, fallbacks for a shorter one', async () => {
    const clock = new VirtualClock();
    const r = manual();
    const names = new PeerNames({ clock, resolve: r.resolve, ttlMs: 1000, negativeTtlMs: 100 });
    const first = names.name('10.0.0.1');
    const same = names.name('10.0.0.1'); // while it runs: the same lookup
    assert.ok(first instanceof Promise && same instanceof Promise);
    r.answer('10.0.0.1', 'web1.lan');
    assert.equal(await first, 'web1.lan');
    assert.equal(await same, 'web1.lan');
    assert.equal(names.name('10.0.0.1'), 'web1.lan', 'from the cache, synchronously');
    assert.deepEqual(r.asked, ['10.0.0.1']);
    clock.advance(1001);
    const again = names.name('10.0.0.1');
    assert.ok(again instanceof Promise, 'expired: asked again');
    r.answer('10.0.0.1', undefined);
    assert.equal(await again, '10.0.0.1', 'no name: the address');
    assert.equal(names.name('10.0.0.1'), '10.0.0.1', 'the fallback is cached too');
    clock.advance(101);
    assert.ok(names.name('10.0.0.1') instanceof Promise, 'for negativeTtlMs only');
  });

  it('gives the address after the timeout; the late answer fills the cache', async () => {
    const clock = new VirtualClock();
    const r = manual();
    const names = new PeerNames({ clock, resolve: r.resolve, timeoutMs: 2000 });
    const p = names.name('10.0.0.2') as Promise<string>;
    let got: string | undefined;
    void p.then((n) => (got = n));
    clock.advance(1999);
    await tick();
    assert.equal(got, undefined, 'still waiting within the timeout');
    clock.advance(1);
    await tick();
    assert.equal(got, '10.0.0.2');
    r.answer('10.0.0.2', 'slow.lan');
    await tick();
    assert.equal(names.name('10.0.0.2'), 'slow.lan');
  });

  it('is bounded: least recently used entries go, and at most maxInFlight lookups run (others get the address)', async () => {
    const clock = new VirtualClock();
    const r = manual();
    const names = new PeerNames({ clock, resolve: r.resolve, maxEntries: 2, maxInFlight: 2 });
    const a = names.name('10.0.0.1');
    const b = names.name('10.0.0.2');
    assert.equal(names.name('10.0.0.3'), '10.0.0.3', 'a third lookup at once is not started');
    r.answer('10.0.0.1', 'a');
    r.answer('10.0.0.2', 'b');
    await Promise.all([a, b]);
    assert.equal(names.name('10.0.0.1'), 'a'); // a is now the most recent
    const c = names.name('10.0.0.3');
    r.answer('10.0.0.3', 'c');
    await c;
    assert.equal(names.size, 2);
    assert.equal(names.name('10.0.0.1'), 'a', 'kept: used recently');
    assert.ok(names.name('10.0.0.2') instanceof Promise, 'b was the least recently used: dropped');
    assert.deepEqual(r.asked, ['10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.2']);
  });
});

describe('StreamServer with peer names', () => {
  it("does not read a connection until its peer is named: every event of it carries the name, in order, nothing lost", async () => {
    const ctx = makeContext();
    const r = manual();
    const names = new PeerNames({ clock: ctx.clock, resolve: r.resolve });
    const got: { host: string; ip: string; line: string }[] = [];
    const server = new StreamServer({
      host: '127.0.0.1',
      port: 0,
      maxConnections: 10,
      idleTimeoutMs: 0,
      keepAlive: false,
      logger: ctx.logger,
      metrics: ctx.metrics,
      clock: ctx.clock,
      names,
      open: (peer) => ({
        data: (chunk) => {
          for (const line of chunk.toString().split('\n').filter(Boolean)) got.push({ host: peer.host, ip: peer.ip, line });
        },
        end: () => {},
      }),
    });
    await server.listen(recordingSink());
    try {
      const s = net.connect({ host: '127.0.0.1', port: server.port });
      await new Promise<void>((ok) => s.once('connect', () => ok()));
      await new Promise<void>((ok) => s.end('one\ntwo\n', () => ok()));
      await waitFor(() => r.asked.length === 1, 'the lookup');
      await new Promise((ok) => setTimeout(ok, 50));
      assert.deepEqual(got, [], 'nothing read while the name is looked up');
      r.answer('127.0.0.1', 'named.test');
      await waitFor(() => got.length === 2, 'both lines');
      assert.deepEqual(got, [
        { host: 'named.test', ip: '127.0.0.1', line: 'one' },
        { host: 'named.test', ip: '127.0.0.1', line: 'two' },
      ]);
      await waitFor(() => server.connectionCount === 0, 'the connection to close');
    } finally {
      await server.close();
    }
  });
});
