/**
 * Calendar: no pattern; at the timer pass, a rule whose time spec (minute hour day month weekday,
 * with year as sec 2.9 allows) matches the current minute runs its action list, once a minute,
 * when its context is true. Day 0 is the last day of the month. Keeps no operations.
 */
import type { Rule } from '../rules.js';
import type { Runtime } from '../runtime.js';
import { calendarNow } from '../timevars.js';
import type { CorrelationType } from './kind.js';

export const calendar: CorrelationType = {
  // input events pass Calendar rules by
  match: (_rt, _r, index) => index + 1,
};

/** The timer pass over the Calendar rules at `time`. */
export function runCalendar(rt: Runtime, rules: Rule[], time: number): void {
  const t = calendarNow(time);
  const stamp = `${t.min}/${t.hour}/${t.day}/${t.month}/${t.year}`;
  for (const r of rules) {
    if (r.last === stamp) continue;
    const c = r.cal!;
    if (!c.min.has(t.min) || !c.hour.has(t.hour)) continue;
    if (!c.day.has(t.day) && !(t.lastDay && c.day.has(0))) continue;
    if (!c.month.has(t.month) || !c.wday.has(t.wday) || !c.year.has(t.year % 100)) continue;
    if (!r.c1.ctx || !r.c1.ctx.length || rt.ctxTrue(r.c1.ctx)) {
      if (rt.trace) rt.trace.calendar(r, stamp);
      rt.execList(r.action, r.desc);
      r.last = stamp;
      rt.counted(r);
    }
  }
}
