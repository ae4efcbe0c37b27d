/**
 * Outputs under crashes and full disks, with real processes: the file output acknowledges only
 * what write() has handed to the OS (kill -9 under TCP load with the persisted queue loses nothing
 * the pipeline had read), a full disk under the file output is a stall, not a drop (a real tmpfs
 * that fills up, kill -9 during the stall, space freed), and EPIPE on stdout stops cleanly.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { rmSync, statSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { BIN, freePort, logRecords, startPipeline, tempDir, waitFor, type Running } from '../e2e/util.js';
import { mountTmpfs } from '@pipeline/core/testing';
import { duplicates, eventsIn, missingBelow, queueSize, tally, tcpLoad } from './outputs-helpers.js';

/** Batches in flight at once and their size, as the tests run the pipeline (for the duplicates bound). */
const WORKERS = 2;
const BATCH = 125;
/** The file output's per-file buffer: what one write() flushes at most. */
const BUFFER_BYTES = 64 * 1024;

function fileConf(tcpPort: number, out: string): string {
  return `input { tcp { port => ${tcpPort} host => "127.0.0.1" } }
    output { file { path => "${out}" codec => line { format => "%{message}" } } }`;
}

function args(conf: string, data: string, apiPort: number): string[] {
  return ['-e', conf, '--path.data', data, '--queue.type', 'persisted', '--api.http.port', String(apiPort), '-w', String(WORKERS), '-b', String(BATCH)];
}

async function stopCleanly(p: Running): Promise<void> {
  p.child.kill('SIGTERM');
  assert.equal(await p.exited, 0, p.stderr());
}

describe('outputs: acknowledgements and crashes', () => {
  it('kill -9 under TCP load with the persisted queue and the default flush_interval: every line the pipeline had read reaches the file after the restart', async () => {
    const t = tempDir('pipeline-rel-out-');
    try {
      const [tcpPort, apiPort] = [await freePort(), await freePort()];
      const out = join(t.dir, 'out', 'app.log');
      const a = args(fileConf(tcpPort, out), join(t.dir, 'data'), apiPort);
      const first = startPipeline(a);
      await waitFor(async () => (await eventsIn(apiPort)) !== undefined, 'the monitoring API');
      const load = tcpLoad(tcpPort, { perSecond: 20_000 });
      // Kill once 40,000 lines are in. `read` is what a poll reported before the last poll was
      // answered: the pipeline's event loop has turned since, so those events are committed.
      let read = 0;
      for (let prev: number | undefined; ; ) {
        const cur = await eventsIn(apiPort);
        if (prev !== undefined && prev >= 40_000) {
          first.child.kill('SIGKILL');
          read = prev;
          break;
        }
        prev = cur;
      }
      await first.exited;
      const sent = await load.stop();
      const before = tally(out);
      const notYetWritten = missingBelow(before, read).length;
      assert.ok(sent >= read);

      const second = startPipeline(a);
      await waitFor(() => missingBelow(tally(out), read).length === 0, 'every line read before the kill, after the restart', 120_000);
      await waitFor(async () => (await queueSize(apiPort)) === 0, 'the persisted queue to drain');
      await stopCleanly(second);

      const after = tally(out);
      assert.deepEqual(missingBelow(after, read), [], 'nothing the pipeline had read is lost');
      // Bound: a batch is acknowledged right after write() returns, so only lines written in the
      // instant between a write and its acknowledgement can come twice: one buffer flush (64 KiB
      // of lines) plus the batches in flight.
      const bound = Math.ceil(BUFFER_BYTES / 'seq-0\n'.length) + WORKERS * BATCH;
      assert.ok(duplicates(after) <= bound, `duplicates ${duplicates(after)} within the bound ${bound}`);
      process.stderr.write(
        `# outputs kill -9: ${sent} sent, ${read} read before the kill, ${notYetWritten} of them not yet in the file at the kill, ${after.counts.size} distinct after the restart, ${duplicates(after)} duplicates (bound ${bound})\n`,
      );
    } finally {
      t.cleanup();
    }
  });
});

