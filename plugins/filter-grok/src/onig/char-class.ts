/**
 * Character classes, Oniguruma (Ruby syntax) → JavaScript (`u` flag).
 *
 * Ruby classes can nest (`[a[b-c]]` is a union), intersect (`[a-z&&[^aeiou]]`) and hold POSIX
 * brackets (`[[:alnum:]]`, Unicode under Ruby syntax). A JS `u`-mode class can do none of that, so a
 * class is compiled to a *one-character matcher*: a plain `[...]` when it is a flat set, otherwise a
 * group built from alternation and lookahead that matches exactly one code point of the same set.
 */

/** Thrown for constructs that have no faithful JavaScript equivalent. */
export class UntranslatableError extends Error {}

/** The Unicode "word" set as Oniguruma defines it (Alphabetic, marks, decimal digits, connectors). */
export const UNICODE_WORD = '\\p{Alphabetic}\\p{M}\\p{Nd}\\p{Pc}';

/**
 * POSIX bracket names → class body fragments (Unicode meaning, as Ruby's POSIX_BRACKET_ALL_RANGE gives).
 * `neg: true` means the body describes the complement (the POSIX set is "everything but these").
 */
const POSIX: Record<string, { body: string; neg?: boolean }> = {
  alnum: { body: '\\p{Alphabetic}\\p{Nd}' },
  alpha: { body: '\\p{Alphabetic}' },
  ascii: { body: '\\0-\\x7f' },
  blank: { body: '\\t\\p{Zs}' },
  cntrl: { body: '\\p{Cc}' },
  digit: { body: '\\p{Nd}' },
  graph: { body: '\\p{White_Space}\\p{Cc}\\p{Cs}\\p{Cn}', neg: true },
  lower: { body: '\\p{Lowercase}' },
  print: { body: '\\p{Zl}\\p{Zp}\\t\\n\\v\\f\\r\\x85\\p{Cc}\\p{Cs}\\p{Cn}', neg: true },
  punct: { body: '\\p{P}$+<=>^`|~' },
  space: { body: '\\p{White_Space}' },
  upper: { body: '\\p{Uppercase}' },
  xdigit: { body: '0-9A-Fa-f' },
  word: { body: UNICODE_WORD },
};

/** A one-character matcher under construction: a flat JS class body plus parts that need a group. */
interface SetParts {
  body: string;
  /** Whole one-character JS expressions to union with `body` (complements, intersections). */
  extra: string[];
}

export interface ClassResult {
  /** A JS expression that matches exactly one character of the set. */
  expr: string;
}

const JS_CLASS_SPECIAL = new Set(['\\', ']', '[', '^', '-']);

function escClassChar(ch: string): string {
  if (JS_CLASS_SPECIAL.has(ch)) return '\\' + ch;
  const cp = ch.codePointAt(0)!;
  if (cp < 0x20 || cp === 0x7f) return '\\x' + cp.toString(16).padStart(2, '0');
  return ch;
}

function hex(cp: number): string {
  return cp <= 0xff ? '\\x' + cp.toString(16).padStart(2, '0') : '\\u{' + cp.toString(16) + '}';
}

/** The other-case forms of a code point (simple case mapping), for `(?i)` scopes. */
function caseVariants(cp: number): number[] {
  const ch = String.fromCodePoint(cp);
  const out = new Set<number>();
  for (const v of [ch.toLowerCase(), ch.toUpperCase()]) if ([...v].length === 1) out.add(v.codePointAt(0)!);
  out.delete(cp);
  return [...out];
}

/** Adds the other-case ranges of an ASCII-letter range (non-ASCII singles are handled per char). */
function caseFoldRange(lo: number, hi: number): string {
  let extra = '';
  const span = (a: number, b: number, delta: number) => {
    const l = Math.max(lo, a);
    const h = Math.min(hi, b);
    if (l <= h) extra += hex(l + delta) + (h > l ? '-' + hex(h + delta) : '');
  };
  span(0x41, 0x5a, 0x20);
  span(0x61, 0x7a, -0x20);
  if (hi - lo < 512) {
    for (let c = Math.max(lo, 0x80); c <= hi; c++) for (const v of caseVariants(c)) extra += hex(v);
  }
  return extra;
}

