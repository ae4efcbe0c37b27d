/**
 * Rule files, read and checked as SEC 2.9's read_configfile/check_rule/resolve_labels do:
 * keyword=value lines, a trailing backslash continues the field (the next line is appended as is,
 * leading spaces included), comment/blank lines and end of file end a rule, `label=` and `rem=`
 * are special, only valid non-Options rules are numbered, GoTo labels resolve forwards only.
 * Unlike sec (which logs and skips a bad rule), every problem is collected with file and line.
 */
import { readFileSync } from 'node:fs';
import { parseActionList, containsMatchVars, actionListUsesShell, shellActionsWithMatchVars, ActionError, type Action } from './actions.js';
import { parseContextExpr, contextHasVars, ContextExprError, type CtxToken } from './context-expr.js';
import { PerlRegex, PerlRegexError } from './perl-regex.js';
import { toBytes } from './bytes.js';

export interface RuleError {
  file: string;
  line: number;
  message: string;
}

export type PatType = 'regexp' | 'nregexp' | 'substr' | 'nsubstr' | 'cached' | 'ncached' | 'tvalue';

export interface VarMap {
  /** name -> match variable number */
  vars: [string, number][];
  /** names under which the whole match is cached */
  cache: string[];
}

export interface Pattern {
  type: PatType;
  lines: number;
  raw: string;
  re?: PerlRegex;
  str?: string;
  tv?: boolean;
  /** Pair pattern2 regexp with $-variables: compiled per operation after substitution. */
  template?: boolean;
  varmap?: VarMap;
}

export const enum Next {
  TakeNext = 1,
  DontCont = 2,
  EndMatch = 3,
  GoTo = 4,
}

export type RuleType =
  | 'Single' | 'SingleWithScript' | 'SingleWithSuppress' | 'Pair' | 'PairWithWindow' | 'SingleWithThreshold'
  | 'SingleWith2Thresholds' | 'EventGroup' | 'Suppress' | 'Calendar' | 'Jump';

export interface Cond {
  pat: Pattern;
  ctx?: CtxToken[];
  ctxPre?: boolean;
  ctxVolat?: boolean;
  whatNext: Next;
  gotoLabel?: string;
  /** resolved: index of the next rule to try, -1 for EndMatch */
  goto: number;
}

export interface Rule {
  type: RuleType;
  id: number;
  file: string;
  line: number;
  c1: Cond;
  c2?: Cond;
  desc: string;
  action: Action[];
  actVolat?: boolean;
  action2?: Action[];
  actVolat2?: boolean;
  desc2?: string;
  window: number;
  thresh: number;
  window2: number;
  thresh2: number;
  /** EventGroup */
  conds?: Cond[];
  threshList?: number[];
  countList?: Action[][];
  countVolat?: boolean[];
  egTokens?: string[];
  egPat?: { type: 'regexp' | 'nregexp' | 'substr' | 'nsubstr'; re?: PerlRegex; str?: string };
  init?: Action[];
  initVolat?: boolean;
  slide?: Action[];
  slideVolat?: boolean;
  end?: Action[];
  endVolat?: boolean;
  multact?: boolean;
  /** Calendar */
  cal?: { min: Set<number>; hour: Set<number>; day: Set<number>; month: Set<number>; wday: Set<number>; year: Set<number> };
  last?: string;
  /** Jump */
  cfset?: string[];
  constset?: boolean;
  /** SingleWithScript */
  script?: string;
  /** Pair/PairWithWindow: live operations started by this rule, by key */
  ops?: Map<string, unknown>;
  matchCount: number;
  /**
   * The rule's text, normalised: its keyword=value fields (continuations joined, `rem` left out)
   * sorted by keyword, one a line. A reload keeps the operations of a rule whose text is unchanged.
   */
  text: string;
}

export interface RuleFile {
  file: string;
  rules: Rule[];
  joinCfset: string[];
  jumpOnly: boolean;
}

export interface LoadOptions {
  allowShell?: boolean;
}

interface RawField {
  value: string;
  line: number;
}