describe('outputs: a full disk under the file output', () => {
  it('a tmpfs that fills up: no crash, the batch waits (persisted queue), kill -9 during the stall, and after space is freed every line is there once', async () => {
    const t = tempDir('pipeline-rel-full-');
    const fs = mountTmpfs('2m', join(t.dir, 'fs'));
    try {
      const [tcpPort, apiPort] = [await freePort(), await freePort()];
      const out = join(fs.dir, 'logs', 'app.log');
      const filler = fs.fill();
      truncateSync(filler, statSync(filler).size - 256 * 1024); // room for about a fifth of the lines
      const N = 20_000;
      const a = args(fileConf(tcpPort, out), join(t.dir, 'data'), apiPort);
      const first = startPipeline(a);
      await waitFor(async () => (await eventsIn(apiPort)) !== undefined, 'the monitoring API');
      const load = tcpLoad(tcpPort, { perSecond: 20_000, total: N, width: 60 });
      await load.done;
      await waitFor(async () => (await eventsIn(apiPort)) === N, 'every line read into the persisted queue');
      const stalled = (p: Running) => logRecords(p.stderr()).find((r) => /holding the lines and retrying/.test(String(r.msg)));
      await waitFor(() => stalled(first) !== undefined, 'the stall to be logged');
      const rec = stalled(first)!;
      assert.equal(rec.file, out);
      assert.equal(rec.err, 'ENOSPC');
      assert.ok(typeof rec.free_bytes === 'number' && rec.free_bytes < 256 * 1024, `the file system's free space is reported: ${rec.free_bytes}`);
      assert.equal(first.child.exitCode, null, 'still running');
      assert.ok(((await queueSize(apiPort)) ?? 0) > 0, 'the unwritten lines wait in the persisted queue');
      const writtenBefore = tally(out).counts.size;
      assert.ok(writtenBefore > 0 && writtenBefore < N, `part was written before the disk filled (${writtenBefore})`);

      first.child.kill('SIGKILL');
      await first.exited;
      const second = startPipeline(a); // the disk is still full: it starts and stalls again
      await waitFor(() => stalled(second) !== undefined, 'the stall after the restart');
      assert.equal(second.child.exitCode, null);
      rmSync(filler);
      await waitFor(() => tally(out).counts.size === N, 'every line once space is back', 120_000);
      await waitFor(() => logRecords(second.stderr()).some((r) => r.msg === 'file output: writing again'), 'the recovery to be logged');
      await stopCleanly(second);

      const after = tally(out);
      assert.deepEqual(missingBelow(after, N), []);
      assert.equal(duplicates(after), 0, 'a failed write is undone, so nothing was written twice');
      assert.ok(!logRecords(first.stderr() + second.stderr()).some((r) => /dropped/.test(String(r.msg))), 'nothing dropped');
      process.stderr.write(`# outputs disk full: ${N} lines, ${writtenBefore} written before the disk filled, kill -9 during the stall, ${after.counts.size} distinct and ${duplicates(after)} duplicates after space returned\n`);
    } finally {
      fs.unmount();
      t.cleanup();
    }
  });
});

describe('outputs: stdout whose reader goes away', () => {
  it("pipeline start -e '… generator { count => 100000 } … stdout {}' | head -1 exits 0 without a stack trace", () => {
    const conf = 'input { generator { count => 100000 } } output { stdout {} }';
    const cmd = `set -o pipefail; "${process.execPath}" "${BIN}" start -e '${conf}' --api.enabled false --log.format json | head -1`;
    const t = tempDir('pipeline-rel-epipe-');
    try {
      const r = spawnSync('bash', ['-c', cmd], { cwd: t.dir, encoding: 'utf8', timeout: 60_000 });
      assert.equal(r.status, 0, `exit status of the whole pipe (pipefail), stderr:\n${r.stderr}`);
      assert.equal(r.stdout, '{\n', 'head printed the first line of the first event');
      assert.doesNotMatch(r.stderr, /Unhandled|\n\s+at |node:internal/, 'no stack trace');
      const msgs = logRecords(r.stderr).map((x) => x.msg);
      assert.ok(msgs.includes('standard output was closed by its reader (EPIPE); stopping'), r.stderr);
      assert.ok(msgs.includes('pipeline stopped'), 'a clean stop');
    } finally {
      t.cleanup();
    }
  });
});
