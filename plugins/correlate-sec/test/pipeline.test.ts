/**
 * correlate-sec in real pipeline runs (core/bin/pipeline.js start, a rules file, the stdin input,
 * json_lines on stdout, JSON logs on stderr), as a user sees it:
 * - SIGABRT and SIGHUP after a rule file was edited: windows and contexts of unchanged rules go on,
 *   an edited rule's window starts again;
 * - `--log.level debug`: the rule trace (matches, context operations, actions with file:line),
 *   at most TRACE_LIMIT lines a second with the rest counted; none at info;
 * - alert and heartbeat events name their rule ([sec][rule], [sec][desc]); heartbeat environment
 *   and severity reach its attributes;
 * - `pipeline replay`: alerts filed under the rule that raised them, timer-pass ones included.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { REPO } from './oracle-util.js';
import { TRACE_LIMIT } from '../src/trace.js';

const BIN = join(REPO, 'core/bin/pipeline.js');
const wd = mkdtempSync(join(tmpdir(), 'sec-pipeline-'));
after(() => rmSync(wd, { recursive: true, force: true }));

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Run {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  logs(): Record<string, unknown>[];
  events(): Record<string, any>[];
  send(...lines: string[]): void;
  until(what: string, test: () => boolean, ms?: number): Promise<void>;
  exited: Promise<number>;
}

function start(name: string, conf: string, level = 'info'): Run {
  const dir = join(wd, name);
  const child = spawn(process.execPath, [BIN, 'start', '-f', conf, '--api.enabled', 'false', '--path.data', join(dir, 'data'), '--log.level', level, '--log.format', 'json'], {
    cwd: wd,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exited = new Promise<number>((r) => child.on('exit', (code) => r(code ?? 1)));
  const parse = (text: string) =>
    text
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, any>);
  return {
    child,
    exited,
    stdout: () => out,
    stderr: () => err,
    logs: () => parse(err),
    events: () => parse(out),
    send: (...lines) => void child.stdin!.write(lines.map((l) => l + '\n').join('')),
    async until(what, test, ms = 30_000) {
      const end = Date.now() + ms;
      while (!test()) {
        if (Date.now() > end) throw new Error(`timed out waiting for ${what}\n--- stderr:\n${err}\n--- stdout:\n${out}`);
        if (child.exitCode !== null) throw new Error(`the pipeline exited (${child.exitCode}) waiting for ${what}\n${err}`);
        await sleep(20);
      }
    },
  };
}

const config = (rules: string) => `input { stdin {} }\ncorrelate { sec { rules => ["${rules}"] } }\noutput { stdout { codec => json_lines } }\n`;
const lines = (f: string) => (existsSync(f) ? readFileSync(f, 'utf8').split('\n').filter(Boolean) : []);

/** A marker rule: `mark N` writes `mark N` to the out file, so a test knows every line before it was matched. */
const mark = (out: string) => `type=Single\nptype=RegExp\npattern=^mark (\\d+)$\ndesc=mark\naction=write ${out} mark $1\n`;