const MIGRATE_HINT = "shell actions need 'allow_shell => true' in the sec block; or run 'pipeline sec migrate FILE' to turn alerta calls into native alert/heartbeat actions";

/** Reads one rule file's text into raw rules (keyword -> value, line) and labels. */
export function readRawRules(text: string, file: string, errors: RuleError[]): { rules: { start: number; fields: Map<string, RawField> }[]; labels: { name: string; index: number }[] } {
  const physical = text.split('\n');
  if (physical.length && physical[physical.length - 1] === '') physical.pop();
  const rules: { start: number; fields: Map<string, RawField> }[] = [];
  const labels: { name: string; index: number }[] = [];
  let fields = new Map<string, RawField>();
  let rulestart = 1;
  let cont = false;
  let line = '';
  let fieldLine = 1;
  for (let no = 1; no <= physical.length + 1; no++) {
    const eof = no > physical.length;
    if (!eof) {
      const linebuf = physical[no - 1]!;
      if (cont) line += linebuf;
      else {
        line = linebuf;
        fieldLine = no;
      }
      const m = /^\s*(.*\S)/s.exec(line);
      line = m ? m[1]! : '';
      if (line.endsWith('\\')) {
        line = line.slice(0, -1);
        cont = true;
        continue;
      }
      cont = false;
    }
    if (eof || !line.length || line[0] === '#') {
      if (fields.size) {
        rules.push({ start: rulestart, fields });
        fields = new Map();
      }
      rulestart = no + 1;
      if (eof) break;
      continue;
    }
    const kv = /^\s*([A-Za-z0-9]+)\s*=\s*(.*\S)/s.exec(line);
    if (!kv) {
      errors.push({ file, line: fieldLine, message: `line not in keyword=value format or non-alphanumeric keyword: ${line}` });
      continue;
    }
    const [, keyword, value] = kv;
    if (keyword === 'label') labels.push({ name: value!, index: rules.length + (fields.size ? 0 : 0) });
    else if (keyword !== 'rem') fields.set(keyword!, { value: value!, line: fieldLine });
  }
  return { rules, labels };
}

function substSpecChar(s: string): string {
  return s.replace(/\\(0|n|r|s|t|\\)/g, (_m, c: string) => ({ '0': '', n: '\n', r: '\r', s: ' ', t: '\t', '\\': '\\' })[c]!);
}

class RuleErr extends Error {
  constructor(
    message: string,
    readonly line?: number,
  ) {
    super(message);
  }
}

function analyzePattern(ptype: RawField, pat: RawField, fptype?: PatType): Pattern {
  let m: RegExpExecArray | null;
  if ((m = /^(n?)regexp(?:0*([1-9][0-9]*))?$/i.exec(ptype.value))) {
    const type: PatType = m[1] ? 'nregexp' : 'regexp';
    const lines = m[2] ? Number(m[2]) : 1;
    const p: Pattern = { type, lines, raw: pat.value };
    if (fptype === undefined || fptype === 'tvalue' || fptype === 'substr' || fptype === 'nsubstr' || !containsMatchVars(pat.value, ['$'])) {
      try {
        p.re = new PerlRegex(pat.value);
      } catch (e) {
        throw new RuleErr(`invalid regular expression '${pat.value}': ${(e as Error).message}`, pat.line);
      }
    } else p.template = true;
    return p;
  }
  if ((m = /^(n?)substr(?:0*([1-9][0-9]*))?$/i.exec(ptype.value))) {
    return { type: m[1] ? 'nsubstr' : 'substr', lines: m[2] ? Number(m[2]) : 1, raw: pat.value, str: substSpecChar(pat.value) };
  }
  if (/^(n?)perlfunc(?:0*([1-9][0-9]*))?$/i.test(ptype.value)) {
    throw new RuleErr(`pattern type '${ptype.value}' runs Perl code, which this engine does not execute; use a RegExp pattern`, ptype.line);
  }
  if ((m = /^(n?)cached$/i.exec(ptype.value))) {
    if (!/^[A-Za-z]\w*$/.test(pat.value)) throw new RuleErr(`invalid cached pattern name '${pat.value}'`, pat.line);
    return { type: m[1] ? 'ncached' : 'cached', lines: 1, raw: pat.value, str: pat.value };
  }
  if (/^tvalue$/i.test(ptype.value)) {
    const u = pat.value.toUpperCase();
    if (u !== 'TRUE' && u !== 'FALSE') throw new RuleErr(`invalid truth value '${pat.value}'`, pat.line);
    return { type: 'tvalue', lines: 1, raw: pat.value, tv: u === 'TRUE' };
  }
  throw new RuleErr(`invalid pattern type '${ptype.value}'`, ptype.line);
}

