/**
 * A correlation type: how a rule of the type meets an event (SEC's process_rules, one branch per
 * type) and, for types that keep operations, how an operation ends when its window has passed
 * (SEC's process_lists, same). correlation/index.ts has the table of all types.
 */
import type { Rule } from '../rules.js';
import type { Oper, Runtime } from '../runtime.js';
import { withVars, type Vars } from '../subst.js';
import { opKey } from '../runtime.js';

/** Rule `r` at position `index` of its file against the current event: the position of the next rule to try, -1 when the search ends for all files. */
export type MatchFn = (rt: Runtime, r: Rule, index: number, trace?: Set<string>) => number;

export interface CorrelationType {
  match: MatchFn;
  /** The window of `op` has passed at `time` (the timer pass, or a new event for it). Types that keep no operations have none. */
  expire?(rt: Runtime, op: Oper, time: number): void;
  /** setwpos: the window of `op` starts at `ts` now (between its start and now); without it only the start moves. */
  moveWindow?(rt: Runtime, op: Oper, ts: number): void;
}

/** What a rule does when its condition `cond` (0 for rules with one) matched; true ends the search for all files (Jump). */
export type Fire = (rt: Runtime, r: Rule, v: Vars, cond: number, trace?: Set<string>) => boolean | void;

/** match for rules with one condition: on a match the rule is counted, fires, and the search goes on at its `continue`. */
export function onMatch(fire: Fire): MatchFn {
  return (rt, r, index, trace) => {
    const v = rt.matchCond(r.c1);
    if (!v) return index + 1;
    rt.counted(r);
    return fire(rt, r, v, 0, trace) === true ? -1 : r.c1.goto;
  };
}

/** What a rule that keeps operations does with a match of its condition `cond`, its description, operation key and the time worked out. */
export type KeyedFire = (rt: Runtime, r: Rule, v: Vars, desc: string, key: string, time: number, cond: number) => void;

export function keyed(fire: KeyedFire): Fire {
  return (rt, r, v, cond) => {
    const desc = withVars(r.desc, v, rt.pmatch);
    fire(rt, r, v, desc, opKey(r.file, r.id, desc), rt.now(), cond);
  };
}