/** Combines flat body and extras into one single-character expression. */
function toExpr(p: SetParts, negated: boolean): string {
  if (p.extra.length === 0) return `[${negated ? '^' : ''}${p.body}]`;
  const alts = [...(p.body ? [`[${p.body}]`] : []), ...p.extra];
  const union = alts.length === 1 ? alts[0]! : `(?:${alts.join('|')})`;
  return negated ? `(?:(?!${union})[\\s\\S])` : union;
}

export interface ClassScanner {
  src: string;
  pos: number;
  ignoreCase: boolean;
  patternName: string;
}

/** Reads one escape inside a class (after the backslash); returns body text or an extra expression. */
function classEscape(s: ClassScanner): { body?: string; extra?: string; cp?: number } {
  const c = s.src[s.pos++];
  if (c === undefined) throw new UntranslatableError(`trailing backslash in a character class`);
  switch (c) {
    case 'w':
      return { body: '\\w' };
    case 'W':
      return { body: '\\W' };
    case 'd':
      return { body: '\\d' };
    case 'D':
      return { body: '\\D' };
    case 's':
      return { body: '\\t\\n\\v\\f\\r ' };
    case 'S':
      return { extra: '[^\\t\\n\\v\\f\\r ]' };
    case 'h':
      return { body: '0-9A-Fa-f' };
    case 'H':
      return { extra: '[^0-9A-Fa-f]' };
    case 'p':
    case 'P':
      return { body: propertyEscape(s, c === 'P') };
    case 't':
      return { cp: 9 };
    case 'n':
      return { cp: 10 };
    case 'r':
      return { cp: 13 };
    case 'f':
      return { cp: 12 };
    case 'v':
      return { cp: 11 };
    case 'a':
      return { cp: 7 };
    case 'e':
      return { cp: 27 };
    case 'b':
      return { cp: 8 };
    default: {
      const cp = numericEscape(s, c);
      if (cp !== undefined) return { cp };
      return { cp: c.codePointAt(0)! };
    }
  }
}

/** `\xHH`, `\x{H..}`, `\uHHHH`, octal `\0oo`/`\ooo`, `\cX`. Returns undefined when `c` is none of them. */
export function numericEscape(s: { src: string; pos: number }, c: string): number | undefined {
  if (c === 'x') {
    if (s.src[s.pos] === '{') {
      const end = s.src.indexOf('}', s.pos);
      const v = parseInt(s.src.slice(s.pos + 1, end), 16);
      s.pos = end + 1;
      return v;
    }
    const m = /^[0-9a-fA-F]{1,2}/.exec(s.src.slice(s.pos));
    if (!m) return 0;
    s.pos += m[0].length;
    return parseInt(m[0], 16);
  }
  if (c === 'u') {
    const m = /^[0-9a-fA-F]{4}/.exec(s.src.slice(s.pos));
    if (m) {
      s.pos += 4;
      return parseInt(m[0], 16);
    }
    return undefined;
  }
  if (c >= '0' && c <= '7') {
    const m = /^[0-7]{0,2}/.exec(s.src.slice(s.pos))!;
    s.pos += m[0].length;
    return parseInt(c + m[0], 8);
  }
  if (c === 'c') {
    const x = s.src[s.pos++]!;
    return x.charCodeAt(0) & 0x1f;
  }
  return undefined;
}

/** Ruby property names that JS spells differently. */
const PROPERTY_ALIASES: Record<string, string> = {
  alpha: 'Alphabetic',
  alnum: '',
  digit: 'Nd',
  upper: 'Uppercase',
  lower: 'Lowercase',
  space: 'White_Space',
  punct: 'P',
  cntrl: 'Cc',
  any: 'Any',
};

/** `\p{Name}`, `\p{^Name}`, `\P{Name}` → a JS class-body fragment. */
export function propertyEscape(s: { src: string; pos: number }, negated: boolean): string {
  if (s.src[s.pos] !== '{') throw new UntranslatableError(`\\p without {...}`);
  const end = s.src.indexOf('}', s.pos);
  let name = s.src.slice(s.pos + 1, end);
  s.pos = end + 1;
  if (name.startsWith('^')) {
    negated = !negated;
    name = name.slice(1);
  }
  const alias = PROPERTY_ALIASES[name.toLowerCase()];
  if (alias === '') throw new UntranslatableError(`\\p{${name}} (use [[:alnum:]])`);
  const js = alias ?? name;
  try {
    new RegExp(`\\p{${js}}`, 'u');
  } catch {
    throw new UntranslatableError(`unknown Unicode property \\p{${name}}`);
  }
  return `\\${negated ? 'P' : 'p'}{${js}}`;
}