function analyzeVarmap(p: Pattern, vm: RawField): void {
  if (p.type !== 'regexp') return; // sec warns and ignores the map for other types
  const out: VarMap = { vars: [], cache: [] };
  for (const mapping of vm.value.split(/\s*;\s*/)) {
    if (mapping === '') continue;
    const m = /^\s*([A-Za-z]\w*)(?:\s*=\s*0*([0-9]+))?\s*$/.exec(mapping);
    if (!m) throw new RuleErr(`invalid variable map '${vm.value}': '${mapping}' does not have the form name[=number]`, vm.line);
    const existing = out.vars.findIndex((v) => v[0] === m[1]);
    if (existing >= 0) out.vars.splice(existing, 1);
    out.cache = out.cache.filter((c) => c !== m[1]);
    if (m[2] === undefined) out.cache.push(m[1]!);
    else out.vars.push([m[1]!, Number(m[2])]);
  }
  if (out.vars.length || out.cache.length) p.varmap = out;
}

function analyzeContinue(f: RawField | undefined): { whatNext: Next; label?: string } {
  if (!f) return { whatNext: Next.DontCont };
  const u = f.value.toUpperCase();
  if (u === 'TAKENEXT') return { whatNext: Next.TakeNext };
  if (u === 'DONTCONT') return { whatNext: Next.DontCont };
  if (u === 'ENDMATCH') return { whatNext: Next.EndMatch };
  const m = /^goto\s+(.*\S)/i.exec(f.value);
  if (m) return { whatNext: Next.GoTo, label: m[1]! };
  throw new RuleErr(`invalid continue value '${f.value}'`, f.line);
}

function parseTimeList(spec: string, min: number, max: number, offset: number): Set<number> | null {
  const parts = spec.split(',');
  while (parts.length && parts[parts.length - 1] === '') parts.pop();
  if (!parts.length) return null;
  const out = new Set<number>();
  for (let part of parts) {
    if (!part.length) continue;
    let step: number | undefined;
    const sm = /^(.+)\/0*([0-9]+)$/.exec(part);
    if (sm) {
      part = sm[1]!;
      step = Number(sm[2]);
      if (step === 0) return null;
    }
    if (part === '*') {
      for (let i = min + offset; i <= max + offset; i += step ?? 1) out.add(i);
      continue;
    }
    const dash = part.indexOf('-');
    if (dash < 0) {
      const nm = /^0*([0-9]+)$/.exec(part);
      if (!nm) return null;
      const v = Number(nm[1]);
      if (v < min || v > max || step !== undefined) return null;
      out.add(v + offset);
    } else {
      const r1 = part.slice(0, dash);
      const r2 = part.slice(dash + 1);
      let i: number;
      let j: number;
      if (r1.length) {
        const nm = /^0*([0-9]+)$/.exec(r1);
        if (!nm || Number(nm[1]) < min || Number(nm[1]) > max) return null;
        i = Number(nm[1]) + offset;
      } else i = min + offset;
      if (r2.length) {
        const nm = /^0*([0-9]+)$/.exec(r2);
        if (!nm || Number(nm[1]) < min || Number(nm[1]) > max) return null;
        j = Number(nm[1]) + offset;
      } else j = max + offset;
      for (; i <= j; i += step ?? 1) out.add(i);
    }
  }
  return out;
}

