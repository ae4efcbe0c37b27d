/**
 * Perl regular expressions, as SEC compiles them with qr//, translated to JavaScript.
 *
 * Strings inside the engine are "byte strings" (one char per byte, see bytes.ts), so `\w`, `\d`,
 * `.` and character classes work byte by byte as in Perl without the /u rules. Constructs whose
 * meaning differs are rewritten explicitly rather than relying on JS flags:
 *   `.` -> [^\n] (Perl's dot matches \r; JS's does not)   `$` -> end or before a final \n
 *   \A \z \Z \h \H \v \V \R \N \e \a \x{..} \o{..} \Q..\E, POSIX [[:classes:]], (?#...)
 *   inline modifiers (?imsx) and (?imsx-imsx:...) — scoped, emulated per character
 *   atomic groups (?>..) and possessive quantifiers (*+ ++ ?+ {n,m}+) -> (?=(..))\k
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
}

interface Flags {
  i: boolean;
  s: boolean;
  m: boolean;
  x: boolean;
}

const POSIX: Record<string, string> = {
  alpha: 'A-Za-z',
  digit: '0-9',
  alnum: 'A-Za-z0-9',
  upper: 'A-Z',
  lower: 'a-z',
  space: '\\t\\n\\v\\f\\r ',
  blank: ' \\t',
  punct: '!-\\/:-@\\[-`{-~',
  print: ' -~',
  graph: '!-~',
  cntrl: '\\x00-\\x1f\\x7f',
  xdigit: '0-9A-Fa-f',
  word: 'A-Za-z0-9_',
  ascii: '\\x00-\\x7f',
};

const SPACE = '\\t\\n\\v\\f\\r ';
const HSPACE = '\\t \\xa0';
const VSPACE = '\\n\\v\\f\\r\\x85';

function hex2(n: number): string {
  return '\\x' + n.toString(16).padStart(2, '0');
}

function charEscape(code: number): string {
  if (code <= 0xff) return hex2(code);
  if (code <= 0xffff) return '\\u' + code.toString(16).padStart(4, '0');
  throw new PerlRegexError(`code point \\x{${code.toString(16)}} is outside what a byte pattern can match`);
}

function escapeLiteral(ch: string): string {
  return /[\\^$.*+?()[\]{}|/]/.test(ch) ? '\\' + ch : ch.charCodeAt(0) < 0x20 || ch.charCodeAt(0) > 0x7e ? charEscape(ch.charCodeAt(0)) : ch;
}

/** A literal character as an atom, honouring case-insensitivity emulated per character. */
function literalAtom(ch: string, f: Flags, nativeI: boolean): string {
  if (f.i && !nativeI) {
    const lo = ch.toLowerCase();
    const up = ch.toUpperCase();
    if (lo !== up && lo.length === 1 && up.length === 1 && ch.charCodeAt(0) < 0x80) return `[${lo}${up}]`;
  }
  return escapeLiteral(ch);
}

