/**
 * Substitution, both kinds SEC has:
 * - match variables into rule text when a rule matches (subst_string: `$1`, `${1}`, `$+{name}`,
 *   `$:{entry:name}`, `$$`; the same with `%` for the second half of a Pair), into descriptions,
 *   action lists (subst_actionlist), regexps (subst_regexp, values quotemeta'd);
 * - action-list variables when an action runs (substitute_actionlist_var: `%s`, `%u`, `%t`, the
 *   time and character variables, `%name`, `%{name}`, `%%`).
 * Templates are split once into literal text and variable references, so substitution is string
 * concatenation.
 */
import { substArgs, matchVarRe, type Action } from './actions.js';
import { quotemeta } from './perl-regex.js';
import { perlCtime, setCharVars, setTimeVars } from './timevars.js';

/** Match variables of one match: '0', '1', ..., named captures, _inputsrc, _intcontext. */
export type Vars = Record<string, string | undefined>;

/** The match variables of a pattern type that sets none (SubStr, TValue, ...), shared. */
export const EMPTY: Vars = Object.freeze(Object.create(null));

/** Did the match set variables? (only the shared EMPTY object has none) */
export function hasKeys(v: Vars): boolean {
  return v !== EMPTY;
}

/** A copy of `v` with every defined value passed through `f`. */
export function mapValues(v: Vars, f: (s: string) => string): Vars {
  const out: Vars = Object.create(null);
  for (const k in v) out[k] = v[k] === undefined ? undefined : f(v[k]!);
  return out;
}

/**
 * Part kinds: string = literal, [key] = match variable, [entry, name] = $:{entry:name}.
 * Keyed by the template string itself: V8 caches a string's hash, so rule text hashes once.
 */
type Part = string | [string] | [string, string];
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

/** SEC's subst_string: $1, ${1}, $+{name}, $:{entry:name} (from the pattern match cache), $$ (or with %). */
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

/** `s` with the $-variables of a match, or `s` itself when the match set none. */
export function withVars(s: string, v: Vars, cache: Map<string, Vars>): string {
  return v === EMPTY ? s : substString(s, v, '$', cache);
}

/** SEC's subst_regexp: the values are quotemeta'd, so they match as literal text. */
export function substRegexp(raw: string, v: Vars, cache: Map<string, Vars>): string {
  return substString(raw, mapValues(v, quotemeta), '$', cache);
}

/** Copy of an action list with match variables substituted (values' % masked as %%). */
export function substActions(list: Action[], v: Vars, token: '$' | '%', cache: Map<string, Vars>): Action[] {
  let masked: Vars = v;
  for (const k in v) {
    if (v[k] !== undefined && v[k]!.indexOf('%') >= 0) {
      masked = mapValues(v, (s) => s.replace(/%/g, '%%'));
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

/** An action list of a rule as the match leaves it: substituted when the list has variables (`volat`) and the match set some. */
export function volatile(list: Action[], volat: boolean | undefined, v: Vars, cache: Map<string, Vars>): Action[] {
  return volat && v !== EMPTY ? substActions(list, v, '$', cache) : list;
}

const ACTION_VAR = /%(?:(\.?[A-Za-z]\w*|%)|\{(\.?[A-Za-z]\w*)\})/g;

/**
 * Action-list variables (SEC's %var table): set by assign, pop, copy, ...; the built-ins %u
 * (time), %t (ctime), %s (the operation's description), the time variables (%.hmsstr, ...)
 * recomputed when the second changes, and the character variables (%.nl, %.chr0, ...).
 */
export class ActionVars extends Map<string, string | undefined> {
  private timeSet = -1;

  constructor(private readonly now: () => number) {
    super();
    setCharVars(this);
  }

  /** The time variables for `time` (computed once per second of time). */
  setTime(time: number): void {
    if (time === this.timeSet) return;
    setTimeVars(this, time);
    this.timeSet = time;
  }

  /** `s` with its %-variables replaced, `desc` as %s (an unset variable gives ''). */
  expand(s: string, desc: string): string {
    if (s.indexOf('%') < 0) return s;
    const time = this.now();
    this.setTime(time);
    this.set('u', String(time));
    this.set('t', perlCtime(time));
    this.set('s', desc);
    return s.replace(ACTION_VAR, (_m, a: string | undefined, b: string | undefined) => this.get((a ?? b)!) ?? '');
  }
}