function analyzeTimespec(f: RawField): NonNullable<Rule['cal']> {
  const parts = f.value.split(/\s+/).filter((x) => x.length);
  if (parts.length < 5 || parts.length > 6) throw new RuleErr(`invalid time specification '${f.value}'`, f.line);
  if (parts.length === 5) parts.push('*');
  const lim: [number, number, number][] = [
    [0, 59, 0],
    [0, 23, 0],
    [0, 31, 0],
    [1, 12, -1],
    [0, 7, 0],
    [0, 99, 0],
  ];
  const sets = parts.map((p, i) => {
    const s = parseTimeList(p, lim[i]![0], lim[i]![1], lim[i]![2]);
    if (!s) throw new RuleErr(`invalid time specification '${f.value}'`, f.line);
    return s;
  });
  if (sets[4]!.has(7)) sets[4]!.add(0);
  return { min: sets[0]!, hour: sets[1]!, day: sets[2]!, month: sets[3]!, wday: sets[4]!, year: sets[5]! };
}

const KEYWORDS: Record<string, Record<string, 0 | 1>> = {
  SINGLE: { type: 1, continue: 0, ptype: 1, pattern: 1, varmap: 0, context: 0, desc: 1, action: 1 },
  SINGLEWITHSCRIPT: { type: 1, continue: 0, ptype: 1, pattern: 1, varmap: 0, context: 0, script: 1, shell: 0, desc: 1, action: 1, action2: 0 },
  SINGLEWITHSUPPRESS: { type: 1, continue: 0, ptype: 1, pattern: 1, varmap: 0, context: 0, desc: 1, action: 1, window: 1 },
  PAIR: { type: 1, continue: 0, ptype: 1, pattern: 1, varmap: 0, context: 0, desc: 1, action: 1, continue2: 0, ptype2: 1, pattern2: 1, varmap2: 0, context2: 0, desc2: 1, action2: 1, window: 0 },
  PAIRWITHWINDOW: { type: 1, continue: 0, ptype: 1, pattern: 1, varmap: 0, context: 0, desc: 1, action: 1, continue2: 0, ptype2: 1, pattern2: 1, varmap2: 0, context2: 0, desc2: 1, action2: 1, window: 1 },
  SINGLEWITHTHRESHOLD: { type: 1, continue: 0, ptype: 1, pattern: 1, varmap: 0, context: 0, desc: 1, action: 1, action2: 0, window: 1, thresh: 1 },
  SINGLEWITH2THRESHOLDS: { type: 1, continue: 0, ptype: 1, pattern: 1, varmap: 0, context: 0, desc: 1, action: 1, window: 1, thresh: 1, desc2: 1, action2: 1, window2: 1, thresh2: 1 },
  SUPPRESS: { type: 1, ptype: 1, pattern: 1, varmap: 0, context: 0, desc: 0 },
  CALENDAR: { type: 1, time: 1, context: 0, desc: 1, action: 1 },
  JUMP: { type: 1, continue: 0, ptype: 1, pattern: 1, varmap: 0, context: 0, cfset: 0, constset: 0, desc: 0 },
  OPTIONS: { type: 1, joincfset: 0, procallin: 0 },
};

const TYPE_NAMES: Record<string, RuleType> = {
  SINGLE: 'Single',
  SINGLEWITHSCRIPT: 'SingleWithScript',
  SINGLEWITHSUPPRESS: 'SingleWithSuppress',
  PAIR: 'Pair',
  PAIRWITHWINDOW: 'PairWithWindow',
  SINGLEWITHTHRESHOLD: 'SingleWithThreshold',
  SINGLEWITH2THRESHOLDS: 'SingleWith2Thresholds',
  SUPPRESS: 'Suppress',
  CALENDAR: 'Calendar',
  JUMP: 'Jump',
};

function checkKeywords(fields: Map<string, RawField>, kw: Record<string, 0 | 1>, type: string, start: number): void {
  for (const [k, req] of Object.entries(kw)) if (req && !fields.has(k)) throw new RuleErr(`${type} rule: keyword '${k}' missing`, start);
  for (const [k, f] of fields) if (!(k in kw)) throw new RuleErr(`${type} rule: invalid keyword '${k}'`, f.line);
}

