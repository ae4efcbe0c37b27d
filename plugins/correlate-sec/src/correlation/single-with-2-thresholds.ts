/**
 * SingleWith2Thresholds: thresh matches of a description within window run action (the first
 * pass); then a second window, window2, slides until it holds no more than thresh2 matches, and
 * its end runs action2 with desc2.
 */
import { withVars } from '../subst.js';
import { current, endCounting, slideWindow, startCounting } from './window.js';
import { keyed, onMatch, type CorrelationType } from './kind.js';

export const singleWith2Thresholds: CorrelationType = {
  match: onMatch(
    keyed((rt, r, v, desc, key, time) => {
      let op = current(rt, singleWith2Thresholds, key, time);
      if (!op) {
        op = startCounting(rt, r, v, key, time, desc);
        op.desc2 = withVars(r.desc2!, v, rt.pmatch);
      }
      op.times!.push(time);
      if (!op.fired) {
        if (op.times!.length < r.thresh) return;
        op.fired = true;
        op.time = time;
        op.window = r.window2;
        op.times = [];
        rt.execList(op.action, desc);
      } else {
        if (op.times!.length <= r.thresh2) return;
        op.times!.shift();
        op.time = op.times!.length ? op.times![0]! : time;
      }
    }),
  ),
  expire: endCounting,
  moveWindow(rt, op, ts) {
    // in the second pass too the times before ts leave the window
    slideWindow(op, ts, true);
    if (!op.fired && !op.times!.length) rt.ops.delete(op.key);
  },
};
