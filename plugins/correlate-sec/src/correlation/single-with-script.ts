/**
 * SingleWithScript (allow_shell only): a match runs the script through /bin/sh with the context
 * names on its standard input; at the timer pass after it exits, action runs (exit code 0) or
 * action2 (any other). Keeps no operations.
 */
import { volatile, withVars } from '../subst.js';
import { onMatch, type CorrelationType } from './kind.js';

export const singleWithScript: CorrelationType = {
  match: onMatch((rt, r, v) => {
    const desc = withVars(r.desc, v, rt.pmatch);
    const action = volatile(r.action, r.actVolat, v, rt.pmatch);
    const action2 = volatile(r.action2!, r.actVolat2, v, rt.pmatch);
    const script = withVars(r.script!, v, rt.pmatch);
    if (!rt.children.allowed) return;
    const names = [...rt.contexts.names()].map((k) => k + '\n').join('');
    rt.children.shell(script, names, undefined, (code) => rt.defer(() => rt.execList(code === 0 ? action : action2, desc)));
  }),
};
