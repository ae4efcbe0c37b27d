import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { Event, type OutputInstance } from '@pipeline/core';
import { createPlugin } from '@pipeline/core/testing';
import output, { fnv1a32, partitionOf } from '../src/index.js';
import { startRedis, type RedisServer } from '../src/testing.js';
import { jsonContext, until } from './helpers.js';

const events = (n: number, from = 0, extra: (i: number) => Record<string, unknown> = () => ({})) =>
  Array.from({ length: n }, (_, i) => new Event({ message: `m${from + i}`, seq: from + i, ...extra(from + i) }));

describe('redis output', () => {
  let server: RedisServer;
  let r: Redis;
  const opened: OutputInstance[] = [];
  const open = async (body: string, ctx = jsonContext()) => {
    const o = await createPlugin(output, `host => "127.0.0.1:${server.port}" ${body}`, ctx);
    opened.push(o);
    return o;
  };

  before(async () => {
    server = await startRedis();
    r = new Redis({ port: server.port, host: '127.0.0.1', lazyConnect: true });
    r.on('error', () => {});
    await r.connect();
  });
  after(async () => {
    for (const o of opened) await o.close?.();
    r.disconnect();
    await server.stop();
  });

  it('RPUSHes JSON events to a list named by sprintf, in order', async () => {
    const o = await open('data_type => "list" key => "logs-%{kind}"');
    await o.receive(events(10, 0, (i) => ({ kind: i % 2 ? 'odd' : 'even' })));
    const odd = (await r.lrange('logs-odd', 0, -1)).map((s) => JSON.parse(s));
    const even = (await r.lrange('logs-even', 0, -1)).map((s) => JSON.parse(s));
    assert.deepEqual(odd.map((e) => e.seq), [1, 3, 5, 7, 9]);
    assert.deepEqual(even.map((e) => e.seq), [0, 2, 4, 6, 8]);
    assert.equal(typeof odd[0]['@timestamp'], 'string');
    assert.equal(odd[0].message, 'm1');
  });

  it('PUBLISHes to a channel', async () => {
    const sub = new Redis({ port: server.port, host: '127.0.0.1' });
    const got: string[] = [];
    await sub.subscribe('chan');
    sub.on('message', (_c, m) => got.push(m));
    const o = await open('data_type => "channel" key => "chan"');
    await o.receive(events(5));
    await until(() => got.length === 5, 'five messages');
    assert.deepEqual(got.map((m) => JSON.parse(m).seq), [0, 1, 2, 3, 4]);
    sub.disconnect();
  });

  it('FNV-1a matches the reference vectors', () => {
    assert.equal(fnv1a32(''), 0x811c9dc5);
    assert.equal(fnv1a32('a'), 0xe40c292c);
    assert.equal(fnv1a32('foobar'), 0xbf9cf968);
    // hashed as UTF-8 bytes (values from a byte-wise FNV-1a): c3 a9, and a surrogate pair f0 9f 98 80
    assert.equal(fnv1a32('\u00e9'), 0x1e9de8c1);
    assert.equal(fnv1a32('\u{1F600}'), 0x33a29608);
  });

  it('routes stream entries to key:N by the hash of partition_key, every host to one partition', async () => {
    const o = await open('data_type => "stream" key => "part" partition_key => "%{host}" partitions => 4');
    const hosts = Array.from({ length: 12 }, (_, i) => `10.0.0.${i}`);
    await o.receive(events(120, 0, (i) => ({ host: hosts[i % 12] })));
    let total = 0;
    const seenIn = new Map<string, Set<number>>();
    for (let p = 0; p < 4; p++) {
      const entries = await r.xrange(`part:${p}`, '-', '+');
      total += entries.length;
      let last = -1;
      for (const [, fields] of entries) {
        assert.equal(fields[0], 'event');
        const e = JSON.parse(fields[1]!);
        assert.ok(e.seq > last, 'order kept within a partition');
        last = e.seq;
        assert.equal(partitionOf(e.host, 4), p);
        if (!seenIn.has(e.host)) seenIn.set(e.host, new Set());
        seenIn.get(e.host)!.add(p);
      }
    }
    assert.equal(total, 120);
    for (const [h, ps] of seenIn) assert.equal(ps.size, 1, `${h} in one partition`);
    assert.ok(new Set([...seenIn.values()].map((s) => [...s][0])).size > 1, 'hosts spread over partitions');
    assert.equal(await r.exists('part'), 0, 'no unpartitioned stream');
  });

  it('bounds a stream with MAXLEN ~', async () => {
    const o = await open('data_type => "stream" key => "bounded" max_len => 100');
    for (let b = 0; b < 20; b++) await o.receive(events(100, b * 100));
    const len = await r.xlen('bounded');
    assert.ok(len >= 100 && len < 400, `approximate trim kept ${len}`);
    const [[, last]] = (await r.xrevrange('bounded', '+', '-', 'COUNT', 1)) as [string, string[]][];
    assert.equal(JSON.parse(last![1]!).seq, 1999);
  });

  it('waits while a list is over congestion_threshold, then sends', async () => {
    const ctx = jsonContext();
    const o = await open('data_type => "list" key => "busy" congestion_threshold => 5 congestion_interval => 1', ctx);
    await r.rpush('busy', 'a', 'b', 'c', 'd', 'e', 'f', 'g');
    let done = false;
    const p = Promise.resolve(o.receive(events(3))).then(() => (done = true));
    await until(async () => (await r.llen('busy')) === 7, 'first check');
    ctx.clock.advance(1000);
    await new Promise((res) => setTimeout(res, 50));
    assert.equal(done, false, 'still waiting while the list is long');
    await r.ltrim('busy', 7, -1); // a consumer took everything
    await until(() => {
      ctx.clock.advance(1000);
      return done;
    }, 'receive after room');
    await p;
    assert.deepEqual((await r.lrange('busy', 0, -1)).map((s) => JSON.parse(s).seq), [0, 1, 2]);
  });

  it('waits through a Redis outage and delivers everything when it returns', async () => {
    const ctx = jsonContext();
    const o = await open('data_type => "list" key => "outage" reconnect_interval => 0.5', ctx);
    await o.receive(events(50, 0));
    assert.equal(await r.llen('outage'), 50);
    await server.kill();
    let done = false;
    const pending = Promise.resolve(o.receive(events(50, 50))).then(() => (done = true));
    // several reconnect attempts fail while Redis is away; receive() keeps waiting
    for (let i = 0; i < 5; i++) {
      await new Promise((res) => setTimeout(res, 20));
      ctx.clock.advance(30_000);
    }
    assert.equal(done, false, 'receive waits while Redis is down');
    await server.restart();
    await r.connect().catch(() => {});
    await until(() => {
      ctx.clock.advance(30_000);
      return done;
    }, 'receive to finish after Redis returns');
    await pending;
    await o.receive(events(50, 100));
    // the restarted Redis kept nothing (no persistence): exactly what was sent after it came back
    const seqs = (await r.lrange('outage', 0, -1)).map((s) => JSON.parse(s).seq);
    assert.deepEqual(seqs, Array.from({ length: 100 }, (_, i) => 50 + i));
  });

  it('refuses configurations Logstash refuses, and partitioning without a stream', async () => {
    await assert.rejects(createPlugin(output, 'data_type => "list" key => "k" partitions => 2 partition_key => "%{host}"', jsonContext()), /need data_type => "stream"/);
    await assert.rejects(createPlugin(output, 'data_type => "stream" key => "k" partitions => 2', jsonContext()), /needs a partition_key/);
    await assert.rejects(createPlugin(output, 'data_type => "channel" key => "k" batch => true', jsonContext()), /batch is not supported/);
    await assert.rejects(createPlugin(output, 'data_type => "queue" key => "k"', jsonContext()), /must be one of/);
  });
});
