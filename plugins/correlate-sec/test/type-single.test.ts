/** correlation/single.ts */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { single } from '../src/correlation/single.js';
import { testRuntime } from './rt.js';

const RULES = `type=Single
ptype=RegExp
pattern=user (\\w+)
continue=TakeNext
desc=user $1
action=write - %s saw $1

type=Single
ptype=SubStr
pattern=x
desc=plain
action=write - %s

type=Single
ptype=SubStr
pattern=y
continue=EndMatch
desc=last
action=write - %s
`;

test('Single: a match runs the action list, match variables in, desc as %s; the search goes on at its continue', () => {
  const t = testRuntime(RULES);
  const [takeNext, dontCont, endMatch] = t.rules;
  t.event('user bob');
  assert.equal(single.match(t.engine, takeNext!, 0), 1);
  assert.deepEqual(t.out, ['user bob saw bob']);
  assert.equal(takeNext!.matchCount, 1);
  t.event('x');
  assert.equal(single.match(t.engine, dontCont!, 1), 3, 'DontCont: past the last rule of the file');
  t.event('y');
  assert.equal(single.match(t.engine, endMatch!, 2), -1, 'EndMatch: the search ends');
  assert.deepEqual(t.out, ['user bob saw bob', 'plain', 'last']);
});

test('Single: no match, no action, the next rule', () => {
  const t = testRuntime(RULES);
  t.event('nobody here');
  assert.equal(single.match(t.engine, t.rules[0]!, 0), 1);
  assert.equal(single.match(t.engine, t.rules[1]!, 1), 2);
  assert.deepEqual(t.out, []);
  assert.equal(t.rules[0]!.matchCount, 0);
});

test('Single keeps no operations: it has no expiry', () => {
  const t = testRuntime(RULES);
  t.event('user ann');
  single.match(t.engine, t.rules[0]!, 0);
  assert.equal(t.engine.ops.size, 0);
  assert.equal(single.expire, undefined);
});
