/**
 * The SEC runtime: input buffers, rule matching, correlation operations, contexts, action lists
 * and the once-a-second timer pass (process_lists), ported from SEC 2.9's own logic so that the
 * same input at the same instants gives the same `write` output as the real sec.
 *
 * Time is whole seconds from an injected function; nothing here reads the system clock.
 * Strings are byte strings (bytes.ts): lines come in through toBytes and leave through fromBytes.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { spawn } from 'node:child_process';
import { substArgs, matchVarRe, type Action } from './actions.js';
import { evalContext, substContext, type CtxEnv, type CtxToken } from './context-expr.js';
import { PerlRegex, quotemeta } from './perl-regex.js';
import { Next, type Cond, type Pattern, type Rule, type RuleFile } from './rules.js';
import { nativeFields } from './native.js';
import { fromBytes } from './bytes.js';
import { calendarNow, perlCtime, setCharVars, setTimeVars } from './timevars.js';

export type Vars = Record<string, string | undefined>;

const SEPARATOR = ' | ';
const SECEVENT_INT_CONTEXT = 'SEC_INTERNAL_EVENT';
const SYNEVENT_INT_CONTEXT = '_INTERNAL_EVENT';

interface Ctx {
  time: number;
  window: number;
  buffer: string[];
  action: Action[];
  desc: string;
  aliases: Set<string>;
  internal?: boolean;
  deleteInProgress?: boolean;
}

/** One correlation operation (SEC's %corr_list entry). */
interface Oper {
  type: Rule['type'];
  rule: Rule;
  key: string;
  startTime: number;
  time: number;
  window: number;
  desc: string;
  action: Action[];
  action2?: Action[];
  desc2?: string;
  pattern2?: Pattern;
  context2?: CtxToken[];
  act2Copied?: boolean;
  times?: number[];
  suppress?: boolean;
  secondPass?: boolean;
  allTimes?: [number, number, string?][];
  timesList?: number[][];
  init?: Action[];
  slide?: Action[];
  end?: Action[];
  deleteInProgress?: boolean;
  initInProgress?: boolean;
}

export interface EngineHooks {
  /** Current time in whole seconds. */
  now(): number;
  /** Synthetic events as they are matched, native alert/heartbeat events (UTF-8 strings). */
  emitEvent?(line: string, context: string): void;
  emitNative?(kind: 'alert' | 'heartbeat', fields: Record<string, unknown>): void;
  /** Relative paths in write/owritecl resolve here. */
  workingDir: string;
  /** `write -` and report without a command. */
  stdout?(text: string): void;
  log?(level: 'info' | 'warn' | 'error', msg: string): void;
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
}

function perlTrue(v: string | undefined): boolean {
  return v !== undefined && v !== '' && v !== '0';
}

const NUM = /^\s*0*([0-9]+)\s*$/;

export class SecEngine implements CtxEnv {
  readonly files: RuleFile[];
  private readonly mainFiles: RuleFile[];
  private readonly cfsets = new Map<string, RuleFile[]>();
  private readonly byName = new Map<string, RuleFile>();
  private readonly calendar: Rule[] = [];
  readonly contexts = new Map<string, Ctx>();
  readonly ops = new Map<string, Oper>();
  readonly variables = new Map<string, string | undefined>();
  private readonly events: [string, string][] = [];
  private pending: [number, string, string][] = [];
  private pmatch = new Map<string, Vars>();
  private readonly bufsize: number;
  private readonly jointbuf: boolean;
  private readonly inbuf: { lines: string[]; pos: number };
  private readonly synbuf: { lines: string[]; pos: number };
  private curSynthetic = false;
  private intContextName: string | undefined;
  private readonly intCtx: Ctx;
  private lastCleanup = 0;
  private timevarUpdate = -1;
  private readonly outputs = new Map<string, number>();
  private readonly intevents: boolean;
  private readonly intcontexts: boolean;
  private readonly allowShell: boolean;
  private readonly inputName: string;
  private started = false;
  private readonly children = new Set<import('node:child_process').ChildProcess>();
  processedLines = 0;

