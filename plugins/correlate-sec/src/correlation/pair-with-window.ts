/**
 * PairWithWindow: the first pattern starts an operation per description; the second pattern
 * within the window ends it with action2, the window passing without it ends it with action.
 */
import { current } from './window.js';
import { endPair, pairMatch, startPair } from './pair.js';
import type { CorrelationType } from './kind.js';

export const pairWithWindow: CorrelationType = {
  match: pairMatch(
    (rt, r, v, desc, key, time) => {
      if (!current(rt, pairWithWindow, key, time)) startPair(rt, r, v, desc, key, time);
    },
    () => true,
  ),
  expire(rt, op) {
    rt.execList(op.action, op.desc);
    endPair(rt, op);
  },
};
