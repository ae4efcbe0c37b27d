/** SingleWithSuppress: the first match of a description runs the action list; the next ones within the window are suppressed. */
import { current, startOperation } from './window.js';
import { keyed, onMatch, type CorrelationType } from './kind.js';

export const singleWithSuppress: CorrelationType = {
  match: onMatch(
    keyed((rt, r, v, desc, key, time) => {
      if (current(rt, singleWithSuppress, key, time)) return;
      rt.execList(startOperation(rt, r, v, key, time, desc).action, desc);
    }),
  ),
  expire: (rt, op) => void rt.ops.delete(op.key),
};