function posInt(f: RawField | undefined, what: string, allowZero = false): number {
  const m = f ? /^0*([0-9]+)$/.exec(f.value) : null;
  if (!m || (!allowZero && Number(m[1]) === 0)) throw new RuleErr(`invalid ${what} '${f?.value ?? ''}'`, f?.line);
  return Number(m[1]);
}

interface Compiler {
  file: string;
  opts: LoadOptions;
  ruleId: number;
  /** The line the rule starts at (native actions name their rule by it). */
  ruleLine: number;
  /** Where warnings go (messages start with "warning:"); the rule still loads. */
  errors: RuleError[];
}

function actionList(c: Compiler, f: RawField | undefined): Action[] {
  if (!f) return [];
  let list: Action[];
  try {
    list = parseActionList(f.value, { conffile: c.file, ruleId: c.ruleId, ruleLine: c.ruleLine });
  } catch (e) {
    if (e instanceof ActionError) throw new RuleErr(`invalid action list: ${e.message}`, f.line);
    throw e;
  }
  if (!c.opts.allowShell) {
    const sh = actionListUsesShell(list);
    if (sh) throw new RuleErr(`action '${sh.op}' runs a shell command; ${MIGRATE_HINT}`, f.line);
  } else {
    for (const a of shellActionsWithMatchVars(list)) {
      c.errors.push({
        file: c.file,
        line: f.line,
        message: `warning: action '${a.op}' puts match variables ($0, $1...) into a shell command line; quoting does not stop $(...), backticks or | in a log line from running. Use a native action or the *exec form ('pipeline sec migrate FILE' rewrites alerta calls)`,
      });
    }
  }
  return list;
}

function context(f: RawField | undefined, volatTokens: string[]): Pick<Cond, 'ctx' | 'ctxPre' | 'ctxVolat'> {
  if (!f) return {};
  let text = f.value;
  let pre = false;
  const m = /^\s*\[(.*)\]\s*$/s.exec(text);
  if (m) {
    text = m[1]!;
    pre = true;
  }
  try {
    const ctx = parseContextExpr(text);
    return { ctx, ctxPre: pre, ctxVolat: contextHasVars(ctx, (s) => containsMatchVars(s, volatTokens)) };
  } catch (e) {
    if (e instanceof ContextExprError) throw new RuleErr(e.message, f.line);
    throw e;
  }
}

function cond(fields: Map<string, RawField>, suffix: string, fptype?: PatType, ctxTokens: string[] = ['$']): Cond {
  const cont = analyzeContinue(fields.get('continue' + suffix));
  const pat = analyzePattern(fields.get('ptype' + suffix)!, fields.get('pattern' + suffix)!, fptype);
  const vm = fields.get('varmap' + suffix);
  if (vm) analyzeVarmap(pat, vm);
  return { pat, ...context(fields.get('context' + suffix), ctxTokens), whatNext: cont.whatNext, gotoLabel: cont.label, goto: 0 };
}

function volat(f: RawField | undefined, tokens: string[] = ['$']): boolean {
  return !!f && containsMatchVars(f.value, tokens);
}

function defaultDesc(p: Pattern): string {
  if (p.type === 'regexp' || p.type === 'substr' || p.type === 'cached') return `${p.type === 'regexp' ? 'RegExp' : p.type === 'substr' ? 'SubStr' : 'Cached'} pattern: ${p.raw}`;
  if (p.type === 'tvalue') return `TValue pattern: ${p.raw}`;
  return `${p.type === 'nregexp' ? 'NRegExp' : p.type === 'nsubstr' ? 'NSubStr' : 'NCached'} pattern: ${p.raw}`;
}

