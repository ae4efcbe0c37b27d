import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';
/** The core's PendingWrite, as the pipeline sees what receive returns. */
type PendingWrite = { readonly written: Promise<void> };
import { mountTmpfs } from '@pipeline/core/testing';
import { capturingLogger, cleanup, ev, fileContext, fileOut, gauge, lines, metric, tempDir } from './helpers.js';

const dirs: string[] = [];
const mounts: { unmount(): void }[] = [];
const fresh = () => {
  const d = tempDir();
  dirs.push(d);
  return d;
};
after(() => {
  for (const m of mounts) m.unmount();
  dirs.forEach(cleanup);
});

const turn = () => new Promise((r) => setImmediate(r));

/** Tracks a promise's state without awaiting it. */
function watch<T>(p: Promise<T>): { state: 'pending' | 'resolved' | 'rejected'; value?: T; error?: unknown } {
  const w: { state: 'pending' | 'resolved' | 'rejected'; value?: T; error?: unknown } = { state: 'pending' };
  p.then(
    (v) => Object.assign(w, { state: 'resolved', value: v }),
    (e: unknown) => Object.assign(w, { state: 'rejected', error: e }),
  );
  return w;
}

function pendingOf(r: unknown): PendingWrite {
  assert.ok(r !== undefined && r !== null && typeof (r as PendingWrite).written?.then === 'function', 'receive hands back a pending write');
  return r as PendingWrite;
}

/** Advances the virtual clock in steps, letting the retry loops run between them. */
async function advance(ctx: { clock: { advance(ms: number): void } }, ms: number, step = 100): Promise<void> {
  for (let t = 0; t < ms; t += step) {
    ctx.clock.advance(step);
    await turn();
  }
}

const batch = (from: number, n: number, extra: Record<string, unknown> = {}) => Array.from({ length: n }, (_, i) => ev({ message: `line-${from + i}`, ...extra }));
const numbered = (from: number, n: number) => Array.from({ length: n }, (_, i) => `line-${from + i}`);

describe('file output: a batch is acknowledged only once its lines are written', () => {
  it('with the default flush_interval, receive returns a pending write that settles when the timer flush has written the lines', async () => {
    const wd = fresh();
    const ctx = fileContext(wd, { line: 'format => "%{message}"' });
    const out = await fileOut('path => "a.log"', ctx);
    const w = watch(pendingOf(await out.receive(batch(0, 3))).written);
    await turn();
    assert.equal(w.state, 'pending', 'not acknowledged while the lines are only in the buffer');
    assert.ok(!existsSync(join(wd, 'a.log')) || lines(join(wd, 'a.log')).length === 0);
    ctx.clock.advance(2000);
    await turn();
    assert.equal(w.state, 'resolved');
    assert.deepEqual(lines(join(wd, 'a.log')), numbered(0, 3), 'the lines were in the file when the acknowledgement came');
    await out.close?.();
  });

  it('with flush_interval => 0 the lines are written before receive returns, with nothing left to wait for', async () => {
    const wd = fresh();
    const ctx = fileContext(wd, { line: 'format => "%{message}"' });
    const out = await fileOut('path => "a.log" flush_interval => 0', ctx);
    assert.equal(await out.receive(batch(0, 2)), undefined);
    assert.deepEqual(lines(join(wd, 'a.log')), numbered(0, 2));
    await out.close?.();
  });

  it('a batch spread over two files settles only when both are written, and close writes the rest', async () => {
    const wd = fresh();
    const ctx = fileContext(wd, { line: 'format => "%{message}"' });
    const out = await fileOut('path => "%{f}.log" flush_interval => 60', ctx);
    const big = 'x'.repeat(2000);
    // 40 long lines fill big.log's buffer (written at once); small.log waits for a flush
    const events = [...Array.from({ length: 40 }, (_, i) => ev({ f: 'big', message: `${i} ${big}` })), ev({ f: 'small', message: 'tiny' })];
    const w = watch(pendingOf(await out.receive(events)).written);
    await turn();
    assert.equal(lines(join(wd, 'big.log')).length, 40);
    assert.equal(w.state, 'pending', 'small.log still holds a line of the batch');
    await out.close?.();
    await turn();
    assert.equal(w.state, 'resolved');
    assert.deepEqual(lines(join(wd, 'small.log')), ['tiny']);
  });
});

