/**
 * Perl regular expressions, as SEC compiles them with qr// (at run time, from the rule file's
 * text), translated to JavaScript.
 *
 * Strings inside the engine are "byte strings" (one char per byte, see bytes.ts), matched byte by
 * byte under Perl's /d rules (\w, \d, \s, POSIX classes and /i are ASCII-only). Constructs whose
 * meaning differs are rewritten explicitly rather than relying on JS flags:
 *   `.` -> [^\n] (Perl's dot matches \r; JS's does not)   `$` -> end or before a final \n
 *   \A \z \Z \h \H \v \V \R \N \N{U+..} \e \a \x{..} \o{..} \cX \K, (?#...), (?P=name)
 *   bracketed classes: computed as byte sets by Perl's rules and written out as explicit JS
 *   classes (leading `]`, `[^]]`, false ranges, escaped range ends, every POSIX class, negated ones)
 *   quantifiers {,n} and blanks inside braces (Perl 5.34+); {n,m} with n > m never matches
 *   inline modifiers (?imsx) (?xx) and (?imsx-imsx:...) — scoped, emulated per character; a
 *   leading (?i) becomes JS's i flag unless JS would fold differently (it folds the Latin-1
 *   letters \xc0-\xfe, Perl does not on bytes; or i is turned off later), then it is emulated
 *   atomic groups (?>..) and possessive quantifiers (*+ ++ ?+ {n,m}+) -> (?=(..))\k
 * \Q \E \U \L \u \l \F are plain letters: they are string-interpolation escapes, which a
 * pattern compiled at run time never goes through. Refused with an error: code points above \xff
 * (Perl would switch to Unicode rules), \N{NAME}, \p{..}, \X, \G, \b{..}, recursion, (?|..),
 * conditionals, code blocks and verbs.
 * The emulations add capture groups, so `groupMap` gives the JS group index of each Perl group.
 */

import { enableRegexFallback, needsWatchdog, RegexWatchdog } from '@pipeline/core';

export class PerlRegexError extends Error {}

export interface TranslatedRegex {
  source: string;
  flags: string;
  /** groupMap[perlIndex] = JS group index (index 0 unused). */
  groupMap: number[];
  /** True when groupMap is the identity (no emulation groups), so match arrays can be used as is. */
  identity: boolean;
  perlGroups: number;
  /**
   * The longest literal (two bytes or more) that every match contains, from the top level of the
   * pattern (no alternation there, case-sensitive part only), so `indexOf` can reject most lines
   * before the regex runs; undefined when there is none or the whole pattern is case-insensitive.
   */
  literal: string | undefined;
}

interface Flags {
  i: boolean;
  s: boolean;
  m: boolean;
  /** 0: off, 1: /x, 2: /xx (also ignores spaces and tabs inside bracketed classes). */
  x: 0 | 1 | 2;
}

// ---- byte sets: every bracketed class is computed as a set of the 256 byte values ----
//
// Perl reads a class by its own rules (a leading `]` is literal, `[:name:]`, escapes and ranges
// with escaped ends, false ranges such as `[\w-z]`), case-folds it under /i, complements it for
// `^`, and the result is written out as an explicit JS class of hex escapes: no Perl class text
// reaches the JS parser, so `[^]`, `[]` and a `[` inside a class (special for the v flag) cannot
// arise. SEC matches byte strings with Perl's /d rules, under which \w, \s, \d, POSIX classes and
// case folding are ASCII-only; a pattern with a code point above \xff would switch Perl to
// Unicode rules for the whole pattern, and is refused.

type ByteSet = Uint8Array;

function byteSet(...ranges: [number, number][]): ByteSet {
  const s = new Uint8Array(256);
  for (const [lo, hi] of ranges) s.fill(1, lo, hi + 1);
  return s;
}

function complement(s: ByteSet): ByteSet {
  const r = new Uint8Array(256);
  for (let c = 0; c < 256; c++) r[c] = s[c] ? 0 : 1;
  return r;
}

function union(into: ByteSet, s: ByteSet): void {
  for (let c = 0; c < 256; c++) if (s[c]) into[c] = 1;
}

/** Perl /i on a byte string under /d rules: ASCII letters only. */
function fold(s: ByteSet): ByteSet {
  const r = s.slice();
  for (let c = 0x41; c <= 0x5a; c++) if (s[c] || s[c + 0x20]) r[c] = r[c + 0x20] = 1;
  return r;
}

