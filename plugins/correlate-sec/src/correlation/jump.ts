/**
 * Jump: a match continues the search in the rule files of its file sets (cfset, substituted
 * unless constset), in order; a file whose search ends (EndMatch) ends the whole search. A set
 * already on the way (a loop) or one that no file joined is skipped with a warning. Without
 * cfset it acts as Suppress with a `continue`. Keeps no operations.
 */
import type { Rule } from '../rules.js';
import type { Runtime } from '../runtime.js';
import { hasKeys, substString, type Vars } from '../subst.js';
import { onMatch, type CorrelationType } from './kind.js';

function jumpTo(rt: Runtime, r: Rule, v: Vars, trace = new Set<string>()): boolean {
  if (!r.cfset) return false;
  const sets = !r.constset && hasKeys(v) ? r.cfset.map((s) => substString(s, v, '$', rt.pmatch)) : r.cfset;
  for (const s of sets) {
    if (trace.has(s)) {
      rt.log('warn', `Can't jump to fileset '${s}' from ${r.file}, loop detected`);
      continue;
    }
    const files = rt.fileSet(s);
    if (!files) {
      rt.log('warn', `Can't jump to fileset '${s}' from ${r.file}, set does not exist`);
      continue;
    }
    trace.add(s);
    for (const f of files) {
      if (rt.processRules(f, trace)) {
        trace.delete(s);
        return true;
      }
    }
    trace.delete(s);
  }
  return false;
}

export const jump: CorrelationType = {
  match: onMatch((rt, r, v, _cond, trace) => jumpTo(rt, r, v, trace)),
};
