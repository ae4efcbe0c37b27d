import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { logRecords, REPO, startPipeline, tempDir, waitFor } from './util.js';

/**
 * The filter section in worker threads (`-w`): events still reach the correlate section, and the
 * outputs, in the order their inputs produced them; reload and shutdown lose nothing; a thread
 * that cannot start leaves the section on the pipeline thread. The `busy` fixture filter keeps
 * its thread busy ~50-250 µs per event (so the threads start: see Pipeline.noteFilterTime) and
 * records which thread filtered each event; `stamp` in the correlate section numbers events in
 * the order correlation sees them.
 */
const PLUGINS = join(REPO, 'core', 'test', 'fixtures', 'plugins');

interface Out {
  type: string;
  sequence: number;
  stamp: number;
  filter_thread: number;
  tags?: string[];
  round?: string;
}

function readOut(file: string): Out[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => JSON.parse(l) as Out);
}

/** Every input's events in their order, each once, and stamps increasing in file order. */
function assertOrdered(events: Out[], perInput: Record<string, number>): void {
  const next: Record<string, number> = {};
  for (const [i, e] of events.entries()) {
    const want = next[e.type] ?? 0;
    assert.equal(e.sequence, want, `event ${i} of type ${e.type}: sequence ${e.sequence}, expected ${want}`);
    next[e.type] = want + 1;
    assert.equal(e.stamp, i, `event ${i} reached correlate as number ${e.stamp}`);
  }
  assert.deepEqual(next, perInput);
}

function config(out: string, count: number, busy = 'micros => 50 jitter => 200'): string {
  return `
input {
  generator { count => ${count} lines => ["a"] type => "a" }
  generator { count => ${count} lines => ["b"] type => "b" }
  generator { count => ${count} lines => ["c"] type => "c" }
}
filter {
  busy { ${busy} }
  if [type] == "b" { mutate { add_tag => ["b"] } }
}
correlate { stamp { } }
output { file { path => "${out}" } }
`;
}