/**
 * JavaScript's /i (without /u) also folds the Latin-1 letters \xc0-\xde with \xe0-\xfe, which Perl
 * does not on a byte string: a set that holds one of such a pair without the other cannot be used
 * under a native i flag.
 */
function latin1FoldOpen(s: ByteSet): boolean {
  for (let c = 0xc0; c <= 0xde; c++) if (c !== 0xd7 && s[c] !== s[c + 0x20]) return true;
  return false;
}

const DIGIT = byteSet([0x30, 0x39]);
const UPPER = byteSet([0x41, 0x5a]);
const LOWER = byteSet([0x61, 0x7a]);
const ALPHA = byteSet([0x41, 0x5a], [0x61, 0x7a]);
const ALNUM = byteSet([0x30, 0x39], [0x41, 0x5a], [0x61, 0x7a]);
const WORD = byteSet([0x30, 0x39], [0x41, 0x5a], [0x5f, 0x5f], [0x61, 0x7a]);
const SPACE_SET = byteSet([0x09, 0x0d], [0x20, 0x20]);
const HSPACE_SET = byteSet([0x09, 0x09], [0x20, 0x20], [0xa0, 0xa0]);
const VSPACE_SET = byteSet([0x0a, 0x0d], [0x85, 0x85]);

/** Every POSIX class Perl knows, with its meaning on a byte string under /d rules. */
const POSIX: Record<string, ByteSet> = {
  alpha: ALPHA,
  digit: DIGIT,
  alnum: ALNUM,
  upper: UPPER,
  lower: LOWER,
  space: SPACE_SET,
  blank: byteSet([0x09, 0x09], [0x20, 0x20]),
  punct: byteSet([0x21, 0x2f], [0x3a, 0x40], [0x5b, 0x60], [0x7b, 0x7e]),
  print: byteSet([0x20, 0x7e]),
  graph: byteSet([0x21, 0x7e]),
  cntrl: byteSet([0x00, 0x1f], [0x7f, 0x7f]),
  xdigit: byteSet([0x30, 0x39], [0x41, 0x46], [0x61, 0x66]),
  word: WORD,
  ascii: byteSet([0x00, 0x7f]),
};

/** `[:^name:]`, without and with /i (under /i the complement of the folded set: [:^lower:] has no letter). */
const POSIX_NEG: Record<string, ByteSet> = {};
const POSIX_NEG_FOLDED: Record<string, ByteSet> = {};
for (const [name, set] of Object.entries(POSIX)) {
  POSIX_NEG[name] = complement(set);
  POSIX_NEG_FOLDED[name] = complement(fold(set));
}

/** Class escapes that stand for a set (they cannot end a range). */
/** Escapes that stand for one character, inside a class or out (\b is apart: a backspace only in a class). */
const SIMPLE_ESCAPES: Readonly<Record<string, number>> = { e: 0x1b, a: 0x07, t: 0x09, n: 0x0a, r: 0x0d, f: 0x0c };

const ESCAPE_SETS: Record<string, ByteSet> = {
  d: DIGIT,
  D: complement(DIGIT),
  w: WORD,
  W: complement(WORD),
  s: SPACE_SET,
  S: complement(SPACE_SET),
  h: HSPACE_SET,
  H: complement(HSPACE_SET),
  v: VSPACE_SET,
  V: complement(VSPACE_SET),
};

const SCRATCH: ByteSet = new Uint8Array(256);

/** How each byte is written inside a JS class: alphanumerics as they are, the rest as \xHH. */
const CLASS_CHARS: string[] = Array.from({ length: 256 }, (_, c) =>
  (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) ? String.fromCharCode(c) : '\\x' + c.toString(16).padStart(2, '0'),
);

/** A byte set as a JS class: `[...]` of plain alphanumerics and hex escapes, ranges merged. */
function emitSet(s: ByteSet): string {
  let body = '';
  for (let c = 0; c < 256; c++) {
    if (!s[c]) continue;
    let e = c;
    while (e < 255 && s[e + 1]) e++;
    body += CLASS_CHARS[c]!;
    if (e === c + 1) body += CLASS_CHARS[e]!;
    else if (e > c) body += '-' + CLASS_CHARS[e]!;
    c = e;
  }
  return `[${body}]`;
}

const SPACE = '\\t\\n\\v\\f\\r ';
const HSPACE = '\\t \\xa0';
const VSPACE = '\\n\\v\\f\\r\\x85';

function hex2(n: number): string {
  return '\\x' + n.toString(16).padStart(2, '0');
}

