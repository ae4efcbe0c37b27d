/** correlation/window.ts: the window and threshold logic the correlation types share. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { current, endCounting, expired, moveCounting, slideWindow, startCounting, startOperation } from '../src/correlation/window.js';
import type { CorrelationType } from '../src/correlation/kind.js';
import type { Oper } from '../src/runtime.js';
import { EMPTY } from '../src/subst.js';
import { testRuntime, T0 } from './rt.js';

const RULES = `type=SingleWithThreshold\nptype=RegExp\npattern=f (\\w+)\ndesc=f $1\naction=write - %s fired $1\naction2=write - %s over $1\nwindow=10\nthresh=2\n`;

function counting(times: number[], fired = false): Oper {
  const t = testRuntime(RULES);
  const op = startCounting(t.engine, t.rules[0]!, EMPTY, 'k', times[0] ?? T0, 'd');
  op.times = [...times];
  op.fired = fired;
  return op;
}

test('expired: the window has passed once more than `window` seconds have gone by since its start', () => {
  const op = counting([T0]);
  assert.equal(expired(op, T0 + 10), false);
  assert.equal(expired(op, T0 + 11), true);
});

test('startOperation: the operation is registered under its key, window the rule\'s, its action list with the match values in', () => {
  const t = testRuntime(RULES);
  t.event('f bob');
  const v = t.engine.matchCond(t.rules[0]!.c1)!;
  const op = startOperation(t.engine, t.rules[0]!, v, 'key', T0 + 5, 'f bob');
  assert.equal(t.engine.ops.get('key'), op);
  assert.deepEqual([op.type, op.startTime, op.time, op.window, op.desc], ['SingleWithThreshold', T0 + 5, T0 + 5, 10, 'f bob']);
  assert.deepEqual(op.action[0]!.a, ['-', '%s fired bob']);
  const c = startCounting(t.engine, t.rules[0]!, v, 'key2', T0, 'f bob');
  assert.deepEqual(c.times, []);
  assert.deepEqual(c.action2![0]!.a, ['-', '%s over bob']);
});

test('current: an operation past its window is ended by its type first; one within is returned as is', () => {
  const t = testRuntime(RULES);
  const ended: Oper[] = [];
  const kind: CorrelationType = { match: () => 0, expire: (rt, op) => void (ended.push(op), rt.ops.delete(op.key)) };
  const op = startOperation(t.engine, t.rules[0]!, EMPTY, 'k', T0, 'd');
  assert.equal(current(t.engine, kind, 'k', T0 + 10), op);
  assert.deepEqual(ended, []);
  assert.equal(current(t.engine, kind, 'k', T0 + 11), undefined);
  assert.deepEqual(ended, [op]);
  assert.equal(current(t.engine, kind, 'nothing', T0), undefined);
});

test('slideWindow: times before `from` leave; the window starts at the oldest left, or at `from` (none left, or moved)', () => {
  const op = counting([T0, T0 + 3, T0 + 7]);
  assert.equal(slideWindow(op, T0 + 4), 2);
  assert.deepEqual(op.times, [T0 + 7]);
  assert.equal(op.time, T0 + 7);
  assert.equal(slideWindow(op, T0 + 5, true), 0);
  assert.equal(op.time, T0 + 5, 'moved: the window starts where it was moved to');
  assert.equal(slideWindow(op, T0 + 9), 1);
  assert.deepEqual(op.times, []);
  assert.equal(op.time, T0 + 9);
});

test('endCounting: before the threshold the window slides (the operation ends with no time left); after it, action2 runs and the operation ends', () => {
  const t = testRuntime(RULES);
  const op = startCounting(t.engine, t.rules[0]!, EMPTY, 'k', T0, 'desc');
  op.times = [T0, T0 + 5];
  endCounting(t.engine, op, T0 + 11);
  assert.deepEqual(op.times, [T0 + 5]);
  assert.equal(t.engine.ops.size, 1);
  endCounting(t.engine, op, T0 + 16);
  assert.equal(t.engine.ops.size, 0);
  assert.deepEqual(t.out, []);

  const fired = startCounting(t.engine, t.rules[0]!, EMPTY, 'k', T0, 'desc');
  fired.fired = true;
  endCounting(t.engine, fired, T0 + 11);
  assert.deepEqual(t.out, ['desc over $1'], 'action2 with desc as %s');
  fired.desc2 = 'second desc';
  t.engine.ops.set('k', fired);
  endCounting(t.engine, fired, T0 + 11);
  assert.equal(t.out[1], 'second desc over $1', 'desc2 when the operation has one');
});

test('moveCounting: a fired operation only has its start moved; otherwise times before the new start leave, true when none is left', () => {
  const fired = counting([T0, T0 + 2], true);
  assert.equal(moveCounting(fired, T0 + 5), false);
  assert.equal(fired.time, T0 + 5);
  assert.deepEqual(fired.times, [T0, T0 + 2]);
  const open = counting([T0, T0 + 2]);
  assert.equal(moveCounting(open, T0 + 1), false);
  assert.deepEqual(open.times, [T0 + 2]);
  assert.equal(open.time, T0 + 1);
  assert.equal(moveCounting(open, T0 + 3), true);
  const seen: number[] = [];
  moveCounting(counting([T0]), T0 + 1, (_op, from) => seen.push(from));
  assert.deepEqual(seen, [T0 + 1], 'a type may slide its own way (EventGroup)');
});