describe('filter worker threads', { concurrency: false }, () => {
  for (const workers of [1, 2, 4]) {
    test(`-w ${workers}: events reach correlate and outputs in input order`, async () => {
      const t = tempDir();
      try {
        const out = join(t.dir, 'out.jsonl');
        const count = 12_000;
        const p = startPipeline(['-e', config(out, count), '-w', String(workers), '--path.plugins', PLUGINS, '--path.data', join(t.dir, 'data'), '--api.enabled', 'false']);
        assert.equal(await p.exited, 0, p.stderr());
        const events = readOut(out);
        assertOrdered(events, { a: count, b: count, c: count });
        for (const e of events) assert.equal(e.tags?.includes('b') ?? false, e.type === 'b');
        const threaded = events.filter((e) => e.filter_thread !== 0).length;
        const started = logRecords(p.stderr()).some((r) => String(r.msg).startsWith('filter section running in'));
        if (workers === 1) {
          assert.equal(threaded, 0, 'with -w 1 every event is filtered on the pipeline thread');
          assert.equal(started, false);
        } else {
          assert.ok(started, `threads started:\n${p.stderr()}`);
          assert.ok(threaded > 0, 'some events were filtered in worker threads');
          assert.ok(new Set(events.map((e) => e.filter_thread).filter((x) => x !== 0)).size > 1, 'more than one thread filtered');
        }
      } finally {
        t.cleanup();
      }
    });
  }

  test('reload and shutdown with threads lose nothing and repeat nothing', async () => {
    const t = tempDir();
    try {
      const out = join(t.dir, 'out.jsonl');
      const conf = join(t.dir, 'p.conf');
      const count = 1_000_000; // more than the test waits for: SIGTERM ends it mid-stream
      const write = (round: string) => writeFileSync(conf, config(out, count).replace('correlate {', `filter { mutate { add_field => { "round" => "${round}" } } }\ncorrelate {`));
      write('one');
      const p = startPipeline(['-f', conf, '-w', '2', '--path.plugins', PLUGINS, '--path.data', join(t.dir, 'data'), '--api.enabled', 'false']);
      const logs = () => logRecords(p.stderr());
      await waitFor(() => logs().some((r) => String(r.msg).startsWith('filter section running in')), 'worker threads');
      write('two');
      p.child.kill('SIGHUP');
      await waitFor(() => logs().some((r) => r.msg === 'configuration reloaded'), 'the reload');
      // the new threads start once the section is busy again
      await waitFor(() => logs().filter((r) => String(r.msg).startsWith('filter section running in')).length >= 2, 'threads after the reload');
      p.child.kill('SIGTERM');
      assert.equal(await p.exited, 0, p.stderr());
      const stopped = logs().find((r) => r.msg === 'pipeline stopped') as { in: number; out: number } | undefined;
      assert.ok(stopped, p.stderr());
      const events = readOut(out);
      assert.equal(events.length, stopped.in, 'every event an input produced is in the file');
      assert.equal(stopped.out, stopped.in);
      const perInput: Record<string, number> = {};
      for (const e of events) perInput[e.type] = (perInput[e.type] ?? 0) + 1;
      assertOrdered(events, perInput);
      const rounds = events.map((e) => e.round);
      const firstTwo = rounds.indexOf('two');
      assert.ok(firstTwo > 0, 'events before and after the reload');
      assert.ok(rounds.slice(firstTwo).every((r) => r === 'two'), 'after the first event of the new config, only the new config');
      assert.ok(events.slice(firstTwo).some((e) => e.filter_thread !== 0), 'threads filtered after the reload');
    } finally {
      t.cleanup();
    }
  });

  test('a thread that cannot start leaves the section on the pipeline thread, nothing lost', async () => {
    const t = tempDir();
    try {
      const out = join(t.dir, 'out.jsonl');
      const count = 8_000;
      const p = startPipeline(['-e', config(out, count, 'micros => 100 fail_in_thread => true'), '-w', '2', '--path.plugins', PLUGINS, '--path.data', join(t.dir, 'data'), '--api.enabled', 'false']);
      assert.equal(await p.exited, 0, p.stderr());
      assert.ok(logRecords(p.stderr()).some((r) => String(r.msg).includes('could not start') && String(r.msg).includes('runs on the pipeline thread')), p.stderr());
      const events = readOut(out);
      assertOrdered(events, { a: count, b: count, c: count });
      assert.ok(events.every((e) => e.filter_thread === 0));
    } finally {
      t.cleanup();
    }
  });
  test('what a filter logs in a worker thread reaches stderr and the -l file, marked with its thread', async () => {
    const t = tempDir();
    try {
      const out = join(t.dir, 'out.jsonl');
      const logs = join(t.dir, 'logs');
      const count = 12_000;
      // the last 200 events of input "a" are not JSON: the json filter warns once for each
      const conf = config(out, count).replace('filter {\n', `filter {\n  if [type] == "a" and [sequence] >= ${count - 200} { json { source => "message" } }\n`);
      const p = startPipeline(['-e', conf, '-w', '2', '-l', logs, '--path.plugins', PLUGINS, '--path.data', join(t.dir, 'data'), '--api.enabled', 'false']);
      assert.equal(await p.exited, 0, p.stderr());
      const events = readOut(out);
      const warned = events.filter((e) => e.type === 'a' && e.sequence >= count - 200);
      const inThreads = warned.filter((e) => e.filter_thread !== 0).length;
      assert.ok(inThreads > 0, `some of the warned events were filtered in threads:\n${p.stderr()}`);
      const fileRecords = logRecords(readFileSync(join(logs, 'pipeline-json.log'), 'utf8'));
      for (const [where, records] of [['stderr', logRecords(p.stderr())], ['the -l file', fileRecords]] as const) {
        const warns = records.filter((r) => r.msg === 'error parsing json');
        assert.equal(warns.length, warned.length, `one warning per event in ${where}`);
        assert.equal(warns.filter((r) => typeof r.thread === 'number').length, inThreads, `thread-marked warnings in ${where}`);
        for (const w of warns) assert.equal(w.level, 'warn');
      }
    } finally {
      t.cleanup();
    }
  });
});