/** check_rule: returns a Rule, 'options' for an Options rule, or throws RuleErr. */
function checkRule(c: Compiler, fields: Map<string, RawField>, start: number, rf: RuleFile): Rule | 'options' {
  const typeF = fields.get('type');
  if (!typeF) throw new RuleErr("rule has no 'type' keyword", start);
  const T = typeF.value.toUpperCase();
  const base = (type: RuleType, c1: Cond): Rule => ({ type, id: c.ruleId, file: c.file, line: start, c1, desc: '', action: [], window: 0, thresh: 0, window2: 0, thresh2: 0, matchCount: 0, text: '' });

  const eg = /^EVENTGROUP(?:0*\B)?([0-9]*)$/.exec(T);
  if (eg) {
    const evtnum = eg[1]!.length ? Number(eg[1]) : 1;
    if (evtnum < 1) throw new RuleErr(`invalid rule type '${typeF.value}'`, typeF.line);
    const kw: Record<string, 0 | 1> = { type: 1, desc: 1, action: 1, multact: 0, init: 0, slide: 0, end: 0, window: 1, egptype: 0, egpattern: 0 };
    for (let i = 0; i < evtnum; i++) {
      const j = i === 0 ? '' : String(i + 1);
      Object.assign(kw, { ['continue' + j]: 0, ['ptype' + j]: 1, ['pattern' + j]: 1, ['varmap' + j]: 0, ['context' + j]: 0, ['count' + j]: 0, ['thresh' + j]: 0, ['egtoken' + j]: 0 });
    }
    checkKeywords(fields, kw, 'EventGroup', start);
    const conds: Cond[] = [];
    const threshList: number[] = [];
    const countList: Action[][] = [];
    const countVolat: boolean[] = [];
    const egTokens: string[] = [];
    for (let i = 0; i < evtnum; i++) {
      const j = i === 0 ? '' : String(i + 1);
      conds.push(cond(fields, j));
      countList.push(actionList(c, fields.get('count' + j)));
      countVolat.push(volat(fields.get('count' + j)));
      threshList.push(fields.has('thresh' + j) ? posInt(fields.get('thresh' + j), 'threshold') : 1);
      if (fields.has('egtoken' + j) && !fields.has('egpattern')) throw new RuleErr(`'egtoken${j}' keyword requires the 'egpattern' keyword`, fields.get('egtoken' + j)!.line);
      if (fields.has('egpattern')) egTokens.push(fields.get('egtoken' + j)?.value ?? String(i + 1));
    }
    const r = base('EventGroup', conds[0]!);
    r.conds = conds;
    r.threshList = threshList;
    r.countList = countList;
    r.countVolat = countVolat;
    r.desc = fields.get('desc')!.value;
    r.action = actionList(c, fields.get('action'));
    r.actVolat = volat(fields.get('action'));
    r.init = actionList(c, fields.get('init'));
    r.initVolat = volat(fields.get('init'));
    r.slide = actionList(c, fields.get('slide'));
    r.slideVolat = volat(fields.get('slide'));
    r.end = actionList(c, fields.get('end'));
    r.endVolat = volat(fields.get('end'));
    r.window = posInt(fields.get('window'), 'time window');
    const ma = fields.get('multact');
    if (ma) {
      if (ma.value.toUpperCase() === 'YES') r.multact = true;
      else if (ma.value.toUpperCase() !== 'NO') throw new RuleErr(`invalid multact value '${ma.value}'`, ma.line);
    }
    const egp = fields.get('egptype');
    const egpat = fields.get('egpattern');
    if (egp && !egpat) throw new RuleErr("'egptype' keyword requires the 'egpattern' keyword", egp.line);
    if (egpat && !egp) throw new RuleErr("'egpattern' keyword requires the 'egptype' keyword", egpat.line);
    if (egp && egpat) {
      const m = /^(n?)(regexp|substr|perlfunc)$/i.exec(egp.value);
      if (!m) throw new RuleErr(`invalid event group pattern type '${egp.value}'`, egp.line);
      if (m[2]!.toLowerCase() === 'perlfunc') throw new RuleErr(`event group pattern type '${egp.value}' runs Perl code, which this engine does not execute`, egp.line);
      if (m[2]!.toLowerCase() === 'regexp') {
        try {
          r.egPat = { type: m[1] ? 'nregexp' : 'regexp', re: new PerlRegex(egpat.value) };
        } catch (e) {
          throw new RuleErr(`invalid regular expression '${egpat.value}': ${(e as Error).message}`, egpat.line);
        }
      } else r.egPat = { type: m[1] ? 'nsubstr' : 'substr', str: substSpecChar(egpat.value) };
      r.egTokens = egTokens;
    }
    return r;
  }

  const kw = KEYWORDS[T];
  if (!kw) throw new RuleErr(`invalid rule type '${typeF.value}'`, typeF.line);
  checkKeywords(fields, kw, typeF.value, start);

  if (T === 'OPTIONS') {
    rf.jumpOnly = false;
    rf.joinCfset = [];
    const p = fields.get('procallin');
    if (p && p.value.toUpperCase() === 'NO') rf.jumpOnly = true;
    const j = fields.get('joincfset');
    if (j) rf.joinCfset = j.value.split(/\s+/).filter((x) => x.length);
    return 'options';
  }

  const type = TYPE_NAMES[T]!;
  if (T === 'CALENDAR') {
    const r = base(type, { pat: { type: 'tvalue', lines: 1, raw: 'FALSE', tv: false }, whatNext: Next.DontCont, goto: 0 });
    r.cal = analyzeTimespec(fields.get('time')!);
    const cf = fields.get('context');
    if (cf) {
      const m = /^\s*\[(.*)\]\s*$/s.exec(cf.value);
      Object.assign(r.c1, context(m ? { value: m[1]!, line: cf.line } : cf, ['$']));
      r.c1.ctxPre = false;
    }
    r.desc = fields.get('desc')!.value;
    r.action = actionList(c, fields.get('action'));
    return r;
  }

  const c1 = cond(fields, '');
  const r = base(type, c1);
  if (T === 'SUPPRESS' || T === 'JUMP') {
    r.desc = fields.get('desc')?.value ?? defaultDesc(c1.pat);
    if (T === 'JUMP') {
      const cs = fields.get('cfset');
      if (cs) r.cfset = cs.value.split(/\s+/).filter((x) => x.length);
      const k = fields.get('constset');
      if (k) {
        if (k.value.toUpperCase() === 'YES') r.constset = true;
        else if (k.value.toUpperCase() !== 'NO') throw new RuleErr(`invalid constset value '${k.value}'`, k.line);
      } else r.constset = true;
    }
    return r;
  }
  r.desc = fields.get('desc')!.value;

  if (T === 'SINGLEWITHSCRIPT') {
    if (!c.opts.allowShell) throw new RuleErr(`SingleWithScript runs a shell command; ${MIGRATE_HINT}`, typeF.line);
    const sh = fields.get('shell');
    if (sh && sh.value.toUpperCase() !== 'YES' && sh.value.toUpperCase() !== 'NO') throw new RuleErr(`invalid shell value '${sh.value}'`, sh.line);
    r.script = fields.get('script')!.value;
    r.action = actionList(c, fields.get('action'));
    r.actVolat = volat(fields.get('action'));
    r.action2 = actionList(c, fields.get('action2'));
    r.actVolat2 = volat(fields.get('action2'));
    return r;
  }

  r.action = actionList(c, fields.get('action'));
  r.actVolat = volat(fields.get('action'));
  switch (T) {
    case 'SINGLE':
      return r;
    case 'SINGLEWITHSUPPRESS':
      r.window = posInt(fields.get('window'), 'time window');
      return r;
    case 'PAIR':
    case 'PAIRWITHWINDOW': {
      r.c2 = cond(fields, '2', c1.pat.type, ['$', '%']);
      r.desc2 = fields.get('desc2')!.value;
      r.action2 = actionList(c, fields.get('action2'));
      r.actVolat2 = volat(fields.get('action2'), ['$', '%']);
      if (T === 'PAIR') r.window = fields.has('window') ? posInt(fields.get('window'), 'time window', true) : 0;
      else r.window = posInt(fields.get('window'), 'time window');
      r.ops = new Map();
      return r;
    }
    case 'SINGLEWITHTHRESHOLD':
      r.action2 = actionList(c, fields.get('action2'));
      r.actVolat2 = volat(fields.get('action2'));
      r.window = posInt(fields.get('window'), 'time window');
      r.thresh = posInt(fields.get('thresh'), 'threshold');
      return r;
    case 'SINGLEWITH2THRESHOLDS':
      r.desc2 = fields.get('desc2')!.value;
      r.action2 = actionList(c, fields.get('action2'));
      r.actVolat2 = volat(fields.get('action2'));
      r.window = posInt(fields.get('window'), '1st time window');
      r.window2 = posInt(fields.get('window2'), '2nd time window');
      r.thresh = posInt(fields.get('thresh'), '1st threshold');
      r.thresh2 = posInt(fields.get('thresh2'), '2nd threshold', true);
      return r;
  }
  throw new RuleErr(`invalid rule type '${typeF.value}'`, typeF.line);
}

