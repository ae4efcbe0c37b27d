/**
 * The SEC runtime, ported from SEC 2.9's own logic so that the same input at the same instants
 * gives the same `write` output as the real sec: the main loop (input lines, queued synthetic
 * events, internal events), pattern matching and the search through the rule files
 * (process_rules), and the once-a-second timer pass (process_lists). The rest is in its parts:
 * correlation/ (one module per rule type), interpreter.ts (actions), contexts.ts, subst.ts,
 * io.ts, children.ts, input-buffer.ts.
 *
 * Time is whole seconds from an injected function; nothing here reads the system clock.
 * Strings are byte strings (bytes.ts): lines come in through toBytes and leave through fromBytes.
 */
import type { Action } from './actions.js';
import { Children } from './children.js';
import { evalContext, substContext, type CtxEnv, type CtxToken } from './context-expr.js';
import { Contexts } from './contexts.js';
import { expired, runCalendar, TYPES, type MatchFn } from './correlation/index.js';
import { execList, execListTraced } from './interpreter.js';
import { InputBuffers } from './input-buffer.js';
import { EngineIo } from './io.js';
import { nativeFields, type NativeSpec } from './native.js';
import type { PerlRegex } from './perl-regex.js';
import type { Cond, Pattern, Rule, RuleFile } from './rules.js';
import { opKey, type LogLevel, type Oper, type Runtime } from './runtime.js';
import type { Trace } from './trace.js';
import { ActionVars, EMPTY, substString, type Vars } from './subst.js';
import { fromBytes, perlSplitLines } from './bytes.js';
import { perlCtime } from './timevars.js';

export type { Vars } from './subst.js';
export type { Oper } from './runtime.js';

const SECEVENT_INT_CONTEXT = 'SEC_INTERNAL_EVENT';

export interface EngineHooks {
  /** Current time in whole seconds. */
  now(): number;
  /** Synthetic events as they are matched, native alert/heartbeat events (UTF-8 strings). */
  emitEvent?(line: string, context: string): void;
  /** `from`: the rule (file:line) whose action list raised it and that list's %s (UTF-8). */
  emitNative?(kind: 'alert' | 'heartbeat', fields: Record<string, unknown>, from: { rule?: string; desc: string }): void;
  /** Relative paths in write/owritecl resolve here. */
  workingDir: string;
  /** `write -` and report without a command. */
  stdout?(text: string): void;
  log?(level: LogLevel, msg: string): void;
  /** A rule's match counter (per-rule metrics). */
  onMatch?(rule: Rule): void;
  addInput?(file: string, offset: string, context: string): void;
  dropInput?(file: string): void;
}

export interface EngineOptions {
  intevents?: boolean;
  intcontexts?: boolean;
  allowShell?: boolean;
  /** Name of the input source for $+{_inputsrc} and the _FILE_EVENT_ internal context. */
  inputName?: string;
  /** The rule trace (debug level): given, the engine is built with its hooks; absent, it has none. */
  trace?: Trace;
}

/** What a soft restart carried from the engine of the old rule files to a new one (adopt). */
export interface Handover {
  /** Operations of rules whose text is unchanged, now the new rules' operations. */
  kept: number;
  /** Operations of rules that changed or are gone. */
  dropped: number;
  /** Rules whose text is unchanged (state kept), and rules new or changed (start afresh). */
  sameRules: number;
  newRules: number;
  contexts: number;
}

