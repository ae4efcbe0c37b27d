/** The correlation types by rule type: each one's match, expiry and setwpos (see kind.ts). */
import type { RuleType } from '../rules.js';
import type { CorrelationType } from './kind.js';
import { single } from './single.js';
import { singleWithScript } from './single-with-script.js';
import { singleWithSuppress } from './single-with-suppress.js';
import { pair } from './pair.js';
import { pairWithWindow } from './pair-with-window.js';
import { singleWithThreshold } from './single-with-threshold.js';
import { singleWith2Thresholds } from './single-with-2-thresholds.js';
import { eventGroup } from './event-group.js';
import { suppress } from './suppress.js';
import { calendar } from './calendar.js';
import { jump } from './jump.js';

export { runCalendar } from './calendar.js';
export { expired } from './window.js';
export type { CorrelationType, MatchFn } from './kind.js';

export const TYPES: Readonly<Record<RuleType, CorrelationType>> = {
  Single: single,
  SingleWithScript: singleWithScript,
  SingleWithSuppress: singleWithSuppress,
  Pair: pair,
  PairWithWindow: pairWithWindow,
  SingleWithThreshold: singleWithThreshold,
  SingleWith2Thresholds: singleWith2Thresholds,
  EventGroup: eventGroup,
  Suppress: suppress,
  Calendar: calendar,
  Jump: jump,
};
