/** interpreter.ts: the action table, run on a test runtime. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ACTIONS, execList } from '../src/interpreter.js';
import { SUBST_ARGS } from '../src/actions.js';
import { opKey } from '../src/runtime.js';
import { testRuntime, RULE_FILE, T0 } from './rt.js';

const SYN = `type=Single\nptype=RegExp\npattern=^SYN (.*)\ndesc=syn\naction=write - got $1\n`;

function run(text: string, rules = SYN, opts: Parameters<typeof testRuntime>[1] = {}) {
  const t = testRuntime(rules, opts);
  const ret = execList(t.engine, t.actions(text), 'the desc');
  return { ...t, ret };
}

test('every action has a handler; those sec has but this engine does not (sockets) warn and the list goes on', () => {
  assert.deepEqual(Object.keys(ACTIONS).sort(), Object.keys(SUBST_ARGS).sort());
  const t = run('udgram /tmp/sock hello; tcpsock host:1 x; write - after');
  assert.equal(t.ret, 1);
  assert.deepEqual(t.out, ['after']);
  assert.deepEqual(t.logs, ["warn: action 'udgram' is not supported and was skipped", "warn: action 'tcpsock' is not supported and was skipped"]);
});

test('arguments get their %-variables as the action runs; %s is the description', () => {
  const t = run('assign %x 1; write - %s x=%x; assign %x 2; write - x=%x');
  assert.deepEqual(t.out, ['the desc x=1', 'x=2']);
});

test('control: if/else on a Perl-true variable, while until false or break; continue ends the list (0), break too (-1)', () => {
  const t = run('assign %n 3; while %n ( write - n=%n; if %n ( assign %n 0 ) ); assign %z 0; if %z ( write - yes ) else ( write - no ); assign %e %z; if %e ( write - e ) else ( none )');
  assert.deepEqual(t.out, ['n=3', 'no']);
  assert.equal(run('write - a; continue; write - b').ret, 0);
  const b = run('write - a; break; write - b');
  assert.deepEqual([b.ret, b.out], [-1, ['a']]);
  const w = run('assign %w 1; while %w ( write - once; break ); write - after');
  assert.deepEqual([w.ret, w.out], [1, ['once', 'after']], 'break ends the while, not the list');
});

test('variables: assignsq quotes for /bin/sh, free unsets, varset says whether the match cache has an entry', () => {
  const t = run("assignsq %q it's; write - %q; free %q; write - [%q]; varset %v none; write - v=%v");
  assert.deepEqual(t.out, ["'it'\\''s'", '[]', 'v=0']);
});

test('contexts: create (a bad lifetime is a warning), add, report without a command, exists/getsize/getaliases/getltime/getctime, pop and shift', () => {
  const t = run('create C x; create C 30; add C l1; add C l2%{.nl}l3; alias C D; report C; exists %e D; getsize %n C; getaliases %a C; getltime %l D; getctime %c C; write - %e %n %a %l %c; pop C %p; shift C %s1; copy C %all; write - %p %s1 %all; empty C; getsize %n C; write - %n');
  assert.deepEqual(t.logs, ["warn: Invalid lifetime for context 'C', can't create"]);
  assert.deepEqual(t.out, ['l1\nl2\nl3', `1 3 C\nD 30 ${T0}`, 'l3 l1 l2', '0']);
});

test('contexts: set with - keeps the lifetime, a new list runs at expiry; delete and obsolete', () => {
  const t = run('create A 5; set A - ( write - A ended ); obsolete A; create B 0 ( write - never ); delete B; exists %b B; write - b=%b');
  assert.deepEqual(t.out, ['A ended', 'b=0']);
});

test('setltime counts from creation (ending the context at once when past); setctime moves creation later', () => {
  const t = run('create A 100 ( write - A gone )');
  t.at(10);
  execList(t.engine, t.actions(`setctime ${T0 + 4} A; getctime %c A; write - %c; setltime A 5`), '');
  assert.deepEqual(t.out, [`${T0 + 4}`, 'A gone']);
});

test('event now, tevent later, cevent in a context: synthetic events, one per line', () => {
  const t = run('event SYN a%{.nl}SYN b; tevent 5 SYN late; cevent MINE 0 SYN mine', `type=Single\nptype=RegExp\npattern=^SYN (.*)\ncontext=MINE\ndesc=in mine\naction=write - in MINE: $1\n\n${SYN}`, { intcontexts: true });
  assert.equal(t.engine.queuedEvents, 3);
  t.engine.drain();
  assert.deepEqual(t.out, ['got a', 'got b', 'in MINE: mine']);
  t.at(5);
  t.engine.processLists();
  t.engine.drain();
  assert.deepEqual(t.out.slice(3), ['got late']);
});

test('reset, getwpos, setwpos address an operation by rule number and description', () => {
  const rules = `type=SingleWithThreshold\nptype=RegExp\npattern=f (\\w+)\ndesc=f $1\naction=write - fired %s\nwindow=60\nthresh=3\n`;
  const t = testRuntime(rules);
  t.engine.input('f a');
  t.at(2);
  t.engine.input('f a');
  t.at(3);
  const key = opKey(RULE_FILE, 0, 'f a');
  execList(t.engine, t.actions(`getwpos %w 1 f a; write - %w; setwpos ${T0 + 1} 1 f a; getwpos %w 1 f a; write - %w`, 1), '');
  assert.deepEqual(t.out, [`${T0}`, `${T0 + 1}`]);
  assert.deepEqual(t.engine.ops.get(key)!.times, [T0 + 2], 'setwpos dropped the match before the new start');
  execList(t.engine, t.actions(`setwpos ${T0 + 9} 1 f a; setwpos ${T0} 1 f a`, 1), '');
  assert.equal(t.engine.ops.get(key)!.time, T0 + 1, 'not into the future, not back');
  execList(t.engine, t.actions('reset 1 f b; reset f a', 1), '');
  assert.equal(t.engine.ops.size, 0, 'reset without a rule number: every rule of the file');
});

test('rewrite replaces the current event for the rules after', () => {
  const t = run('rewrite 1 SYN new');
  assert.equal(t.engine.lines.text(1), 'SYN new');
});

test('alert and heartbeat hand their fields to the host', () => {
  const got: unknown[] = [];
  run('alert resource=r1 event=e severity=minor text=%s; heartbeat origin=o timeout=60', SYN, { hooks: { emitNative: (k, f) => void got.push([k, f]) } });
  assert.deepEqual(got, [
    ['alert', { resource: 'r1', event: 'e', severity: 'minor', text: 'the desc' }],
    ['heartbeat', { origin: 'o', timeout: 60 }],
  ]);
});

test('files and the host: write to a file, logonly, addinput without a host, sigemul', () => {
  const t = run('logonly %s; addinput /x.log; sigemul HUP');
  assert.deepEqual(t.logs, ['info: the desc', 'warn: addinput /x.log: no input can be added here', 'warn: sigemul HUP is not supported']);
});

test('without allow_shell: shellcmd and spawn are refused with an error, the *exec forms do nothing; pipe and report without a command write to standard output', () => {
  const t = run("shellcmd touch x; spawn echo a; cmdexec /bin/true; pipeexec 'p1'; pipe 'p2'; add S s1; report S");
  assert.deepEqual(t.logs, ["error: refusing to run shell command 'touch x' without allow_shell", "error: refusing to run shell command 'echo a' without allow_shell"]);
  assert.deepEqual(t.out, ['p2', 's1']);
  const shell = run("pipeexec 'p3'; add S s2; reportexec S", SYN, { allowShell: true });
  assert.deepEqual(shell.out, ['p3', 's2']);
});
