/** correlation/pair-with-window.ts */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pairWithWindow } from '../src/correlation/pair-with-window.js';
import { opKey } from '../src/runtime.js';
import { testRuntime, RULE_FILE, T0 } from './rt.js';

const RULES = `type=PairWithWindow\nptype=RegExp\npattern=fail (\\S+)\ndesc=no login for $1\naction=write - %u %s\nptype2=SubStr\npattern2=ok $1\ndesc2=ok $1\naction2=write - %u %s\nwindow=5\n`;

test('PairWithWindow: the second pattern within the window ends the operation with action2; the first acts on nothing', () => {
  const t = testRuntime(RULES);
  const r = t.rules[0]!;
  t.event('fail y');
  assert.equal(pairWithWindow.match(t.engine, r, 0), 1);
  assert.deepEqual(t.out, []);
  t.at(3);
  t.event('ok y');
  assert.equal(pairWithWindow.match(t.engine, r, 0), 1);
  assert.deepEqual(t.out, [`${T0 + 3} ok y`]);
  assert.equal(t.engine.ops.size, 0);
});

test('PairWithWindow: its expiry runs action and ends the operation', () => {
  const t = testRuntime(RULES);
  const r = t.rules[0]!;
  t.feed(pairWithWindow, [[0, 'fail x']]);
  t.at(6);
  pairWithWindow.expire!(t.engine, t.engine.ops.get(opKey(RULE_FILE, 0, 'no login for x'))!, T0 + 6);
  assert.deepEqual(t.out, [`${T0 + 6} no login for x`]);
  assert.equal(t.engine.ops.size, 0);
  assert.equal(r.ops!.size, 0);
});

test('PairWithWindow: a first match after the window ends the old operation (action) and starts a new one', () => {
  const t = testRuntime(RULES);
  t.feed(pairWithWindow, [[0, 'fail x'], [7, 'fail x']]);
  assert.deepEqual(t.out, [`${T0 + 7} no login for x`]);
  const op = t.engine.ops.get(opKey(RULE_FILE, 0, 'no login for x'))!;
  assert.equal(op.startTime, T0 + 7);
  t.feed(pairWithWindow, [[8, 'ok x']]);
  assert.deepEqual(t.out, [`${T0 + 7} no login for x`, `${T0 + 8} ok x`]);
});

test('PairWithWindow: within the window a first match changes nothing', () => {
  const t = testRuntime(RULES);
  t.event('fail x');
  pairWithWindow.match(t.engine, t.rules[0]!, 0);
  t.at(4);
  t.event('fail x');
  pairWithWindow.match(t.engine, t.rules[0]!, 0);
  assert.equal(t.engine.ops.get(opKey(RULE_FILE, 0, 'no login for x'))!.startTime, T0);
  assert.deepEqual(t.out, []);
});