function unicodeRefusal(code: number): never {
  throw new PerlRegexError(
    `code point \\x{${code.toString(16)}} is above \\xff: Perl would match the whole pattern by Unicode rules, which a byte pattern cannot follow (not supported)`,
  );
}

function charEscape(code: number): string {
  if (code > 0xff) unicodeRefusal(code);
  return hex2(code);
}

function escapeLiteral(ch: string): string {
  return /[\\^$.*+?()[\]{}|/]/.test(ch) ? '\\' + ch : ch.charCodeAt(0) < 0x20 || ch.charCodeAt(0) > 0x7e ? charEscape(ch.charCodeAt(0)) : ch;
}

/** `{n}`, `{n,}`, `{n,m}`, `{,m}` (Perl 5.34+), blanks allowed inside the braces. */
const BRACE_QUANT = /^\{[ \t]*(?:(\d+)[ \t]*(?:(,)[ \t]*(\d*)[ \t]*)?|,[ \t]*(\d+)[ \t]*)\}/;

export function translatePerlRegex(pattern: string): TranslatedRegex {
  const lead = /^\(\?([imsx]+)\)/.exec(pattern);
  // A leading (?i) covering the whole pattern maps onto JS's i flag, unless JS's i would differ
  // from Perl's somewhere (i turned off later, Latin-1 letters): then /i is emulated per character.
  if (lead && lead[1]!.includes('i')) {
    const t = translate(pattern, true);
    if (t) return t;
  }
  return translate(pattern, false)!;
}

