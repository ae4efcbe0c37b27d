import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import pino from 'pino';
import { Event } from '../src/event/event.js';
import { PersistedQueue } from '../src/runtime/persisted-queue.js';
import { setDeliveryCallback } from '../src/runtime/queue.js';
import { loadPipeline } from '../src/runtime/load.js';
import { DEFAULT_SETTINGS, mergeSettings } from '../src/runtime/settings.js';
import { FIXTURES, REPO_ROOT, tempDir } from './helpers.js';
import { mountTmpfs } from '../src/testing.js';

const open = (dir: string, over: Partial<ConstructorParameters<typeof PersistedQueue>[0]> = {}) =>
  new PersistedQueue({ dir, maxBytes: 1 << 30, maxEvents: Number.MAX_SAFE_INTEGER, checkpointWrites: 1024, batchSize: 10, ...over });

describe('persisted queue', () => {
  it('keeps events until their batch is acknowledged, across a reopen', async () => {
    const t = tempDir();
    try {
      const q1 = open(t.dir);
      for (let i = 0; i < 25; i++) q1.push(new Event({ message: `m${i}`, n: i, nested: { a: [1, 2] } }));
      const first = (await q1.take(10, 0))!;
      assert.deepEqual(first.map((e) => e.fields.n), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
      q1.ack(first);
      const second = (await q1.take(10, 0))!; // taken, never acknowledged: a crash before delivery
      assert.equal(second.length, 10);
      q1.dispose();

      const q2 = open(t.dir);
      assert.equal(q2.recovered, 15, 'unacknowledged events are still there');
      const again = (await q2.take(100, 0))!;
      assert.deepEqual(again.map((e) => e.fields.n), [10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24]);
      assert.deepEqual(again[0]!.fields.nested, { a: [1, 2] });
      assert.equal(again[0]!.timestamp.ms > 0, true);
      q2.ack(again);
      q2.dispose();
      assert.equal(open(t.dir).recovered, 0);
    } finally {
      t.cleanup();
    }
  });

  it('reports itself full at queue.max_bytes and writable again after acks', async () => {
    const t = tempDir();
    try {
      const q = open(t.dir, { maxBytes: 2000 });
      let pushed = 0;
      while (q.writable) {
        q.push(new Event({ message: 'x'.repeat(100) }));
        pushed++;
      }
      assert.ok(pushed > 5 && pushed < 20, `stopped at ${pushed}`);
      let released = false;
      void q.whenWritable().then(() => (released = true));
      const b = (await q.take(pushed, 0))!;
      q.ack(b);
      await new Promise((r) => setImmediate(r));
      assert.equal(released, true);
      q.dispose();
    } finally {
      t.cleanup();
    }
  });

  it('refuses a queue written by a newer format', async () => {
    const t = tempDir();
    try {
      const q = open(t.dir);
      q.dispose();
      const Database = (await import('better-sqlite3')).default;
      const db = new Database(join(t.dir, 'queue.sqlite'));
      db.prepare("UPDATE meta SET value = '99' WHERE key = 'format_version'").run();
      db.close();
      assert.throws(() => open(t.dir), /queue format 99 is newer/);
    } finally {
      t.cleanup();
    }
  });

  it('a pipeline with queue.type persisted delivers what a previous run left behind', async () => {
    const t = tempDir();
    try {
      // leave 30 events on disk, as a crashed run would
      const q = open(join(t.dir, 'queue', 'main'));
      for (let i = 0; i < 30; i++) q.push(new Event({ message: `left-${i}` }));
      await q.take(5, 0); // in flight at the crash
      q.dispose();
      (globalThis as { __slowReceived?: number }).__slowReceived = 0;
      const settings = mergeSettings(DEFAULT_SETTINGS, {
        'config.string': 'input { generator { count => 10 } } output { slow { delay_ms => 0 } }',
        'path.data': t.dir,
        'path.plugins': [join(FIXTURES, 'plugins')],
        'queue.type': 'persisted',
      });
      const p = await loadPipeline({ settings, workingDir: REPO_ROOT, logger: pino({ level: 'silent' }) });
      p.start();
      await p.done;
      assert.equal((globalThis as { __slowReceived?: number }).__slowReceived, 40);
      assert.equal(open(join(t.dir, 'queue', 'main')).recovered, 0, 'nothing left after a clean run');
    } finally {
      t.cleanup();
    }
  });

  describe('on a full disk (a real 1 MiB tmpfs)', () => {
    const captured = () => {
      const lines: Record<string, unknown>[] = [];
      const logger = pino({ level: 'info' }, { write: (l: string) => void lines.push(JSON.parse(l) as Record<string, unknown>) });
      return { logger, lines };
    };
    const pad = 'x'.repeat(300);

    it('stops accepting instead of throwing, keeps what it had, and resumes by itself when space returns', async () => {
      const fs = mountTmpfs('1m');
      try {
        const log = captured();
        const q = open(join(fs.dir, 'q'), { logger: log.logger, reserveBytes: 0 });
        for (let i = 0; i < 10; i++) q.push(new Event({ message: `before-${i}`, n: i }));
        const inFlight = (await q.take(5, 0))!; // taken before the disk fills, acknowledged after
        fs.fill();
        let delivered = 0;
        for (const e of inFlight) setDeliveryCallback(e, () => delivered++);
        q.ack(inFlight); // the deletion cannot be written: deferred, the batch still counts as delivered
        assert.equal(delivered, 5);
        assert.equal(q.writable, false, 'a full disk stops the inputs');
        // what an input still hands over (the rest of the chunk it was decoding) is kept in memory
        for (let i = 10; i < 1010; i++) q.push(new Event({ message: `after-${i}`, n: i, pad }));
        await new Promise((r) => setImmediate(r));
        assert.equal(q.writable, false);
        assert.equal(q.size, 5, 'workers see only what is on disk (5 taken before), not what waits in memory');
        const errors = log.lines.filter((l) => /persisted queue: the disk is full/.test(String(l.msg)));
        assert.equal(errors.length, 1, 'logged once');
        assert.equal(errors[0]!.path, join(fs.dir, 'q'));
        assert.equal(typeof errors[0]!.free_bytes, 'number');

        let released = false;
        const writable = q.whenWritable().then(() => (released = true));
        await new Promise((r) => setTimeout(r, 300));
        assert.equal(released, false, 'still waiting while the disk is full');
        fs.free();
        await writable;
        assert.ok(log.lines.some((l) => /the disk has room again/.test(String(l.msg))));
        const rest: number[] = [];
        for (;;) {
          const b = (await q.take(500, 0))!;
          if (b.length === 0) break;
          rest.push(...b.map((e) => e.fields.n as number));
          q.ack(b);
          if (b.length < 500) break;
        }
        assert.deepEqual(rest.slice(0, 5), [5, 6, 7, 8, 9]);
        const after = rest.slice(5);
        assert.deepEqual(after, Array.from({ length: 1000 }, (_, i) => 10 + i), 'nothing pushed while full was dropped, order kept');
        q.dispose();
        assert.equal(open(join(fs.dir, 'q')).recovered, 0, 'the deferred deletions went through too');
      } finally {
        fs.cleanup();
      }
    });

    it('opened on a full disk, it waits (logging) instead of throwing, then runs when space returns', async () => {
      const fs = mountTmpfs('1m');
      try {
        fs.fill();
        const log = captured();
        const q = open(join(fs.dir, 'q'), { logger: log.logger, reserveBytes: 0 });
        assert.equal(q.writable, false);
        assert.ok(log.lines.some((l) => /persisted queue: the disk is full/.test(String(l.msg)) && l.path === join(fs.dir, 'q')));
        q.push(new Event({ message: 'early' }));
        fs.free();
        await q.whenWritable();
        q.push(new Event({ message: 'late' }));
        const b = (await q.take(10, 0))!;
        assert.deepEqual(b.map((e) => e.fields.message), ['early', 'late']);
        q.ack(b);
        q.dispose();
      } finally {
        fs.cleanup();
      }
    });

    it('a queue that filled its disk itself resumes once deliveries free room, with no one freeing space', async () => {
      const fs = mountTmpfs('24m');
      try {
        const log = captured();
        const q = open(join(fs.dir, 'q'), { logger: log.logger, checkpointWrites: 1024 });
        let n = 0;
        // the outputs are stalled: the queue grows until it stops at the disk's reserve
        while (q.writable && n < 500_000) {
          for (let k = 0; k < 500; k++) q.push(new Event({ message: `m${n}`, n: n++, pad }));
          await new Promise((r) => setImmediate(r));
        }
        assert.equal(q.writable, false, `stopped at ${n} events`);
        assert.ok(log.lines.some((l) => /persisted queue: the disk is full/.test(String(l.msg))));
        // the outputs come back: delivering frees pages inside the database, and the queue goes on
        const writable = q.whenWritable();
        let got = 0;
        let next = 0;
        while (q.size > 0) {
          const b = (await q.take(1000, 0))!;
          for (const e of b) assert.equal(e.fields.n, next++);
          got += b.length;
          q.ack(b);
        }
        await writable;
        q.push(new Event({ message: 'after', n: n++ }));
        const rest = (await q.take(1_000_000, 0))!;
        for (const e of rest) assert.equal(e.fields.n, next++);
        assert.equal(got + rest.length, n, 'every event, in order');
        q.ack(rest);
        q.dispose();
      } finally {
        fs.cleanup();
      }
    });
  });
});
