import type { Expr, RValue } from './ast.js';
import { ConfigError } from './errors.js';
import { fieldRef } from '../event/field-ref.js';
import type { Event } from '../event/event.js';
import { setFlagsFromString } from 'node:v8';
import { Script, createContext, type Context } from 'node:vm';

/**
 * Compiles a condition into a closure over events, once at load. Semantics follow Logstash's
 * Java execution: a field is truthy when present and neither null nor false; `==` compares numbers
 * numerically and never equals a number to a string; ordering operators need two numbers or two
 * strings (otherwise false); `in` searches arrays by equality, strings by substring, hashes by key;
 * `=~` needs a string on the left. A missing field makes any comparison false.
 */
export type Predicate = (event: Event) => boolean;
type Getter = (event: Event) => unknown;

export function compileCondition(expr: Expr): Predicate {
  switch (expr.type) {
    case 'bool': {
      const l = compileCondition(expr.left);
      const r = compileCondition(expr.right);
      switch (expr.op) {
        case 'and':
          return (e) => l(e) && r(e);
        case 'or':
          return (e) => l(e) || r(e);
        case 'xor':
          return (e) => l(e) !== r(e);
        case 'nand':
          return (e) => !(l(e) && r(e));
      }
    }
    // falls through (unreachable: every op returns)
    case 'not': {
      const inner = compileCondition(expr.expr);
      return (e) => !inner(e);
    }
    case 'truthy': {
      const get = getter(expr.value);
      return (e) => isTruthy(get(e));
    }
    case 'compare': {
      const l = getter(expr.left);
      const r = getter(expr.right);
      switch (expr.op) {
        case '==':
          return (e) => valuesEqual(l(e), r(e));
        case '!=':
          return (e) => !valuesEqual(l(e), r(e));
        // compareOrdered gives NaN for values that have no order, and every test on NaN is false
        case '<':
          return (e) => compareOrdered(l(e), r(e)) < 0;
        case '>':
          return (e) => compareOrdered(l(e), r(e)) > 0;
        case '<=':
          return (e) => compareOrdered(l(e), r(e)) <= 0;
        case '>=':
          return (e) => compareOrdered(l(e), r(e)) >= 0;
      }
    }
    // falls through (unreachable)
    case 'regex': {
      const l = getter(expr.left);
      const match = regexMatcher(expr.right);
      return expr.negate ? (e) => !match(l(e), e) : (e) => match(l(e), e);
    }
    case 'in': {
      const l = getter(expr.left);
      const r = getter(expr.right);
      return expr.negate ? (e) => !contains(r(e), l(e)) : (e) => contains(r(e), l(e));
    }
  }
}

function getter(v: RValue): Getter {
  switch (v.type) {
    case 'field': {
      const ref = fieldRef(v.ref);
      return (e) => ref.get(e.fields);
    }
    case 'string':
    case 'number': {
      const c = v.value;
      return () => c;
    }
    case 'regexp': {
      const c = v.source;
      return () => c;
    }
    case 'array': {
      const items = v.items.map(getter);
      if (v.items.every((i) => i.type !== 'field')) {
        const c = items.map((g) => g(undefined as never));
        return () => c;
      }
      return (e) => items.map((g) => g(e));
    }
  }
}

export function isTruthy(v: unknown): boolean {
  return v !== undefined && v !== null && v !== false;
}

