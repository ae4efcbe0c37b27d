/** correlation/pair.ts */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pair } from '../src/correlation/pair.js';
import { opKey } from '../src/runtime.js';
import { testRuntime, RULE_FILE } from './rt.js';

const pairRule = (window: string) =>
  `type=Pair\nptype=RegExp\npattern=down (\\S+)\ndesc=down $1\naction=write - %s\nptype2=RegExp\npattern2=up $1\ndesc2=%1 back ($0)\naction2=write - %s\n${window}\n\ntype=Single\nptype=SubStr\npattern=x\ndesc=x\naction=none\n`;

test('Pair: the first pattern starts an operation and acts; the second, with the values of the first quoted in, ends it with action2', () => {
  const t = testRuntime(pairRule(''));
  const r = t.rules[0]!;
  t.event('down a.b');
  assert.equal(pair.match(t.engine, r, 0), 2, 'the first pattern goes on at its continue (DontCont)');
  assert.deepEqual(t.out, ['down a.b']);
  assert.equal(t.engine.ops.size, 1);
  t.event('up aXb');
  assert.equal(pair.match(t.engine, r, 0), 1, 'the . of a.b is a literal dot: no match, the next rule');
  t.event('up a.b');
  assert.equal(pair.match(t.engine, r, 0), 2, 'the second pattern goes on at continue2 (DontCont)');
  assert.deepEqual(t.out, ['down a.b', 'a.b back (up a.b)']);
  assert.equal(t.engine.ops.size, 0);
  assert.equal(r.ops!.size, 0);
  assert.equal(r.matchCount, 2);
});

test('Pair: while the operation lives, the first pattern again does nothing', () => {
  const t = testRuntime(pairRule(''));
  t.event('down h');
  pair.match(t.engine, t.rules[0]!, 0);
  t.at(1000);
  t.event('down h');
  pair.match(t.engine, t.rules[0]!, 0);
  assert.deepEqual(t.out, ['down h']);
  const op = t.engine.ops.get(opKey(RULE_FILE, 0, 'down h'))!;
  pair.expire!(t.engine, op, op.time + 1000);
  assert.equal(t.engine.ops.size, 1, 'without a window it waits for ever');
});

test('Pair with a window: past it, the second pattern ends the operation without action2, and expiry ends it silently', () => {
  const t = testRuntime(pairRule('window=10'));
  const r = t.rules[0]!;
  t.event('down h');
  pair.match(t.engine, r, 0);
  t.at(11);
  t.event('up h');
  assert.equal(pair.match(t.engine, r, 0), 1, 'no match of the rule: the next rule');
  assert.deepEqual(t.out, ['down h']);
  assert.equal(t.engine.ops.size, 0);

  t.event('down k');
  pair.match(t.engine, r, 0);
  pair.expire!(t.engine, t.engine.ops.get(opKey(RULE_FILE, 0, 'down k'))!, 100);
  assert.equal(t.engine.ops.size, 0);
  assert.equal(r.ops!.size, 0);
  assert.deepEqual(t.out, ['down h', 'down k']);
});

test('Pair with a window: a first match after the window starts the operation again, in place', () => {
  const t = testRuntime(pairRule('window=10'));
  const r = t.rules[0]!;
  t.event('down h');
  pair.match(t.engine, r, 0);
  t.event('down j');
  pair.match(t.engine, r, 0);
  t.at(20);
  t.event('down h');
  pair.match(t.engine, r, 0);
  assert.deepEqual(t.out, ['down h', 'down j', 'down h']);
  assert.deepEqual([...r.ops!.keys()], [opKey(RULE_FILE, 0, 'down h'), opKey(RULE_FILE, 0, 'down j')], 'the restarted operation keeps its place');
});

test('Pair: a second pattern that does not compile with the values in starts no operation', () => {
  const t = testRuntime(`type=Pair\nptype=RegExp\npattern=open (\\w)\ndesc=open $1\naction=write - %s\nptype2=RegExp\npattern2=(?$1)close\ndesc2=closed\naction2=write - %s\n`);
  t.event('open z');
  pair.match(t.engine, t.rules[0]!, 0);
  assert.equal(t.engine.ops.size, 0);
  assert.deepEqual(t.out, []);
  assert.match(t.logs[0]!, /^error: Runtime variable evaluation yielded an invalid regular expression '\(\?z\)close' for Pair rule/);
});

test('Pair: a SubStr second pattern takes the values as they are; desc2 gets $-variables of the second match', () => {
  const t = testRuntime(`type=Pair\nptype=RegExp\npattern=^lock (\\S+)\ndesc=lock $1\naction=none\nptype2=SubStr\npattern2=unlock $1\ndesc2=$1 unlocked\naction2=write - %s\n`);
  t.event('lock a.b');
  pair.match(t.engine, t.rules[0]!, 0);
  t.event('unlock aXb');
  pair.match(t.engine, t.rules[0]!, 0);
  t.event('unlock a.b');
  pair.match(t.engine, t.rules[0]!, 0);
  assert.deepEqual(t.out, ['a.b unlocked']);
});
