/** Single: a match runs the action list. Keeps no operations, so nothing expires. */
import { volatile, withVars } from '../subst.js';
import { onMatch, type CorrelationType } from './kind.js';

export const single: CorrelationType = {
  match: onMatch((rt, r, v) => void rt.execList(volatile(r.action, r.actVolat, v, rt.pmatch), withVars(r.desc, v, rt.pmatch))),
};