describe('file output: memory held for acknowledgements is bounded', () => {
  it('once 8,192 lines wait in buffers across files, every buffer is written, so batches are not held for the whole flush_interval', async () => {
    const wd = fresh();
    const ctx = fileContext(wd, { line: 'format => "%{message}"' });
    const out = await fileOut('path => "many/%{f}.log" flush_interval => 60', ctx);
    // one short line per file per batch: no buffer fills on its own
    const spread = (b: number) => Array.from({ length: 100 }, (_, i) => ev({ f: `f${i}`, message: `${b}-${i}` }));
    const first = watch(pendingOf(await out.receive(spread(0))).written);
    for (let b = 1; b < 81; b++) await out.receive(spread(b));
    await turn();
    assert.equal(first.state, 'pending', '8,100 lines held: still buffered');
    await out.receive(spread(81));
    await turn();
    assert.equal(first.state, 'resolved', 'past the cap every buffer was written, without waiting for the timer');
    assert.equal(lines(join(wd, 'many/f7.log')).length, 82);
    await out.close?.();
  });
});

describe('file output: a write that fails is back-pressure, not a drop', () => {
  it('on /dev/full (ENOSPC forever) receive waits, retrying with back-off; nothing is dropped; a stall is logged once per 10 s with path and free space', async () => {
    const { logger, records } = capturingLogger();
    const ctx = fileContext(fresh(), { line: 'format => "%{message}"' }, { logger });
    const out = await fileOut('path => "/dev/full" flush_interval => 0', ctx);
    const r = watch(Promise.resolve(out.receive(batch(0, 2))));
    await advance(ctx, 60_000, 500);
    assert.equal(r.state, 'pending', 'receive still waits after a minute of failing writes');
    assert.equal(metric(ctx, 'events_dropped'), 0);
    assert.ok(metric(ctx, 'write_errors') >= 30, `retried (${metric(ctx, 'write_errors')} failed writes)`);
    assert.equal(gauge(ctx, 'files_stalled'), 1);
    const stalls = records.filter((x) => /holding the lines and retrying/.test(String(x.msg)));
    assert.ok(stalls.length >= 6 && stalls.length <= 7, `one log line per 10 s (${stalls.length} in 60 s)`);
    assert.equal(stalls[0]!.file, '/dev/full');
    assert.equal(stalls[0]!.err, 'ENOSPC');
    assert.equal(typeof stalls[0]!.free_bytes, 'number');
    assert.equal(stalls[0]!.events_waiting, 2);
    // stopping gives up on the lines but leaves the batch unacknowledged (the persisted queue keeps it)
    await out.close?.();
    await turn();
    assert.equal(r.state, 'resolved');
    await assert.rejects(pendingOf(r.value).written);
    assert.equal(metric(ctx, 'events_dropped'), 0, 'unacknowledged, not dropped: with the persisted queue they come back');
  });

  it('on a full tmpfs the batch waits, and is written once, in order, by itself when space returns', async () => {
    const wd = fresh();
    const fs = mountTmpfs('1m', join(wd, 'tmpfs'));
    mounts.push(fs);
    const filler = fs.fill();
    const { logger, records } = capturingLogger();
    const ctx = fileContext(fs.dir, { line: 'format => "%{message} %{pad}"' }, { logger });
    const out = await fileOut('path => "out/app.log" flush_interval => 0', ctx);
    const pad = 'p'.repeat(100);
    const first = watch(Promise.resolve(out.receive(batch(0, 2000, { pad }))));
    await advance(ctx, 5000);
    assert.equal(first.state, 'pending', 'the disk is full: receive waits');
    assert.equal(gauge(ctx, 'files_stalled'), 1);
    const during = readFileSync(join(fs.dir, 'out/app.log'), 'utf8');
    assert.ok(during === '' || during.endsWith('\n'), 'a write that failed part-way was truncated back: no torn last line (a kill -9 now would leave none)');
    rmSync(filler);
    await advance(ctx, 2100); // the back-off is at most 2 s
    assert.equal(first.state, 'resolved');
    assert.equal(first.value, undefined, 'written: nothing left to acknowledge later');
    assert.equal(await out.receive(batch(2000, 10, { pad })), undefined);
    await out.close?.();
    assert.deepEqual(
      lines(join(fs.dir, 'out/app.log')).map((l) => l.split(' ')[0]),
      numbered(0, 2010),
      'every line exactly once, in order',
    );
    assert.equal(metric(ctx, 'events_dropped'), 0);
    assert.equal(gauge(ctx, 'files_stalled'), 0);
    assert.ok(records.some((x) => x.msg === 'file output: writing again' && x.file === join(fs.dir, 'out/app.log')));
  });

  it('with the default flush_interval a failed timer flush retries in the background and the next batch for that file waits for it', async () => {
    const wd = fresh();
    const fs = mountTmpfs('1m', join(wd, 'tmpfs'));
    mounts.push(fs);
    const ctx = fileContext(fs.dir, { line: 'format => "%{message} %{pad}"' });
    const out = await fileOut('path => "app.log"', ctx);
    const pad = 'p'.repeat(200);
    const filler = fs.fill();
    const firstAck = watch(pendingOf(await out.receive(batch(0, 100, { pad }))).written);
    await advance(ctx, 2000); // the timer flush fails
    assert.ok(metric(ctx, 'write_errors') >= 1);
    const second = watch(Promise.resolve(out.receive(batch(100, 100, { pad }))));
    await advance(ctx, 5000);
    assert.equal(second.state, 'pending', 'the next batch for a stalled file waits: back-pressure');
    assert.equal(firstAck.state, 'pending');
    rmSync(filler);
    await advance(ctx, 2100);
    assert.equal(second.state, 'resolved');
    assert.equal(firstAck.state, 'resolved');
    await out.close?.();
    assert.deepEqual(
      lines(join(fs.dir, 'app.log')).map((l) => l.split(' ')[0]),
      numbered(0, 200),
    );
  });

  it('a new file that cannot be created for lack of inodes waits (no detour to the failure file) and is created when room returns', async () => {
    const wd = fresh();
    const fs = mountTmpfs('1m,nr_inodes=4', join(wd, 'tmpfs')); // the root directory takes one
    mounts.push(fs);
    const ctx = fileContext(fs.dir, { line: 'format => "%{message}"' });
    const out = await fileOut('path => "%{f}.log" flush_interval => 0', ctx);
    writeFileSync(join(fs.dir, 'spare1'), '');
    writeFileSync(join(fs.dir, 'spare2'), '');
    assert.equal(await out.receive([ev({ f: 'a', message: 'one' })]), undefined); // takes the last inode
    const r = watch(Promise.resolve(out.receive([ev({ f: 'b', message: 'two' })])));
    await advance(ctx, 3000);
    assert.equal(r.state, 'pending');
    assert.ok(!existsSync(join(fs.dir, '_filepath_failures')), 'nothing went to the failure file');
    rmSync(join(fs.dir, 'spare1'));
    await advance(ctx, 2100);
    assert.equal(r.state, 'resolved');
    await out.close?.();
    assert.deepEqual(lines(join(fs.dir, 'a.log')), ['one']);
    assert.deepEqual(lines(join(fs.dir, 'b.log')), ['two']);
  });
});

