/**
 * Runaway regexes against a running pipeline (issue 13 item 4, issue 20 item 1): catastrophic
 * backtracking in a grok pattern, an `=~` condition and a SEC pattern must neither stop the other
 * events nor keep SIGTERM from ending the process.
 *
 * `(a+)+$` on forty `a`s and a `b` is the classic: a backtracking engine tries every way to split
 * the `a`s (2^40) before failing. The `(?=a)` variants keep V8's linear-time engine out (it takes
 * no lookarounds), so they exercise the guards rather than V8's own fallback.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, it } from 'node:test';
import { logRecords, startPipeline, tempDir, waitFor, type Running } from '../e2e/util.js';

const HOSTILE = 'a'.repeat(40) + 'b';

interface Out {
  message: string;
  tags?: string[];
  [k: string]: unknown;
}

const live = new Set<Running>();

function run(conf: string, dir: string): { p: Running; out: () => Out[] } {
  const p = startPipeline(['-e', conf, '--path.data', join(dir, 'data'), '--api.enabled', 'false'], { stdout: 'pipe' });
  live.add(p);
  void p.exited.then(() => live.delete(p));
  let text = '';
  p.child.stdout!.setEncoding('utf8').on('data', (d: string) => (text += d));
  const out = () =>
    text
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Out);
  return { p, out };
}

/** Sends SIGTERM and waits for the exit; fails if the process outlives `ms` (then kills it). */
async function stop(p: Running, ms: number): Promise<number | null> {
  p.child.kill('SIGTERM');
  const timer = setTimeout(() => p.child.kill('SIGKILL'), ms);
  const code = await p.exited;
  clearTimeout(timer);
  return code;
}

