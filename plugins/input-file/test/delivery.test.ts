/**
 * The sincedb records delivered offsets, not read offsets: real files, the real plugin, and a sink
 * that keeps each event's delivery callback until the test delivers it (in any order), as the
 * runtime's queue does when batches finish out of order.
 */
import assert from 'node:assert/strict';
import { appendFileSync, existsSync, mkdirSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { Event, InputInstance, InputSink } from '@pipeline/core';
import { createPlugin, makeContext, type TestContext } from '@pipeline/core/testing';
import { tempDir, waitFor } from '@pipeline/net/testing';
import lineCodec from '@pipeline/codec-line';
import jsonCodec from '@pipeline/codec-json';
import file from '../src/index.js';
import { DeliveryTracker, Outstanding, SEGMENT_LINES } from '../src/delivery.js';

let tmp: ReturnType<typeof tempDir>;
let logs: string;
beforeEach(() => {
  tmp = tempDir('pipeline-file-delivery-');
  logs = join(tmp.dir, 'logs');
  mkdirSync(logs);
});
afterEach(() => tmp.cleanup());

interface DeliverySink extends InputSink {
  readonly events: Event[];
  readonly callbacks: (() => void)[];
  /** Delivers events [from, to) (their callbacks run once). */
  deliver(from: number, to?: number): void;
  messages(): string[];
}

function deliverySink(): DeliverySink {
  const events: Event[] = [];
  const callbacks: (() => void)[] = [];
  const done = new Set<number>();
  return {
    tracksDelivery: true,
    events,
    callbacks,
    push(e, onDelivered) {
      events.push(e);
      callbacks.push(onDelivered ?? (() => {}));
    },
    writable: true,
    whenWritable: () => Promise.resolve(),
    deliver(from, to = from + 1) {
      for (let i = from; i < to; i++) {
        if (done.has(i)) continue;
        done.add(i);
        callbacks[i]!();
      }
    },
    messages: () => events.map((e) => e.get('message') as string),
  };
}

interface Running {
  input: InputInstance;
  ctx: TestContext;
  sink: DeliverySink;
  running: Promise<void>;
  metric(name: string): number;
  stop(): Promise<void>;
}

async function run(config: string, db: string, codec: Parameters<typeof makeContext>[0] = {}): Promise<Running> {
  const ctx = makeContext({ dataDir: join(tmp.dir, 'data'), ...codec });
  const input = await createPlugin(file, `${config} sincedb_path => "${db}"`, ctx);
  const sink = deliverySink();
  const running = input.run(sink);
  const metric = (name: string) => (ctx.metrics.snapshot()[name] as number | undefined) ?? 0;
  await waitFor(() => metric('scans') > 0, 'the first scan');
  return {
    input,
    ctx,
    sink,
    running,
    metric,
    async stop() {
      await input.stop();
      await running;
    },
  };
}

/** The offset the sincedb file on disk records for its only file. */
function savedOffset(db: string): number | undefined {
  if (!existsSync(db)) return undefined;
  const rows = readFileSync(db, 'utf8').split('\n').slice(1).filter(Boolean);
  assert.equal(rows.length, 1, 'one file in the sincedb');
  return Number(rows[0]!.split('\t')[2]);
}

/** Byte offset just after line `n` (0-based) of a file of `line-i` lines. */
function offsetAfter(n: number): number {
  let o = 0;
  for (let i = 0; i <= n; i++) o += `line-${i}\n`.length;
  return o;
}

function numbered(from: number, to: number): string {
  let s = '';
  for (let i = from; i < to; i++) s += `line-${i}\n`;
  return s;
}

describe('file input: delivered offsets', () => {
  it('a line the codec makes several events of (line with its delimiter) counts as delivered once all of them are; one it makes none of (a blank line, json) at once', async () => {
    const log = join(logs, 'a.log');
    const db = join(tmp.dir, 'since');
    writeFileSync(log, 'a|b|c\nd\n');
    const r = await run(`path => "${log}" start_position => beginning sincedb_write_interval => 1 sincedb_write_lines => 0`, db, { codecDef: lineCodec, codecOptions: { delimiter: '|' } });
    try {
      assert.deepEqual(r.sink.messages(), ['a', 'b', 'c', 'd']);
      assert.ok(r.sink.events.every((e) => e.get('path') === log));
      r.sink.deliver(0, 2);
      r.sink.deliver(3);
      r.ctx.clock.advance(1000);
      assert.equal(savedOffset(db), 0, 'c, from the first line, is not delivered: the offset stays before that line');
      r.sink.deliver(2);
      r.ctx.clock.advance(1000);
      assert.equal(savedOffset(db), 'a|b|c\nd\n'.length, 'all delivered: the end of the file');
    } finally {
      await r.stop();
    }
    const log2 = join(logs, 'b.json');
    const db2 = join(tmp.dir, 'since2');
    writeFileSync(log2, '{"message":"x","n":1}\n\n{"message":"y"}\n');
    const r2 = await run(`path => "${log2}" start_position => beginning sincedb_write_interval => 1 sincedb_write_lines => 0`, db2, { codecDef: jsonCodec });
    try {
      assert.deepEqual(r2.sink.messages(), ['x', 'y']);
      assert.equal(r2.sink.events[0]!.get('n'), 1);
      r2.sink.deliver(0, 2);
      r2.ctx.clock.advance(1000);
      assert.equal(savedOffset(db2), '{"message":"x","n":1}\n\n{"message":"y"}\n'.length, 'the blank line between them does not hold the offset back');
    } finally {
      await r2.stop();
    }
  });

  it('the sincedb records only delivered lines; out-of-order deliveries move it to the highest contiguous line', async () => {
    const log = join(logs, 'a.log');
    const db = join(tmp.dir, 'since');
    writeFileSync(log, numbered(0, 1000));
    const r = await run(`path => "${log}" start_position => beginning sincedb_write_interval => 1 sincedb_write_lines => 0`, db);
    try {
      assert.equal(r.sink.events.length, 1000, 'the file was read whole');
      r.ctx.clock.advance(1000);
      assert.equal(savedOffset(db), 0, 'nothing delivered yet: offset 0, although 1000 lines were read');
      // later lines first, as when a later batch went only to a fast output
      r.sink.deliver(500, 1000);
      r.sink.deliver(0, 100);
      r.ctx.clock.advance(1000);
      const expect = Math.floor(100 / SEGMENT_LINES) * SEGMENT_LINES - 1; // line 63 ends the last whole delivered segment
      assert.equal(savedOffset(db), offsetAfter(expect), 'up to the first undelivered line, never past it');
      r.sink.deliver(100, 500);
      r.ctx.clock.advance(1000);
      assert.equal(savedOffset(db), offsetAfter(999), 'every line delivered: the end of the file');
    } finally {
      await r.stop();
    }
  });

  it('a restart after a crash re-reads exactly the lines not delivered', async () => {
    const log = join(logs, 'a.log');
    const db = join(tmp.dir, 'since');
    writeFileSync(log, numbered(0, 300));
    let r = await run(`path => "${log}" start_position => beginning sincedb_write_interval => 1`, db);
    r.sink.deliver(0, 128); // two whole segments
    r.ctx.clock.advance(1000);
    // a crash: the sincedb on disk is all that survives
    const crashed = readFileSync(db);
    r.sink.deliver(128, 300);
    await r.stop();
    writeFileSync(db, crashed);
    r = await run(`path => "${log}" start_position => beginning sincedb_write_interval => 1`, db);
    try {
      assert.deepEqual(r.sink.messages(), numbered(128, 300).trimEnd().split('\n'));
    } finally {
      r.sink.deliver(0, r.sink.events.length);
      await r.stop();
    }
  });

  it('sincedb_write_lines writes the sincedb as deliveries go, without waiting for the interval', async () => {
    const log = join(logs, 'a.log');
    const db = join(tmp.dir, 'since');
    writeFileSync(log, numbered(0, 2000));
    const r = await run(`path => "${log}" start_position => beginning sincedb_write_lines => 500`, db);
    try {
      r.sink.deliver(0, 400);
      assert.equal(savedOffset(db), undefined, 'fewer than 500 lines delivered: not written yet');
      r.sink.deliver(400, 640);
      // the first segment boundary at or past 500 lines: 8 × 64
      assert.equal(savedOffset(db), offsetAfter(8 * SEGMENT_LINES - 1), 'written once 500 lines were delivered (no clock tick)');
      assert.equal(r.metric('sincedb_writes'), 1);
    } finally {
      r.sink.deliver(0, r.sink.events.length);
      await r.stop();
    }
  });

  it('stop waits for the lines read to be delivered, then records the end', async () => {
    const log = join(logs, 'a.log');
    const db = join(tmp.dir, 'since');
    writeFileSync(log, numbered(0, 100));
    const r = await run(`path => "${log}" start_position => beginning`, db);
    await r.input.stop();
    let stopped = false;
    void r.running.then(() => (stopped = true));
    await new Promise((res) => setTimeout(res, 50));
    assert.equal(stopped, false, 'run() waits while lines are undelivered');
    r.sink.deliver(0, 100);
    await r.running;
    assert.equal(savedOffset(db), offsetAfter(99));
  });

  it('stop gives up waiting when deliveries stall (an output that cannot write), keeping the delivered offset', async () => {
    const log = join(logs, 'a.log');
    const db = join(tmp.dir, 'since');
    writeFileSync(log, numbered(0, 100));
    const r = await run(`path => "${log}" start_position => beginning`, db);
    r.sink.deliver(0, 64);
    await r.input.stop();
    await new Promise((res) => setTimeout(res, 20));
    r.ctx.clock.advance(5000);
    await r.running;
    assert.equal(savedOffset(db), offsetAfter(63), 'the lines never confirmed will be read again');
  });

  it('read mode deletes a file only once all its lines are delivered', async () => {
    const log = join(logs, 'a.log');
    const db = join(tmp.dir, 'since');
    writeFileSync(log, numbered(0, 10) + 'last without newline');
    const r = await run(`path => "${logs}/*.log" mode => read discover_interval => 1`, db);
    try {
      assert.equal(r.sink.events.length, 11);
      r.ctx.clock.advance(1000);
      await waitFor(() => r.metric('scans') > 1, 'another scan');
      assert.ok(existsSync(log), 'not deleted while lines are undelivered');
      r.sink.deliver(0, 11);
      assert.ok(!existsSync(log), 'deleted once delivered');
      assert.equal(r.metric('files_completed'), 1);
    } finally {
      await r.stop();
    }
  });

  it('lines of a truncated file delivered late do not move the offset of its new content', async () => {
    const log = join(logs, 'a.log');
    const db = join(tmp.dir, 'since');
    writeFileSync(log, numbered(0, 200));
    const r = await run(`path => "${log}" start_position => beginning sincedb_write_interval => 1`, db);
    try {
      truncateSync(log, 0);
      appendFileSync(log, 'new-0\nnew-1\n');
      r.ctx.clock.advance(1000);
      await waitFor(() => r.sink.events.length === 202, 'the new content');
      assert.equal(r.metric('truncations'), 1);
      r.sink.deliver(0, 200); // the old content's lines
      r.ctx.clock.advance(1000);
      assert.equal(savedOffset(db), 0, 'the old lines say nothing about the new content');
      r.sink.deliver(200, 202);
      r.ctx.clock.advance(1000);
      assert.equal(savedOffset(db), 'new-0\nnew-1\n'.length);
    } finally {
      await r.stop();
    }
  });

  it('an oversize line skipped in part: the offset moves past its end, and a restart does not emit its rest', async () => {
    const log = join(logs, 'a.log');
    const db = join(tmp.dir, 'since');
    const long = 'x'.repeat(200_000);
    writeFileSync(log, `before\n${long}\nafter\n`);
    const config = `path => "${log}" start_position => beginning max_line_bytes => 1000 sincedb_write_interval => 1`;
    let r = await run(config, db);
    assert.deepEqual(
      r.sink.messages().map((m) => m.slice(0, 10)),
      ['before', 'xxxxxxxxxx', 'after'],
    );
    r.sink.deliver(0, 3);
    await r.stop();
    assert.equal(savedOffset(db), readFileSync(log).length);
    appendFileSync(log, 'next\n');
    r = await run(config, db);
    try {
      assert.deepEqual(r.sink.messages(), ['next']);
    } finally {
      r.sink.deliver(0, 1);
      await r.stop();
    }
  });

  it('a long catch-up read yields to the event loop between chunks (timers run while it reads)', async () => {
    const log = join(logs, 'a.log');
    const db = join(tmp.dir, 'since');
    writeFileSync(log, numbered(0, 300_000));
    const ctx = makeContext({ dataDir: join(tmp.dir, 'data') });
    const input = await createPlugin(file, `path => "${log}" start_position => beginning sincedb_path => "${db}"`, ctx);
    const sink = deliverySink();
    let seenByTimer = -1;
    setTimeout(() => (seenByTimer = sink.events.length), 0);
    const running = input.run(sink);
    await waitFor(() => sink.events.length === 300_000, 'the whole file');
    assert.ok(seenByTimer >= 0 && seenByTimer < 300_000, `a timer ran during the read (after ${seenByTimer} lines)`);
    await input.stop();
    sink.deliver(0, sink.events.length);
    await running;
  });
});

describe('DeliveryTracker', () => {
  it('moves over segments only when they and all before them are delivered', () => {
    const moved: number[] = [];
    const out = new Outstanding();
    const t = new DeliveryTracker(10, Buffer.alloc(0), out, (n) => moved.push(n));
    const cbs: (() => void)[] = [];
    for (let i = 0; i < 3; i++) {
      cbs.push(t.add(true)!, t.add(true)!);
      t.seal(20 + i * 10, Buffer.from(String(i)));
    }
    assert.equal(out.count, 6);
    cbs[4]!();
    cbs[5]!();
    cbs[2]!();
    assert.equal(t.watermark, 10, 'the first segment is still out');
    cbs[3]!();
    cbs[0]!();
    assert.equal(t.watermark, 10);
    cbs[1]!();
    assert.equal(t.watermark, 40, 'all three at once');
    assert.equal(t.tail.toString(), '2');
    assert.deepEqual(moved, [6]);
    assert.equal(out.count, 0);
    assert.ok(t.idle);
  });

  it('an open segment holds the watermark until sealed, even if its lines were delivered', () => {
    const t = new DeliveryTracker(0, Buffer.alloc(0), new Outstanding(), () => {});
    t.add(true)!();
    assert.equal(t.watermark, 0);
    assert.equal(t.idle, false);
    t.seal(5, Buffer.from('x'));
    assert.equal(t.watermark, 5);
    t.seal(9, Buffer.from('y')); // bytes skipped without a line
    assert.equal(t.watermark, 9);
  });

  it('after detach, late deliveries move nothing but are still counted as done', () => {
    const out = new Outstanding();
    const t = new DeliveryTracker(0, Buffer.alloc(0), out, () => assert.fail('moved after detach'));
    const cb = t.add(true)!;
    t.seal(5, Buffer.alloc(0));
    t.detach();
    cb();
    assert.equal(t.watermark, 0);
    assert.equal(out.count, 0);
  });
});
