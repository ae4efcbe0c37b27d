/**
 * What the parts of the engine share: the live correlation operations, and the runtime that the
 * correlation types (correlation/) and the action interpreter (interpreter.ts) work on. SecEngine
 * (engine.ts) is the one implementation.
 */
import type { Action } from './actions.js';
import type { Children } from './children.js';
import type { Contexts } from './contexts.js';
import type { CtxToken } from './context-expr.js';
import type { InputBuffers } from './input-buffer.js';
import type { EngineIo } from './io.js';
import type { NativeSpec } from './native.js';
import type { PerlRegex } from './perl-regex.js';
import type { Cond, Pattern, Rule, RuleFile } from './rules.js';
import type { ActionVars, Vars } from './subst.js';
import type { Trace } from './trace.js';

/** One correlation operation (SEC's %corr_list entry); which fields are set depends on the type. */
export interface Oper {
  type: Rule['type'];
  rule: Rule;
  key: string;
  startTime: number;
  /** Start of the window. */
  time: number;
  window: number;
  desc: string;
  action: Action[];
  action2?: Action[];
  desc2?: string;
  /** Pair, PairWithWindow: the second half, substituted from the first match. */
  pattern2?: Pattern;
  context2?: CtxToken[];
  act2Copied?: boolean;
  /** Counting types: the times of the events in the window, oldest first. */
  times?: number[];
  /** Counting types: the threshold was reached (SingleWithThreshold, EventGroup: suppressing; SingleWith2Thresholds: in its second pass). */
  fired?: boolean;
  /** EventGroup: the condition of each time in `times`, the count per condition, the egtoken of each time. */
  conds?: number[];
  counts?: number[];
  tokens?: string[];
  init?: Action[];
  slide?: Action[];
  end?: Action[];
  deleteInProgress?: boolean;
  initInProgress?: boolean;
}

/** The operation key: rule file, rule number, description (SEC's gen_key). */
export function opKey(file: string, id: number, desc: string): string {
  return file + ' | ' + id + ' | ' + desc;
}

export type LogLevel = 'info' | 'warn' | 'error';

export interface Runtime {
  readonly ops: Map<string, Oper>;
  readonly contexts: Contexts;
  readonly vars: ActionVars;
  /** The pattern match cache (varmap names of this event's matches, $:{entry:name}). */
  readonly pmatch: Map<string, Vars>;
  readonly lines: InputBuffers;
  readonly io: EngineIo;
  readonly children: Children;
  now(): number;
  /** `msg` is a byte string. */
  log(level: LogLevel, msg: string): void;
  /** Runs an action list, `desc` as %s: 1 done, 0 `continue`, -1 `break`. */
  execList(list: Action[], desc: string): number;
  /** A condition (pattern, then context) against the current event: its match variables or null. */
  matchCond(c: Cond, pat?: Pattern, re?: PerlRegex, ctx?: CtxToken[]): Vars | null;
  ctxTrue(ctx: CtxToken[]): boolean;
  /** A rule matched (its counter, the per-rule metric). */
  counted(r: Rule): void;
  /** SEC's process_rules on one file; true when the search ends for all files. */
  processRules(f: RuleFile, trace?: Set<string>): boolean;
  /** The files that joined a file set (joincfset). */
  fileSet(name: string): RuleFile[] | undefined;
  /** A loaded rule file by its name. */
  ruleFile(name: string): RuleFile | undefined;
  /** Synthetic events, one per line of `text`, now (after = 0) or `after` seconds from now. */
  queueEvents(after: number, text: string, context: string): void;
  /** Work for the next timer pass (a script's exit). */
  defer(fn: () => void): void;
  /** alert/heartbeat: the fields to the host; `desc` is the %s of the action list (a byte string). */
  emitNative(spec: NativeSpec, values: string[], desc: string): void;
  /** The rule trace, at debug level only (the timer pass tells it which rule's window ended). */
  readonly trace?: Trace;
}
