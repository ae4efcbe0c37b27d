import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { Event } from '../src/event/event.js';
import { PersistedQueue } from '../src/runtime/persisted-queue.js';
import { MemoryQueue } from '../src/runtime/queue.js';
import { tempDir } from './helpers.js';

/** Rows another connection sees in the queue's database: what a crash now would leave. */
const rowsOnDisk = (dir: string) => {
  const db = new Database(join(dir, 'queue.sqlite'), { readonly: true });
  try {
    return (db.prepare('SELECT count(*) AS n FROM events').get() as { n: number }).n;
  } finally {
    db.close();
  }
};

describe('queue.whenStored (the signal an acknowledging input waits for)', () => {
  it('memory queue: resolves at once', async () => {
    const q = new MemoryQueue(10, 5);
    q.push(new Event({ message: 'a' }));
    let stored = false;
    void q.whenStored().then(() => (stored = true));
    await Promise.resolve();
    assert.equal(stored, true);
  });

  it('persisted queue: resolves only once the pushed events are committed, as seen by another connection', async () => {
    const t = tempDir();
    try {
      const q = new PersistedQueue({ dir: t.dir, maxBytes: 1 << 30, maxEvents: 1e9, checkpointWrites: 1024, batchSize: 10 });
      for (let i = 0; i < 5; i++) q.push(new Event({ message: `m${i}` }));
      let stored = false;
      const p = q.whenStored().then(() => {
        stored = true;
        return rowsOnDisk(t.dir);
      });
      await Promise.resolve();
      assert.equal(stored, false, 'not before the commit');
      assert.equal(rowsOnDisk(t.dir), 0, 'nothing committed yet');
      assert.equal(await p, 5, 'when it resolves, all five are on disk');
      // nothing pending: at once
      let again = false;
      void q.whenStored().then(() => (again = true));
      await Promise.resolve();
      assert.equal(again, true);
      q.dispose();
    } finally {
      t.cleanup();
    }
  });

  it('persisted queue: a push that reaches queue.checkpoint.writes commits at once', async () => {
    const t = tempDir();
    try {
      const q = new PersistedQueue({ dir: t.dir, maxBytes: 1 << 30, maxEvents: 1e9, checkpointWrites: 3, batchSize: 10 });
      for (let i = 0; i < 3; i++) q.push(new Event({ message: `m${i}` }));
      assert.equal(rowsOnDisk(t.dir), 3);
      let stored = false;
      void q.whenStored().then(() => (stored = true));
      await Promise.resolve();
      assert.equal(stored, true);
      q.dispose();
    } finally {
      t.cleanup();
    }
  });
});
