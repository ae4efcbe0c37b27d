import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { SystemClock, VirtualClock } from '../src/plugin/clock.js';
import { Spool, SPOOL_FORMAT_VERSION } from '../src/spool/spool.js';
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
