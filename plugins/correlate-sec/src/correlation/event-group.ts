/**
 * EventGroup[N]: matches of N patterns (one rule, one description) are counted per pattern in
 * one sliding window; when every pattern has reached its threshold (and the event group pattern,
 * if any, matches the tokens of the events in the window), action runs and, unless multact,
 * the rest of the window is suppressed. init runs when the operation starts, countN at each
 * match of pattern N, slide when the window slides, end when the operation ends.
 */
import type { Rule } from '../rules.js';
import type { Oper, Runtime } from '../runtime.js';
import { volatile, withVars } from '../subst.js';
import { current, moveCounting, slideWindow, startOperation } from './window.js';
import { keyed, type CorrelationType } from './kind.js';

/** The window slides past `from`: the counts of the conditions whose events left go down. */
function slideGroup(op: Oper, from: number, moved = false): void {
  const n = slideWindow(op, from, moved);
  if (!n) return;
  const conds = op.conds!;
  const counts = op.counts!;
  for (let k = 0; k < n; k++) counts[conds[k]!]!--;
  conds.splice(0, n);
  op.tokens?.splice(0, n);
}

function endGroup(rt: Runtime, op: Oper): void {
  op.deleteInProgress = true;
  rt.execList(op.end!, op.desc);
  rt.ops.delete(op.key);
}

function egMatches(p: NonNullable<Rule['egPat']>, tokens: string[]): boolean {
  const s = tokens.join(' ');
  switch (p.type) {
    case 'regexp':
      return p.re!.test(s);
    case 'nregexp':
      return !p.re!.test(s);
    case 'substr':
      return s.includes(p.str!);
    case 'nsubstr':
      return !s.includes(p.str!);
  }
}

const event = keyed((rt, r, v, desc, key, time, i) => {
  let op = current(rt, eventGroup, key, time);
  if (!op) {
    op = startOperation(rt, r, v, key, time, desc);
    op.init = volatile(r.init!, r.initVolat, v, rt.pmatch);
    op.slide = volatile(r.slide!, r.slideVolat, v, rt.pmatch);
    op.end = volatile(r.end!, r.endVolat, v, rt.pmatch);
    op.times = [];
    op.conds = [];
    op.counts = r.conds!.map(() => 0);
    if (r.egTokens) op.tokens = [];
    op.initInProgress = true;
    rt.execList(op.init, desc);
    if (!rt.ops.has(key)) return;
    op.initInProgress = false;
  }
  if (!op.fired) {
    op.times!.push(time);
    op.conds!.push(i);
    op.counts![i]!++;
    if (r.egTokens) op.tokens!.push(withVars(r.egTokens[i]!, v, rt.pmatch));
  }
  rt.execList(volatile(r.countList![i]!, r.countVolat![i], v, rt.pmatch), desc);
  if (!rt.ops.has(key) || op.fired) return;
  for (let c = 0; c < r.conds!.length; c++) if (op.counts![c]! < r.threshList![c]!) return;
  if (r.egPat && !egMatches(r.egPat, op.tokens!)) return;
  if (!r.multact) op.fired = true;
  rt.execList(op.action, desc);
});

export const eventGroup: CorrelationType = {
  match(rt, r, index) {
    const conds = r.conds!;
    for (let i = 0; i < conds.length; i++) {
      const v = rt.matchCond(conds[i]!);
      if (!v) continue;
      rt.counted(r);
      event(rt, r, v, i);
      return conds[i]!.goto;
    }
    return index + 1;
  },
  expire(rt, op, time) {
    if (!op.fired) {
      slideGroup(op, time - op.window);
      if (op.times!.length) {
        rt.execList(op.slide!, op.desc);
        return;
      }
    }
    endGroup(rt, op);
  },
  moveWindow(rt, op, ts) {
    if (moveCounting(op, ts, slideGroup)) endGroup(rt, op);
  },
};