export function translatePerlRegex(pattern: string): TranslatedRegex {
  let pos = 0;
  const n = pattern.length;
  let perlGroups = 0;
  let jsGroups = 0;
  const groupMap: number[] = [0];
  // A leading (?i) (or (?is) etc.) that covers the whole pattern maps onto native JS flags.
  let nativeI = false;
  const lead = /^\(\?([imsx]+)\)/.exec(pattern);
  if (lead && lead[1]!.includes('i')) nativeI = true;
  // Backreferences name Perl groups that may not be numbered yet; resolve after the pass.
  const backrefMarks: { at: number; perl: number }[] = [];

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
    for (const c of s) {
      if (c === '-') on = false;
      else if (c === '^') {
        f.i = f.s = f.m = f.x = false;
      } else if (c === 'i' || c === 's' || c === 'm' || c === 'x') f[c] = on;
      else if (c === 'n' || c === 'a' || c === 'u' || c === 'l' || c === 'd' || c === 'p') {
        /* charset / capture modifiers: byte strings already behave as /a and /d */
      } else fail(`unsupported inline modifier '${c}'`);
    }
    return f;
  }

  /** Class body (after '['), returns JS class text including brackets. */
  function parseClass(f: Flags): string {
    let body = '';
    let negate = false;
    if (pattern[pos] === '^') {
      negate = true;
      pos++;
    }
    let first = true;
    const letters: string[] = [];
    while (pos < n) {
      const c = pattern[pos]!;
      if (c === ']' && !first) {
        pos++;
        if (f.i && !nativeI) body += caseVariants(letters);
        return `[${negate ? '^' : ''}${body}]`;
      }
      first = false;
      if (c === '[' && pattern[pos + 1] === ':') {
        const m = /^\[:(\^?)([a-z]+):\]/.exec(pattern.slice(pos));
        if (m) {
          const cls = POSIX[m[2]!];
          if (!cls) fail(`unknown POSIX class [:${m[2]}:]`);
          if (m[1]) fail('negated POSIX classes are not supported');
          body += cls;
          pos += m[0].length;
          continue;
        }
      }
      if (c === '\\') {
        const e = pattern[pos + 1];
        pos += 2;
        switch (e) {
          case 's':
            body += SPACE;
            break;
          case 'h':
            body += HSPACE;
            break;
          case 'v':
            body += VSPACE;
            break;
          case 'S':
          case 'H':
          case 'V':
          case 'N':
            fail(`\\${e} inside a character class is not supported`);
          // falls through (never)
          case 'e':
            body += '\\x1b';
            break;
          case 'a':
            body += '\\x07';
            break;
          case 'x':
            body += hexEscape();
            break;
          case 'o':
            body += octBrace();
            break;
          case undefined:
            fail('trailing backslash');
          // falls through (never)
          default:
            if (e >= '0' && e <= '7') {
              pos--;
              body += octal();
            } else {
              if (/[A-Za-z]/.test(e) && f.i) letters.push(e);
              body += '\\' + e;
            }
        }
        continue;
      }
      if (/[A-Za-z]/.test(c)) {
        letters.push(c);
        // a-z style range: remember both ends for case variants
        if (pattern[pos + 1] === '-' && /[A-Za-z]/.test(pattern[pos + 2] ?? '')) {
          letters.push(`${c}-${pattern[pos + 2]}`);
          body += `${c}-${pattern[pos + 2]}`;
          pos += 3;
          continue;
        }
      }
      body += c === '[' ? '\\[' : c.charCodeAt(0) < 0x20 || c.charCodeAt(0) > 0x7e ? charEscape(c.charCodeAt(0)) : c;
      pos++;
    }
    fail('unterminated character class');
  }

  function caseVariants(items: string[]): string {
    let extra = '';
    for (const it of items) {
      if (it.length === 3) {
        const [a, , b] = it;
        if (/[a-z]/.test(a!) && /[a-z]/.test(b!)) extra += `${a!.toUpperCase()}-${b!.toUpperCase()}`;
        else if (/[A-Z]/.test(a!) && /[A-Z]/.test(b!)) extra += `${a!.toLowerCase()}-${b!.toLowerCase()}`;
      } else if (it.length === 1) {
        const o = it === it.toLowerCase() ? it.toUpperCase() : it.toLowerCase();
        if (o !== it) extra += o;
      }
    }
    return extra;
  }

  function hexEscape(): string {
    // after "\x"
    if (pattern[pos] === '{') {
      const end = pattern.indexOf('}', pos);
      if (end < 0) fail('unterminated \\x{');
      const v = parseInt(pattern.slice(pos + 1, end).trim() || '0', 16);
      pos = end + 1;
      return charEscape(Number.isNaN(v) ? 0 : v);
    }
    const m = /^[0-9A-Fa-f]{0,2}/.exec(pattern.slice(pos))![0];
    pos += m.length;
    return charEscape(m ? parseInt(m, 16) : 0);
  }

  function octBrace(): string {
    if (pattern[pos] !== '{') fail('\\o needs braces');
    const end = pattern.indexOf('}', pos);
    const v = parseInt(pattern.slice(pos + 1, end), 8);
    pos = end + 1;
    return charEscape(v);
  }

  function octal(): string {
    // at a digit 0-7 after a backslash
    const m = /^[0-7]{1,3}/.exec(pattern.slice(pos))![0];
    pos += m.length;
    return charEscape(parseInt(m, 8));
  }

  /**
   * Parses a sequence up to ')' or end; returns when it sees ')' (not consumed) or end.
   * Emits into `out`.
   */
  function parseSeq(fIn: Flags, depth: number): void {
    let f = fIn;
    let atomStart = -1; // index in `out` where the last quantifiable atom starts
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
        continue;
      }
      // quantifiers
      if (c === '*' || c === '+' || c === '?' || (c === '{' && /^\{\d+(,\d*)?\}/.test(pattern.slice(pos)))) {
        if (atomStart < 0) fail('quantifier follows nothing');
        let q: string;
        if (c === '{') {
          q = /^\{\d+(,\d*)?\}/.exec(pattern.slice(pos))![0];
        } else q = c;
        pos += q.length;
        if (pattern[pos] === '+') {
          // possessive: (?=(atom q))\N
          pos++;
          const atom = out.splice(atomStart).join('');
          const g = ++jsGroups;
          out.push(`(?=(${atom}${q}))\\${g}`);
          // a possessive atom cannot be quantified again
          atomStart = -1;
          continue;
        }
        if (pattern[pos] === '?') {
          q += '?';
          pos++;
        }
        out.push(q);
        atomStart = -1;
        continue;
      }
      atomStart = out.length;
      if (c === '(') {
        pos++;
        if (pattern[pos] === '?') {
          pos++;
          const d = pattern[pos];
          if (d === '#') {
            const end = pattern.indexOf(')', pos);
            if (end < 0) fail('unterminated (?#');
            pos = end + 1;
            atomStart = -1;
            continue;
          }
          if (d === ':' || d === '=' || d === '!') {
            pos++;
            out.push(`(?${d}`);
            parseSeq(f, depth + 1);
            expectClose();
            out.push(')');
            continue;
          }
          if (d === '<' && (pattern[pos + 1] === '=' || pattern[pos + 1] === '!')) {
            out.push(`(?<${pattern[pos + 1]}`);
            pos += 2;
            parseSeq(f, depth + 1);
            expectClose();
            out.push(')');
            continue;
          }
          if (d === '>') {
            pos++;
            const start = out.length;
            parseSeq(f, depth + 1);
            expectClose();
            const inner = out.splice(start).join('');
            const g = ++jsGroups;
            // group numbers inside `inner` were assigned before g: emulation group numbered after them
            out.push(`(?=(${inner}))\\${g}`);
            fixLastEmulation(start, g);
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
        continue;
      }
      if (c === '.') {
        pos++;
        out.push(f.s ? '[\\s\\S]' : '[^\\n]');
        continue;
      }
      if (c === '^') {
        pos++;
        out.push(f.m ? '(?<![^\\n])' : '^');
        atomStart = -1;
        continue;
      }
      if (c === '$') {
        pos++;
        out.push(f.m ? '(?=\\n|(?![\\s\\S]))' : '(?=\\n?(?![\\s\\S]))');
        atomStart = -1;
        continue;
      }
      if (c === '\\') {
        const e = pattern[pos + 1];
        pos += 2;
        if (e === undefined) fail('trailing backslash');
        const atom = escapeAtom(e, f);
        if (atom === null) atomStart = -1;
        else out.push(atom);
        continue;
      }
      if (c === '{' || c === '}' || c === ']') {
        out.push('\\' + c);
        pos++;
        continue;
      }
      out.push(literalAtom(c, f, nativeI));
      pos++;
    }
  }

  /** After an atomic group was wrapped, nothing else to fix (groups inside keep their numbers). */
  function fixLastEmulation(_start: number, _g: number): void {}

  function expectClose(): void {
    if (pattern[pos] !== ')') fail('missing )');
    pos++;
  }

  /** Returns the JS text for an escape outside a class, or null for zero-width things that were pushed. */
  function escapeAtom(e: string, f: Flags): string | null {
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
        out.push('\\' + e);
        return null;
      case 'G':
        fail('\\G is not supported');
      // falls through (never)
      case 'K':
        fail('\\K is not supported');
      // falls through (never)
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
        if (pattern[pos] === '{') fail('\\N{...} is not supported');
        return '[^\\n]';
      case 'e':
        return '\\x1b';
      case 'a':
        return '\\x07';
      case 'x':
        return hexEscape();
      case 'o':
        return octBrace();
      case 'c': {
        const ch = pattern[pos++];
        if (!ch) fail('\\c at end');
        return charEscape(ch.toUpperCase().charCodeAt(0) ^ 64);
      }
      case 'Q': {
        let end = pattern.indexOf('\\E', pos);
        if (end < 0) end = n;
        const lit = pattern.slice(pos, end);
        pos = end < n ? end + 2 : n;
        if (!lit.length) return null;
        const parts = [...lit].map((ch) => literalAtom(ch, f, nativeI));
        // only the last char of \Q..\E is quantifiable; wrap so a quantifier applies to it alone
        if (parts.length === 1) return parts[0]!;
        out.push(parts.slice(0, -1).join(''));
        return parts[parts.length - 1]!;
      }
      case 'E':
        return null;
      case 'g': {
        const m = /^(?:\{(-?\d+)\}|(-?\d+)|\{([A-Za-z_]\w*)\})/.exec(pattern.slice(pos));
        if (!m) fail('bad \\g reference');
        pos += m[0].length;
        if (m[3]) return `\\k<${m[3]}>`;
        let num = Number(m[1] ?? m[2]);
        if (num < 0) num = perlGroups + 1 + num;
        return backref(num);
      }
      case 'k': {
        const m = /^(?:<([A-Za-z_]\w*)>|\{([A-Za-z_]\w*)\}|'([A-Za-z_]\w*)')/.exec(pattern.slice(pos));
        if (!m) fail('bad \\k reference');
        pos += m[0].length;
        return `\\k<${m[1] ?? m[2] ?? m[3]}>`;
      }
      case 'p':
      case 'P':
      case 'X':
      case 'C':
        fail(`\\${e} is not supported`);
      // falls through (never)
      case 'l':
      case 'u':
      case 'L':
      case 'U':
        fail(`case-changing escape \\${e} is not supported in patterns`);
      // falls through (never)
      case 'd':
      case 'D':
      case 'w':
      case 'W':
      case 't':
      case 'n':
      case 'r':
      case 'f':
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
        return backref(full);
      }
      pos--;
      return octal();
    }
    if (e === '0') {
      pos--;
      return octal();
    }
    if (/[A-Za-z]/.test(e)) return literalAtom(e, f, nativeI);
    return escapeLiteral(e);
  }

  function backref(perl: number): string {
    // resolved after the pass: groups may be renumbered by later emulations only above perl's own
    backrefMarks.push({ at: out.length, perl });
    return `\\${'\u0000' + perl + '\u0000'}`;
  }

  parseSeq({ i: nativeI, s: false, m: false, x: false }, 0);
  if (pos < n) fail('unmatched )');
  let source = out.join('');
  if (backrefMarks.length) {
    source = source.replace(/\\\u0000(\d+)\u0000/g, (_m, d: string) => {
      const js = groupMap[Number(d)];
      if (js === undefined) throw new PerlRegexError(`reference to nonexistent group ${d} in /${pattern}/`);
      return `(?:\\${js})`;
    });
  }
  let identity = jsGroups === perlGroups;
  if (identity) for (let i = 1; i <= perlGroups; i++) if (groupMap[i] !== i) identity = false;
  return { source, flags: nativeI ? 'i' : '', groupMap, identity, perlGroups };
}