describe('correlate-sec in a pipeline run', () => {
  it('SIGABRT, then SIGHUP, after rule edits: unchanged rules keep windows and contexts, an edited rule starts again', async () => {
    const rules = join(wd, 'reload.sec');
    const out = join(wd, 'reload.out');
    const A = 'type=SingleWithThreshold\nptype=RegExp\npattern=fail (\\S+)\ndesc=three fails for $1\naction=alert resource=$1 event="A fired" severity=major\nwindow=600\nthresh=3\n';
    const B = (w: number) => `type=SingleWithThreshold\nptype=RegExp\npattern=deny (\\S+)\ndesc=three denies for $1\naction=write ${out} B fired for $1\nwindow=${w}\nthresh=3\n`;
    const rest = (word: string) =>
      `type=Single\nptype=SubStr\npattern=ping\ndesc=ping\naction=write ${out} pong ${word}\n\n` +
      'type=Single\nptype=RegExp\npattern=login (\\S+)\ndesc=login\naction=create USER_$1 3600\n\n' +
      `type=Single\nptype=RegExp\npattern=check (\\S+)\ncontext=USER_$1\ndesc=check\naction=write ${out} user $1 is known\n\n` +
      mark(out);
    writeFileSync(rules, `${A}\n${B(600)}\n${rest('one')}`);
    writeFileSync(join(wd, 'reload.conf'), config(rules));
    const p = start('reload', join(wd, 'reload.conf'));
    try {
      await p.until('start', () => p.logs().some((r) => r.msg === 'pipeline started'));
      p.send('fail x', 'fail x', 'deny y', 'deny y', 'login u', 'ping', 'mark 1');
      await p.until('mark 1', () => lines(out).includes('mark 1'));

      // B's window changes and ping's action; A, login, check and mark are as they were
      writeFileSync(rules, `${A}\n${B(700)}\n${rest('two')}`);
      p.child.kill('SIGABRT');
      await p.until('the soft restart', () => p.logs().some((r) => r.msg === 'reloaded' && r.why === 'SIGABRT'));
      const handover = p.logs().find((r) => typeof r.msg === 'string' && r.msg.startsWith('sec: soft restart'))!;
      assert.deepEqual([handover.operations_kept, handover.operations_dropped, handover.rules_unchanged, handover.rules_new_or_changed, handover.contexts], [1, 1, 4, 2, 1], 'A kept, B dropped; B and ping edited');
      p.send('fail x', 'deny y', 'check u', 'ping', 'mark 2');
      await p.until('mark 2', () => lines(out).includes('mark 2'));
      const alerts = p.events().filter((e) => e.tags?.includes('alert'));
      assert.equal(alerts.length, 1, 'the third fail completes the window opened before SIGABRT');
      assert.deepEqual(alerts[0]!.sec, { rule: 'reload.sec:1', desc: 'three fails for x' });
      assert.deepEqual(alerts[0]!.alert, { resource: 'x', event: 'A fired', severity: 'major' });
      assert.deepEqual(lines(out), ['pong one', 'mark 1', 'user u is known', 'pong two', 'mark 2'], 'B (edited) did not fire: its window started again');

      // SIGHUP: the same per-rule keeping (ping edited again; B unchanged now, so its new window goes on)
      writeFileSync(rules, `${A}\n${B(700)}\n${rest('three')}`);
      p.child.kill('SIGHUP');
      await p.until('the reload', () => p.logs().some((r) => r.msg === 'reloaded' && r.why === 'SIGHUP'));
      p.send('deny y', 'deny y', 'ping', 'check u', 'mark 3');
      await p.until('mark 3', () => lines(out).includes('mark 3'));
      assert.deepEqual(lines(out).slice(5), ['B fired for y', 'pong three', 'user u is known', 'mark 3']);
      assert.equal(p.child.exitCode, null);
    } finally {
      p.child.stdin!.end();
      assert.equal(await p.exited, 0, p.stderr());
    }
  });

  it('--log.level debug traces matches, context operations and actions with file:line, rate-limited; info has no trace', async () => {
    const rules = join(wd, 'trace.sec');
    const out = join(wd, 'trace.out');
    writeFileSync(
      rules,
      'type=Single\nptype=RegExp\npattern=login (\\S+)\ndesc=login $1\naction=create USER_$1 3600; add USER_$1 $0; event seen $1\n\n' +
        `type=Single\nptype=RegExp\npattern=^seen (\\S+)\ndesc=seen\naction=write ${out} seen $1\n\n` +
        'type=Single\nptype=RegExp\npattern=^noise \\d+\ndesc=noise\naction=assign %n $0\n\n' +
        mark(out),
    );
    writeFileSync(join(wd, 'trace.conf'), config(rules));

    const quiet = start('trace-info', join(wd, 'trace.conf'), 'info');
    try {
      await quiet.until('start', () => quiet.logs().some((r) => r.msg === 'pipeline started'));
      quiet.send('login bob', 'mark 1');
      await quiet.until('mark 1', () => lines(out).includes('mark 1'));
    } finally {
      quiet.child.stdin!.end();
      assert.equal(await quiet.exited, 0, quiet.stderr());
    }
    assert.equal(quiet.logs().filter((r) => r.level === 'debug' || /matched rule|Creating context/.test(String(r.msg))).length, 0);

    const p = start('trace-debug', join(wd, 'trace.conf'), 'debug');
    const noise = 3 * TRACE_LIMIT;
    try {
      await p.until('start', () => p.logs().some((r) => r.msg === 'pipeline started'));
      p.send('login alice', 'mark 2');
      await p.until('mark 2', () => lines(out).includes('mark 2'));
      const trace = () => p.logs().filter((r) => r.level === 'debug' && /^trace\.sec:\d+: |^rule trace:/.test(String(r.msg))).map((r) => String(r.msg));
      assert.deepEqual(trace(), [
        "trace.sec:1: Input 'login alice' matched rule 1 (Single)",
        "trace.sec:1: Creating context 'USER_alice'",
        "trace.sec:1: Adding event(s) 'login alice' to context 'USER_alice'",
        "trace.sec:1: Creating event 'seen alice'",
        "trace.sec:7: Event 'seen alice' matched rule 2 (Single)",
        `trace.sec:7: Writing event 'seen alice' to file '${out}'`,
        "trace.sec:19: Input 'mark 2' matched rule 4 (Single)",
        `trace.sec:19: Writing event 'mark 2' to file '${out}'`,
      ]);
      // a burst: two lines per event, far more than the limit within one second
      const before = trace().length;
      p.send(...Array.from({ length: noise }, (_, i) => `noise ${i}`), 'mark 3');
      await p.until('mark 3', () => lines(out).includes('mark 3'));
      const total = 2 * noise + 2;
      const burst = () => trace().slice(before);
      const written = () => burst().filter((m) => !m.startsWith('rule trace:')).length;
      const suppressed = () => burst().filter((m) => m.startsWith('rule trace:')).reduce((a, m) => a + Number(/(\d+) lines? suppressed/.exec(m)![1]), 0);
      await p.until('the count of every suppressed line', () => written() + suppressed() >= total, 10_000);
      assert.equal(written() + suppressed(), total, 'every trace line of the burst is written or counted');
      assert.ok(suppressed() > 0 && written() >= 2, `written ${written()}, suppressed ${suppressed()}`);
      assert.match(burst().find((m) => m.startsWith('rule trace:'))!, new RegExp(`suppressed \\(at most ${TRACE_LIMIT} a second\\)`));
    } finally {
      p.child.stdin!.end();
      assert.equal(await p.exited, 0, p.stderr());
    }
  });

  it('alert and heartbeat events name their rule; heartbeat environment and severity are its attributes', () => {
    const rules = join(wd, 'named.sec');
    writeFileSync(
      rules,
      '# sudo\ntype=Single\nptype=RegExp\npattern=sudo fail (\\S+) on (\\S+)\ndesc=sudo failure by $1 on $2\naction=alert resource=$2 event="sudo failure" severity=warning text=$0\n\n' +
        'type=Single\nptype=RegExp\npattern=backup done on (\\S+)\ndesc=backup of $1\naction=heartbeat origin=$1_backup timeout=86400 environment=Homelab severity=Critical tags=backup\n',
    );
    writeFileSync(join(wd, 'named.conf'), config(rules));
    const r = spawnSync(process.execPath, [BIN, 'start', '-f', join(wd, 'named.conf'), '--api.enabled', 'false', '--path.data', join(wd, 'named-data'), '--log.level', 'error'], {
      cwd: wd,
      input: 'sudo fail bob on web1\nbackup done on nas\n',
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.equal(r.status, 0, r.stderr);
    const ev = r.stdout
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, any>)
      .filter((e) => e.tags?.includes('alert') || e.tags?.includes('heartbeat'));
    assert.equal(ev.length, 2);
    assert.deepEqual(ev[0]!.sec, { rule: 'named.sec:2', desc: 'sudo failure by bob on web1' });
    assert.deepEqual(ev[1]!.sec, { rule: 'named.sec:8', desc: 'backup of nas' });
    assert.deepEqual(ev[1]!.heartbeat, { origin: 'nas_backup', timeout: 86400, tags: ['backup'], attributes: { environment: 'Homelab', severity: 'critical' } });
  });

  it('pipeline replay files alerts under the rule that raised them, those of a window ending in a timer pass too', () => {
    const rules = join(wd, 'replay.sec');
    writeFileSync(
      rules,
      'type=SingleWithThreshold\nptype=RegExp\npattern=fail (\\S+)\ndesc=failures of $1\nwindow=60\nthresh=2\n' +
        'action=alert resource=$1 event="two failures"\naction2=alert resource=$1 event="failures over" severity=ok\n',
    );
    writeFileSync(join(wd, 'replay.conf'), `filter { grok { match => { "message" => "^%{TIMESTAMP_ISO8601:ts} %{GREEDYDATA}" } } date { match => ["ts", "ISO8601"] } }\ncorrelate { sec { rules => ["${rules}"] } }\n`);
    const log = join(wd, 'replay.log');
    writeFileSync(log, ['2024-03-01T10:00:00Z fail a', '2024-03-01T10:00:10Z fail a', '2024-03-01T10:00:20Z fail b', '2024-03-01T10:00:30Z fail b', '2024-03-01T10:05:00Z quiet', ''].join('\n'));
    const r = spawnSync(process.execPath, [BIN, 'replay', '-f', join(wd, 'replay.conf'), '--summary', 'json', '--path.data', join(wd, 'replay-data'), log], { cwd: wd, encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.status, 0, r.stderr);
    const s = JSON.parse(r.stdout) as { alerts: { desc: string; rule?: string; count: number }[] };
    // both resources' alerts, and the action2 ones raised when the windows ended in a timer pass: one rule
    assert.deepEqual(
      s.alerts.map((a) => [a.rule, a.desc, a.count]),
      [['replay.sec:1', 'failures of $1', 4]],
    );
  });
});