export class SecEngine implements Runtime, CtxEnv {
  readonly files: RuleFile[];
  private readonly mainFiles: RuleFile[];
  private readonly cfsets = new Map<string, RuleFile[]>();
  private readonly byName = new Map<string, RuleFile>();
  private readonly calendar: Rule[] = [];
  /** Per rule file, each rule's match function (its type's), looked up once. */
  private readonly matchers = new Map<RuleFile, MatchFn[]>();
  readonly ops = new Map<string, Oper>();
  readonly contexts: Contexts;
  readonly vars: ActionVars;
  readonly pmatch = new Map<string, Vars>();
  readonly lines: InputBuffers;
  readonly io: EngineIo;
  readonly children: Children;
  private readonly events: [string, string][] = [];
  private pending: [number, string, string][] = [];
  /** Work from child processes, run at the next timer pass. */
  private readonly deferred: (() => void)[] = [];
  private intContextName: string | undefined;
  private lastCleanup = 0;
  private readonly intevents: boolean;
  private readonly intcontexts: boolean;
  private readonly inputName: string;
  private started = false;
  /** The engine took over the state of an earlier one (adopt): start() is sec's soft restart, not its startup. */
  private adopted = false;
  /** The engine handed its state on (handOver): it neither matches nor shuts down any more. */
  private handedOver = false;
  readonly trace?: Trace;
  processedLines = 0;

  constructor(
    files: RuleFile[],
    private readonly hooks: EngineHooks,
    opts: EngineOptions = {},
  ) {
    this.files = files;
    this.intevents = !!opts.intevents;
    this.intcontexts = !!opts.intcontexts;
    this.inputName = opts.inputName ?? '-';
    let max = 1;
    for (const f of files) {
      this.byName.set(f.file, f);
      this.matchers.set(f, f.rules.map((r) => TYPES[r.type].match));
      for (const r of f.rules) {
        if (r.type === 'Calendar') {
          this.calendar.push(r);
          continue;
        }
        for (const c of r.conds ?? [r.c1, ...(r.c2 ? [r.c2] : [])]) if (c.pat.lines > max) max = c.pat.lines;
      }
      for (const s of f.joinCfset) {
        let l = this.cfsets.get(s);
        if (!l) this.cfsets.set(s, (l = []));
        l.push(f);
      }
    }
    this.mainFiles = files.filter((f) => !f.jumpOnly);
    this.lines = new InputBuffers(max);
    const now = () => hooks.now();
    const log = (level: LogLevel, msg: string) => this.log(level, msg);
    this.vars = new ActionVars(now);
    const trace = opts.trace;
    if (trace) {
      // the trace hooks, built in only at debug level: own properties over the plain methods
      this.trace = trace;
      this.execList = (list, desc) => execListTraced(this, list, desc, trace);
      this.counted = (r) => {
        trace.matched(r, this.lines.text(1), this.lines.synthetic);
        r.matchCount++;
        this.hooks.onMatch?.(r);
      };
    }
    this.contexts = new Contexts(
      now,
      trace
        ? (list, desc) => {
            const rule = trace.rule;
            this.execList(list, desc);
            trace.rule = rule;
          }
        : (list, desc) => void this.execList(list, desc),
      trace ? (name) => trace.stale(name) : undefined,
    );
    this.io = new EngineIo(hooks, (msg) => this.log('warn', msg));
    this.children = new Children({ cwd: hooks.workingDir, allowShell: !!opts.allowShell, log, line: (text, ctx) => void this.events.push([text, ctx]) });
  }

  now(): number {
    return this.hooks.now();
  }

  // ---------------------------------------------------------------- lifecycle

  /** SEC startup: SEC_STARTUP (with intevents), then the first timer pass; after adopt, SEC_SOFTRESTART instead. */
  start(): void {
    if (this.started) return;
    this.started = true;
    const t = this.now();
    this.contexts.startInternal(t);
    this.vars.setTime(t);
    if (this.intevents) this.matchEvent(this.adopted ? 'SEC_SOFTRESTART' : 'SEC_STARTUP', true, SECEVENT_INT_CONTEXT);
    this.processLists();
    this.lastCleanup = this.now();
  }

  get isStarted(): boolean {
    return this.started;
  }

  /** End of input (sec --notail at EOF): SEC_SHUTDOWN with intevents; pending timers are dropped. */
  shutdown(): void {
    if (!this.started || this.handedOver) return;
    if (this.intevents) this.matchEvent('SEC_SHUTDOWN', true, SECEVENT_INT_CONTEXT);
    this.io.closeAll();
    this.children.killAll();
  }