describe('runaway regexes in a running pipeline', () => {
  afterEach(() => {
    // a failed assertion leaves its pipeline running: end it so the run can finish
    for (const p of live) p.child.kill('SIGKILL');
  });

  it('grok: (a+)+$ on 40 a and a b times out under the shared guard with _groktimeout while the other events flow', async () => {
    const t = tempDir();
    try {
      const conf = `input { stdin {} }
        filter { grok { match => { "message" => ["(a+)+$", "^ok %{INT:n}$"] } timeout_millis => 1000 } }
        output { stdout { codec => json_lines } }`;
      const { p, out } = run(conf, t.dir);
      await waitFor(() => p.stderr().includes('pipeline started'), 'start');
      p.child.stdin!.write(`ok 0\n${HOSTILE}\n`);
      for (let i = 1; i <= 50; i++) p.child.stdin!.write(`ok ${i}\n`);
      await waitFor(() => out().length === 52, 'all 52 events out', 60_000);
      const events = out();
      const bad = events.find((e) => e.message === HOSTILE)!;
      assert.deepEqual(bad.tags, ['_groktimeout']);
      const ok = events.filter((e) => e.message.startsWith('ok '));
      assert.equal(ok.length, 51);
      for (const e of ok) assert.equal(e.n, e.message.slice(3), `event ${e.message} parsed`);
      assert.ok(logRecords(p.stderr()).some((r) => String(r.msg).includes('grok: timeout')), 'the timeout is logged');
      p.child.stdin!.end();
      assert.equal(await p.exited, 0, p.stderr());
    } finally {
      t.cleanup();
    }
  });

  it('grok: SIGTERM during a runaway match (60 s timeout) ends the process without waiting for the timeout', async () => {
    const t = tempDir();
    try {
      const conf = `input { stdin {} }
        filter { grok { match => { "message" => "^(?=a)(a+)+$" } timeout_millis => 60000 } }
        output { stdout { codec => json_lines } }`;
      const { p, out } = run(conf, t.dir);
      await waitFor(() => p.stderr().includes('pipeline started'), 'start');
      p.child.stdin!.write('a1\n');
      await waitFor(() => out().length === 1, 'the first event out');
      p.child.stdin!.write(`${HOSTILE}\n`);
      // let the match start and run a while (the pipeline thread is now waiting on the guard)
      await new Promise((r) => setTimeout(r, 3000));
      const code = await stop(p, 20_000);
      assert.equal(code, 0, `exit code ${code}; ${p.stderr()}`);
      assert.deepEqual(out().find((e) => e.message === HOSTILE)?.tags, ['_groktimeout'], 'the runaway line is delivered, tagged');
    } finally {
      t.cleanup();
    }
  });

  it('=~ and !~: a runaway condition counts as no match, other events flow, SIGTERM ends the process', async () => {
    const t = tempDir();
    try {
      const conf = `input { stdin {} }
        filter {
          if [message] =~ /(a+)+$/ { mutate { add_tag => ["plain"] } }
          if [message] =~ /^(?=a)(a+)+$/ { mutate { add_tag => ["guarded"] } }
          if [message] !~ /^(?=a)(a+)+$/ { mutate { add_tag => ["not_guarded"] } }
        }
        output { stdout { codec => json_lines } }`;
      const { p, out } = run(conf, t.dir);
      await waitFor(() => p.stderr().includes('pipeline started'), 'start');
      for (let i = 0; i < 5; i++) p.child.stdin!.write(`${HOSTILE}\n`);
      for (let i = 0; i < 20; i++) p.child.stdin!.write(`aaa${i}\n`);
      await waitFor(() => out().length === 25, 'all 25 events out', 60_000);
      // (after a runaway the guarded regex is skipped until the event loop turns: a later batch)
      p.child.stdin!.write('aaaa\n');
      await waitFor(() => out().length === 26, 'the 26th event out', 60_000);
      const events = out();
      // V8's linear-time fallback answers the plain one exactly; the guarded one counts as no match
      for (const e of events.filter((x) => x.message === HOSTILE)) assert.deepEqual(e.tags, ['not_guarded']);
      assert.deepEqual(events.find((e) => e.message === 'aaaa')!.tags, ['plain', 'guarded']);
      assert.deepEqual(events.find((e) => e.message === 'aaa3')!.tags, ['not_guarded']);
      assert.match(p.stderr(), /PIPELINE_REGEX_RUNAWAY/);
      // a stream of hostile lines still lets SIGTERM through
      for (let i = 0; i < 2000; i++) p.child.stdin!.write(`${HOSTILE}\n`);
      await new Promise((r) => setTimeout(r, 300));
      const code = await stop(p, 15_000);
      assert.equal(code, 0, `exit code ${code}`);
    } finally {
      t.cleanup();
    }
  });

  it('SEC: a runaway pattern counts as no match, the other rules and events flow, SIGTERM ends the process', async () => {
    const t = tempDir();
    try {
      const rules = join(t.dir, 'r.sec');
      writeFileSync(
        rules,
        `type=Single
ptype=RegExp
pattern=^(?=a)(a+)+$
desc=runaway
action=event RUNAWAY MATCHED

type=Single
ptype=RegExp
pattern=^ok (\\d+)$
desc=ok $1
action=event seen $1
`,
      );
      const conf = `input { stdin {} }
        correlate { sec { rules => ["${rules}"] } }
        output { stdout { codec => json_lines } }`;
      const { p, out } = run(conf, t.dir);
      await waitFor(() => p.stderr().includes('pipeline started'), 'start');
      for (let i = 0; i < 5; i++) p.child.stdin!.write(`${HOSTILE}\n`);
      for (let i = 0; i < 20; i++) p.child.stdin!.write(`ok ${i}\n`);
      await waitFor(() => out().filter((e) => e.message.startsWith('seen ')).length === 20, 'the 20 events the second rule creates', 60_000);
      // (after a runaway the pattern is skipped until the event loop turns: a later batch)
      p.child.stdin!.write('aaaa\n');
      await waitFor(() => out().some((e) => e.message === 'RUNAWAY MATCHED'), 'the first rule matching a short line');
      const events = out();
      assert.equal(events.filter((e) => e.message === 'RUNAWAY MATCHED').length, 1, 'only "aaaa" matched the first rule');
      assert.equal(events.filter((e) => e.message === HOSTILE).length, 5, 'the hostile lines went on to the output');
      assert.match(p.stderr(), /PIPELINE_REGEX_RUNAWAY/);
      for (let i = 0; i < 2000; i++) p.child.stdin!.write(`${HOSTILE}\n`);
      await new Promise((r) => setTimeout(r, 300));
      const code = await stop(p, 15_000);
      assert.equal(code, 0, `exit code ${code}`);
    } finally {
      t.cleanup();
    }
  });
});
