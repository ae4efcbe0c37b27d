/** correlation/single-with-threshold.ts */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { singleWithThreshold } from '../src/correlation/single-with-threshold.js';
import { opKey } from '../src/runtime.js';
import { testRuntime, RULE_FILE, T0 } from './rt.js';

const RULES = `type=SingleWithThreshold\nptype=RegExp\npattern=fail (\\S+) (\\d+)\ndesc=fails $1\naction=write - %u %s first=$2\naction2=write - %u end %s\nwindow=10\nthresh=3\n`;
const KEY = opKey(RULE_FILE, 0, 'fails a');


test('SingleWithThreshold: thresh matches within a sliding window act once; the rest of the window is suppressed', () => {
  const t = testRuntime(RULES);
  t.feed(singleWithThreshold, [[0, 'fail a 1'], [8, 'fail a 2'], [11, 'fail a 3']]);
  assert.deepEqual(t.out, [], 'at 11 the match at 0 has left the window');
  assert.deepEqual(t.engine.ops.get(KEY)!.times, [T0 + 8, T0 + 11]);
  assert.equal(t.engine.ops.get(KEY)!.time, T0 + 8);
  t.feed(singleWithThreshold, [[12, 'fail a 4'], [13, 'fail a 5']]);
  assert.deepEqual(t.out, [`${T0 + 12} fails a first=1`], 'the action list of the match that started the operation');
  assert.equal(t.rules[0]!.matchCount, 5);
});

test('SingleWithThreshold: its expiry after the action runs action2 and ends the operation', () => {
  const t = testRuntime(RULES);
  t.feed(singleWithThreshold, [[0, 'fail a 1'], [1, 'fail a 2'], [2, 'fail a 3']]);
  t.at(30);
  singleWithThreshold.expire!(t.engine, t.engine.ops.get(KEY)!, T0 + 30);
  assert.deepEqual(t.out, [`${T0 + 2} fails a first=1`, `${T0 + 30} end fails a`]);
  assert.equal(t.engine.ops.size, 0);
});

test('SingleWithThreshold: its expiry before the action slides the window, and ends the operation silently when no match is left', () => {
  const t = testRuntime(RULES);
  t.feed(singleWithThreshold, [[0, 'fail a 1'], [5, 'fail a 2']]);
  const op = t.engine.ops.get(KEY)!;
  singleWithThreshold.expire!(t.engine, op, T0 + 11);
  assert.deepEqual(op.times, [T0 + 5]);
  assert.equal(op.time, T0 + 5);
  singleWithThreshold.expire!(t.engine, op, T0 + 16);
  assert.equal(t.engine.ops.size, 0);
  assert.deepEqual(t.out, []);
});

test('SingleWithThreshold: a match after the window has passed ends the old operation first', () => {
  const t = testRuntime(RULES);
  t.feed(singleWithThreshold, [[0, 'fail a 1'], [1, 'fail a 2'], [2, 'fail a 3'], [20, 'fail a 4']]);
  assert.deepEqual(t.out, [`${T0 + 2} fails a first=1`, `${T0 + 20} end fails a`]);
  assert.deepEqual(t.engine.ops.get(KEY)!.times, [T0 + 20], 'a new operation counts the match');
});

test('SingleWithThreshold: setwpos before the action drops the matches before the new start (none left: the operation ends); after it only the start moves', () => {
  const t = testRuntime(RULES);
  t.feed(singleWithThreshold, [[0, 'fail a 1'], [4, 'fail a 2']]);
  const op = t.engine.ops.get(KEY)!;
  singleWithThreshold.moveWindow!(t.engine, op, T0 + 2);
  assert.deepEqual(op.times, [T0 + 4]);
  assert.equal(op.time, T0 + 2);
  singleWithThreshold.moveWindow!(t.engine, op, T0 + 5);
  assert.equal(t.engine.ops.size, 0);

  t.feed(singleWithThreshold, [[6, 'fail a 1'], [7, 'fail a 2'], [8, 'fail a 3']]);
  const fired = t.engine.ops.get(KEY)!;
  singleWithThreshold.moveWindow!(t.engine, fired, T0 + 8);
  assert.equal(fired.time, T0 + 8);
  assert.deepEqual(fired.times, [T0 + 6, T0 + 7, T0 + 8]);
});
