import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { SystemClock, VirtualClock } from '../src/plugin/clock.js';
import { Spool, SPOOL_FORMAT_VERSION } from '../src/spool/spool.js';
import { DeliveryLoop } from '../src/spool/delivery.js';
import { MetricsRegistry } from '../src/plugin/metrics.js';
import { tempDir } from './helpers.js';
import { mountTmpfs } from '../src/testing.js';

describe('spool on disk', () => {
  it('carries its format version and refuses a newer one', () => {
    const t = tempDir();
    try {
      const path = join(t.dir, 's.sqlite');
      new Spool({ path, clock: new VirtualClock() }).close();
      const db = new Database(path);
      assert.equal(db.pragma('user_version', { simple: true }), SPOOL_FORMAT_VERSION);
      db.pragma('user_version = 99');
      db.close();
      assert.throws(() => new Spool({ path, clock: new VirtualClock() }), /spool format 99 is newer/);
    } finally {
      t.cleanup();
    }
  });

  it('requeues dead letters at the end of the queue, once', () => {
    const t = tempDir();
    try {
      const spool = new Spool({ path: join(t.dir, 's.sqlite'), clock: new VirtualClock() });
      spool.add([{ payload: 'a' }, { payload: 'b' }]);
      const [a] = spool.head(1);
      spool.deadLetter(a!, '403', 'refused');
      assert.deepEqual(spool.deadLetters().map((d) => d.payload), ['a']);
      assert.equal(spool.requeueDead(), 1);
      assert.equal(spool.deadLetters().length, 0);
      assert.deepEqual(spool.head(10).map((i) => i.payload), ['b', 'a']);
      assert.equal(spool.requeueDead(), 0);
      spool.close();
    } finally {
      t.cleanup();
    }
  });

  it('Spool.open on a disk too full to create it waits (logged with the path) and opens once space returns', async () => {
    const fs = mountTmpfs('4m');
    try {
      fs.fill();
      const errors: Record<string, unknown>[] = [];
      const logger = { error: (o: Record<string, unknown>) => errors.push(o), warn: () => {}, info: () => {} } as never;
      const path = join(fs.dir, 'spool', 'alerta-x.sqlite');
      let opened: Spool | undefined;
      const opening = Spool.open({ path, clock: new SystemClock(), logger, what: 'alerta spool' }).then((s) => (opened = s));
      while (errors.length === 0) await new Promise((r) => setTimeout(r, 20));
      assert.equal(errors[0]!.path, path);
      assert.equal(opened, undefined, 'still waiting');
      fs.free();
      await opening;
      assert.equal(opened!.add([{ payload: 'first' }]).added, 1);
      opened!.close();
    } finally {
      fs.cleanup();
    }
  });
});

describe('delivery: a reachable destination slower than its source', () => {
  it('over the size cap, enqueue waits for deliveries instead of evicting: every message arrives, in order, none dropped', async () => {
    const t = tempDir();
    try {
      const clock = new SystemClock();
      const spool = new Spool({ path: join(t.dir, 's.sqlite'), clock, maxBytes: 2_000 });
      const metrics = new MetricsRegistry();
      const sent: string[] = [];
      const loop = new DeliveryLoop({
        spool,
        clock,
        logger: { error: () => {}, warn: () => {}, info: () => {}, debug: () => {} } as never,
        metrics,
        retry: { initialMs: 10, maxMs: 100, maxAttempts: 3 },
        // a destination that answers, slowly
        send: async (item) => {
          await new Promise((r) => setTimeout(r, 2));
          sent.push(item.payload);
          return { kind: 'delivered' };
        },
      });
      let held = 0;
      let maxBytes = 0;
      for (let b = 0; b < 40; b++) {
        const batch = Array.from({ length: 10 }, (_, i) => ({ payload: `message-${String(b * 10 + i).padStart(4, '0')}-${'x'.repeat(40)}` }));
        const r = loop.enqueue(batch);
        if (r !== undefined) {
          held++;
          await r;
        }
        maxBytes = Math.max(maxBytes, spool.bytes);
      }
      while (spool.depth > 0) await new Promise((r) => setTimeout(r, 5));
      await loop.whenIdle();
      assert.ok(held > 0, 'the source was held back');
      assert.equal(sent.length, 400, 'every message delivered');
      assert.deepEqual(sent, [...sent].sort(), 'in order');
      assert.equal(loop.counters.dropped.value, 0, 'nothing evicted');
      assert.ok(maxBytes <= 2_000 + 10 * 60, `the spool stayed within its cap plus one batch (${maxBytes} bytes)`);
      await loop.close();
    } finally {
      t.cleanup();
    }
  });
});
