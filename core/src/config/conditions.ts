import type { Expr, RValue } from './ast.js';
import { ConfigError } from './errors.js';
import { fieldRef } from '../event/field-ref.js';
import type { Event } from '../event/event.js';
import { enableRegexFallback, needsWatchdog, RegexWatchdog } from '../regex/bounded.js';

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
      const key = ref.path[0]!;
      return (e) => ref.get(e.fieldsFor(key));
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

// ---- bounded regexes (issue 13): no `=~` can freeze the pipeline thread (see core/src/regex/bounded.ts) ----

const dynamicRegexes = new Map<string, (s: string) => boolean>();
const watchdog = new RegexWatchdog('the regex');

/** How many `=~`/`!~` evaluations ran out of time since start (each counted as no match, so `!~` is true). */
export function regexRunaways(): number {
  return watchdog.runaways;
}

/** Compiles a condition regex with the protections of bounded.ts. Throws on a syntax error. */
export function boundedRegex(source: string): (s: string) => boolean {
  enableRegexFallback();
  const re = new RegExp(source);
  if (!needsWatchdog(source)) return (s) => re.test(s);
  return (s) => watchdog.exec(re, source, s) !== null;
}
