/**
 * Pair: the first pattern starts an operation per description and runs action; the second
 * pattern (with the first match's values in it) ends it and runs action2. With a window the
 * operation lapses silently when the window passes; window 0 waits for ever. PairWithWindow
 * shares the halves (startPair, pairMatch) and differs in what the window's end does.
 */
import { PerlRegex } from '../perl-regex.js';
import { substContext } from '../context-expr.js';
import type { Rule } from '../rules.js';
import type { Oper, Runtime } from '../runtime.js';
import { hasKeys, mapValues, substActions, substRegexp, substString, volatile, withVars, type Vars } from '../subst.js';
import { keyed, type CorrelationType, type KeyedFire, type MatchFn } from './kind.js';
import { expired, startOperation } from './window.js';

/**
 * A Pair or PairWithWindow operation under `key` (one there is replaced in place), its second
 * half substituted from the first match: $-variables into a SubStr pattern2, quotemeta'd into a
 * RegExp pattern2 (compiled now), %-variables into desc2/action2/context2 for regexp types.
 * Undefined when pattern2 does not compile with the values in.
 */
export function startPair(rt: Runtime, r: Rule, v: Vars, desc: string, key: string, time: number): Oper | undefined {
  const c2 = r.c2!;
  let pattern2 = c2.pat;
  let desc2 = r.desc2!;
  let action2 = r.action2!;
  let context2 = c2.ctx;
  if (hasKeys(v)) {
    let values = v;
    let token: '$' | '%' = '$';
    const t2 = pattern2.type;
    if (t2 === 'regexp' || t2 === 'nregexp' || t2 === 'cached') {
      if (pattern2.template) {
        const src = substRegexp(pattern2.raw, v, rt.pmatch);
        let re: PerlRegex;
        try {
          re = new PerlRegex(src);
        } catch (e) {
          rt.log('error', `Runtime variable evaluation yielded an invalid regular expression '${src}' for ${r.type} rule: ${(e as Error).message}`);
          return undefined;
        }
        pattern2 = { ...pattern2, re, template: false };
      }
      // the values' $ doubled, so what they hold is not taken for variables when pattern2 matches
      values = mapValues(v, (s) => s.replace(/\$/g, '$$$$'));
      token = '%';
    } else if (t2 === 'substr' || t2 === 'nsubstr') pattern2 = { ...pattern2, str: substString(pattern2.str!, v, '$', rt.pmatch) };
    desc2 = substString(desc2, values, token, rt.pmatch);
    if (r.actVolat2) action2 = substActions(action2, values, token, rt.pmatch);
    if (context2 && c2.ctxVolat) context2 = substContext(context2, (s) => substString(s, values, token, rt.pmatch));
  }
  const op = startOperation(rt, r, v, key, time, desc);
  op.pattern2 = pattern2;
  op.context2 = context2;
  op.desc2 = desc2;
  op.action2 = action2;
  if (hasKeys(v) && r.actVolat2) op.act2Copied = true;
  pairsOf(r).set(key, op);
  return op;
}

/** The live operations a Pair/PairWithWindow rule started, by key. */
function pairsOf(r: Rule): Map<string, Oper> {
  return r.ops as Map<string, Oper>;
}

/** The operation ends: gone from the engine and from its rule. */
export function endPair(rt: Runtime, op: Oper): void {
  rt.ops.delete(op.key);
  pairsOf(op.rule).delete(op.key);
}

/**
 * Pair's and PairWithWindow's match: the first pattern goes to `first`; otherwise the second
 * pattern is tried against each live operation of the rule (SEC's match_pair_operations): a
 * match ends the operation, and runs action2 when `fires` says so.
 */
export function pairMatch(first: KeyedFire, fires: (op: Oper, time: number) => boolean): MatchFn {
  const start = keyed(first);
  return (rt, r, index) => {
    const v = rt.matchCond(r.c1);
    if (v) {
      rt.counted(r);
      start(rt, r, v, 0);
      return r.c1.goto;
    }
    if (pairsOf(r).size && secondHalf(rt, r, fires)) return r.c2!.goto;
    return index + 1;
  };
}

function secondHalf(rt: Runtime, r: Rule, fires: (op: Oper, time: number) => boolean): boolean {
  let any = false;
  const c2 = r.c2!;
  const ops = pairsOf(r);
  for (const [key, op] of [...ops.entries()]) {
    if (!ops.has(key)) continue;
    const v = rt.matchCond(c2, op.pattern2!, op.pattern2!.re, op.context2);
    if (!v) continue;
    if (fires(op, rt.now())) {
      any = true;
      rt.counted(r);
      rt.execList(volatile(op.action2!, r.actVolat2, v, rt.pmatch), withVars(op.desc2!, v, rt.pmatch));
    }
    endPair(rt, op);
  }
  return any;
}

/** Is a Pair operation live at `time`? (window 0: for ever) */
const live = (op: Oper, time: number) => !op.window || !expired(op, time);

export const pair: CorrelationType = {
  match: pairMatch((rt, r, v, desc, key, time) => {
    const op = rt.ops.get(key);
    if (op && live(op, time)) return;
    const started = startPair(rt, r, v, desc, key, time);
    if (started) rt.execList(started.action, desc);
  }, live),
  expire(rt, op) {
    if (op.window) endPair(rt, op);
  },
};