/**
 * The longest literal every match must contain, found by a conservative scan of the top level of
 * the Perl pattern (no alternation, no modifiers), so a plain `indexOf` can reject most lines
 * before the regex runs. Returns undefined when unsure.
 */
export function requiredLiteral(p: string): string | undefined {
  let best = '';
  let run = '';
  const endRun = () => {
    if (run.length > best.length) best = run;
    run = '';
  };
  let depth = 0;
  for (let i = 0; i < p.length; i++) {
    const c = p[i]!;
    if (depth > 0) {
      if (c === '\\') i++;
      else if (c === '[') {
        // skip a class inside a group
        let j = i + 1;
        if (p[j] === '^') j++;
        if (p[j] === ']') j++;
        while (j < p.length && p[j] !== ']') j += p[j] === '\\' ? 2 : 1;
        i = j;
      } else if (c === '(') depth++;
      else if (c === ')') depth--;
      continue;
    }
    const next = p[i + 1];
    const quantified = (k: number) => p[k] === '*' || p[k] === '?' || p[k] === '+' || p[k] === '{';
    if (c === '|') return undefined;
    if (c === '(') {
      if (p[i + 1] === '?' && /^\(\?[\^a-zA-Z-]*[:)]/.test(p.slice(i)) && !/^\(\?:/.test(p.slice(i))) return undefined;
      endRun();
      depth = 1;
      continue;
    }
    if (c === '[') {
      endRun();
      let j = i + 1;
      if (p[j] === '^') j++;
      if (p[j] === ']') j++;
      while (j < p.length && p[j] !== ']') j += p[j] === '\\' ? 2 : 1;
      i = j;
      continue;
    }
    if (c === '\\') {
      if (next === undefined) return undefined;
      if (/[A-Za-z0-9]/.test(next)) {
        endRun();
        i++;
        continue;
      }
      // escaped punctuation is a literal
      if (quantified(i + 2)) {
        if (p[i + 2] === '+') run += next;
        endRun();
      } else run += next;
      i++;
      continue;
    }
    if ('.^$'.includes(c)) {
      endRun();
      continue;
    }
    if (c === '*' || c === '+' || c === '?' || c === '{') {
      endRun();
      continue;
    }
    if (quantified(i + 1)) {
      if (p[i + 1] === '+') run += c;
      endRun();
      continue;
    }
    run += c;
  }
  if (depth !== 0) return undefined;
  endRun();
  return best.length >= 2 ? best : undefined;
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
    this.literal = this.t.flags.includes('i') ? undefined : requiredLiteral(perl);
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