/** Returns undefined when nativeI was asked for but the pattern needs per-character emulation. */
function translate(pattern: string, nativeI: boolean): TranslatedRegex | undefined {
  let pos = 0;
  const n = pattern.length;
  let perlGroups = 0;
  let jsGroups = 0;
  const groupMap: number[] = [0];
  let needEmulation = false;
  let lookDepth = 0;
  // Backreferences name Perl groups that may not be numbered yet; resolve after the pass.
  let backrefs = false;
  // literal runs at the top level (see TranslatedRegex.literal)
  let run = '';
  let best = '';
  let alternation = false;
  const endRun = () => {
    if (run.length > best.length) best = run;
    run = '';
  };

  const out: string[] = [];

  function fail(msg: string): never {
    throw new PerlRegexError(`${msg} at offset ${pos} in /${pattern}/`);
  }

  function skipExtended(f: Flags): void {
    if (!f.x) return;
    for (;;) {
      while (pos < n && /\s/.test(pattern[pos]!)) pos++;
      if (pattern[pos] === '#') {
        while (pos < n && pattern[pos] !== '\n') pos++;
        continue;
      }
      break;
    }
  }

  function parseFlags(s: string, base: Flags): Flags {
    const f = { ...base };
    let on = true;
    let xs = 0;
    for (const c of s) {
      if (c === '-') {
        if (xs) f.x = xs > 1 ? 2 : 1;
        xs = 0;
        on = false;
      } else if (c === '^') {
        f.i = f.s = f.m = false;
        f.x = 0;
      } else if (c === 'x') {
        if (on) xs++;
        else f.x = 0;
      } else if (c === 'i' || c === 's' || c === 'm') f[c] = on;
      else if (c === 'n' || c === 'a' || c === 'u' || c === 'l' || c === 'd' || c === 'p') {
        /* charset / capture modifiers: byte strings already behave as /a and /d */
      } else fail(`unsupported inline modifier '${c}'`);
    }
    if (on && xs) f.x = xs > 1 ? 2 : 1;
    if (nativeI && !f.i) needEmulation = true;
    return f;
  }

  /** A literal byte as an atom, honouring case-insensitivity emulated per character. */
  function literalAtom(code: number, f: Flags): string {
    if (code > 0xff) unicodeRefusal(code);
    if (nativeI && ((code >= 0xc0 && code <= 0xde) || (code >= 0xe0 && code <= 0xfe)) && code !== 0xd7 && code !== 0xf7) needEmulation = true;
    const ch = String.fromCharCode(code);
    if (f.i && !nativeI) {
      const lo = ch.toLowerCase();
      const up = ch.toUpperCase();
      if (lo !== up && code < 0x80) return `[${lo}${up}]`;
    }
    return escapeLiteral(ch);
  }

  // ---- bracketed classes ----

  function skipClassBlanks(f: Flags): void {
    if (f.x === 2) while (pattern[pos] === ' ' || pattern[pos] === '\t') pos++;
  }

  /** One element of a class at `pos`: a byte (can be a range end) or a set. */
  function classElement(): number | ByteSet {
    const c = pattern[pos]!;
    if (c === '[') {
      const set = posixAt();
      if (set) return set;
      pos++;
      return 0x5b;
    }
    if (c !== '\\') {
      pos++;
      return c.charCodeAt(0);
    }
    const e = pattern[pos + 1];
    pos += 2;
    if (e === undefined) fail('trailing backslash');
    const set = ESCAPE_SETS[e];
    // (each is closed under ASCII case folding, so /i changes none of them)
    if (set) return set;
    // \b is a backspace inside a class, a word boundary outside
    if (e === 'b') return 0x08;
    const simple = SIMPLE_ESCAPES[e];
    if (simple !== undefined) return simple;
    switch (e) {
      case 'x':
        return hexValue();
      case 'o':
        return octBraceValue();
      case 'c':
        return controlValue();
      case 'N':
        if (pattern[pos] !== '{') fail('\\N in a character class must be a named character: \\N{...}');
        return namedChar();
      case 'p':
      case 'P':
        fail(`\\${e} (Unicode properties) is not supported`);
      // falls through (never)
      default:
        if (e >= '0' && e <= '7') {
          pos--;
          return octalValue();
        }
        // any other escaped character stands for itself: \] \\ \- \^ \[ and unknown letters (\R, \K, \z, \Q ...)
        return e.charCodeAt(0);
    }
  }

  /**
   * At a `[` inside a class: the set of a POSIX class `[:name:]` / `[:^name:]` (pos moves past
   * it), or null when Perl reads the `[` as a plain member. Perl (regcomp.c,
   * handle_possible_posix) only takes the exact form as a class; a lowercase name of 3 to 14
   * characters with at most two punctuation marks in that exact form that is no POSIX class is an
   * error, and so is a well-formed `[.x.]` or `[=x=]`; anything with blanks, capitals, other
   * delimiters or another length is a literal `[` (Perl warns).
   */
  function posixAt(): ByteSet | null {
    const d = pattern[pos + 1];
    if ((d === '.' || d === '=') && pos + 1 < n - 3) {
      let t = pos + 2;
      if (pattern[t + 1] === d) t++;
      else while (t < n && /[A-Za-z0-9_-]/.test(pattern[t]!)) t++;
      if (pattern[t] === d && pattern[t + 1] === ']') fail(`POSIX syntax [${d} ${d}] is reserved for future extensions`);
      return null;
    }
    if (d !== ':') return null;
    let p = pos + 2;
    const neg = pattern[p] === '^';
    if (neg) p++;
    let name = '';
    let punct = 0;
    for (;;) {
      if (p >= n || name.length >= 15) return null;
      const c = pattern[p]!;
      if (c === ' ' || c === '\t' || (c >= 'A' && c <= 'Z')) return null;
      if (/[!-\/:-@[-`{-~]/.test(c)) {
        const next = pattern[p + 1];
        if (c !== ']' && (next === ']' || next === ' ' || next === '\t')) {
          // the name's end: only ":]" right after it is the exact form
          if (c !== ':' || next !== ']') return null;
          p += 2;
          break;
        }
        if (++punct > 2) return null;
      }
      name += c;
      p++;
    }
    if (name.length < 3) return null;
    const set = POSIX[name];
    if (!set) fail(`POSIX class [:${neg ? '^' : ''}${name}:] unknown`);
    pos = p;
    return neg ? (curFold ? POSIX_NEG_FOLDED : POSIX_NEG)[name]! : set;
  }

  /** Case folding in force for the class being read. */
  let curFold = false;

  /** Class body (after '['): the JS class. */
  function parseClass(f: Flags): string {
    const open = pos - 1;
    // under a native i flag the set is still folded here: JS's i then finds nothing more to add
    curFold = f.i;
    skipClassBlanks(f);
    let negate = false;
    if (pattern[pos] === '^') {
      negate = true;
      pos++;
    }
    // one scratch set serves every class (a class holds no class)
    const set = SCRATCH.fill(0);
    let first = true;
    for (;;) {
      skipClassBlanks(f);
      if (pos >= n) {
        pos = open;
        fail('unmatched [');
      }
      if (pattern[pos] === ']' && !first) {
        pos++;
        break;
      }
      first = false;
      const lo = classElement();
      if (typeof lo !== 'number') {
        union(set, lo);
        continue;
      }
      if (lo > 0xff) unicodeRefusal(lo);
      skipClassBlanks(f);
      // a range `lo-hi`; a `-` before the closing `]` is literal
      if (pattern[pos] === '-' && pos + 1 < n && pattern[pos + 1] !== ']') {
        const save = pos;
        pos++;
        skipClassBlanks(f);
        if (pattern[pos] === ']') {
          pos = save;
          set[lo] = 1;
          continue;
        }
        const hi = classElement();
        if (typeof hi !== 'number') {
          // false range (`[a-\d]`): Perl takes the `-` literally
          set[lo] = 1;
          set[0x2d] = 1;
          union(set, hi);
          continue;
        }
        if (hi > 0xff) unicodeRefusal(hi);
        if (hi < lo) fail(`Invalid [] range "${pattern.slice(save - 1, pos)}"`);
        set.fill(1, lo, hi + 1);
        continue;
      }
      set[lo] = 1;
    }
    if (curFold) for (let c = 0x41; c <= 0x5a; c++) if (set[c] || set[c + 0x20]) set[c] = set[c + 0x20] = 1;
    if (negate) for (let c = 0; c < 256; c++) set[c] ^= 1;
    if (nativeI && latin1FoldOpen(set)) needEmulation = true;
    return emitSet(set);
  }

  // ---- numeric escapes (after the escape letter) ----

  function hexValue(): number {
    if (pattern[pos] === '{') {
      const end = pattern.indexOf('}', pos);
      if (end < 0) fail('missing right brace on \\x{}');
      const v = parseInt(pattern.slice(pos + 1, end).trim() || '0', 16);
      pos = end + 1;
      return Number.isNaN(v) ? 0 : v;
    }
    const m = /^[0-9A-Fa-f]{0,2}/.exec(pattern.slice(pos))![0];
    pos += m.length;
    return m ? parseInt(m, 16) : 0;
  }

  function octBraceValue(): number {
    if (pattern[pos] !== '{') fail('missing braces on \\o{}');
    const end = pattern.indexOf('}', pos);
    if (end < 0) fail('missing right brace on \\o{}');
    const v = parseInt(pattern.slice(pos + 1, end).trim(), 8);
    pos = end + 1;
    return Number.isNaN(v) ? 0 : v;
  }

  function octalValue(): number {
    // at a digit 0-7 after a backslash
    const m = /^[0-7]{1,3}/.exec(pattern.slice(pos))![0];
    pos += m.length;
    return parseInt(m, 8);
  }

  function controlValue(): number {
    const ch = pattern[pos++];
    if (ch === undefined) fail('character following "\\c" must be printable ASCII');
    return ch.toUpperCase().charCodeAt(0) ^ 64;
  }

  /** `\N{U+hex}` (after the N); names need Perl's Unicode name tables and are refused. */
  function namedChar(): number {
    const m = /^\{U\+([0-9A-Fa-f]+)\}/.exec(pattern.slice(pos));
    if (!m) fail('\\N{NAME} (a character by its Unicode name) is not supported; write \\x{..} or \\N{U+..}');
    pos += m[0].length;
    return parseInt(m[1]!, 16);
  }

  /**
   * Parses a sequence up to ')' or end; returns when it sees ')' (not consumed) or end.
   * Emits into `out`.
   */
  function parseSeq(fIn: Flags, depth: number): void {
    let f = fIn;
    let atomStart = -1; // index in `out` where the last quantifiable atom starts
    const top = depth === 0;
    let lastLit: string | null = null; // the last atom, when it is a literal byte in the top-level run
    /** An atom that is not a literal byte was pushed: it breaks the top-level literal run. */
    const other = () => {
      if (top) endRun();
      lastLit = null;
    };
    const literal = (code: number) => {
      out.push(literalAtom(code, f));
      if (!top) return;
      if (f.i) endRun();
      else run += String.fromCharCode(code);
      lastLit = f.i ? null : String.fromCharCode(code);
    };
    for (;;) {
      skipExtended(f);
      if (pos >= n) {
        if (depth > 0) fail('unmatched (');
        return;
      }
      const c = pattern[pos]!;
      if (c === ')') {
        if (depth === 0) fail('unmatched )');
        return;
      }
      if (c === '|') {
        out.push('|');
        pos++;
        atomStart = -1;
        if (top) alternation = true;
        other();
        continue;
      }
      // quantifiers
      const brace = c === '{' ? BRACE_QUANT.exec(pattern.slice(pos)) : null;
      if (c === '*' || c === '+' || c === '?' || brace) {
        if (atomStart < 0) fail('quantifier follows nothing');
        let q: string;
        let min: number;
        let max = Infinity;
        if (brace) {
          min = brace[1] !== undefined ? Number(brace[1]) : 0;
          if (brace[1] === undefined) max = Number(brace[4]);
          else if (!brace[2]) max = min;
          else if (brace[3]) max = Number(brace[3]);
          q = max === Infinity ? `{${min},}` : max === min ? `{${min}}` : `{${min},${max}}`;
          pos += brace[0].length;
        } else {
          q = c;
          min = c === '+' ? 1 : 0;
          pos++;
        }
        if (top && lastLit !== null) {
          // the quantified byte leaves the run; once at least it is still required
          run = run.slice(0, -1);
          if (min >= 1) run += lastLit;
        }
        other();
        const possessive = pattern[pos] === '+';
        const lazy = pattern[pos] === '?';
        if (possessive || lazy) pos++;
        if (max < min) {
          // Perl: "Quantifier {n,m} with n > m can't match": the atom never matches (JS refuses the syntax)
          out.splice(atomStart, 0, '(?!)');
          atomStart = -1;
          continue;
        }
        if (possessive) {
          // possessive: (?=(atom q))\N
          const atom = out.splice(atomStart).join('');
          const g = ++jsGroups;
          out.push(`(?=(${atom}${q}))\\${g}`);
          // a possessive atom cannot be quantified again
          atomStart = -1;
          continue;
        }
        out.push(lazy ? q + '?' : q);
        atomStart = -1;
        continue;
      }
      if (c === '(' && pattern.startsWith('(?#', pos)) {
        // a comment: nothing, not even a break between an atom and its quantifier
        const end = pattern.indexOf(')', pos);
        if (end < 0) fail('Sequence (?#... not terminated');
        pos = end + 1;
        continue;
      }
      atomStart = out.length;
      if (c === '(') {
        other();
        pos++;
        if (pattern[pos] === '*') fail('backtracking control verbs (*VERB) are not supported');
        if (pattern[pos] === '?') {
          pos++;
          const d = pattern[pos];
          if (d === ':') {
            pos++;
            out.push('(?:');
            parseSeq(f, depth + 1);
            expectClose();
            out.push(')');
            continue;
          }
          if (d === '=' || d === '!' || (d === '<' && (pattern[pos + 1] === '=' || pattern[pos + 1] === '!'))) {
            const kind = d === '<' ? '<' + pattern[pos + 1] : d;
            pos += kind.length;
            out.push(`(?${kind}`);
            lookDepth++;
            parseSeq(f, depth + 1);
            lookDepth--;
            expectClose();
            out.push(')');
            // a lookaround is zero-width: it takes no quantifier in JS
            atomStart = -1;
            continue;
          }
          if (d === '>') {
            pos++;
            const start = out.length;
            parseSeq(f, depth + 1);
            expectClose();
            const inner = out.splice(start).join('');
            // group numbers inside `inner` were assigned before g: emulation group numbered after them
            const g = ++jsGroups;
            out.push(`(?=(${inner}))\\${g}`);
            continue;
          }
          const ref = /^P=([A-Za-z_]\w*)\)/.exec(pattern.slice(pos));
          if (ref) {
            pos += ref[0].length;
            out.push(`\\k<${ref[1]}>`);
            backrefs = true;
            continue;
          }
          const named = /^(?:P?<([A-Za-z_]\w*)>|'([A-Za-z_]\w*)')/.exec(pattern.slice(pos));
          if (named) {
            pos += named[0].length;
            perlGroups++;
            groupMap[perlGroups] = ++jsGroups;
            out.push(`(?<${named[1] ?? named[2]}>`);
            parseSeq(f, depth + 1);
            expectClose();
            out.push(')');
            continue;
          }
          const mod = /^(\^?[a-zA-Z]*(?:-[a-zA-Z]*)?)([:)])/.exec(pattern.slice(pos));
          if (mod) {
            pos += mod[0].length;
            const nf = parseFlags(mod[1]!, f);
            if (mod[2] === ')') {
              // applies to the rest of the enclosing group
              f = nf;
              atomStart = -1;
              continue;
            }
            out.push('(?:');
            parseSeq(nf, depth + 1);
            expectClose();
            out.push(')');
            continue;
          }
          fail(`unsupported group construct (?${d ?? ''}`);
        }
        perlGroups++;
        groupMap[perlGroups] = ++jsGroups;
        out.push('(');
        parseSeq(f, depth + 1);
        expectClose();
        out.push(')');
        continue;
      }
      if (c === '[') {
        pos++;
        out.push(parseClass(f));
        other();
        continue;
      }
      if (c === '.') {
        pos++;
        out.push(f.s ? '[\\s\\S]' : '[^\\n]');
        other();
        continue;
      }
      if (c === '^') {
        pos++;
        out.push(f.m ? '(?<![^\\n])' : '^');
        atomStart = -1;
        other();
        continue;
      }
      if (c === '$') {
        pos++;
        out.push(f.m ? '(?=\\n|(?![\\s\\S]))' : '(?=\\n?(?![\\s\\S]))');
        atomStart = -1;
        other();
        continue;
      }
      if (c === '\\') {
        const e = pattern[pos + 1];
        pos += 2;
        if (e === undefined) fail('trailing backslash');
        const atom = escapeAtom(e, f);
        if (typeof atom === 'number') literal(atom);
        else {
          other();
          if (atom === null) atomStart = -1;
          else out.push(atom);
        }
        continue;
      }
      literal(c.charCodeAt(0));
      pos++;
    }
  }

  function expectClose(): void {
    if (pattern[pos] !== ')') fail('missing )');
    pos++;
  }

  /**
   * An escape outside a class: a byte (number) for a literal, the JS text of an atom, or null for
   * a zero-width item that was pushed (or nothing at all).
   */
  function escapeAtom(e: string, f: Flags): string | number | null {
    const simple = SIMPLE_ESCAPES[e];
    if (simple !== undefined) return simple;
    switch (e) {
      case 'A':
        out.push('(?<![\\s\\S])');
        return null;
      case 'z':
        out.push('(?![\\s\\S])');
        return null;
      case 'Z':
        out.push('(?=\\n?(?![\\s\\S]))');
        return null;
      case 'b':
      case 'B':
        if (pattern[pos] === '{') fail(`\\${e}{...} (Unicode boundaries) is not supported`);
        out.push('\\' + e);
        return null;
      case 'G':
        fail('\\G is not supported');
      // falls through (never)
      case 'K':
        // keep-left: changes only $&, which SEC never reads; captures and matching are unchanged
        if (lookDepth > 0) fail('\\K not permitted in lookahead/lookbehind');
        return null;
      case 's':
        return `[${SPACE}]`;
      case 'S':
        return `[^${SPACE}]`;
      case 'h':
        return `[${HSPACE}]`;
      case 'H':
        return `[^${HSPACE}]`;
      case 'v':
        return `[${VSPACE}]`;
      case 'V':
        return `[^${VSPACE}]`;
      case 'R':
        return `(?:\\r\\n|[${VSPACE}])`;
      case 'N':
        if (pattern[pos] === '{') return namedChar();
        return '[^\\n]';
      case 'x':
        return hexValue();
      case 'o':
        return octBraceValue();
      case 'c':
        return controlValue();
      case 'g': {
        const m = /^(?:\{(-?\d+)\}|(-?\d+)|\{([A-Za-z_]\w*)\})/.exec(pattern.slice(pos));
        if (!m) fail('bad \\g reference');
        pos += m[0].length;
        backrefs = true;
        if (m[3]) return `\\k<${m[3]}>`;
        let num = Number(m[1] ?? m[2]);
        if (num < 0) num = perlGroups + 1 + num;
        return backref(num);
      }
      case 'k': {
        const m = /^(?:<([A-Za-z_]\w*)>|\{([A-Za-z_]\w*)\}|'([A-Za-z_]\w*)')/.exec(pattern.slice(pos));
        if (!m) fail('bad \\k reference');
        pos += m[0].length;
        backrefs = true;
        return `\\k<${m[1] ?? m[2] ?? m[3]}>`;
      }
      case 'p':
      case 'P':
      case 'X':
      case 'C':
        fail(`\\${e} is not supported`);
      // falls through (never)
      case 'd':
      case 'D':
      case 'w':
      case 'W':
        return '\\' + e;
      default:
        break;
    }
    if (e >= '1' && e <= '9') {
      // backreference (Perl: \10 is a backref only if that many groups exist so far, else octal)
      const m = /^\d*/.exec(pattern.slice(pos))![0];
      const full = Number(e + m);
      if (full <= perlGroups || m === '') {
        pos += m.length;
        backrefs = true;
        return backref(full);
      }
      if (e >= '8') {
        // \18 with one group: backreference \1, then a literal 8
        backrefs = true;
        return backref(Number(e));
      }
      pos--;
      return octalValue();
    }
    if (e === '0') {
      pos--;
      return octalValue();
    }
    // any other escaped character stands for itself (also \Q \E \U \L \u \l \F: in a pattern SEC
    // interpolates at run time those are plain letters, not quotemeta or case changes)
    return e.charCodeAt(0);
  }

  function backref(perl: number): string {
    // resolved after the pass: a marker naming the Perl group
    return `\\${'\u0000' + perl + '\u0000'}`;
  }

  parseSeq({ i: nativeI, s: false, m: false, x: 0 }, 0);
  if (pos < n) fail('unmatched )');
  endRun();
  if (needEmulation && nativeI) return undefined;
  let source = out.join('');
  if (backrefs) {
    source = source.replace(/\\\u0000(\d+)\u0000/g, (_m, d: string) => {
      const js = groupMap[Number(d)];
      if (js === undefined) throw new PerlRegexError(`reference to nonexistent group ${d} in /${pattern}/`);
      return `(?:\\${js})`;
    });
  }
  let identity = jsGroups === perlGroups;
  if (identity) for (let i = 1; i <= perlGroups; i++) if (groupMap[i] !== i) identity = false;
  const literal = nativeI || alternation || best.length < 2 ? undefined : best;
  return { source, flags: nativeI ? 'i' : '', groupMap, identity, perlGroups, literal };
}

/**
 * The longest literal every match must contain (see TranslatedRegex.literal), or undefined when
 * there is none or the pattern does not translate.
 */
export function requiredLiteral(p: string): string | undefined {
  try {
    return translatePerlRegex(p).literal;
  } catch {
    return undefined;
  }
}

// ---- bounded matching (issue 13): no SEC pattern can freeze the pipeline thread ----
//
// The same tiers as `=~` in conditions (core's regex/bounded.ts). Past RUNAWAY_MS a match counts as
// no match (so NRegExp matches), with a warning and a count (secRegexRunaways()); that pattern is
// then skipped until the event loop turns, so a burst of hostile lines costs RUNAWAY_MS once.

const watchdog = new RegexWatchdog('the SEC pattern');

/** How many pattern matches ran out of time since start (each counted as no match). */
export function secRegexRunaways(): number {
  return watchdog.runaways;
}

/** A compiled Perl pattern: `exec` returns Perl's match list ($1.. as an array) or null. */
export class PerlRegex {
  readonly re: RegExp;
  readonly t: TranslatedRegex;
  readonly hasNamed: boolean;
  /** Literal every match contains (case-sensitive patterns only): a cheap first test. */
  readonly literal: string | undefined;
  /** Runs under the watchdog (not proven bounded). */
  readonly guarded: boolean;

  constructor(readonly perl: string) {
    enableRegexFallback();
    this.t = translatePerlRegex(perl);
    try {
      this.re = new RegExp(this.t.source, this.t.flags);
    } catch (e) {
      throw new PerlRegexError(`invalid regular expression /${perl}/: ${(e as Error).message}`);
    }
    this.hasNamed = /\(\?P?<[A-Za-z_]|\(\?'/.test(perl);
    this.literal = this.t.literal;
    this.guarded = needsWatchdog(this.t.source, this.t.flags);
  }

  /** The regex's exec, bounded: null also when a watched match ran out of time. */
  private run(s: string): RegExpExecArray | null {
    return this.guarded ? watchdog.exec(this.re, this.perl, s) : this.re.exec(s);
  }

  test(s: string): boolean {
    if (this.literal !== undefined && s.indexOf(this.literal) < 0) return false;
    return this.guarded ? this.run(s) !== null : this.re.test(s);
  }

  /** Perl list-context match: the capture values ($1..$n), or [1] when the pattern has no groups. */
  exec(s: string): { list: (string | undefined)[]; named?: Record<string, string | undefined> } | null {
    if (this.literal !== undefined && s.indexOf(this.literal) < 0) return null;
    const m = this.run(s);
    if (m === null) return null;
    let list: (string | undefined)[];
    if (this.t.perlGroups === 0) list = ['1'];
    else if (this.t.identity) list = m.slice(1);
    else {
      list = new Array(this.t.perlGroups);
      for (let i = 1; i <= this.t.perlGroups; i++) list[i - 1] = m[this.t.groupMap[i]!];
    }
    return { list, named: m.groups };
  }
}

/** Perl quotemeta on a byte string: backslash before every non-word byte (ASCII view). */
export function quotemeta(s: string): string {
  return s.replace(/[^A-Za-z0-9_]/g, '\\$&');
}
