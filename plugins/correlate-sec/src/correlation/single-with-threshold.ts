/**
 * SingleWithThreshold: matches of a description are counted in a sliding window; the thresh-th
 * within the window runs action and suppresses the rest of the window; when the window passes
 * after that, action2 runs.
 */
import { current, endCounting, moveCounting, startCounting } from './window.js';
import { keyed, onMatch, type CorrelationType } from './kind.js';

export const singleWithThreshold: CorrelationType = {
  match: onMatch(
    keyed((rt, r, v, desc, key, time) => {
      const op = current(rt, singleWithThreshold, key, time) ?? startCounting(rt, r, v, key, time, desc);
      if (op.fired) return;
      op.times!.push(time);
      if (op.times!.length < r.thresh) return;
      op.fired = true;
      rt.execList(op.action, desc);
    }),
  ),
  expire: endCounting,
  moveWindow(rt, op, ts) {
    if (moveCounting(op, ts)) rt.ops.delete(op.key);
  },
};
