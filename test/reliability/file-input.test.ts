/**
 * The file input under kill -9 (issue 13): its sincedb records only lines whose events were
 * delivered, so with the memory queue nothing read but still queued at the crash is lost; it is
 * written every `sincedb_write_lines` delivered lines, also during a long catch-up read, so each
 * restart delivers again at most one checkpoint's worth, however many crashes there are; and a
 * catch-up read into the persisted queue leaves the event loop free (the monitoring API answers).
 *
 * Real processes, a real 200k-line file, stdout redirected to a file (synchronous writes, so what
 * the stdout output acknowledged is in the file when the process dies).
 */
import assert from 'node:assert/strict';
import { closeSync, openSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { freePort, REPO, startPipeline, tempDir, waitFor, type Running } from '../e2e/util.js';
import { appendNumberedLines, duplicates, getJson, missing, sincedbOffsets, tally, writeNumberedLines, type Tally } from './file-input-helpers.js';

const LINES = 200_000;
const BATCH = 50;
const WORKERS = 4;
/** The file input's default sincedb_write_lines. */
const CHECKPOINT_LINES = 10_000;
/** The README's bound: one checkpoint, the batches in flight, one delivery segment (64 lines). */
const BOUND = CHECKPOINT_LINES + WORKERS * BATCH + 64;
const FIXTURE_PLUGINS = join(REPO, 'core', 'test', 'fixtures', 'plugins');

/**
 * Every line goes to stdout and to the slow output (which paces the run so that the kills land
 * mid-stream). With `outOfOrder`, only lines in odd hundreds go to the slow output, so batches
 * finish out of order: a later batch that went to stdout alone is delivered before an earlier one
 * still waiting for the slow output.
 */
function memoryQueueArgs(input: string, data: string, o: { outOfOrder?: boolean; options?: string } = {}): string[] {
  const slow = 'slow { delay_ms => 3 }';
  const conf = `input { file { path => ["${input}"] start_position => "beginning" stat_interval => 0.1 ${o.options ?? ''} } }
    output {
      stdout { codec => line { format => "%{message}" } }
      ${o.outOfOrder ? `if [message] =~ /^line-\\d*[13579]\\d\\d$/ { ${slow} }` : slow}
    }`;
  return ['-e', conf, '--path.data', data, '--path.plugins', FIXTURE_PLUGINS, '--api.enabled', 'false', '-b', String(BATCH), '-w', String(WORKERS)];
}

/** Runs the pipeline with stdout appended to `out` until `until` holds, then kills it with SIGKILL. */
async function runUntilKilled(args: string[], out: string, until: () => boolean, what: string): Promise<void> {
  const fd = openSync(out, 'a');
  let p: Running | undefined;
  try {
    p = startPipeline(args, { stdout: fd });
    const exitedEarly = p.exited.then(() => true);
    await waitFor(async () => until() || (await Promise.race([exitedEarly, Promise.resolve(false)])), what, 120_000);
    p.child.kill('SIGKILL');
    assert.equal(await p.exited, null, `killed by the signal while ${what} (${p.stderr().slice(-2000)})`);
  } finally {
    if (p && p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
    closeSync(fd);
  }
}

/** Runs the pipeline until every line is in `out`, then stops it with SIGTERM (exit 0). */
async function runToTheEnd(args: string[], out: string, lines = LINES): Promise<void> {
  const fd = openSync(out, 'a');
  const p = startPipeline(args, { stdout: fd });
  try {
    // every line, or (to report what is missing rather than time out) no output for 5 s
    let last = -1;
    let since = Date.now();
    await waitFor(
      () => {
        const seen = tally(out);
        if (seen.total !== last) [last, since] = [seen.total, Date.now()];
        return seen.counts.size === lines || Date.now() - since > 5000;
      },
      'every line after the restart',
      120_000,
    );
    p.child.kill('SIGTERM');
    assert.equal(await p.exited, 0, p.stderr().slice(-2000));
  } finally {
    if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
    closeSync(fd);
  }
}

function assertNoneMissing(t: Tally, lines: number): void {
  const gone = missing(t, lines);
  assert.equal(gone.length, 0, `${gone.length} lines lost, e.g. ${gone.slice(0, 5).join(', ')}`);
}

describe('file input: delivered offsets, bounded duplicates, a free event loop', () => {
  it(`memory queue, kill -9 partway through a ${LINES.toLocaleString('en')}-line file: nothing lost, duplicates within ${BOUND.toLocaleString('en')}`, async () => {
    const t = tempDir('pipeline-file-input-');
    try {
      const input = join(t.dir, 'app.log');
      writeNumberedLines(input, LINES);
      const out = join(t.dir, 'out.txt');
      const data = join(t.dir, 'data');
      const args = memoryQueueArgs(input, data);

      await runUntilKilled(args, out, () => tally(out).counts.size >= LINES / 5, 'a fifth of the file is delivered');
      const before = tally(out);
      assert.ok(before.counts.size < LINES, `the crash happened mid-stream (${before.counts.size} delivered)`);
      const saved = Math.max(0, ...sincedbOffsets(data));
      assert.ok(saved > 0 && saved < statSync(input).size, `the sincedb was written during the read, before the crash (offset ${saved})`);

      await runToTheEnd(args, out);
      const after = tally(out);
      assertNoneMissing(after, LINES);
      const dup = duplicates(after);
      assert.ok(dup <= BOUND, `${dup} lines delivered twice, bound ${BOUND}`);
      process.stderr.write(`# file input, memory queue: ${before.counts.size} delivered before kill -9, ${dup} delivered again after the restart (bound ${BOUND})\n`);
    } finally {
      t.cleanup();
    }
  });

  it('three kill -9 in a row: each restart repeats at most one checkpoint, duplicates do not grow with the crashes', async () => {
    const t = tempDir('pipeline-file-input-');
    try {
      const input = join(t.dir, 'app.log');
      writeNumberedLines(input, LINES);
      const out = join(t.dir, 'out.txt');
      const data = join(t.dir, 'data');
      const args = memoryQueueArgs(input, data);

      const perRestart: number[] = [];
      let prev: Tally = tally(out);
      for (let crash = 1; crash <= 3; crash++) {
        // each run gets a fifth of the file further than the last before it dies
        const goal = (crash * LINES) / 5;
        await runUntilKilled(args, out, () => tally(out).counts.size >= goal, `${goal} distinct lines are delivered (run ${crash})`);
        const now = tally(out);
        assert.ok(now.counts.size < LINES, `crash ${crash} happened mid-stream (${now.counts.size} delivered)`);
        if (crash > 1) perRestart.push(duplicates(now) - duplicates(prev));
        prev = now;
      }
      await runToTheEnd(args, out);
      const after = tally(out);
      perRestart.push(duplicates(after) - duplicates(prev));
      assertNoneMissing(after, LINES);
      for (const [i, d] of perRestart.entries()) assert.ok(d <= BOUND, `restart ${i + 1} delivered ${d} lines again, bound ${BOUND}`);
      const total = duplicates(after);
      assert.ok(total <= 3 * BOUND, `${total} duplicates after three crashes, at most three checkpoints' worth (${3 * BOUND})`);
      process.stderr.write(`# file input, three kill -9: lines delivered again per restart ${perRestart.join(', ')} (bound ${BOUND}); ${(after.total / LINES).toFixed(3)}x the file\n`);
    } finally {
      t.cleanup();
    }
  });

  it('a file growing while followed, batches finishing out of order (a conditional output): kill -9 loses nothing', async () => {
    const total = 100_000;
    const t = tempDir('pipeline-file-input-');
    const input = join(t.dir, 'app.log');
    writeFileSync(input, '');
    // about 20,000 lines/s while the pipeline runs, is killed and restarts
    const writer = appendNumberedLines(input, total, 400, 20);
    try {
      const out = join(t.dir, 'out.txt');
      const data = join(t.dir, 'data');
      const args = memoryQueueArgs(input, data, { outOfOrder: true, options: 'sincedb_write_interval => 1' });
      // the crash comes after the offsets were saved at least once, mid-stream
      await runUntilKilled(args, out, () => tally(out).counts.size >= total / 4 && sincedbOffsets(data).some((o) => o > 0), 'a quarter of the lines delivered and the offsets saved');
      const before = tally(out);
      assert.ok(before.counts.size < total, `the crash happened mid-stream (${before.counts.size} delivered)`);
      await runToTheEnd(args, out, total);
      await writer.done;
      const after = tally(out);
      assertNoneMissing(after, total);
      // the saved offset waits for the slowest earlier batch, so more than BOUND may come again here, but never the whole read
      const dup = duplicates(after);
      assert.ok(dup < before.counts.size, `${dup} lines delivered again, fewer than the ${before.counts.size} delivered before the crash`);
      process.stderr.write(`# file input, growing file, out-of-order deliveries: ${before.counts.size} delivered before kill -9, ${dup} delivered again\n`);
    } finally {
      writer.stop();
      t.cleanup();
    }
  });

  for (const queue of ['persisted', 'memory'] as const) {
    it(`while a large file is read (${queue} queue), the monitoring API answers and the sincedb records deliveries`, async () => {
      const big = 600_000;
      const t = tempDir('pipeline-file-input-');
      let p: Running | undefined;
      let fd: number | undefined;
      try {
        const input = join(t.dir, 'big.log');
        writeNumberedLines(input, big);
        const size = statSync(input).size;
        const data = join(t.dir, 'data');
        const port = await freePort();
        // memory queue: stdout (synchronous writes, acknowledged through their callbacks), which a
        // reader and worker handing over in microtasks alone would starve until the end of the read
        const output = queue === 'persisted' ? 'null {}' : 'stdout { codec => line { format => "%{message}" } }';
        const conf = `input { file { path => ["${input}"] start_position => "beginning" stat_interval => 0.1 } } output { ${output} }`;
        fd = openSync(join(t.dir, 'out.txt'), 'a');
        p = startPipeline(['-e', conf, '--path.data', data, '--queue.type', queue, '--api.http.port', String(port)], { stdout: fd });
        let answeredDuringCatchUp = 0;
        let offsetDuringCatchUp = 0;
        await waitFor(
          async () => {
            let stats: Record<string, unknown>;
            try {
              stats = await getJson(port, '/_node/stats/pipelines', 10_000);
            } catch {
              return false; // not listening yet, or no answer: ask again
            }
            const pipelines = stats.pipelines as Record<string, { events: { in?: number } }>;
            const read = pipelines.main?.events.in ?? 0;
            if (read > 0 && read < big) {
              answeredDuringCatchUp++;
              const off = Math.max(0, ...sincedbOffsets(data));
              if (off > 0 && off < size) offsetDuringCatchUp = off;
            }
            return read === big;
          },
          'the whole file to be read',
          180_000,
        );
        assert.ok(answeredDuringCatchUp >= 1, 'the API answered while the file was being read');
        assert.ok(offsetDuringCatchUp > 0, 'the sincedb recorded delivered lines before the catch-up read had finished');
        p.child.kill('SIGTERM');
        assert.equal(await p.exited, 0, p.stderr().slice(-2000));
        assert.deepEqual(sincedbOffsets(data), [size], 'after a clean stop the sincedb is at the end of the file');
        process.stderr.write(`# file input catch-up (${queue} queue): the API answered ${answeredDuringCatchUp} times during the read\n`);
      } finally {
        if (p && p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
        if (fd !== undefined) closeSync(fd);
        t.cleanup();
      }
    });
  }
});
