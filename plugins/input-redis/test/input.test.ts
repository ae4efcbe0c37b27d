import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { Event, type OutputInstance } from '@pipeline/core';
import { createPlugin } from '@pipeline/core/testing';
import output, { partitionOf } from '@pipeline/output-redis';
import { startRedis, type RedisServer } from '@pipeline/output-redis/testing';
import input from '../src/index.js';
import { jsonContext, RecordingSink, running, seqs, TrackingSink, until } from './helpers.js';

const here = dirname(fileURLToPath(import.meta.url));
const events = (n: number, from = 0, extra: (i: number) => Record<string, unknown> = () => ({})) =>
  Array.from({ length: n }, (_, i) => new Event({ message: `m${from + i}`, seq: from + i, ...extra(from + i) }));
const range = (n: number, from = 0) => Array.from({ length: n }, (_, i) => from + i);
const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);

describe('redis input', () => {
  let server: RedisServer;
  let r: Redis;
  const outputs: OutputInstance[] = [];
  const ship = async (body: string, batch: Event[]) => {
    const o = await createPlugin(output, `host => "127.0.0.1:${server.port}" ${body}`, jsonContext());
    outputs.push(o);
    await o.receive(batch);
  };
  const contexts: ReturnType<typeof jsonContext>[] = [];
  const open = (body: string, ctx = jsonContext()) => {
    contexts.push(ctx);
    return createPlugin(input, `host => "127.0.0.1" port => ${server.port} ${body}`, ctx);
  };
  const pending = async (stream: string, group = 'pipeline') => Number(((await r.xpending(stream, group)) as [number])[0]);

  before(async () => {
    server = await startRedis();
    r = new Redis({ port: server.port, host: '127.0.0.1' });
  });
  after(async () => {
    for (const c of contexts) c.abort.abort(); // the pipeline stopped: inputs let go of what was never delivered
    for (const o of outputs) await o.close?.();
    r.disconnect();
    await server.stop();
  });

  it('list: round trip from the output, in order, batch_count at a time', async () => {
    await ship('data_type => "list" key => "l1"', events(500));
    const sink = new RecordingSink();
    const run = running(await open('data_type => "list" key => "l1" batch_count => 40'), sink);
    await until(() => sink.events.length === 500, '500 events');
    await run.stop();
    assert.deepEqual(seqs(sink.events), range(500));
    assert.equal(sink.events[0]!.fields.message, 'm0');
    assert.equal(await r.llen('l1'), 0);
  });

  it('list: reads nothing while the sink is full, then everything', async () => {
    const sink = new RecordingSink();
    sink.writable = false;
    const run = running(await open('data_type => "list" key => "l2" threads => 2'), sink);
    await ship('data_type => "list" key => "l2"', events(100));
    await new Promise((res) => setTimeout(res, 100)); // give a reader that ignored back-pressure time to pop
    assert.equal(await r.llen('l2'), 100, 'nothing popped while not writable');
    sink.writable = true;
    await until(() => sink.events.length === 100, '100 events');
    await run.stop();
    assert.deepEqual(sorted(seqs(sink.events)), range(100));
  });

  it('channel and pattern_channel: round trip with [@metadata][redis_channel]', async () => {
    const sink = new RecordingSink();
    const psink = new RecordingSink();
    const run = running(await open('data_type => "channel" key => "c1"'), sink);
    const prun = running(await open('data_type => "pattern_channel" key => "c*"'), psink);
    await until(async () => Number((await r.pubsub('NUMSUB', 'c1'))[1]) === 1 && Number(await r.pubsub('NUMPAT')) === 1, 'subscriptions');
    await ship('data_type => "channel" key => "c1"', events(20));
    await until(() => sink.events.length === 20 && psink.events.length === 20, 'messages');
    await run.stop();
    await prun.stop();
    assert.deepEqual(seqs(sink.events), range(20));
    assert.deepEqual(seqs(psink.events), range(20));
    assert.equal(sink.events[0]!.metadata.redis_channel, 'c1');
    assert.equal(psink.events[0]!.metadata.redis_channel, 'c1');
  });

  it('stream: round trip through a consumer group, acknowledged after push when the sink cannot track delivery', async () => {
    await ship('data_type => "stream" key => "s1"', events(300));
    const sink = new RecordingSink();
    const run = running(await open('data_type => "stream" key => "s1" consumer => "a" batch_count => 64'), sink);
    await until(() => sink.events.length === 300, '300 events');
    await until(async () => (await pending('s1')) === 0, 'all acknowledged');
    await run.stop();
    assert.deepEqual(seqs(sink.events), range(300));
  });

  it('stream: acknowledges an entry only once the tracking sink reports its events delivered', async () => {
    await ship('data_type => "stream" key => "s2"', events(100));
    const sink = new TrackingSink();
    const run = running(await open('data_type => "stream" key => "s2" consumer => "a" batch_count => 10'), sink);
    await until(() => sink.events.length === 100, '100 events');
    assert.equal(await pending('s2'), 100, 'nothing acknowledged before delivery');
    sink.deliver(35); // three whole read batches of 10, and half of the fourth
    await until(async () => (await pending('s2')) === 70, 'three batches acknowledged');
    await new Promise((res) => setTimeout(res, 30));
    assert.equal(await pending('s2'), 70, 'a batch is acknowledged only when all of it is delivered');
    sink.deliver();
    await until(async () => (await pending('s2')) === 0, 'the rest acknowledged');
    await run.stop();
  });

  it('stream: a consumer killed before acknowledging loses nothing; another claims its pending entries', async () => {
    await ship('data_type => "stream" key => "s3"', events(300));
    const child = spawn(process.execPath, [join(here, 'doomed-consumer.js'), String(server.port), 's3', 'doomed'], { stdio: ['ignore', 'pipe', 'inherit'] });
    let held = 0;
    child.stdout.on('data', (d: Buffer) => (held = Number(d.toString().trim().split('\n').pop())));
    await until(() => held === 300, 'the doomed consumer to hold all 300', 20_000);
    child.kill('SIGKILL');
    await new Promise((res) => child.once('exit', res));
    assert.equal(await pending('s3'), 300, 'all 300 pending for the dead consumer');

    // a second indexer, started after the crash, claims them at start; a third one, already running
    // when the first died, would claim them on its next pass (next test)
    const sink = new TrackingSink();
    sink.autoDeliver = true;
    const run = running(await open('data_type => "stream" key => "s3" consumer => "survivor" claim_min_idle_ms => 0'), sink);
    await until(() => sink.events.length >= 300, 'claimed events');
    await until(async () => (await pending('s3')) === 0, 'claimed entries acknowledged');
    await run.stop();
    assert.deepEqual(sorted(seqs(sink.events)), range(300));
    const consumers = (await r.xinfo('CONSUMERS', 's3', 'pipeline')) as unknown[][];
    assert.ok(consumers.some((c) => c.includes('doomed')));
  });

  it('stream: a running consumer claims a dead one\'s entries on its periodic pass (pipeline clock)', async () => {
    await r.xgroup('CREATE', 's4', 'pipeline', '0', 'MKSTREAM');
    const ctx = jsonContext();
    const sink = new TrackingSink();
    sink.autoDeliver = true;
    const run = running(await open('data_type => "stream" key => "s4" consumer => "watcher" claim_min_idle_ms => 50 block_ms => 50', ctx), sink);
    // the watcher reads nothing yet: the doomed consumer starts reading first only because the
    // stream is empty until it runs, then the events arrive and both race for them
    await until(async () => ((await r.xinfo('CONSUMERS', 's4', 'pipeline')) as unknown[]).length === 1, 'watcher registered');
    const child = spawn(process.execPath, [join(here, 'doomed-consumer.js'), String(server.port), 's4', 'doomed'], { stdio: ['ignore', 'pipe', 'inherit'] });
    let held = 0;
    child.stdout.on('data', (d: Buffer) => (held = Number(d.toString().trim().split('\n').pop())));
    await until(async () => ((await r.xinfo('CONSUMERS', 's4', 'pipeline')) as unknown[]).length === 2, 'doomed registered');
    await ship('data_type => "stream" key => "s4"', events(400));
    await until(() => held + sink.events.length >= 400, 'all 400 read by one or the other', 20_000);
    child.kill('SIGKILL');
    await new Promise((res) => child.once('exit', res));
    const orphaned = await pending('s4');
    // wait for Redis to see the orphans idle past claim_min_idle_ms, then move the watcher's clock
    await until(async () => {
      const rows = (await r.xpending('s4', 'pipeline', 'IDLE', 50, '-', '+', 1000, 'doomed')) as unknown[];
      return rows.length === orphaned;
    }, 'orphans idle');
    ctx.clock.advance(100);
    await until(async () => (await pending('s4')) === 0, 'orphans claimed and acknowledged');
    await run.stop();
    assert.deepEqual(sorted([...new Set(seqs(sink.events))]), range(400));
  });

  it('stream: owned_partitions route each host to exactly one indexer', async () => {
    const hosts = range(30).map((i) => `host-${i}`);
    await ship('data_type => "stream" key => "p" partition_key => "%{host}" partitions => 3', events(600, 0, (i) => ({ host: hosts[i % 30] })));
    const a = new RecordingSink();
    const b = new RecordingSink();
    const ra = running(await open('data_type => "stream" key => "p" partitions => 3 owned_partitions => [0] consumer => "a"'), a);
    const rb = running(await open('data_type => "stream" key => "p" partitions => 3 owned_partitions => [1, 2] consumer => "b"'), b);
    await until(() => a.events.length + b.events.length === 600, '600 events');
    await ra.stop();
    await rb.stop();
    const hostsOf = (s: RecordingSink) => new Set(s.events.map((e) => e.fields.host as string));
    const ha = hostsOf(a);
    const hb = hostsOf(b);
    for (const h of ha) assert.ok(!hb.has(h), `${h} reached both indexers`);
    for (const h of ha) assert.equal(partitionOf(h, 3), 0);
    for (const h of hb) assert.notEqual(partitionOf(h, 3), 0);
    assert.equal(ha.size + hb.size, 30);
    assert.deepEqual(sorted([...seqs(a.events), ...seqs(b.events)]), range(600));
    // order within one host is kept
    for (const s of [a, b]) {
      const last = new Map<string, number>();
      for (const e of s.events) {
        const h = e.fields.host as string;
        assert.ok((last.get(h) ?? -1) < (e.fields.seq as number));
        last.set(h, e.fields.seq as number);
      }
    }
  });

  it('stream: a consumer restarted under its name re-reads its own pending entries at once', async () => {
    await ship('data_type => "stream" key => "s5"', events(50));
    const first = new TrackingSink();
    const run1 = running(await open('data_type => "stream" key => "s5" consumer => "fixed"'), first);
    await until(() => first.events.length === 50, 'first read');
    await run1.stop(); // stopped without delivering: entries stay pending under "fixed"
    const second = new TrackingSink();
    second.autoDeliver = true;
    const run2 = running(await open('data_type => "stream" key => "s5" consumer => "fixed"'), second);
    await until(() => second.events.length === 50, 'history re-read');
    await until(async () => (await pending('s5')) === 0, 'acknowledged');
    await run2.stop();
    assert.deepEqual(seqs(second.events), range(50));
  });

  it('refuses partition options without streams and impossible owned partitions', async () => {
    await assert.rejects(open('data_type => "list" key => "k" partitions => 2'), /need data_type => "stream"/);
    await assert.rejects(open('data_type => "stream" key => "k" partitions => 2 owned_partitions => [2]'), /not a partition number/);
    await assert.rejects(open('data_type => "stream" key => "k" owned_partitions => [0]'), /needs partitions > 1/);
  });
});
