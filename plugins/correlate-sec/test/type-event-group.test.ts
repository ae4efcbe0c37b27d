/** correlation/event-group.ts */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { eventGroup } from '../src/correlation/event-group.js';
import { opKey } from '../src/runtime.js';
import { testRuntime, RULE_FILE, T0 } from './rt.js';

const group = (extra = '') =>
  `type=EventGroup2\nptype=RegExp\npattern=A (\\w+)\nthresh=2\nptype2=RegExp\npattern2=B (\\w+)\ncount2=write - count B $1\ndesc=group $1\naction=write - %u %s\ninit=write - init %s\nslide=write - slide %s\nend=write - end %s\nwindow=10\n${extra}\n\ntype=Single\nptype=SubStr\npattern=z\ndesc=z\naction=none\n`;
const KEY = opKey(RULE_FILE, 0, 'group k');


test('EventGroup: init when the operation starts, countN per match of pattern N, the action when every threshold is reached', () => {
  const t = testRuntime(group());
  assert.deepEqual(t.feed(eventGroup, [[0, 'A k'], [1, 'B k'], [2, 'C k'], [3, 'A k'], [4, 'A k']]), [2, 2, 1, 2, 2]);
  assert.deepEqual(t.out, ['init group k', 'count B k', `${T0 + 3} group k`]);
  assert.equal(t.rules[0]!.matchCount, 4);
});

test('EventGroup: its expiry slides the window (slide) while matches are left and ends it (end) when none is', () => {
  const t = testRuntime(group());
  t.feed(eventGroup, [[0, 'A k'], [6, 'B k']]);
  const op = t.engine.ops.get(KEY)!;
  eventGroup.expire!(t.engine, op, T0 + 11);
  assert.deepEqual(op.times, [T0 + 6]);
  assert.deepEqual(op.counts, [0, 1], 'the A at 0 no longer counts');
  eventGroup.expire!(t.engine, op, T0 + 17);
  assert.deepEqual(t.out, ['init group k', 'count B k', 'slide group k', 'end group k']);
  assert.equal(t.engine.ops.size, 0);
});

test('EventGroup: after the action the rest of the window is suppressed, and the expiry ends it', () => {
  const t = testRuntime(group());
  t.feed(eventGroup, [[0, 'A k'], [1, 'B k'], [2, 'A k'], [3, 'A k']]);
  assert.deepEqual(t.out, ['init group k', 'count B k', `${T0 + 2} group k`]);
  assert.deepEqual(t.engine.ops.get(KEY)!.times, [T0, T0 + 1, T0 + 2], 'suppressed matches are not counted');
  eventGroup.expire!(t.engine, t.engine.ops.get(KEY)!, T0 + 13);
  assert.deepEqual(t.out, ['init group k', 'count B k', `${T0 + 2} group k`, 'end group k']);
});

test('EventGroup: multact acts at each match that keeps every threshold reached', () => {
  const t = testRuntime(group('multact=yes'));
  t.feed(eventGroup, [[0, 'A k'], [1, 'B k'], [2, 'A k'], [3, 'A k']]);
  assert.deepEqual(t.out, ['init group k', 'count B k', `${T0 + 2} group k`, `${T0 + 3} group k`]);
});

test('EventGroup: egptype/egpattern over the tokens of the matches in the window', () => {
  const rules = `type=EventGroup2\nptype=SubStr\npattern=login\negtoken=L\nptype2=SubStr\npattern2=sudo\negtoken2=S\ndesc=login then sudo\naction=write - %s\nwindow=60\negptype=RegExp\negpattern=L S\n`;
  const t = testRuntime(rules);
  const seq = (lines: string[]) => lines.forEach((l) => (t.event(l), eventGroup.match(t.engine, t.rules[0]!, 0)));
  seq(['sudo', 'login']);
  assert.deepEqual(t.out, [], 'tokens "S L"');
  seq(['sudo']);
  assert.deepEqual(t.out, ['login then sudo'], 'tokens "S L S"');
});

test('EventGroup: setwpos drops the matches before the new start; none left runs end', () => {
  const t = testRuntime(group());
  t.feed(eventGroup, [[0, 'A k'], [3, 'B k']]);
  const op = t.engine.ops.get(KEY)!;
  eventGroup.moveWindow!(t.engine, op, T0 + 2);
  assert.deepEqual(op.counts, [0, 1]);
  assert.equal(op.time, T0 + 2);
  eventGroup.moveWindow!(t.engine, op, T0 + 4);
  assert.deepEqual(t.out, ['init group k', 'count B k', 'end group k']);
  assert.equal(t.engine.ops.size, 0);
});