function resolveLabels(rf: RuleFile, labels: { name: string; index: number }[], errors: RuleError[]): void {
  const n = rf.rules.length;
  const map = new Map<string, number>();
  for (const l of labels) map.set(l.name, l.index);
  const resolve = (r: Rule, c: Cond, i: number, k: string) => {
    if (r.type === 'Suppress') c.goto = n;
    else if (c.whatNext === Next.GoTo) {
      const id = map.get(c.gotoLabel!);
      if (id === undefined || id <= i) {
        // sec warns and falls back to DontCont
        errors.push({ file: rf.file, line: r.line, message: `warning: ${id === undefined ? `label ${c.gotoLabel} does not exist` : `can't go backwards to label ${c.gotoLabel}`}, assuming continue${k}=DontCont` });
        c.whatNext = Next.DontCont;
        c.goto = n;
      } else c.goto = id;
    } else if (c.whatNext === Next.TakeNext) c.goto = i + 1;
    else if (c.whatNext === Next.DontCont) c.goto = n;
    else c.goto = -1;
  };
  rf.rules.forEach((r, i) => {
    if (r.conds) r.conds.forEach((c, j) => resolve(r, c, i, j === 0 ? '' : String(j + 1)));
    else {
      resolve(r, r.c1, i, '');
      if (r.c2) resolve(r, r.c2, i, '2');
    }
  });
}

/** Parses the text of one rule file. Warnings come back as errors whose message starts with "warning:". */
export function compileRuleFile(text: string, file: string, opts: LoadOptions, errors: RuleError[]): RuleFile {
  const rf: RuleFile = { file, rules: [], joinCfset: [], jumpOnly: false };
  const { rules, labels } = readRawRules(toBytes(text), file, errors);
  // label indexes count valid rules only, like sec's $i
  const labelAt: { name: string; index: number }[] = [];
  let li = 0;
  const c: Compiler = { file, opts, ruleId: 0, ruleLine: 0, errors };
  rules.forEach((raw, idx) => {
    while (li < labels.length && labels[li]!.index <= idx) labelAt.push({ name: labels[li]!.name, index: rf.rules.length }), li++;
    c.ruleId = rf.rules.length;
    c.ruleLine = raw.start;
    try {
      const r = checkRule(c, raw.fields, raw.start, rf);
      if (r !== 'options') {
        r.text = normalisedText(raw.fields);
        rf.rules.push(r);
      }
    } catch (e) {
      if (e instanceof RuleErr) errors.push({ file, line: e.line ?? raw.start, message: e.message });
      else if (e instanceof PerlRegexError || e instanceof ActionError || e instanceof ContextExprError) errors.push({ file, line: raw.start, message: e.message });
      else throw e;
    }
  });
  while (li < labels.length) labelAt.push({ name: labels[li]!.name, index: rf.rules.length }), li++;
  resolveLabels(rf, labelAt, errors);
  return rf;
}

/** A rule's fields as one text that does not depend on their order, their line or the comments between them. */
function normalisedText(fields: Map<string, RawField>): string {
  return [...fields.keys()]
    .sort()
    .map((k) => k + '=' + fields.get(k)!.value)
    .join('\n');
}

export function readRuleFile(path: string, opts: LoadOptions, errors: RuleError[]): RuleFile | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    errors.push({ file: path, line: 0, message: `can't open rule file: ${(e as Error).message}` });
    return undefined;
  }
  return compileRuleFile(text, path, opts, errors);
}

export function isWarning(e: RuleError): boolean {
  return e.message.startsWith('warning:');
}