/**
 * Parses a class starting at `s.pos` (just after its `[`) through its closing `]`.
 * Returns a single-character matcher expression.
 */
export function parseClass(s: ClassScanner): ClassResult {
  let negated = false;
  if (s.src[s.pos] === '^') {
    negated = true;
    s.pos++;
  }
  const parts: SetParts = { body: '', extra: [] };
  let first = true;
  // last single code point added, for ranges `a-z`
  let prevCp: number | undefined;
  const addCp = (cp: number) => {
    parts.body += cp < 0x20 || cp === 0x7f ? hex(cp) : escClassChar(String.fromCodePoint(cp));
    if (s.ignoreCase) for (const v of caseVariants(cp)) parts.body += hex(v);
  };
  for (;;) {
    if (s.pos >= s.src.length) throw new UntranslatableError(`unterminated character class`);
    const c = s.src[s.pos]!;
    if (c === ']' && !first) {
      s.pos++;
      break;
    }
    first = false;
    if (c === '[' && s.src[s.pos + 1] === ':') {
      const m = /^\[:(\^?)([a-z]+):\]/.exec(s.src.slice(s.pos));
      if (m) {
        s.pos += m[0].length;
        const p = POSIX[m[2]!];
        if (!p) throw new UntranslatableError(`unknown POSIX bracket [:${m[2]}:]`);
        const neg = (m[1] === '^') !== (p.neg === true);
        if (neg) parts.extra.push(`[^${p.body}]`);
        else parts.body += p.body;
        prevCp = undefined;
        continue;
      }
    }
    if (c === '[') {
      s.pos++;
      parts.extra.push(parseClass(s).expr);
      prevCp = undefined;
      continue;
    }
    if (c === '&' && s.src[s.pos + 1] === '&') {
      s.pos += 2;
      // intersection: everything so far && the rest of this class
      const left = toExpr(parts, false);
      const restScanner: ClassScanner = { ...s };
      const right = parseClassRest(restScanner);
      s.pos = restScanner.pos;
      const inter = `(?:(?=${left})${right})`;
      return { expr: negated ? `(?:(?!${inter})[\\s\\S])` : inter };
    }
    // a range `x-y`
    if (c === '-' && prevCp !== undefined && s.src[s.pos + 1] !== ']' && s.src[s.pos + 1] !== undefined) {
      s.pos++;
      let hiCp: number;
      const d = s.src[s.pos]!;
      if (d === '\\') {
        s.pos++;
        const e = classEscape(s);
        if (e.cp === undefined) throw new UntranslatableError(`range ending in a class escape`);
        hiCp = e.cp;
      } else {
        hiCp = s.src.codePointAt(s.pos)!;
        s.pos += hiCp > 0xffff ? 2 : 1;
      }
      if (hiCp < prevCp) throw new UntranslatableError(`empty range in character class`);
      parts.body += '-' + hex(hiCp);
      if (s.ignoreCase) parts.body += caseFoldRange(prevCp, hiCp);
      prevCp = undefined;
      continue;
    }
    if (c === '\\') {
      s.pos++;
      const e = classEscape(s);
      if (e.cp !== undefined) {
        addCp(e.cp);
        prevCp = e.cp;
      } else {
        if (e.body) parts.body += e.body;
        if (e.extra) parts.extra.push(e.extra);
        prevCp = undefined;
      }
      continue;
    }
    const cp = s.src.codePointAt(s.pos)!;
    s.pos += cp > 0xffff ? 2 : 1;
    addCp(cp);
    prevCp = cp;
  }
  return { expr: toExpr(parts, negated) };
}

/** After `&&`: the rest of the class up to (and including) its `]`, as a non-negated class. */
function parseClassRest(s: ClassScanner): string {
  // Re-use parseClass by pretending the rest is a class of its own (it ends at the same `]`).
  return parseClass(s).expr;
}