  /** The timer check SEC makes after each line and when idle (--cleantime=1). */
  tick(): void {
    if (!this.started) this.start();
    if (this.now() - this.lastCleanup >= 1) {
      this.processLists();
      this.lastCleanup = this.now();
      if (this.io.hasPending) this.io.flush();
    }
  }

  /** One input line (a byte string): matched against the rules, then queued synthetic events. */
  input(line: string): void {
    this.tick();
    this.drain();
    this.matchEvent(line, false, this.intcontexts ? '_FILE_EVENT_' + this.inputName : undefined);
    this.tick();
    this.drain();
  }

  /** Matches queued synthetic events (they come before new input in SEC's loop). */
  drain(): void {
    while (this.events.length) {
      const [line, ctx] = this.events.shift()!;
      if (this.hooks.emitEvent) this.hooks.emitEvent(line, ctx);
      this.matchEvent(line, true, this.intcontexts ? ctx : undefined);
      this.tick();
    }
  }

  get queuedEvents(): number {
    return this.events.length;
  }

  /** Writes batched by write/writen go out now. */
  flushOutputs(): void {
    this.io.flush();
  }

  runDeferred(): void {
    while (this.deferred.length) this.deferred.shift()!();
  }

  /** One event through the rule files, the internal context under `intContext` meanwhile. */
  private matchEvent(line: string, synthetic: boolean, intContext: string | undefined): void {
    if (intContext !== undefined) {
      this.intContextName = intContext;
      this.contexts.enterInternal(intContext);
    }
    this.lines.push(line, synthetic);
    if (this.pmatch.size) this.pmatch.clear();
    const files = this.mainFiles;
    for (let i = 0; i < files.length; i++) if (this.processRules(files[i]!)) break;
    if (intContext !== undefined) {
      this.contexts.leaveInternal(intContext);
      this.intContextName = undefined;
    }
    this.processedLines++;
  }

  // ---------------------------------------------------------------- matching

  /** Matches a pattern; returns the match variables (EMPTY for types without them) or null. */
  private match(p: Pattern, re?: PerlRegex): Vars | null {
    switch (p.type) {
      case 'regexp': {
        const line = this.lines.text(p.lines);
        const m = (re ?? p.re!).exec(line);
        if (!m) return null;
        const v: Vars = m.named ? Object.assign(Object.create(null), filterDefined(m.named)) : Object.create(null);
        const list = m.list;
        for (let i = 0; i < list.length; i++) v[i + 1] = list[i];
        v['0'] = line;
        v._inputsrc = this.inputSrc();
        v._intcontext = this.intContextName;
        if (p.varmap) {
          const j = list.length;
          for (const [name, i] of p.varmap.vars) v[name] = i <= j ? v[i] : undefined;
          for (const name of p.varmap.cache) this.pmatch.set(name, Object.assign(Object.create(null), v));
        }
        return v;
      }
      case 'nregexp': {
        const line = this.lines.text(p.lines);
        if ((re ?? p.re!).test(line)) return null;
        const v: Vars = Object.create(null);
        v['0'] = line;
        v._inputsrc = this.inputSrc();
        v._intcontext = this.intContextName;
        return v;
      }
      case 'substr':
        return this.lines.text(p.lines).includes(p.str!) ? EMPTY : null;
      case 'nsubstr':
        return this.lines.text(p.lines).includes(p.str!) ? null : EMPTY;
      case 'cached': {
        const e = this.pmatch.get(p.str!);
        return e ? Object.assign(Object.create(null), e) : null;
      }
      case 'ncached':
        return this.pmatch.has(p.str!) ? null : EMPTY;
      case 'tvalue':
        return p.tv ? EMPTY : null;
    }
  }

  private inputSrc(): string {
    return this.lines.synthetic ? 'synthetic' : this.inputName;
  }

  valid(name: string): boolean {
    return this.contexts.valid(name);
  }

  cached(name: string): boolean {
    return this.pmatch.has(name);
  }

  ctxTrue(ctx: CtxToken[]): boolean {
    return !!evalContext(ctx, this);
  }

