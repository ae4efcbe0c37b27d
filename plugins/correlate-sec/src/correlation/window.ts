/**
 * The window and threshold logic the correlation types share: when an operation's window has
 * passed, the operation of a key that is still live (one past its window ends first), a new
 * operation, and for the counting types (SingleWithThreshold, SingleWith2Thresholds, EventGroup)
 * the sliding of the window past event times, its end, and setwpos on it.
 */
import type { Rule } from '../rules.js';
import type { Oper, Runtime } from '../runtime.js';
import { volatile, type Vars } from '../subst.js';
import type { CorrelationType } from './kind.js';

/** Has the window of `op` passed at `time`? */
export function expired(op: Oper, time: number): boolean {
  return time - op.time > op.window;
}

/** The operation under `key` still in its window: one whose window has passed ends first, as its type ends it. */
export function current(rt: Runtime, kind: CorrelationType, key: string, time: number): Oper | undefined {
  const op = rt.ops.get(key);
  if (op !== undefined && expired(op, time)) kind.expire!(rt, op, time);
  return rt.ops.get(key);
}

/** A new operation of `r` under `key`, window the rule's, action list the rule's as the match leaves it. */
export function startOperation(rt: Runtime, r: Rule, v: Vars, key: string, time: number, desc: string): Oper {
  const op: Oper = { type: r.type, rule: r, key, startTime: time, time, window: r.window, desc, action: volatile(r.action, r.actVolat, v, rt.pmatch) };
  rt.ops.set(key, op);
  return op;
}

/** A new SingleWithThreshold / SingleWith2Thresholds operation: no event counted yet, action2 as the match leaves it. */
export function startCounting(rt: Runtime, r: Rule, v: Vars, key: string, time: number, desc: string): Oper {
  const op = startOperation(rt, r, v, key, time, desc);
  op.action2 = volatile(r.action2!, r.actVolat2, v, rt.pmatch);
  op.times = [];
  return op;
}

/**
 * The event times before `from` leave the window, which then starts at the oldest time left, or
 * at `from` when none is left or when setwpos `moved` it there. Returns how many left.
 */
export function slideWindow(op: Oper, from: number, moved = false): number {
  const t = op.times!;
  let i = 0;
  while (i < t.length && t[i]! < from) i++;
  if (i) t.splice(0, i);
  op.time = !moved && t.length ? t[0]! : from;
  return i;
}

/**
 * The window of a threshold operation has passed: before it fired, it slides past the times that
 * left it and ends when none is left; once fired, it ends with action2 (desc2 when it has one).
 */
export function endCounting(rt: Runtime, op: Oper, time: number): void {
  if (!op.fired) {
    slideWindow(op, time - op.window);
    if (op.times!.length) return;
  } else rt.execList(op.action2!, op.desc2 ?? op.desc);
  rt.ops.delete(op.key);
}

/**
 * setwpos on a counting operation that stops counting when it fires: a fired one only has its
 * window start moved; otherwise the times before `ts` leave it. True when no time is left (the
 * operation ends).
 */
export function moveCounting(op: Oper, ts: number, slide: (op: Oper, from: number, moved: boolean) => unknown = slideWindow): boolean {
  if (op.fired) {
    op.time = ts;
    return false;
  }
  slide(op, ts, true);
  return !op.times!.length;
}
