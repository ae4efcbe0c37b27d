import assert from 'node:assert/strict';
import { closeSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { AlertaDouble } from '@pipeline/output-alerta/testing';
import { freePort, logRecords, startPipeline, tempDir, waitFor, type Running } from '../e2e/util.js';
import { mountTmpfs, readRows, sendLines, tallyLines } from './disk-full-helpers.js';

/**
 * A full disk is back-pressure, never a crash or a drop: the persisted queue and the alerta spool on
 * a real, small tmpfs that fills, with the real `pipeline` process, kill -9 and restarts.
 */

const alive = (r: Running) => r.child.exitCode === null && r.child.signalCode === null;
const fullLogs = (r: Running, what: string) => logRecords(r.stderr()).filter((l) => String(l.msg).startsWith(`${what}: the disk is full`));

async function stop(r: Running): Promise<number | null> {
  if (alive(r)) r.child.kill('SIGTERM');
  return r.exited;
}

describe('a full disk', () => {
  it('the persisted queue on a tmpfs that fills: no crash, TCP is held back, it resumes by itself and nothing is lost', async () => {
    const LINES = 100_000;
    const fs = mountTmpfs('8m');
    const t = tempDir();
    let run: Running | undefined;
    let sender: ReturnType<typeof sendLines> | undefined;
    try {
      const port = await freePort();
      const out = join(t.dir, 'out.txt');
      const fd = openSync(out, 'a');
      const args = ['-e', `input { tcp { port => ${port} host => "127.0.0.1" } } output { stdout { codec => line { format => "%{message}" } } }`];
      args.push('--path.data', join(fs.dir, 'data'), '--queue.type', 'persisted', '--api.enabled', 'false', '-w', '1');
      run = startPipeline(args, { stdout: fd });
      await waitFor(() => run!.stderr().includes('pipeline started'), 'start');
      // another writer takes all but 256 KiB: the queue's own writes fill the rest mid-stream
      fs.fill('filler', 256 * 1024);
      sender = sendLines(port, LINES, (i) => `line-${i} ${'x'.repeat(80)}`);
      await waitFor(() => fullLogs(run!, 'persisted queue').length > 0, 'the queue to report the full disk');
      const report = fullLogs(run!, 'persisted queue')[0]!;
      assert.equal(report.path, join(fs.dir, 'data', 'queue', 'main'));
      assert.equal(typeof report.free_bytes, 'number');
      assert.ok(alive(run), 'no crash');
      assert.equal(sender.finished(), false, 'the sender is held back (TCP back-pressure), not read and dropped');
      assert.ok(tallyLines(out, 'line-').size < LINES);

      fs.free('filler'); // space returns: nothing to restart, it resumes by itself
      await sender.done;
      await waitFor(() => tallyLines(out, 'line-').size === LINES, 'every line after space returned', 120_000);
      assert.ok(logRecords(run.stderr()).some((l) => /persisted queue: the disk has room again/.test(String(l.msg))));
      assert.equal(await stop(run), 0, run.stderr());
      closeSync(fd);
      const seen = tallyLines(out, 'line-');
      assert.equal(seen.size, LINES, 'nothing lost');
      assert.deepEqual([...seen.values()].filter((n) => n > 1), [], 'no crash, so nothing twice');
    } finally {
      sender?.close();
      if (run && alive(run)) run.child.kill('SIGKILL');
      await run?.exited;
      fs.cleanup();
      t.cleanup();
    }
  });
});