  /** Pattern + context of one condition; returns match vars or null. */
  matchCond(c: Cond, pat: Pattern = c.pat, re?: PerlRegex, ctx: CtxToken[] | undefined = c.ctx): Vars | null {
    if (c.ctxPre && ctx && !this.ctxTrue(ctx)) return null;
    const v = this.match(pat, re);
    if (!v) return null;
    if (ctx && ctx.length && !c.ctxPre) {
      if (v !== EMPTY && c.ctxVolat) {
        if (!this.ctxTrue(substContext(ctx, (s) => substString(s, v, '$', this.pmatch)))) return null;
      } else if (!this.ctxTrue(ctx)) return null;
    }
    return v;
  }

  /** SEC's process_rules for one file; true when the search ends for all files. */
  processRules(f: RuleFile, trace?: Set<string>): boolean {
    const rules = f.rules;
    const match = this.matchers.get(f)!;
    const n = rules.length;
    let i = 0;
    while (i < n) {
      i = match[i]!(this, rules[i]!, i, trace);
      if (i === -1) return true;
    }
    return false;
  }

  counted(r: Rule): void {
    r.matchCount++;
    this.hooks.onMatch?.(r);
  }

  fileSet(name: string): RuleFile[] | undefined {
    return this.cfsets.get(name);
  }

  ruleFile(name: string): RuleFile | undefined {
    return this.byName.get(name);
  }

  // ---------------------------------------------------------------- timers

  /** SEC's process_lists: deferred work, contexts, delayed events, Calendar rules, then the operations whose window passed. */
  processLists(): void {
    this.runDeferred();
    this.contexts.expireAll();
    if (this.pending.length) {
      const time = this.now();
      const keep: [number, string, string][] = [];
      for (const p of this.pending) {
        if (time >= p[0]) this.events.push([p[1], p[2]]);
        else keep.push(p);
      }
      this.pending = keep;
    }
    if (this.calendar.length) runCalendar(this, this.calendar, this.now());
    const trace = this.trace;
    for (const key of [...this.ops.keys()]) {
      const op = this.ops.get(key);
      if (!op) continue;
      const time = this.now();
      if (expired(op, time)) {
        if (trace) trace.rule = op.rule;
        TYPES[op.type].expire!(this, op, time);
      }
    }
  }

  // ---------------------------------------------------------------- for the actions

  log(level: LogLevel, msg: string): void {
    this.hooks.log?.(level, fromBytes(msg));
  }

  execList(list: Action[], desc: string): number {
    return execList(this, list, desc);
  }

  queueEvents(after: number, text: string, ctx: string): void {
    const lines = perlSplitLines(text);
    if (after) {
      const t = this.now() + after;
      for (const l of lines) this.pending.push([t, l, ctx]);
    } else for (const l of lines) this.events.push([l, ctx]);
  }

  defer(fn: () => void): void {
    this.deferred.push(fn);
  }

  emitNative(spec: NativeSpec, values: string[], desc: string): void {
    this.hooks.emitNative?.(spec.kind, nativeFields(spec, values), { rule: spec.rule, desc: fromBytes(desc) });
  }

  // ---------------------------------------------------------------- soft restart

  /**
   * The first half of sec's soft restart (SIGABRT), on the engine of the old rule files:
   * SEC_PRE_SOFTRESTART with intevents (the synthetic events it creates wait for the new rules),
   * output files closed, child processes ended. The state is then the next engine's (adopt);
   * this one does nothing more, shutdown included.
   */
  handOver(): void {
    if (!this.started) this.start();
    if (this.handedOver) return;
    if (this.intevents) this.matchEvent('SEC_PRE_SOFTRESTART', true, SECEVENT_INT_CONTEXT);
    this.io.closeAll();
    this.children.killAll();
    this.handedOver = true;
  }

