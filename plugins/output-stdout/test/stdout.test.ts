import assert from 'node:assert/strict';
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';

const CHILD = fileURLToPath(new URL('./stdout-child.js', import.meta.url));

interface Report {
  id?: number;
  event: string;
  code?: string;
}

/** Starts the child with its stdout on a pipe we read only when told to. */
function start(): { child: ChildProcess; reports: Report[]; next(pred: (r: Report) => boolean, ms?: number): Promise<Report>; bytes(): number; stderr(): string } {
  const child = fork(CHILD, [], { stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
  const reports: Report[] = [];
  const waiters: { pred: (r: Report) => boolean; resolve: (r: Report) => void }[] = [];
  child.on('message', (r: Report) => {
    reports.push(r);
    for (const w of [...waiters]) if (w.pred(r)) waiters.splice(waiters.indexOf(w), 1) && w.resolve(r);
  });
  let err = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  let got = 0;
  child.stdout!.on('data', (d: Buffer) => (got += d.length));
  child.stdout!.pause();
  return {
    child,
    reports,
    bytes: () => got,
    stderr: () => err,
    next(pred, ms = 30_000) {
      const seen = reports.find(pred);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`no report after ${ms} ms; got ${JSON.stringify(reports)}`)), ms);
        waiters.push({ pred, resolve: (r) => (clearTimeout(t), resolve(r)) });
      });
    },
  };
}

const settle = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('stdout output: acknowledgement after the stream drained', () => {
  it('a batch whose text is still in Node\'s buffer (the pipe is full, the reader is not reading) is not acknowledged until the reader has taken it', async () => {
    const c = start();
    await c.next((r) => r.event === 'ready');
    // 10,000-byte batches while the reader does not read: the first ones fit in the pipe and the
    // reader's buffer (in the OS: acknowledged); then one only partly fits. Its receive returns
    // (under the stream's high-water mark the next batch may follow) but it is not acknowledged.
    let stuck = 0;
    for (let id = 1; id <= 100 && stuck === 0; id++) {
      c.child.send({ cmd: 'batch', id, lines: 10, bytes: 1000 });
      await c.next((r) => r.id === id && r.event === 'received');
      await settle(300);
      if (!c.reports.some((r) => r.id === id && r.event === 'written')) stuck = id;
    }
    assert.ok(stuck > 1, `the pipe filled up after some batches (stuck at ${stuck})`);
    await settle(700);
    assert.equal(c.reports.find((r) => r.id === stuck && r.event === 'written'), undefined, 'not acknowledged while bytes are in Node\'s buffer');
    c.child.stdout!.resume();
    await c.next((r) => r.id === stuck && r.event === 'written');
    c.child.send({ cmd: 'exit' });
    await new Promise((r) => c.child.on('exit', r));
    assert.equal(c.bytes(), stuck * 10 * 1000, 'every byte reached the reader');
    assert.equal(c.child.exitCode, 0, c.stderr());
  });

  it('a batch over the high-water mark holds receive until the stream drains (back-pressure from a slow reader)', async () => {
    const c = start();
    await c.next((r) => r.event === 'ready');
    c.child.send({ cmd: 'batch', id: 1, lines: 1024, bytes: 1024 }); // 1 MiB
    await settle(1000);
    assert.equal(c.reports.find((r) => r.id === 1), undefined, 'receive waits while the reader is stalled');
    c.child.stdout!.resume();
    await c.next((r) => r.id === 1 && r.event === 'written');
    c.child.send({ cmd: 'exit' });
    await new Promise((r) => c.child.on('exit', r));
    assert.equal(c.bytes(), 1024 * 1024);
  });

  it('once the reader has gone (EPIPE) batches are refused, not acknowledged, and the process does not crash', async () => {
    const c = start();
    await c.next((r) => r.event === 'ready');
    c.child.stdout!.destroy(); // the reader goes away, as `head -1` does
    c.child.send({ cmd: 'batch', id: 1, lines: 100, bytes: 1000 });
    const first = await c.next((r) => r.id === 1 && (r.event === 'written' || r.event === 'refused'));
    assert.deepEqual(first, { id: 1, event: 'refused', code: 'EPIPE' });
    c.child.send({ cmd: 'batch', id: 2, lines: 1, bytes: 10 });
    const second = await c.next((r) => r.id === 2 && (r.event === 'written' || r.event === 'refused'));
    assert.equal(second.event, 'refused');
    c.child.send({ cmd: 'exit' });
    await new Promise((r) => c.child.on('exit', r));
    assert.equal(c.child.exitCode, 0, c.stderr());
    assert.doesNotMatch(c.stderr(), /EPIPE|at .*\(|Error/, 'no stack trace');
  });
});