function valuesEqual(a: unknown, b: unknown): boolean {
  if (a === undefined || a === null) return b === undefined || b === null;
  if (typeof a === 'number' && typeof b === 'number') return a === b;
  if (typeof a !== typeof b) return false;
  if (typeof a !== 'object') return a === b;
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((x, i) => valuesEqual(x, b[i]));
  if (Array.isArray(b) || b === null) return false;
  if (typeof (a as { toJSON?: unknown }).toJSON === 'function') return JSON.stringify(a) === JSON.stringify(b);
  const ka = Object.keys(a as object);
  const kb = Object.keys(b as object);
  return ka.length === kb.length && ka.every((k) => valuesEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

/** -1, 0 or 1 for two numbers or two strings; NaN otherwise (Logstash: such a comparison is false). */
function compareOrdered(a: unknown, b: unknown): number {
  if ((typeof a === 'number' && typeof b === 'number') || (typeof a === 'string' && typeof b === 'string')) return a < b ? -1 : a > b ? 1 : a === b ? 0 : NaN;
  return NaN;
}

function contains(haystack: unknown, needle: unknown): boolean {
  if (needle === undefined || needle === null) return false;
  if (Array.isArray(haystack)) {
    // a loop, not some(): `"x" in [tags]` runs for most events of most configs
    for (let i = 0; i < haystack.length; i++) if (valuesEqual(haystack[i], needle)) return true;
    return false;
  }
  if (typeof haystack === 'string') return typeof needle === 'string' && haystack.includes(needle);
  if (typeof haystack === 'object' && haystack !== null) return typeof needle === 'string' && Object.prototype.hasOwnProperty.call(haystack, needle);
  return false;
}

function regexMatcher(right: RValue): (left: unknown, e: Event) => boolean {
  if (right.type === 'regexp' || right.type === 'string') {
    let test: (s: string) => boolean;
    try {
      test = boundedRegex(right.type === 'regexp' ? right.source : right.value);
    } catch (err) {
      // V8's message already names the pattern: `Invalid regular expression: /x(/: Unterminated group`
      throw new ConfigError(`invalid regular expression${(err as Error).message.replace(/^Invalid regular expression/, '')}`, right.loc, 'conditions use JavaScript regular expressions; escape a literal ( [ { with a backslash');
    }
    return (left) => typeof left === 'string' && test(left);
  }
  const get = getter(right);
  return (left, e) => {
    const pattern = get(e);
    if (typeof left !== 'string' || typeof pattern !== 'string') return false;
    let test = dynamicRegexes.get(pattern);
    if (test === undefined) {
      try {
        test = boundedRegex(pattern);
      } catch {
        test = () => false;
      }
      if (dynamicRegexes.size >= 256) dynamicRegexes.clear();
      dynamicRegexes.set(pattern, test);
    }
    return test(left);
  };
}

// ---- bounded regexes (issue 13): no `=~` can freeze the pipeline thread ----
//
// 1. V8's own limit: with --enable-experimental-regexp-engine-on-excessive-backtracks a regex that
//    its linear-time engine accepts (no lookarounds, backreferences or counted repetitions above 16)
//    is re-run on that engine once it has backtracked 50,000 times: same result, linear time.
// 2. A regex without a repeated group (`(…)*`, `(…)+`, `(…){n,m}`; an optional `(…)?` is fine)
//    and without backreferences cannot backtrack exponentially (the cost stays a low power of
//    the text's length): it runs as is.
// 3. Anything else runs under V8's watchdog (`vm` with a timeout, which interrupts a running
//    regex): past RUNAWAY_MS it counts as no match (so `!~` is true), with a warning and a count
//    in regexRunaways(). After a runaway that regex is skipped (no match) until the event loop
//    turns, so a batch of hostile lines costs RUNAWAY_MS once, not once per line, and SIGTERM
//    and the API are served within a fraction of a second.

/** How long a guarded regex may run on one value. */
export const RUNAWAY_MS = 250;
const V8_REGEX_FLAGS = ['--enable-experimental-regexp-engine', '--enable-experimental-regexp-engine-on-excessive-backtracks'];
let flagsSet = false;
const dynamicRegexes = new Map<string, (s: string) => boolean>();
const runaway = { count: 0, lastWarned: 0 };
/** Regexes that ran away since the event loop last turned. */
const skipping = new Set<string>();
let guardScript: Script | undefined;
let guardContext: Context | undefined;
let guardJob: () => boolean = () => false;

/** How many `=~`/`!~` evaluations ran out of time since start (each counted as no match). */
export function regexRunaways(): number {
  return runaway.count;
}

/** Compiles a condition regex with the protections above. Throws on a syntax error. */
export function boundedRegex(source: string): (s: string) => boolean {
  if (!flagsSet) {
    flagsSet = true;
    for (const f of V8_REGEX_FLAGS) setFlagsFromString(f);
  }
  const re = new RegExp(source);
  if (linearCapable(source) || noQuantifiedGroups(source)) return (s) => re.test(s);
  if (guardScript === undefined) {
    guardContext = createContext({ job: () => guardJob() });
    guardScript = new Script('job()');
  }
  const run = (): boolean => re.test(guardInput);
  return (s) => {
    if (skipping.has(source)) return false;
    guardInput = s;
    guardJob = run;
    try {
      return guardScript!.runInContext(guardContext!, { timeout: RUNAWAY_MS }) as boolean;
    } catch (err) {
      if ((err as { code?: string }).code !== 'ERR_SCRIPT_EXECUTION_TIMEOUT') throw err;
      runaway.count++;
      // every condition with this regex (`=~` and `!~` alike) skips it until the loop turns
      if (skipping.size === 0) setImmediate(() => skipping.clear()).unref();
      skipping.add(source);
      const now = Date.now();
      if (now - runaway.lastWarned > 10_000) {
        runaway.lastWarned = now;
        process.emitWarning(`the regex /${source}/ ran longer than ${RUNAWAY_MS} ms on a ${s.length}-character value: counted as no match (${runaway.count} so far)`, { code: 'PIPELINE_REGEX_RUNAWAY' });
      }
      return false;
    } finally {
      guardInput = '';
    }
  };
}

let guardInput = '';

function linearCapable(source: string): boolean {
  try {
    new RegExp(source, 'l');
  } catch {
    return false;
  }
  return true;
}

/** No `(...)` followed by `*`, `+` or `{`, no backreference (a conservative syntactic scan). */
function noQuantifiedGroups(source: string): boolean {
  let inClass = false;
  for (let i = 0; i < source.length; i++) {
    const c = source[i];
    if (c === '\\') {
      const n = source[i + 1] ?? '';
      if (!inClass && (/[1-9]/.test(n) || n === 'k')) return false;
      i++;
      continue;
    }
    if (inClass) {
      if (c === ']') inClass = false;
      continue;
    }
    if (c === '[') inClass = true;
    else if (c === ')' && /[*+{]/.test(source[i + 1] ?? '')) return false;
  }
  return true;
}