  /**
   * The second half, on the engine of the new rule files before it starts: it takes the contexts,
   * the action-list variables, the delayed and queued events, and the operations of every rule
   * whose text did not change (matched by the rule file and the rule's normalised text, so a rule
   * that moved keeps its windows and a rule edited or removed loses them), with its match count
   * and a Calendar rule's last run. sec keeps operations per rule file: those of a file that
   * changed all end there.
   */
  adopt(old: SecEngine): Handover {
    if (this.started) throw new Error('adopt: the engine has started');
    if (!old.handedOver) old.handOver();
    const byText = ruleIndex(this.files);
    const newOf = new Map<Rule, Rule>();
    for (const [k, r] of ruleIndex(old.files)) {
      const n = byText.get(k);
      if (n) newOf.set(r, n);
    }
    for (const [o, n] of newOf) {
      n.matchCount = o.matchCount;
      if (o.last !== undefined) n.last = o.last;
    }
    let kept = 0;
    let dropped = 0;
    for (const op of old.ops.values()) {
      const r = newOf.get(op.rule);
      if (!r) {
        dropped++;
        continue;
      }
      const key = opKey(r.file, r.id, op.desc);
      op.key = key;
      op.rule = r;
      this.ops.set(key, op);
      r.ops?.set(key, op);
      kept++;
    }
    old.ops.clear();
    this.contexts.adopt(old.contexts);
    for (const [k, v] of old.vars) this.vars.set(k, v);
    this.pending.push(...old.pending);
    this.events.push(...old.events);
    old.events.length = 0;
    this.processedLines = old.processedLines;
    this.adopted = true;
    let rules = 0;
    for (const f of this.files) rules += f.rules.length;
    return { kept, dropped, sameRules: newOf.size, newRules: rules - newOf.size, contexts: this.contexts.size };
  }

  // ---------------------------------------------------------------- inspection

  /** A dump of live operations and contexts, like the one sec writes on SIGUSR1. */
  dump(): string {
    const out: string[] = [];
    const t = this.now();
    out.push(`SEC dump at ${perlCtime(t)} (${t})`, '', `Processed lines: ${this.processedLines}`, '');
    out.push('Rule usage:');
    for (const f of this.files) {
      out.push(`Statistics for the rules from ${f.file}`);
      for (const r of f.rules) out.push(`Rule ${r.id + 1} line ${r.line} (${r.type}) matched ${r.matchCount} events (${r.desc})`);
    }
    out.push('', `List of event correlation operations (${this.ops.size}):`);
    for (const op of this.ops.values()) {
      out.push(`Operation ID: ${op.key}`, `  type ${op.type}, window start ${op.time}, window ${op.window}s, started ${op.startTime}`);
      if (op.times) out.push(`  event times: ${op.times.join(' ')}`);
    }
    const seen = new Set<object>();
    out.push('', `List of contexts (${this.contexts.size} names):`);
    for (const [name, c] of this.contexts.entries()) {
      if (seen.has(c)) continue;
      seen.add(c);
      out.push(`Context name: ${[...c.aliases].join(', ') || name}`, `  created ${c.time}, lifetime ${c.window ? c.window + 's' : 'infinite'}, ${c.buffer.length} event(s) in store`);
      for (const l of c.buffer) out.push(`    ${l}`);
    }
    out.push('', 'Action list variables:');
    for (const [k, v] of this.vars) if (!k.startsWith('.') && k !== '%' && v !== undefined) out.push(`  %${k} = ${v}`);
    return fromBytes(out.join('\n') + '\n');
  }
}

/** Each rule by its file, its normalised text and which of the rules with that text in the file it is. */
function ruleIndex(files: RuleFile[]): Map<string, Rule> {
  const out = new Map<string, Rule>();
  for (const f of files)
    for (const r of f.rules) {
      const base = f.file + '\0' + r.text + '\0';
      let n = 0;
      while (out.has(base + n)) n++;
      out.set(base + n, r);
    }
  return out;
}

function filterDefined(o: Record<string, string | undefined>): Vars {
  const out: Vars = Object.create(null);
  for (const k in o) if (o[k] !== undefined) out[k] = o[k];
  return out;
}