  constructor(
    files: RuleFile[],
    private readonly hooks: EngineHooks,
    opts: EngineOptions = {},
  ) {
    this.files = files;
    this.intevents = !!opts.intevents;
    this.intcontexts = !!opts.intcontexts;
    this.allowShell = !!opts.allowShell;
    this.inputName = opts.inputName ?? '-';
    let max = 1;
    for (const f of files) {
      this.byName.set(f.file, f);
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
    this.bufsize = max;
    this.jointbuf = max === 1;
    this.inbuf = { lines: new Array<string>(max).fill(''), pos: max - 1 };
    this.synbuf = { lines: new Array<string>(max).fill(''), pos: max - 1 };
    this.intCtx = { time: 0, window: 0, buffer: [], action: [], desc: 'SEC internal', internal: true, aliases: new Set() };
    setCharVars(this.variables);
  }

  private now(): number {
    return this.hooks.now();
  }

  // ---------------------------------------------------------------- lifecycle

  /** SEC startup: SEC_STARTUP (with intevents), then the first timer pass. */
  start(): void {
    if (this.started) return;
    this.started = true;
    const t = this.now();
    this.intCtx.time = t;
    this.timevarUpdate = t;
    setTimeVars(this.variables, t);
    if (this.intevents) this.internalEvent('SEC_STARTUP');
    this.processLists();
    this.lastCleanup = this.now();
  }

  get isStarted(): boolean {
    return this.started;
  }

  /** End of input (sec --notail at EOF): SEC_SHUTDOWN with intevents; pending timers are dropped. */
  shutdown(): void {
    if (!this.started) return;
    if (this.intevents) this.internalEvent('SEC_SHUTDOWN');
    this.flushOutputs();
    for (const fd of this.outputs.values()) {
      try {
        closeSync(fd);
      } catch {
        /* already closed */
      }
    }
    this.outputs.clear();
    for (const c of this.children) c.kill('SIGTERM');
    this.children.clear();
  }

  /** The timer check SEC makes after each line and when idle (--cleantime=1). */
  tick(): void {
    if (!this.started) this.start();
    if (this.now() - this.lastCleanup >= 1) {
      this.processLists();
      this.lastCleanup = this.now();
      if (this.pendingBytes) this.flushOutputs();
    }
  }

  /** One input line (a byte string): matched against the rules, then queued synthetic events. */
  input(line: string): void {
    this.tick();
    this.drain();
    this.processLine(line, false, undefined);
    this.tick();
    this.drain();
  }

  /** Matches queued synthetic events (they come before new input in SEC's loop). */
  drain(): void {
    while (this.events.length) {
      const [line, ctx] = this.events.shift()!;
      if (this.hooks.emitEvent) this.hooks.emitEvent(line, ctx);
      this.processLine(line, true, ctx);
      this.tick();
    }
  }

  get queuedEvents(): number {
    return this.events.length;
  }

  private internalEvent(text: string): void {
    this.intContextName = SECEVENT_INT_CONTEXT;
    this.intCtx.aliases.add(SECEVENT_INT_CONTEXT);
    this.contexts.set(SECEVENT_INT_CONTEXT, this.intCtx);
    this.pushBuffer(text, true);
    this.pmatch.clear();
    for (const f of this.mainFiles) if (this.processRules(f)) break;
    this.processedLines++;
    this.contexts.delete(SECEVENT_INT_CONTEXT);
    this.intCtx.aliases.delete(SECEVENT_INT_CONTEXT);
    this.intContextName = undefined;
  }

  private pushBuffer(line: string, synthetic: boolean): void {
    this.curSynthetic = synthetic;
    const b = this.jointbuf || !synthetic ? this.inbuf : this.synbuf;
    if (this.bufsize === 1) {
      b.lines[0] = line;
      return;
    }
    b.pos = (b.pos + 1) % this.bufsize;
    b.lines[b.pos] = line;
    if (!this.jointbuf) return;
  }

  private processLine(line: string, synthetic: boolean, evcont: string | undefined): void {
    let name: string | undefined;
    if (this.intcontexts) {
      name = synthetic ? evcont! : '_FILE_EVENT_' + this.inputName;
      this.intContextName = name;
      this.intCtx.aliases.add(name);
      this.contexts.set(name, this.intCtx);
    }
    this.pushBuffer(line, synthetic);
    if (this.pmatch.size) this.pmatch.clear();
    const files = this.mainFiles;
    for (let i = 0; i < files.length; i++) if (this.processRules(files[i]!)) break;
    if (name !== undefined) {
      this.contexts.delete(name);
      this.intCtx.aliases.delete(name);
      this.intContextName = undefined;
    }
    this.processedLines++;
  }

  // ---------------------------------------------------------------- matching

  private text(n: number): string {
    const b = this.jointbuf || !this.curSynthetic ? this.inbuf : this.synbuf;
    if (this.bufsize === 1) return b.lines[0]!;
    const out: string[] = [];
    for (let k = n - 1; k >= 0; k--) out.push(b.lines[(b.pos - k + this.bufsize * n) % this.bufsize]!);
    return out.join('\n');
  }

  private inputSrc(): string {
    return this.curSynthetic ? 'synthetic' : this.inputName;
  }

  /** Matches a pattern; returns the match variables (empty object for types without them) or null. */
  private match(p: Pattern, re?: PerlRegex): Vars | null {
    switch (p.type) {
      case 'regexp': {
        const line = this.text(p.lines);
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
        const line = this.text(p.lines);
        if ((re ?? p.re!).test(line)) return null;
        const v: Vars = Object.create(null);
        v['0'] = line;
        v._inputsrc = this.inputSrc();
        v._intcontext = this.intContextName;
        return v;
      }
      case 'substr':
        return this.text(p.lines).includes(p.str!) ? EMPTY : null;
      case 'nsubstr':
        return this.text(p.lines).includes(p.str!) ? null : EMPTY;
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

  valid(name: string): boolean {
    const c = this.contexts.get(name);
    if (!c) return false;
    if (!c.window) return true;
    if (this.now() - c.time <= c.window) return true;
    if (c.deleteInProgress) return false;
    if (c.action.length) {
      c.deleteInProgress = true;
      const prev = this.contexts.get('_THIS');
      this.contexts.set('_THIS', c);
      this.execList(c.action, c.desc);
      if (prev) this.contexts.set('_THIS', prev);
      else this.contexts.delete('_THIS');
    }
    const cur = this.contexts.get(name);
    if (cur) for (const alias of [...cur.aliases]) this.contexts.delete(alias);
    return false;
  }

  cached(name: string): boolean {
    return this.pmatch.has(name);
  }

  private ctxTrue(ctx: CtxToken[]): boolean {
    return !!evalContext(ctx, this);
  }

  /** Pattern + context of one condition; returns match vars or null. */
  private matchCond(c: Cond, pat: Pattern = c.pat, re?: PerlRegex, ctx: CtxToken[] | undefined = c.ctx): Vars | null {
    if (c.ctxPre && ctx && !this.ctxTrue(ctx)) return null;
    const v = this.match(pat, re);
    if (!v) return null;
    if (ctx && ctx.length && !c.ctxPre) {
      if (v !== EMPTY && c.ctxVolat && hasKeys(v)) {
        if (!this.ctxTrue(substContext(ctx, (s) => substString(s, v, '$', this.pmatch)))) return null;
      } else if (!this.ctxTrue(ctx)) return null;
    }
    return v;
  }

  /** SEC's process_rules for one file; true when the search ends for all files. */
  private processRules(f: RuleFile, trace?: Set<string>): boolean {
    const rules = f.rules;
    const n = rules.length;
    let i = 0;
    while (i < n) {
      const r = rules[i]!;
      switch (r.type) {
        case 'Calendar':
          i++;
          continue;
        case 'Pair':
        case 'PairWithWindow':
          i = this.match2(r, i);
          break;
        case 'EventGroup':
          i = this.matchEG(r, i);
          break;
        default:
          i = this.match1(f, r, i, trace);
      }
      if (i === -1) return true;
    }
    return false;
  }

  private counted(r: Rule): void {
    r.matchCount++;
    this.hooks.onMatch?.(r);
  }

  private match1(f: RuleFile, r: Rule, index: number, trace?: Set<string>): number {
    const v = this.matchCond(r.c1);
    if (!v) return index + 1;
    this.counted(r);
    switch (r.type) {
      case 'Suppress':
        return r.c1.goto;
      case 'Jump':
        return this.jump(f, r, v, trace) ? -1 : r.c1.goto;
      case 'Single':
        this.single(r, v);
        break;
      case 'SingleWithScript':
        this.singleWithScript(r, v);
        break;
      case 'SingleWithSuppress':
        this.singleWithSuppress(r, v);
        break;
      case 'SingleWithThreshold':
        this.swt(r, v);
        break;
      case 'SingleWith2Thresholds':
        this.sw2t(r, v);
        break;
    }
    return r.c1.goto;
  }

  private match2(r: Rule, index: number): number {
    const v = this.matchCond(r.c1);
    if (v) {
      this.counted(r);
      if (r.type === 'Pair') this.pair(r, v);
      else this.pairWithWindow(r, v);
      return r.c1.goto;
    }
    if (r.ops!.size && this.matchPairOps(r)) return r.c2!.goto;
    return index + 1;
  }

  private matchEG(r: Rule, index: number): number {
    const conds = r.conds!;
    for (let i = 0; i < conds.length; i++) {
      const v = this.matchCond(conds[i]!);
      if (!v) continue;
      this.counted(r);
      this.eventGroup(r, v, i);
      return conds[i]!.goto;
    }
    return index + 1;
  }

  private jump(_f: RuleFile, r: Rule, v: Vars, trace = new Set<string>()): boolean {
    if (!r.cfset) return false;
    const sets = !r.constset && hasKeys(v) ? r.cfset.map((s) => substString(s, v, '$', this.pmatch)) : r.cfset;
    for (const s of sets) {
      if (trace.has(s)) {
        this.log('warn', `Can't jump to fileset '${s}' from ${r.file}, loop detected`);
        continue;
      }
      const files = this.cfsets.get(s);
      if (!files) {
        this.log('warn', `Can't jump to fileset '${s}' from ${r.file}, set does not exist`);
        continue;
      }
      trace.add(s);
      for (const cf of files) {
        if (this.processRules(cf, trace)) {
          trace.delete(s);
          return true;
        }
      }
      trace.delete(s);
    }
    return false;
  }

  // ---------------------------------------------------------------- rule types

  private desc(r: Rule, v: Vars): string {
    return v === EMPTY ? r.desc : substString(r.desc, v, '$', this.pmatch);
  }

  private volatile(list: Action[], volat: boolean | undefined, v: Vars): Action[] {
    return volat && v !== EMPTY && hasKeys(v) ? substActions(list, v, '$', this.pmatch) : list;
  }

  private single(r: Rule, v: Vars): void {
    const desc = this.desc(r, v);
    this.execList(this.volatile(r.action, r.actVolat, v), desc);
  }

  private singleWithScript(r: Rule, v: Vars): void {
    const desc = this.desc(r, v);
    const action = this.volatile(r.action, r.actVolat, v);
    const action2 = this.volatile(r.action2!, r.actVolat2, v);
    const script = hasKeys(v) ? substString(r.script!, v, '$', this.pmatch) : r.script!;
    if (!this.allowShell) return;
    const child = spawn('/bin/sh', ['-c', fromBytes(script)], { cwd: this.hooks.workingDir, stdio: ['pipe', 'ignore', 'inherit'] });
    this.children.add(child);
    child.stdin!.on('error', () => {});
    child.stdin!.end(Buffer.from([...this.contexts.keys()].map((k) => k + '\n').join(''), 'latin1'));
    child.on('exit', (code) => {
      this.children.delete(child);
      this.deferred.push(() => this.execList(code === 0 ? action : action2, desc));
    });
  }

  /** Work from child processes, run at the next tick. */
  private deferred: (() => void)[] = [];

  runDeferred(): void {
    while (this.deferred.length) this.deferred.shift()!();
  }

  private singleWithSuppress(r: Rule, v: Vars): void {
    const desc = this.desc(r, v);
    const key = r.file + SEPARATOR + r.id + SEPARATOR + desc;
    const time = this.now();
    const op = this.ops.get(key);
    if (!op || time - op.time > op.window) {
      const action = this.volatile(r.action, r.actVolat, v);
      this.ops.set(key, newOper(r, key, time, desc, action));
      this.execList(action, desc);
    }
  }

  private pairCommon(r: Rule, v: Vars, desc: string, key: string, time: number): void {
    let pattern2 = r.c2!.pat;
    let desc2 = r.desc2!;
    let action: Action[];
    let action2: Action[];
    let context2 = r.c2!.ctx;
    let act2Copied = false;
    if (hasKeys(v)) {
      action = this.volatile(r.action, r.actVolat, v);
      action2 = r.action2!;
      if (r.actVolat2) act2Copied = true;
      const t2 = pattern2.type;
      if (t2 === 'regexp' || t2 === 'nregexp' || t2 === 'cached') {
        if (pattern2.template) {
          const src = substRegexp(pattern2.raw, v, this.pmatch);
          let re: PerlRegex;
          try {
            re = new PerlRegex(src);
          } catch (e) {
            this.log('error', `Runtime variable evaluation yielded an invalid regular expression '${src}' for ${r.type} rule: ${(e as Error).message}`);
            return;
          }
          pattern2 = { ...pattern2, re, template: false };
        }
        const dv: Vars = Object.create(null);
        for (const k in v) dv[k] = v[k] === undefined ? undefined : v[k]!.replace(/\$/g, '$$$$');
        desc2 = substString(desc2, dv, '%', this.pmatch);
        if (r.actVolat2) action2 = substActions(action2, dv, '%', this.pmatch);
        if (context2 && r.c2!.ctxVolat) context2 = substContext(context2, (s) => substString(s, dv, '%', this.pmatch));
      } else if (t2 === 'substr' || t2 === 'nsubstr') {
        pattern2 = { ...pattern2, str: substString(pattern2.str!, v, '$', this.pmatch) };
        desc2 = substString(desc2, v, '$', this.pmatch);
        if (r.actVolat2) action2 = substActions(action2, v, '$', this.pmatch);
        if (context2 && r.c2!.ctxVolat) context2 = substContext(context2, (s) => substString(s, v, '$', this.pmatch));
      } else {
        desc2 = substString(desc2, v, '$', this.pmatch);
        if (r.actVolat2) action2 = substActions(action2, v, '$', this.pmatch);
        if (context2 && r.c2!.ctxVolat) context2 = substContext(context2, (s) => substString(s, v, '$', this.pmatch));
      }
    } else {
      action = r.action;
      action2 = r.action2!;
    }
    const op = newOper(r, key, time, desc, action);
    op.pattern2 = pattern2;
    op.context2 = context2;
    op.desc2 = desc2;
    op.action2 = action2;
    if (act2Copied) op.act2Copied = true;
    this.ops.set(key, op);
    r.ops!.set(key, op);
  }

  private pair(r: Rule, v: Vars): void {
    const desc = this.desc(r, v);
    const key = r.file + SEPARATOR + r.id + SEPARATOR + desc;
    const time = this.now();
    const op = this.ops.get(key);
    if (!op || (op.window && time - op.time > op.window)) {
      this.pairCommon(r, v, desc, key, time);
      const created = this.ops.get(key);
      if (created && created !== op) this.execList(created.action, desc);
    }
  }

  private pairWithWindow(r: Rule, v: Vars): void {
    const desc = this.desc(r, v);
    const key = r.file + SEPARATOR + r.id + SEPARATOR + desc;
    const time = this.now();
    const old = this.ops.get(key);
    if (old && time - old.time > old.window) {
      this.execList(old.action, desc);
      this.ops.delete(key);
      r.ops!.delete(key);
    }
    if (!this.ops.has(key)) this.pairCommon(r, v, desc, key, time);
  }

  private matchPairOps(r: Rule): boolean {
    let ret = false;
    const c2 = r.c2!;
    for (const [key, op] of [...r.ops!.entries()] as [string, Oper][]) {
      if (!r.ops!.has(key)) continue;
      const v = this.matchCond(c2, op.pattern2!, op.pattern2!.re, op.context2);
      if (!v) continue;
      if (r.type === 'Pair') {
        if (!op.window || this.now() - op.time <= op.window) {
          ret = true;
          this.counted(r);
          this.pairFire(r, op, v);
        }
      } else {
        ret = true;
        this.counted(r);
        this.pairFire(r, op, v);
      }
      this.ops.delete(key);
      r.ops!.delete(key);
    }
    return ret;
  }

  private pairFire(r: Rule, op: Oper, v: Vars): void {
    let action2 = op.action2!;
    let desc2 = op.desc2!;
    if (hasKeys(v)) {
      if (r.actVolat2) action2 = substActions(action2, v, '$', this.pmatch);
      desc2 = substString(desc2, v, '$', this.pmatch);
    }
    this.execList(action2, desc2);
  }

  private swt(r: Rule, v: Vars): void {
    const desc = this.desc(r, v);
    const key = r.file + SEPARATOR + r.id + SEPARATOR + desc;
    const time = this.now();
    let op = this.ops.get(key);
    if (op && time - op.time > op.window) {
      if (!op.suppress) {
        updateTimes(op, time - op.window);
        if (!op.times!.length) this.ops.delete(key);
      } else {
        this.execList(op.action2!, desc);
        this.ops.delete(key);
      }
    }
    op = this.ops.get(key);
    if (!op) {
      op = newOper(r, key, time, desc, this.volatile(r.action, r.actVolat, v));
      op.action2 = this.volatile(r.action2!, r.actVolat2, v);
      op.times = [];
      this.ops.set(key, op);
    }
    if (op.suppress) return;
    op.times!.push(time);
    if (op.times!.length < r.thresh) return;
    op.suppress = true;
    this.execList(op.action, desc);
  }

  private sw2t(r: Rule, v: Vars): void {
    const desc = this.desc(r, v);
    const key = r.file + SEPARATOR + r.id + SEPARATOR + desc;
    const time = this.now();
    let op = this.ops.get(key);
    if (op && time - op.time > op.window) {
      if (!op.secondPass) {
        updateTimes(op, time - op.window);
        if (!op.times!.length) this.ops.delete(key);
      } else {
        this.execList(op.action2!, op.desc2!);
        this.ops.delete(key);
      }
    }
    op = this.ops.get(key);
    if (!op) {
      op = newOper(r, key, time, desc, this.volatile(r.action, r.actVolat, v));
      op.action2 = this.volatile(r.action2!, r.actVolat2, v);
      op.desc2 = hasKeys(v) ? substString(r.desc2!, v, '$', this.pmatch) : r.desc2!;
      op.times = [];
      this.ops.set(key, op);
    }
    op.times!.push(time);
    if (!op.secondPass) {
      if (op.times!.length < r.thresh) return;
      op.secondPass = true;
      op.time = time;
      op.window = r.window2;
      op.times = [];
      this.execList(op.action, desc);
    } else {
      if (op.times!.length <= r.thresh2) return;
      op.times!.shift();
      op.time = op.times!.length ? op.times![0]! : time;
    }
  }

  private eventGroup(r: Rule, v: Vars, index: number): void {
    const desc = this.desc(r, v);
    const key = r.file + SEPARATOR + r.id + SEPARATOR + desc;
    const time = this.now();
    let op = this.ops.get(key);
    if (op && time - op.time > op.window) {
      if (!op.suppress) {
        updateTimesEG(op, time - op.window);
        if (!op.allTimes!.length) {
          op.deleteInProgress = true;
          this.execList(op.end!, desc);
          this.ops.delete(key);
        } else this.execList(op.slide!, desc);
      } else {
        op.deleteInProgress = true;
        this.execList(op.end!, desc);
        this.ops.delete(key);
      }
    }
    op = this.ops.get(key);
    if (!op) {
      op = newOper(r, key, time, desc, this.volatile(r.action, r.actVolat, v));
      op.init = this.volatile(r.init!, r.initVolat, v);
      op.slide = this.volatile(r.slide!, r.slideVolat, v);
      op.end = this.volatile(r.end!, r.endVolat, v);
      op.allTimes = [];
      op.timesList = r.conds!.map(() => []);
      this.ops.set(key, op);
      op.initInProgress = true;
      this.execList(op.init, desc);
      if (!this.ops.has(key)) return;
      op.initInProgress = false;
    }
    if (!op.suppress) {
      const entry: [number, number, string?] = [time, index];
      if (r.egTokens) entry[2] = hasKeys(v) ? substString(r.egTokens[index]!, v, '$', this.pmatch) : r.egTokens[index]!;
      op.allTimes!.push(entry);
      op.timesList![index]!.push(time);
    }
    const count = this.volatile(r.countList![index]!, r.countVolat![index], v);
    this.execList(count, desc);
    if (!this.ops.has(key)) return;
    if (op.suppress) return;
    for (let i = 0; i < r.conds!.length; i++) if (op.timesList![i]!.length < r.threshList![i]!) return;
    if (r.egPat) {
      const tokens = op.allTimes!.map((e) => e[2]!);
      const s = tokens.join(' ');
      const p = r.egPat;
      const ok = p.type === 'regexp' ? p.re!.test(s) : p.type === 'nregexp' ? !p.re!.test(s) : p.type === 'substr' ? s.includes(p.str!) : !s.includes(p.str!);
      if (!ok) return;
    }
    if (!r.multact) op.suppress = true;
    this.execList(op.action, desc);
  }

  // ---------------------------------------------------------------- timers

  processLists(): void {
    this.runDeferred();
    for (const k of [...this.contexts.keys()]) this.valid(k);
    if (this.pending.length) {
      const time = this.now();
      const keep: [number, string, string][] = [];
      for (const p of this.pending) {
        if (time >= p[0]) this.events.push([p[1], p[2]]);
        else keep.push(p);
      }
      this.pending = keep;
    }
    if (this.calendar.length) {
      const t = calendarNow(this.now());
      const stamp = `${t.min}/${t.hour}/${t.day}/${t.month}/${t.year}`;
      for (const r of this.calendar) {
        if (r.last === stamp) continue;
        const c = r.cal!;
        if (!c.min.has(t.min) || !c.hour.has(t.hour)) continue;
        if (!c.day.has(t.day) && !(t.lastDay && c.day.has(0))) continue;
        if (!c.month.has(t.month) || !c.wday.has(t.wday) || !c.year.has(t.year % 100)) continue;
        if (!r.c1.ctx || !r.c1.ctx.length || this.ctxTrue(r.c1.ctx)) {
          this.execList(r.action, r.desc);
          r.last = stamp;
          this.counted(r);
        }
      }
    }
    for (const key of [...this.ops.keys()]) {
      const op = this.ops.get(key);
      if (!op) continue;
      const time = this.now();
      if (time - op.time <= op.window) continue;
      const r = op.rule;
      switch (op.type) {
        case 'SingleWithSuppress':
          this.ops.delete(key);
          break;
        case 'Pair':
          if (op.window) {
            this.ops.delete(key);
            r.ops!.delete(key);
          }
          break;
        case 'PairWithWindow':
          this.execList(op.action, op.desc);
          this.ops.delete(key);
          r.ops!.delete(key);
          break;
        case 'SingleWithThreshold':
          if (!op.suppress) {
            updateTimes(op, time - op.window);
            if (!op.times!.length) this.ops.delete(key);
          } else {
            this.execList(op.action2!, op.desc);
            this.ops.delete(key);
          }
          break;
        case 'SingleWith2Thresholds':
          if (!op.secondPass) {
            updateTimes(op, time - op.window);
            if (!op.times!.length) this.ops.delete(key);
          } else {
            this.execList(op.action2!, op.desc2!);
            this.ops.delete(key);
          }
          break;
        case 'EventGroup':
          if (!op.suppress) {
            updateTimesEG(op, time - op.window);
            if (!op.allTimes!.length) {
              op.deleteInProgress = true;
              this.execList(op.end!, op.desc);
              this.ops.delete(key);
            } else this.execList(op.slide!, op.desc);
          } else {
            op.deleteInProgress = true;
            this.execList(op.end!, op.desc);
            this.ops.delete(key);
          }
          break;
      }
    }
  }

  // ---------------------------------------------------------------- actions

  private log(level: 'info' | 'warn' | 'error', msg: string): void {
    this.hooks.log?.(level, fromBytes(msg));
  }

  /** %-variable substitution at run time (substitute_actionlist_var). */
  private runSubst(s: string, desc: string): string {
    if (s.indexOf('%') < 0) return s;
    const time = this.now();
    if (time !== this.timevarUpdate) {
      setTimeVars(this.variables, time);
      this.timevarUpdate = time;
    }
    const vars = this.variables;
    vars.set('u', String(time));
    vars.set('t', perlCtime(time));
    vars.set('s', desc);
    return s.replace(/%(?:(\.?[A-Za-z]\w*|%)|\{(\.?[A-Za-z]\w*)\})/g, (_m, a: string | undefined, b: string | undefined) => vars.get((a ?? b)!) ?? '');
  }

  /** Runs an action list: 1 done, 0 `continue`, -1 `break`. */
  execList(list: Action[], desc: string): number {
    for (let i = 0; i < list.length; i++) {
      const k = this.exec(list[i]!, desc);
      if (k <= 0) return k;
    }
    return 1;
  }

  private path(file: string): string {
    const f = fromBytes(file);
    return isAbsolute(f) ? f : resolve(this.hooks.workingDir, f);
  }

  /**
   * write/writen keep the file open as sec does; the bytes are batched and written out at every
   * timer pass (once a second), when 64 KiB are pending, before closef/owritecl on the same file,
   * and at shutdown — one system call per batch instead of one per action.
   */
  private pendingOut = new Map<string, string[]>();
  private pendingBytes = 0;

  flushOutputs(): void {
    for (const [file, parts] of this.pendingOut) this.flushOne(file, parts);
    this.pendingOut.clear();
    this.pendingBytes = 0;
  }

  private flushOne(file: string, parts: string[]): void {
    try {
      let fd = this.outputs.get(file);
      if (fd === undefined) {
        fd = openSync(this.path(file), 'a');
        this.outputs.set(file, fd);
      }
      writeSync(fd, Buffer.from(parts.join(''), 'latin1'));
    } catch (e) {
      this.log('warn', `Can't write to file '${file}': ${(e as Error).message}`);
    }
  }

  private writeOut(file: string, data: string, keepOpen: boolean): void {
    if (file === '-') {
      (this.hooks.stdout ?? ((t: string) => void process.stdout.write(t)))(fromBytes(data));
      return;
    }
    if (!keepOpen) {
      const pend = this.pendingOut.get(file);
      if (pend) {
        this.flushOne(file, pend);
        this.pendingOut.delete(file);
      }
      try {
        const fd = openSync(this.path(file), 'a');
        writeSync(fd, Buffer.from(data, 'latin1'));
        closeSync(fd);
      } catch (e) {
        this.log('warn', `Can't write to file '${file}': ${(e as Error).message}`);
      }
      return;
    }
    let pend = this.pendingOut.get(file);
    if (!pend) this.pendingOut.set(file, (pend = []));
    pend.push(data);
    this.pendingBytes += data.length;
    if (this.pendingBytes >= 65536) this.flushOutputs();
  }

  private newContext(name: string, window: number): Ctx {
    return { time: this.now(), window, buffer: [], action: [], desc: '', aliases: new Set([name]) };
  }

  private opKey(a: Action, ruleId: number, desc: string): string {
    return a.conf! + SEPARATOR + ruleId + SEPARATOR + desc;
  }

  private exec(a: Action, desc: string): number {
    const s = (i: number) => this.runSubst(a.a[i]!, desc);
    const vars = this.variables;
    switch (a.op) {
      case 'none':
        return 1;
      case 'logonly':
        this.log('info', s(0));
        return 1;
      case 'write':
        this.writeOut(s(0), s(1) + '\n', true);
        return 1;
      case 'writen':
        this.writeOut(s(0), s(1), true);
        return 1;
      case 'owritecl':
        this.writeOut(s(0), s(1), false);
        return 1;
      case 'closef': {
        const f = s(0);
        this.flushOutputs();
        const fd = this.outputs.get(f);
        if (fd !== undefined) {
          closeSync(fd);
          this.outputs.delete(f);
        }
        return 1;
      }
      case 'create': {
        const name = s(0);
        const life = NUM.exec(s(1));
        if (!life) {
          this.log('warn', `Invalid lifetime for context '${name}', can't create`);
          return 1;
        }
        const c = this.contexts.get(name);
        if (c) {
          if (c.internal) return 1;
          c.time = this.now();
          c.window = Number(life[1]);
          c.action = a.l![0]!;
          c.desc = desc;
          c.buffer = [];
        } else {
          const nc = this.newContext(name, Number(life[1]));
          nc.action = a.l![0]!;
          nc.desc = desc;
          this.contexts.set(name, nc);
        }
        return 1;
      }
      case 'delete': {
        const c = this.contexts.get(s(0));
        if (c && !c.deleteInProgress && !c.internal) for (const al of [...c.aliases]) this.contexts.delete(al);
        return 1;
      }
      case 'obsolete': {
        const name = s(0);
        const c = this.contexts.get(name);
        if (c && !c.deleteInProgress && !c.internal) {
          c.window = -1;
          this.valid(name);
        }
        return 1;
      }
      case 'set': {
        const name = s(0);
        const m = /^\s*(?:0*([0-9]+)|-)\s*$/.exec(s(1));
        if (!m) return 1;
        const c = this.contexts.get(name);
        if (!c || c.internal) return 1;
        if (m[1] !== undefined) {
          c.time = this.now();
          c.window = Number(m[1]);
        }
        if (a.l![0]!.length) {
          c.action = a.l![0]!;
          c.desc = desc;
        }
        return 1;
      }
      case 'alias': {
        const name = s(0);
        const alias = s(1);
        const c = this.contexts.get(name);
        if (c && !this.contexts.has(alias) && !c.internal) {
          c.aliases.add(alias);
          this.contexts.set(alias, c);
        }
        return 1;
      }
      case 'unalias': {
        const alias = s(0);
        const c = this.contexts.get(alias);
        if (c && !c.deleteInProgress && !c.internal) {
          c.aliases.delete(alias);
          this.contexts.delete(alias);
        }
        return 1;
      }
      case 'add':
      case 'prepend':
      case 'fill': {
        const name = s(0);
        const ev = s(1);
        let c = this.contexts.get(name);
        if (!c) this.contexts.set(name, (c = this.newContext(name, 0)));
        if (c.internal) return 1;
        const lines = perlSplitLines(ev);
        if (a.op === 'add') c.buffer.push(...lines);
        else if (a.op === 'prepend') c.buffer.unshift(...lines);
        else c.buffer = lines;
        return 1;
      }
      case 'report': {
        const c = this.contexts.get(s(0));
        const cmd = s(1);
        if (!c || !c.buffer.length) return 1;
        const text = c.buffer.map((l) => l + '\n').join('');
        if (!cmd.length) this.writeOut('-', text, true);
        else this.shell(cmd, text);
        return 1;
      }
      case 'copy':
      case 'empty': {
        const c = this.contexts.get(s(0));
        if (!c) return 1;
        if (a.a[1]) vars.set(a.a[1], c.buffer.join('\n'));
        if (a.op === 'empty') c.buffer = [];
        return 1;
      }
      case 'pop':
      case 'shift': {
        const c = this.contexts.get(s(0));
        if (!c) return 1;
        const v = a.op === 'pop' ? c.buffer.pop() : c.buffer.shift();
        vars.set(a.a[1]!, v ?? '');
        return 1;
      }
      case 'exists':
        vars.set(a.a[0]!, this.contexts.has(s(1)) ? '1' : '0');
        return 1;
      case 'getsize': {
        const c = this.contexts.get(s(1));
        vars.set(a.a[0]!, c ? String(c.buffer.length) : undefined);
        return 1;
      }
      case 'getaliases': {
        const c = this.contexts.get(s(1));
        if (c) vars.set(a.a[0]!, [...c.aliases].join('\n'));
        return 1;
      }
      case 'getltime': {
        const c = this.contexts.get(s(1));
        if (c) vars.set(a.a[0]!, String(c.window));
        return 1;
      }
      case 'getctime': {
        const c = this.contexts.get(s(1));
        if (c) vars.set(a.a[0]!, String(c.time));
        return 1;
      }
      case 'setltime': {
        const name = s(0);
        const m = NUM.exec(s(1));
        const c = this.contexts.get(name);
        if (!m || !c || c.internal) return 1;
        c.window = Number(m[1]);
        if (c.window && this.now() - c.time > c.window) this.valid(name);
        return 1;
      }
      case 'setctime': {
        const m = NUM.exec(s(0));
        const c = this.contexts.get(s(1));
        if (!m || !c || c.internal) return 1;
        const ts = Number(m[1]);
        if (ts > c.time && ts <= this.now()) c.time = ts;
        return 1;
      }
      case 'event':
        this.queueEvents(a.after!, s(1), SYNEVENT_INT_CONTEXT);
        return 1;
      case 'tevent': {
        const m = NUM.exec(s(0));
        const ev = s(1);
        if (m) this.queueEvents(Number(m[1]), ev, SYNEVENT_INT_CONTEXT);
        return 1;
      }
      case 'cevent': {
        const ctx = s(0);
        const m = NUM.exec(s(1));
        const ev = s(2);
        if (m) this.queueEvents(Number(m[1]), ev, ctx);
        return 1;
      }
      case 'reset': {
        const ev = s(0);
        const f = this.byName.get(a.conf!);
        if (a.rule !== '') {
          const key = this.opKey(a, a.rule!, ev);
          f?.rules[a.rule!]?.ops?.delete(key);
          this.ops.delete(key);
        } else if (f) {
          for (const r of f.rules) {
            const key = this.opKey(a, r.id, ev);
            r.ops?.delete(key);
            this.ops.delete(key);
          }
        }
        return 1;
      }
      case 'getwpos': {
        const op = this.ops.get(this.opKey(a, a.rule as number, s(1)));
        if (op) vars.set(a.a[0]!, String(op.time));
        return 1;
      }
      case 'setwpos':
        this.setwpos(a, s(0), s(1));
        return 1;
      case 'assign':
        vars.set(a.a[0]!, s(1));
        return 1;
      case 'assignsq':
        vars.set(a.a[0]!, "'" + s(1).replace(/'/g, "'\\''") + "'");
        return 1;
      case 'free':
        vars.delete(a.a[0]!);
        return 1;
      case 'varset':
        vars.set(a.a[0]!, this.pmatch.has(s(1)) ? '1' : '0');
        return 1;
      case 'rewrite':
        this.rewrite(s(0), s(1));
        return 1;
      case 'if': {
        const ret = perlTrue(vars.get(a.a[0]!)) ? (a.l![0]!.length ? this.execList(a.l![0]!, desc) : 1) : a.l![1]!.length ? this.execList(a.l![1]!, desc) : 1;
        return ret !== 1 ? ret : 1;
      }
      case 'while':
        while (perlTrue(vars.get(a.a[0]!))) if (this.execList(a.l![0]!, desc) === -1) break;
        return 1;
      case 'break':
        return -1;
      case 'continue':
        return 0;
      case 'alert':
      case 'heartbeat': {
        const spec = a.native!;
        const values = spec.values.map((v) => fromBytes(this.runSubst(v, desc)));
        this.hooks.emitNative?.(spec.kind, nativeFields(spec, values));
        return 1;
      }
      case 'addinput':
        this.hooks.addInput ? this.hooks.addInput(fromBytes(s(0)), s(1), s(2)) : this.log('warn', `addinput ${s(0)}: no input can be added here`);
        return 1;
      case 'dropinput':
        this.hooks.dropInput?.(fromBytes(s(0)));
        return 1;
      case 'sigemul':
        this.log('warn', `sigemul ${s(0)} is not supported`);
        return 1;
      case 'shellcmd':
        this.shell(s(0));
        return 1;
      case 'spawn':
        this.shell(s(0), undefined, SYNEVENT_INT_CONTEXT);
        return 1;
      case 'cspawn':
        this.shell(s(1), undefined, s(0));
        return 1;
      case 'pipe': {
        const text = s(0) + '\n';
        const cmd = s(1);
        if (!cmd.length) this.writeOut('-', text, true);
        else this.shell(cmd, text);
        return 1;
      }
      case 'cmdexec':
      case 'spawnexec':
      case 'cspawnexec':
      case 'pipeexec':
      case 'reportexec':
        this.execArgv(a, desc);
        return 1;
      default:
        this.log('warn', `action '${a.op}' is not supported and was skipped`);
        return 1;
    }
  }

  private queueEvents(after: number, text: string, ctx: string): void {
    const lines = perlSplitLines(text);
    if (after) {
      const t = this.now() + after;
      for (const l of lines) this.pending.push([t, l, ctx]);
    } else for (const l of lines) this.events.push([l, ctx]);
  }

  private setwpos(a: Action, tsText: string, ev: string): void {
    const key = this.opKey(a, a.rule as number, ev);
    const m = NUM.exec(tsText);
    const op = this.ops.get(key);
    if (!m || !op || op.initInProgress || op.deleteInProgress) return;
    const ts = Number(m[1]);
    if (ts < op.time || ts > this.now() || ts === op.time) return;
    if (op.type === 'SingleWithThreshold') {
      if (!op.suppress) {
        updateTimes(op, ts, true);
        if (!op.times!.length) this.ops.delete(key);
      } else op.time = ts;
    } else if (op.type === 'SingleWith2Thresholds') {
      updateTimes(op, ts, true);
      if (!op.secondPass && !op.times!.length) this.ops.delete(key);
    } else if (op.type === 'EventGroup') {
      if (!op.suppress) {
        updateTimesEG(op, ts, true);
        if (!op.allTimes!.length) {
          op.deleteInProgress = true;
          this.execList(op.end!, op.desc);
          this.ops.delete(key);
        }
      } else op.time = ts;
    } else op.time = ts;
  }

  private rewrite(countText: string, ev: string): void {
    const m = NUM.exec(countText);
    if (!m) return;
    let count = Number(m[1]);
    let lines = perlSplitLines(ev);
    if (!count) {
      if (!lines.length) return;
      count = lines.length;
    }
    if (count > this.bufsize) count = this.bufsize;
    if (lines.length > count) lines = lines.slice(0, count);
    while (lines.length < count) lines.unshift('');
    const b = this.jointbuf || !this.curSynthetic ? this.inbuf : this.synbuf;
    if (this.bufsize === 1) {
      b.lines[0] = lines[0]!;
      return;
    }
    for (let k = 0; k < count; k++) b.lines[(b.pos - (count - 1 - k) + this.bufsize * count) % this.bufsize] = lines[k]!;
  }

  /** Runs a command line through /bin/sh (allow_shell only); stdout lines become events with `ctx`. */
  private shell(cmd: string, stdin?: string, ctx?: string): void {
    if (!this.allowShell) {
      this.log('error', `refusing to run shell command '${cmd}' without allow_shell`);
      return;
    }
    this.spawnChild('/bin/sh', ['-c', fromBytes(cmd)], stdin, ctx);
  }

  private execArgv(a: Action, desc: string): void {
    if (!this.allowShell) return;
    const args = a.a.map((x) => fromBytes(this.runSubst(x, desc)));
    if (a.op === 'cmdexec') this.spawnChild(args[0]!, args.slice(1));
    else if (a.op === 'spawnexec') this.spawnChild(args[0]!, args.slice(1), undefined, SYNEVENT_INT_CONTEXT);
    else if (a.op === 'cspawnexec') this.spawnChild(args[1]!, args.slice(2), undefined, args[0]);
    else if (a.op === 'pipeexec') {
      if (args.length === 1) this.writeOut('-', this.runSubst(a.a[0]!, desc) + '\n', true);
      else this.spawnChild(args[1]!, args.slice(2), args[0] + '\n');
    } else if (a.op === 'reportexec') {
      const c = this.contexts.get(this.runSubst(a.a[0]!, desc));
      if (!c || !c.buffer.length) return;
      const text = c.buffer.map((l) => l + '\n').join('');
      if (args.length === 1) this.writeOut('-', text, true);
      else this.spawnChild(args[1]!, args.slice(2), text);
    }
  }

  private spawnChild(cmd: string, args: string[], stdin?: string, ctx?: string): void {
    const child = spawn(cmd, args, { cwd: this.hooks.workingDir, stdio: [stdin === undefined ? 'ignore' : 'pipe', ctx === undefined ? 'ignore' : 'pipe', 'inherit'] });
    this.children.add(child);
    child.on('error', (e) => this.log('error', `can't run '${cmd}': ${e.message}`));
    child.on('exit', () => this.children.delete(child));
    if (stdin !== undefined) {
      child.stdin!.on('error', () => {});
      child.stdin!.end(Buffer.from(stdin, 'latin1'));
    }
    if (ctx !== undefined) {
      let rest = '';
      child.stdout!.on('data', (d: Buffer) => {
        const parts = (rest + d.toString('latin1')).split('\n');
        rest = parts.pop()!;
        for (const p of parts) this.events.push([p, ctx]);
      });
    }
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
      if (op.allTimes) out.push(`  event times: ${op.allTimes.map((e) => e[0]).join(' ')}`);
    }
    const seen = new Set<Ctx>();
    out.push('', `List of contexts (${this.contexts.size} names):`);
    for (const [name, c] of this.contexts) {
      if (seen.has(c)) continue;
      seen.add(c);
      out.push(`Context name: ${[...c.aliases].join(', ') || name}`, `  created ${c.time}, lifetime ${c.window ? c.window + 's' : 'infinite'}, ${c.buffer.length} event(s) in store`);
      for (const l of c.buffer) out.push(`    ${l}`);
    }
    out.push('', 'Action list variables:');
    for (const [k, v] of this.variables) if (!k.startsWith('.') && k !== '%' && v !== undefined) out.push(`  %${k} = ${v}`);
    return fromBytes(out.join('\n') + '\n');
  }
}

const EMPTY: Vars = Object.freeze(Object.create(null));

/** Did the match set variables? (only the shared EMPTY object has none) */
function hasKeys(v: Vars): boolean {
  return v !== EMPTY;
}

function filterDefined(o: Record<string, string | undefined>): Vars {
  const out: Vars = Object.create(null);
  for (const k in o) if (o[k] !== undefined) out[k] = o[k];
  return out;
}

function newOper(r: Rule, key: string, time: number, desc: string, action: Action[]): Oper {
  return { type: r.type, rule: r, key, startTime: time, time, window: r.window, desc, action };
}

function updateTimes(op: Oper, time: number, flag?: boolean): void {
  const t = op.times!;
  let i = 0;
  while (i < t.length && t[i]! < time) i++;
  if (i) t.splice(0, i);
  op.time = !flag && t.length ? t[0]! : time;
}

function updateTimesEG(op: Oper, time: number, flag?: boolean): void {
  const all = op.allTimes!;
  while (all.length && all[0]![0] < time) {
    op.timesList![all[0]![1]]!.shift();
    all.shift();
  }
  op.time = !flag && all.length ? all[0]![0] : time;
}

/** Perl split(/\n/, s): drops trailing empty fields; "" gives no lines. */
function perlSplitLines(s: string): string[] {
  const parts = s.split('\n');
  while (parts.length && parts[parts.length - 1] === '') parts.pop();
  return parts;
}

/**
 * A template split once into literal text and variable references, so substitution is string
 * concatenation. Part kinds: string = literal, [key] = match variable, [entry, name] = $:{entry:name}.
 */
type Part = string | [string] | [string, string];
// keyed by the template string itself: V8 caches a string's hash, so rule text hashes once
const templates = { $: new Map<string, Part[] | null>(), '%': new Map<string, Part[] | null>() };

function compileSubst(s: string, token: '$' | '%'): Part[] | null {
  const cache = templates[token];
  let t = cache.get(s);
  if (t !== undefined) return t;
  const parts: Part[] = [];
  let last = 0;
  let lit = '';
  const re = matchVarRe(token);
  let m: RegExpExecArray | null;
  let any = false;
  while ((m = re.exec(s))) {
    any = true;
    lit += s.slice(last, m.index);
    last = m.index + m[0].length;
    if (m[4] !== undefined) {
      if (lit) parts.push(lit), (lit = '');
      parts.push([m[4], m[5]!]);
    } else {
      const k = m[1] ?? m[2] ?? m[3];
      if (k === undefined) lit += token;
      else {
        if (lit) parts.push(lit), (lit = '');
        parts.push([k]);
      }
    }
  }
  lit += s.slice(last);
  if (lit) parts.push(lit);
  t = any ? parts : null;
  if (cache.size > 20000) cache.clear();
  cache.set(s, t);
  return t;
}

/** SEC's subst_string: $1, ${1}, $+{name}, $:{entry:name}, $$ (or with %). */
export function substString(s: string, v: Vars, token: '$' | '%', cache: Map<string, Vars>): string {
  if (s.indexOf(token) < 0) return s;
  const parts = compileSubst(s, token);
  if (parts === null) return s;
  let out = '';
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i]!;
    if (typeof p === 'string') out += p;
    else if (p.length === 1) out += v[p[0]] ?? '';
    else out += cache.get(p[0])?.[p[1]] ?? '';
  }
  return out;
}

function substRegexp(raw: string, v: Vars, cache: Map<string, Vars>): string {
  const q: Vars = Object.create(null);
  for (const k in v) q[k] = v[k] === undefined ? undefined : quotemeta(v[k]!);
  return substString(raw, q, '$', cache);
}

/** Copy of an action list with match variables substituted (values' % masked as %%). */
export function substActions(list: Action[], v: Vars, token: '$' | '%', cache: Map<string, Vars>): Action[] {
  let masked: Vars = v;
  for (const k in v) {
    if (v[k] !== undefined && v[k]!.indexOf('%') >= 0) {
      masked = Object.create(null);
      for (const k2 in v) masked[k2] = v[k2] === undefined ? undefined : v[k2]!.replace(/%/g, '%%');
      break;
    }
  }
  return list.map((a) => substAction(a, masked, token, cache));
}

function substAction(a: Action, v: Vars, token: '$' | '%', cache: Map<string, Vars>): Action {
  const idx = substArgs(a.op, a.a);
  const out: Action = { ...a };
  if (idx.length) {
    out.a = a.a.slice();
    for (const i of idx) out.a[i] = substString(a.a[i]!, v, token, cache);
  }
  if (a.native) out.native = { ...a.native, values: out.a };
  if (a.l) out.l = a.l.map((l) => l.map((x) => substAction(x, v, token, cache)));
  return out;
}

export { Next };