describe('file output: fsync', () => {
  const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');
  /** Runs a short real pipeline under strace; returns the fsync/fdatasync calls with their paths. */
  function syncCalls(fsync: string): string[] {
    const wd = fresh();
    const out = join(wd, 'out', 'app.log');
    const trace = join(wd, 'trace.txt');
    const conf = `input { generator { count => 3 } } output { file { path => "${out}" fsync => "${fsync}" flush_interval => 0 } }`;
    execFileSync('strace', ['-f', '-y', '-e', 'trace=fsync,fdatasync', '-o', trace, process.execPath, join(REPO, 'core/bin/pipeline.js'), 'start', '-e', conf, '--api.enabled', 'false', '--path.data', join(wd, 'data'), '--log.level', 'warn'], { cwd: wd, stdio: ['ignore', 'ignore', 'inherit'], timeout: 60_000 });
    assert.equal(readFileSync(out, 'utf8').split('\n').filter(Boolean).length, 3);
    return readFileSync(trace, 'utf8')
      .split('\n')
      .filter((l) => /\b(fsync|fdatasync)\(/.test(l) && l.includes(wd));
  }

  it('fsync => batch fdatasyncs the file (and once its directory) before acknowledging; none never syncs', () => {
    const batch = syncCalls('batch');
    assert.ok(batch.some((l) => /fdatasync\(\d+<[^>]*\/out\/app\.log>\)/.test(l)), batch.join('\n'));
    assert.ok(batch.some((l) => /fsync\(\d+<[^>]*\/out>\)/.test(l)), `the directory is synced too:\n${batch.join('\n')}`);
    assert.deepEqual(syncCalls('none'), []);
  });

  it('refuses an fsync policy it does not know', async () => {
    await assert.rejects(fileOut('path => "a" fsync => "always"', fileContext(fresh())), /fsync/);
  });
});

