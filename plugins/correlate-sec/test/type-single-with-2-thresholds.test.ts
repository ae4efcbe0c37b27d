/** correlation/single-with-2-thresholds.ts */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { singleWith2Thresholds } from '../src/correlation/single-with-2-thresholds.js';
import { opKey } from '../src/runtime.js';
import { testRuntime, RULE_FILE, T0 } from './rt.js';

const RULES = `type=SingleWith2Thresholds\nptype=RegExp\npattern=hog (\\S+)\ndesc=$1 up\naction=write - %u %s\nwindow=10\nthresh=2\ndesc2=$1 down\naction2=write - %u %s\nwindow2=5\nthresh2=1\n`;
const KEY = opKey(RULE_FILE, 0, 'r up');


test('SingleWith2Thresholds: thresh matches within window act, then the operation watches window2', () => {
  const t = testRuntime(RULES);
  t.feed(singleWith2Thresholds, [[0, 'hog r'], [2, 'hog r']]);
  assert.deepEqual(t.out, [`${T0 + 2} r up`]);
  const op = t.engine.ops.get(KEY)!;
  assert.equal(op.fired, true);
  assert.equal(op.window, 5);
  assert.equal(op.time, T0 + 2);
  assert.deepEqual(op.times, []);
});

test('SingleWith2Thresholds: more than thresh2 matches in window2 push its start forward', () => {
  const t = testRuntime(RULES);
  t.feed(singleWith2Thresholds, [[0, 'hog r'], [2, 'hog r'], [4, 'hog r'], [6, 'hog r']]);
  const op = t.engine.ops.get(KEY)!;
  assert.deepEqual(op.times, [T0 + 6]);
  assert.equal(op.time, T0 + 6);
});

test('SingleWith2Thresholds: the end of window2 runs action2 with desc2 and ends the operation', () => {
  const t = testRuntime(RULES);
  t.feed(singleWith2Thresholds, [[0, 'hog r'], [2, 'hog r']]);
  t.at(8);
  singleWith2Thresholds.expire!(t.engine, t.engine.ops.get(KEY)!, T0 + 8);
  assert.deepEqual(t.out, [`${T0 + 2} r up`, `${T0 + 8} r down`]);
  assert.equal(t.engine.ops.size, 0);
});

test('SingleWith2Thresholds: in the first pass its expiry slides the window like SingleWithThreshold', () => {
  const t = testRuntime(RULES);
  t.feed(singleWith2Thresholds, [[0, 'hog r']]);
  singleWith2Thresholds.expire!(t.engine, t.engine.ops.get(KEY)!, T0 + 11);
  assert.equal(t.engine.ops.size, 0);
  assert.deepEqual(t.out, []);
});

test('SingleWith2Thresholds: setwpos drops the matches before the new start in either pass; in the first, none left ends it', () => {
  const t = testRuntime(RULES);
  t.feed(singleWith2Thresholds, [[0, 'hog r'], [2, 'hog r'], [3, 'hog r']]);
  const op = t.engine.ops.get(KEY)!;
  singleWith2Thresholds.moveWindow!(t.engine, op, T0 + 4);
  assert.deepEqual(op.times, [], 'second pass: the match at 3 left');
  assert.equal(op.time, T0 + 4);
  assert.equal(t.engine.ops.size, 1, 'in the second pass the operation stays');

  const t2 = testRuntime(RULES);
  t2.feed(singleWith2Thresholds, [[0, 'hog r']]);
  singleWith2Thresholds.moveWindow!(t2.engine, t2.engine.ops.get(KEY)!, T0 + 1);
  assert.equal(t2.engine.ops.size, 0);
});
