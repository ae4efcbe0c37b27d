/** correlation/single-with-suppress.ts */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { singleWithSuppress } from '../src/correlation/single-with-suppress.js';
import { opKey } from '../src/runtime.js';
import { testRuntime, RULE_FILE, T0 } from './rt.js';

const RULES = `type=SingleWithSuppress\nptype=RegExp\npattern=(\\S+) full\ndesc=$1 is full\naction=write - %u %s\nwindow=10\n`;

test('SingleWithSuppress: the first match of a description acts; the others within the window do not', () => {
  const t = testRuntime(RULES);
  const r = t.rules[0]!;
  assert.deepEqual(t.feed(singleWithSuppress, [[0, 'a full'], [3, 'a full'], [4, 'b full'], [10, 'a full'], [11, 'a full']]), [1, 1, 1, 1, 1]);
  assert.deepEqual(t.out, [`${T0} a is full`, `${T0 + 4} b is full`, `${T0 + 11} a is full`]);
  assert.equal(r.matchCount, 5, 'suppressed matches count too');
  const op = t.engine.ops.get(opKey(RULE_FILE, 0, 'a is full'))!;
  assert.equal(op.time, T0 + 11, 'the window starts again at the match that acted');
});

test('SingleWithSuppress: its expiry ends the operation silently', () => {
  const t = testRuntime(RULES);
  t.event('a full');
  singleWithSuppress.match(t.engine, t.rules[0]!, 0);
  const op = t.engine.ops.get(opKey(RULE_FILE, 0, 'a is full'))!;
  singleWithSuppress.expire!(t.engine, op, T0 + 11);
  assert.equal(t.engine.ops.size, 0);
  assert.deepEqual(t.out, [`${T0} a is full`]);
});
