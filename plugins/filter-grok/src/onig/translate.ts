/**
 * Oniguruma regex (Ruby syntax, as Logstash's Joni compiles grok patterns) → one JavaScript RegExp.
 *
 * Logstash compiles every grok expression as `Regexp.new(src, Regexp::MULTILINE)`: `.` matches
 * everything including `\n`; `^`/`$` are line anchors on `\n` only; `\w \d \s` are ASCII while `\b`
 * and POSIX brackets are Unicode; when a regex has named groups, plain `(...)` do not capture; group
 * names may repeat and may be any text (`NUMBER:bytes:int`, `[a][b]`). JavaScript differs on each
 * of these, and lacks atomic groups, possessive quantifiers, `\A \Z \z \h`, inline flags and nested
 * classes. The translator parses the source once and emits an equivalent JS source (flags `su`)
 * plus a side table of capture groups: JS group number → grok name. Named groups inside repeated
 * groups keep their last set value in Oniguruma, not in JS: such loops are listed (`repeats`) for
 * the fix after the match (repeat.ts). Anything with no faithful equivalent (subexpression calls,
 * absent operator, conditionals, `\K`, `\X`) is refused with an error naming the construct.
 */
import { UNICODE_WORD, UntranslatableError, numericEscape, parseClass, propertyEscape } from './char-class.js';
import type { RepeatLoop } from './repeat.js';

export { UntranslatableError };
export type { RepeatLoop };

/** One capturing group of the emitted JS regex. */
export interface GroupInfo {
  /** `named`: a grok/Oniguruma named group; `plain`: a numbered group (regex without names);
   *  `internal`: a helper group the translation introduced (atomic/possessive emulation). */
  kind: 'named' | 'plain' | 'internal';
  name?: string;
  /** Oniguruma group number (plain groups; for numbered backreferences). */
  onigNumber?: number;
  /** Opened inside a lookaround (`(?=` `(?!` `(?<=` `(?<!`). */
  inLook?: boolean;
  /** JS group number, assigned once the whole source is emitted. */
  index: number;
}

export interface Translation {
  source: string;
  flags: string;
  /** Every capturing group of `source`, by JS group number (index 0 unused). */
  groups: GroupInfo[];
  /** Named groups in Oniguruma order: distinct names in first-appearance order, each with its JS numbers. */
  names: { name: string; indices: number[] }[];
  /** The longest literal text every match contains (a cheap indexOf pre-check), if any. */
  requiredLiteral?: string;
  /** Repeated groups holding named groups: their captures need Oniguruma's rule (repeat.ts). */
  repeats: RepeatLoop[];
}

/** A repeated group with named groups inside, as the parse found it. */
interface LoopRec {
  /** The helper group around all its iterations. */
  all: GroupInfo;
  /** The parts of one iteration (the quantified atom). */
  body: Part[];
  min: number;
  max: number;
  lazy: boolean;
  /** Loops inside the body. */
  nested: LoopRec[];
}

type Part = string | { open: GroupInfo } | { ref: GroupInfo } | WordBoundary;

function opens(p: Part): p is { open: GroupInfo } {
  return typeof p === 'object' && 'open' in p;
}

/** `\b`/`\B` placeholder, resolved once its neighbours in the sequence are known. */
interface WordBoundary {
  wb: boolean; // true: \b, false: \B
  resolved?: string;
}

/**
 * What an item can match at its edges, for resolving `\b` cheaply: `firstAW`/`lastAW` mean every
 * match starts/ends with an ASCII word character; `zeroWidth` items (anchors, lookarounds) are
 * transparent; `nullable` items may match nothing.
 */
interface Info {
  firstAW: boolean;
  lastAW: boolean;
  nullable: boolean;
  zeroWidth: boolean;
  /** A single literal character this item always matches (case-sensitive), for literal runs. */
  ch?: string;
  /** Literal strings every match of this item contains. */
  lits?: string[];
  /** Named groups that take part in every match of this item. */
  sure?: readonly GroupInfo[];
}

function union(a: readonly GroupInfo[] | undefined, b: readonly GroupInfo[] | undefined): readonly GroupInfo[] | undefined {
  if (a === undefined || a.length === 0) return b;
  if (b === undefined || b.length === 0) return a;
  return [...a, ...b];
}

const ZERO: Info = { firstAW: false, lastAW: false, nullable: true, zeroWidth: true };
const OPAQUE: Info = { firstAW: false, lastAW: false, nullable: false, zeroWidth: false };
const AW: Info = { firstAW: true, lastAW: true, nullable: false, zeroWidth: false };
const ASCII_WORD = /^[A-Za-z0-9_]$/;

const asciiWordClasses = new Map<string, boolean>();

/** True when a one-character JS class expression only matches ASCII word characters (cached: library classes recur). */
function classIsAsciiWord(expr: string): boolean {
  let r = asciiWordClasses.get(expr);
  if (r === undefined) {
    r = classIsAsciiWordUncached(expr);
    asciiWordClasses.set(expr, r);
  }
  return r;
}

function classIsAsciiWordUncached(expr: string): boolean {
  if (!/^\[[^^]/.test(expr) || !expr.endsWith(']') || /\\[pPuWDSs]|\\x[89a-fA-F]|[^\0-\x7f]/.test(expr)) return false;
  const re = new RegExp(`^${expr}$`, 'u');
  for (let c = 0; c < 128; c++) if (re.test(String.fromCharCode(c)) && !ASCII_WORD.test(String.fromCharCode(c))) return false;
  return true;
}

function seqInfo(items: Info[]): Info {
  if (items.length === 0) return ZERO;
  let firstAW = false;
  for (const it of items) {
    if (it.zeroWidth) continue;
    if (!it.firstAW) break;
    if (!it.nullable) {
      firstAW = true;
      break;
    }
  }
  let lastAW = false;
  for (let i = items.length - 1; i >= 0; i--) {
    const it = items[i]!;
    if (it.zeroWidth) continue;
    if (!it.lastAW) break;
    if (!it.nullable) {
      lastAW = true;
      break;
    }
  }
  const nullable = items.every((i) => i.nullable);
  const lits: string[] = [];
  let run = '';
  for (const it of items) {
    if (it.ch !== undefined) {
      run += it.ch;
      continue;
    }
    if (run) lits.push(run);
    run = '';
    if (it.lits) lits.push(...it.lits);
  }
  if (run) lits.push(run);
  let sure: readonly GroupInfo[] | undefined;
  for (const it of items) sure = union(sure, it.sure);
  return { firstAW, lastAW, nullable, zeroWidth: items.every((i) => i.zeroWidth), lits, sure };
}

interface Flags {
  i: boolean;
  /** Ruby's `m`: dot matches newline. */
  m: boolean;
  x: boolean;
}

const JS_SYNTAX = new Set(['^', '$', '\\', '.', '*', '+', '?', '(', ')', '[', ']', '{', '}', '|', '/']);
const WORD = `[${UNICODE_WORD}]`;
const WORD_BOUNDARY = `(?:(?<=${WORD})(?!${WORD})|(?<!${WORD})(?=${WORD}))`;
const NOT_WORD_BOUNDARY = `(?:(?<=${WORD})(?=${WORD})|(?<!${WORD})(?!${WORD}))`;

function literal(ch: string, ignoreCase: boolean): string {
  if (ignoreCase) {
    const lo = ch.toLowerCase();
    const up = ch.toUpperCase();
    if (lo !== up && [...lo].length === 1 && [...up].length === 1) return `[${lo}${up}]`;
  }
  if (JS_SYNTAX.has(ch)) return '\\' + ch;
  const cp = ch.codePointAt(0)!;
  if (cp < 0x20 || cp === 0x7f) return '\\x' + cp.toString(16).padStart(2, '0');
  return ch;
}

function cpLiteral(cp: number, ignoreCase: boolean): string {
  if (cp < 0x20 || cp === 0x7f) return '\\x' + cp.toString(16).padStart(2, '0');
  return literal(String.fromCodePoint(cp), ignoreCase);
}

class Translator {
  pos = 0;
  private parts: Part[] = [];
  private readonly groups: GroupInfo[] = [];
  private plainCount = 0;
  private readonly plainByNumber = new Map<number, GroupInfo>();
  private readonly namedByName = new Map<string, GroupInfo[]>();
  /** Repeated groups with named groups inside, outermost ones (nested ones hang below). */
  private loops: LoopRec[] = [];
  /** How many lookarounds the parse is in (their groups may lie outside the text they are in). */
  private lookDepth = 0;

  constructor(
    readonly src: string,
    private readonly hasNamed: boolean,
    private readonly patternName: string,
  ) {}

  private fail(what: string): never {
    throw new UntranslatableError(`${this.patternName}: cannot translate ${what} (at offset ${this.pos} of the expanded regex)`);
  }

  run(): Translation {
    const flags: Flags = { i: false, m: true, x: false };
    const top = this.alternation(flags, 0);
    const requiredLiteral = (top.lits ?? []).reduce<string | undefined>((best, l) => (best === undefined || l.length > best.length ? l : best), undefined);
    if (this.pos < this.src.length) this.fail(`unmatched ')'`);
    let n = 0;
    for (const p of this.parts) if (opens(p)) p.open.index = ++n;
    const out = emitParts(this.parts, (g) => g.index)!;
    const byIndex: GroupInfo[] = [];
    for (const g of this.groups) byIndex[g.index] = g;
    const names: { name: string; indices: number[] }[] = [];
    for (const [name, gs] of this.namedByName) names.push({ name, indices: gs.map((g) => g.index).sort((a, b) => a - b) });
    const repeats: RepeatLoop[] = [];
    for (const l of this.loops) {
      const r = repeatLoop(l, (g) => g.index);
      if (r !== undefined) repeats.push(r);
    }
    return { source: out, flags: 'su', groups: byIndex, names, requiredLiteral, repeats };
  }

  private emit(p: Part): void {
    this.parts.push(p);
  }

  private newGroup(kind: GroupInfo['kind'], name?: string): GroupInfo {
    const g: GroupInfo = { kind, index: 0 };
    if (this.lookDepth > 0) g.inLook = true;
    if (name !== undefined) {
      g.name = name;
      const list = this.namedByName.get(name);
      if (list) list.push(g);
      else this.namedByName.set(name, [g]);
    }
    if (kind === 'plain') {
      g.onigNumber = ++this.plainCount;
      this.plainByNumber.set(g.onigNumber, g);
    }
    this.groups.push(g);
    return g;
  }

  /** Alternatives until `)` (depth > 0) or the end. Flags set by `(?i)` last to the end of the group. */
  private alternation(outer: Flags, depth: number): Info {
    const flags = { ...outer };
    const alts: Info[] = [];
    for (;;) {
      alts.push(this.sequence(flags, depth));
      if (this.src[this.pos] === '|') {
        this.pos++;
        this.emit('|');
        continue;
      }
      return {
        firstAW: alts.every((a) => a.firstAW),
        lastAW: alts.every((a) => a.lastAW),
        nullable: alts.some((a) => a.nullable),
        zeroWidth: alts.every((a) => a.zeroWidth),
        lits: alts.length === 1 ? alts[0]!.lits : undefined,
        sure: alts.length === 1 ? alts[0]!.sure : alts[0]!.sure?.filter((g) => alts.every((a) => a.sure?.includes(g))),
      };
    }
  }

  private skipExtended(flags: Flags): void {
    if (!flags.x) return;
    for (;;) {
      const c = this.src[this.pos];
      if (c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\f' || c === '\v') this.pos++;
      else if (c === '#') {
        while (this.pos < this.src.length && this.src[this.pos] !== '\n') this.pos++;
      } else return;
    }
  }

  private sequence(flags: Flags, depth: number): Info {
    const items: Info[] = [];
    const boundaries: { at: number; wb: WordBoundary }[] = [];
    for (;;) {
      this.skipExtended(flags);
      const c = this.src[this.pos];
      if (c === undefined || c === '|' || c === ')') {
        if (c === ')' && depth === 0) this.fail(`unmatched ')'`);
        break;
      }
      const start = this.parts.length;
      const info = this.atom(flags, depth);
      if (info === undefined) continue;
      const last = this.parts[this.parts.length - 1];
      if (this.parts.length === start + 1 && typeof last === 'object' && 'wb' in last) boundaries.push({ at: items.length, wb: last });
      items.push(this.quantifiers(flags, start, info));
    }
    // \b next to a known ASCII word character only needs to look at the other side
    for (const { at, wb } of boundaries) {
      const before = seqInfo(items.slice(0, at));
      const after = seqInfo(items.slice(at + 1));
      if (after.firstAW && !before.lastAW) wb.resolved = wb.wb ? `(?<!${WORD})` : `(?<=${WORD})`;
      else if (before.lastAW && !after.firstAW) wb.resolved = wb.wb ? `(?!${WORD})` : `(?=${WORD})`;
    }
    return seqInfo(items);
  }

  /** Reads quantifiers after the atom whose parts begin at `start`; handles lazy, possessive, nesting. */
  private quantifiers(flags: Flags, start: number, atomInfo: Info): Info {
    let quantified = false;
    let info = atomInfo;
    for (;;) {
      this.skipExtended(flags);
      const q = this.readQuantifier();
      if (q === undefined) return info;
      const body = this.parts.slice(start);
      const bodySure = info.sure;
      info = q.min === 0 ? { ...info, nullable: true, ch: undefined, lits: undefined, sure: undefined } : { ...info, ch: undefined, lits: info.ch !== undefined ? [info.ch] : info.lits };
      if (quantified) {
        this.wrap(start, '(?:', ')');
        body.unshift('(?:');
        body.push(')');
      }
      let suffix = q.text;
      let lazy = false;
      let possessive = false;
      const next = this.src[this.pos];
      if (next === '?') {
        this.pos++;
        suffix += '?';
        lazy = true;
      } else if (next === '+' && !q.interval) {
        // possessive: X*+ ≡ (?>X*)
        this.pos++;
        possessive = true;
      }
      this.parts.push(suffix);
      if (q.max !== 0 && q.max !== 1) this.markLoop(start, body, bodySure, q.min, q.max, lazy);
      if (possessive) this.atomicWrap(start);
      quantified = true;
    }
  }

  /**
   * A repeated atom with named groups inside that an iteration may leave unset: JS clears their
   * captures at each iteration, Oniguruma keeps them from the last iteration that set them. A
   * helper group around the loop tells where its iterations lie, for the fix after the match
   * (repeat.ts); the loop's body is kept to become a regex of one iteration.
   */
  private markLoop(start: number, body: Part[], sure: readonly GroupInfo[] | undefined, min: number, max: number, lazy: boolean): void {
    // names every iteration sets hold the last iteration's value in JS too
    if (!body.some((p) => opens(p) && p.open.kind === 'named' && !sure?.includes(p.open))) return;
    const all = this.newGroup('internal');
    this.parts.splice(start, 0, { open: all });
    this.parts.push(')');
    const inside = new Set(body.filter(opens).map((p) => p.open));
    const nested = this.loops.filter((l) => inside.has(l.all));
    this.loops = this.loops.filter((l) => !inside.has(l.all));
    this.loops.push({ all, body, min, max, lazy, nested });
  }

  /** Wraps parts[start..] as an atomic group: (?:(?=(X))\N), one quantifiable unit. */
  private atomicWrap(start: number): void {
    const g = this.newGroup('internal');
    this.parts.splice(start, 0, '(?:(?=', { open: g });
    this.parts.push('))', { ref: g }, ')');
  }

  private wrap(start: number, open: string, close: string): void {
    this.parts.splice(start, 0, open);
    this.parts.push(close);
  }

  /** A quantifier at pos, if any; max -1 means unbounded. */
  private readQuantifier(): { text: string; interval: boolean; min: number; max: number } | undefined {
    const c = this.src[this.pos];
    if (c === '*' || c === '+' || c === '?') {
      this.pos++;
      return { text: c, interval: false, min: c === '+' ? 1 : 0, max: c === '?' ? 1 : -1 };
    }
    if (c === '{') {
      const m = /^\{(\d*)(?:(,)(\d*))?\}/.exec(this.src.slice(this.pos));
      if (!m || (m[1] === '' && (m[2] === undefined || m[3] === ''))) return undefined; // literal brace
      this.pos += m[0].length;
      const lo = m[1] === '' ? '0' : m[1]!;
      const text = m[2] === undefined ? `{${lo}}` : `{${lo},${m[3]}}`;
      const max = m[2] === undefined ? Number(lo) : m[3] === '' ? -1 : Number(m[3]);
      return { text, interval: true, min: Number(lo), max };
    }
    return undefined;
  }

  /** Emits one atom; returns undefined when what was read cannot take a quantifier (flags, comments). */
  private atom(flags: Flags, depth: number): Info | undefined {
    const c = this.src[this.pos]!;
    switch (c) {
      case '(':
        return this.group(flags, depth);
      case '[': {
        this.pos++;
        const scanner = { src: this.src, pos: this.pos, ignoreCase: flags.i, patternName: this.patternName };
        try {
          const r = parseClass(scanner);
          this.pos = scanner.pos;
          this.emit(r.expr);
          return classIsAsciiWord(r.expr) ? AW : OPAQUE;
        } catch (e) {
          if (e instanceof UntranslatableError) this.fail(e.message);
          throw e;
        }
      }
      case '.':
        this.pos++;
        this.emit(flags.m ? '.' : '[^\\n]');
        return OPAQUE;
      case '^':
        this.pos++;
        this.emit('(?<![^\\n])');
        return ZERO;
      case '$':
        this.pos++;
        this.emit('(?![^\\n])');
        return ZERO;
      case '\\':
        this.pos++;
        return this.escape(flags);
      case '*':
      case '+':
      case '?':
        this.fail(`quantifier '${c}' with nothing to repeat`);
      // falls through (fail throws)
      case '{':
      case '}':
      case ']':
        this.pos++;
        this.emit('\\' + c);
        return OPAQUE;
      default: {
        const cp = this.src.codePointAt(this.pos)!;
        this.pos += cp > 0xffff ? 2 : 1;
        this.emit(cpLiteral(cp, flags.i));
        return this.literalInfo(String.fromCodePoint(cp), flags);
      }
    }
  }

  private literalInfo(ch: string, flags: Flags): Info {
    const base = ASCII_WORD.test(ch) ? AW : OPAQUE;
    return flags.i ? base : { ...base, ch };
  }

  private escape(flags: Flags): Info {
    const c = this.src[this.pos++];
    switch (c) {
      case undefined:
        this.fail('a trailing backslash');
      // falls through
      case 'A':
      case 'G':
        this.emit('(?<![\\s\\S])');
        return ZERO;
      case 'z':
        this.emit('(?![\\s\\S])');
        return ZERO;
      case 'Z':
        this.emit('(?=\\n?(?![\\s\\S]))');
        return ZERO;
      case 'b':
        this.emit({ wb: true });
        return ZERO;
      case 'B':
        this.emit({ wb: false });
        return ZERO;
      case 'w':
      case 'd':
        this.emit('\\' + c);
        return AW;
      case 'W':
      case 'D':
        this.emit('\\' + c);
        return OPAQUE;
      case 's':
        this.emit('[\\t\\n\\v\\f\\r ]');
        return OPAQUE;
      case 'S':
        this.emit('[^\\t\\n\\v\\f\\r ]');
        return OPAQUE;
      case 'h':
        this.emit('[0-9A-Fa-f]');
        return AW;
      case 'H':
        this.emit('[^0-9A-Fa-f]');
        return OPAQUE;
      case 'R':
        this.emit('(?:\\r\\n|[\\n\\v\\f\\r\\x85\\u2028\\u2029])');
        return OPAQUE;
      case 'p':
      case 'P':
        try {
          this.emit(`[${propertyEscape(this, c === 'P')}]`);
        } catch (e) {
          if (e instanceof UntranslatableError) this.fail(e.message);
          throw e;
        }
        return OPAQUE;
      case 't':
        this.emit('\\t');
        return OPAQUE;
      case 'n':
        this.emit('\\n');
        return OPAQUE;
      case 'r':
        this.emit('\\r');
        return OPAQUE;
      case 'f':
        this.emit('\\f');
        return OPAQUE;
      case 'v':
        this.emit('\\v');
        return OPAQUE;
      case 'a':
        this.emit('\\x07');
        return OPAQUE;
      case 'e':
        this.emit('\\x1b');
        return OPAQUE;
      case 'k': {
        const m = /^<([^>]+)>|^'([^']+)'/.exec(this.src.slice(this.pos));
        if (!m) this.fail('\\k without a group name');
        this.pos += m[0].length;
        const name = m[1] ?? m[2]!;
        if (/^-?\d+$/.test(name)) {
          const g = this.plainByNumber.get(Number(name));
          if (!g) this.fail(`backreference \\k<${name}> to a missing group`);
          this.emit({ ref: g });
          return OPAQUE;
        }
        const gs = this.namedByName.get(name);
        if (!gs) this.fail(`backreference \\k<${name}> to an undefined group`);
        if (gs.length > 1) this.fail(`backreference \\k<${name}> to a duplicated group name`);
        this.emit({ ref: gs[0]! });
        return OPAQUE;
      }
      case 'g':
        this.fail('subexpression call \\g<...>');
      // falls through
      case 'K':
        this.fail('\\K (keep)');
      // falls through
      case 'X':
        this.fail('\\X (extended grapheme cluster)');
      // falls through
      case 'y':
      case 'Y':
        this.fail(`\\${c} (grapheme boundary)`);
      // falls through
      case 'O':
        this.fail('\\O');
      // falls through
      default: {
        if (c >= '1' && c <= '9') {
          if (this.hasNamed) this.fail(`numbered backreference \\${c} in a regex with named groups`);
          // a backreference when such a group exists (Ruby rule), else an octal escape
          const m = /^\d*/.exec(this.src.slice(this.pos))!;
          const g = this.plainByNumber.get(Number(c + m[0]));
          if (g) {
            this.pos += m[0].length;
            this.emit({ ref: g });
            return OPAQUE;
          }
        }
        const cp = numericEscape(this, c);
        if (cp !== undefined) {
          this.emit(cpLiteral(cp, flags.i));
          return this.literalInfo(String.fromCodePoint(cp), flags);
        }
        // any other escaped char stands for itself
        const ch = String.fromCodePoint(this.src.codePointAt(this.pos - 1)!);
        if (ch.length === 2) this.pos++;
        this.emit(literal(ch, flags.i));
        return this.literalInfo(ch, flags);
      }
    }
  }

  /** `(` … `)` in all its Ruby forms. */
  private group(flags: Flags, depth: number): Info | undefined {
    const rest = this.src.slice(this.pos);
    const close = () => {
      if (this.src[this.pos] !== ')') this.fail(`unterminated group`);
      this.pos++;
    };
    if (!rest.startsWith('(?')) {
      this.pos++;
      if (this.hasNamed) {
        this.emit('(?:');
      } else {
        this.emit({ open: this.newGroup('plain') });
      }
      const info = this.alternation(flags, depth + 1);
      close();
      this.emit(')');
      return info;
    }
    // (?#comment)
    if (rest.startsWith('(?#')) {
      const end = this.src.indexOf(')', this.pos);
      if (end < 0) this.fail('unterminated comment group');
      this.pos = end + 1;
      return undefined;
    }
    const simple: Record<string, string> = { '(?:': '(?:', '(?=': '(?=', '(?!': '(?!', '(?<=': '(?<=', '(?<!': '(?<!' };
    for (const k of ['(?<=', '(?<!', '(?:', '(?=', '(?!']) {
      if (rest.startsWith(k)) {
        this.pos += k.length;
        this.emit(simple[k]!);
        const look = k !== '(?:';
        if (look) this.lookDepth++;
        const info = this.alternation(flags, depth + 1);
        if (look) this.lookDepth--;
        close();
        this.emit(')');
        return look ? ZERO : info;
      }
    }
    if (rest.startsWith('(?>')) {
      this.pos += 3;
      const start = this.parts.length;
      this.emit('(?:');
      const info = this.alternation(flags, depth + 1);
      close();
      this.emit(')');
      this.atomicWrap(start);
      return info;
    }
    const named = /^\(\?(?:<([^>=!][^>]*)>|'([^']+)')/.exec(rest);
    if (named) {
      this.pos += named[0].length;
      const name = named[1] ?? named[2]!;
      const g = this.newGroup('named', name);
      this.emit({ open: g });
      const info = this.alternation(flags, depth + 1);
      close();
      this.emit(')');
      return { ...info, sure: union(info.sure, [g]) };
    }
    const flagGroup = /^\(\?([imx]*)(?:-([imx]*))?(:|\))/.exec(rest);
    if (flagGroup && (flagGroup[1] || flagGroup[2] !== undefined)) {
      this.pos += flagGroup[0].length;
      const next: Flags = { ...flags };
      for (const f of flagGroup[1]!) next[f as keyof Flags] = true;
      for (const f of flagGroup[2] ?? '') next[f as keyof Flags] = false;
      if (flagGroup[3] === ':') {
        this.emit('(?:');
        const info = this.alternation(next, depth + 1);
        close();
        this.emit(')');
        return info;
      }
      // (?i) without ':' applies to the rest of the enclosing group
      Object.assign(flags, next);
      return undefined;
    }
    if (rest.startsWith('(?~')) this.fail('the absent operator (?~...)');
    if (rest.startsWith('(?(')) this.fail('a conditional group (?(cond)...)');
    this.fail(`the group syntax '${rest.slice(0, 4)}'`);
  }
}

/**
 * JS source of parts; `num` gives a group's number (undefined: the group is not in this source,
 * so a backreference to it cannot be written: the result is undefined).
 */
function emitParts(parts: readonly Part[], num: (g: GroupInfo) => number | undefined): string | undefined {
  let out = '';
  for (const p of parts) {
    if (typeof p === 'string') out += p;
    else if ('open' in p) out += '(';
    else if ('wb' in p) out += p.resolved ?? (p.wb ? WORD_BOUNDARY : NOT_WORD_BOUNDARY);
    else {
      const n = num(p.ref);
      if (n === undefined) return undefined;
      out += `(?:\\${n})`;
    }
  }
  return out;
}

/**
 * The fix's data for one loop, group numbers from `num` (the regex the loop sits in). Its body
 * becomes a regex of its own, `(BODY)`: group 1 the iteration, the body's groups from 2 in order.
 * Undefined when the body refers back to a group outside it (no regex of the body alone exists).
 */
function repeatLoop(l: LoopRec, num: (g: GroupInfo) => number): RepeatLoop | undefined {
  const local = new Map<GroupInfo, number>();
  let n = 1;
  for (const p of l.body) if (opens(p)) local.set(p.open, ++n);
  const src = emitParts(l.body, (g) => local.get(g));
  if (src === undefined) return undefined;
  const map: number[] = new Array<number>(n + 1).fill(0);
  let look = false;
  for (const [g, j] of local) {
    if (g.kind !== 'named') continue;
    map[j] = num(g);
    if (g.inLook) look = true;
  }
  const loops: RepeatLoop[] = [];
  for (const inner of l.nested) {
    const r = repeatLoop(inner, (g) => local.get(g)!);
    if (r !== undefined) loops.push(r);
  }
  return { all: num(l.all), min: l.min, max: l.max, lazy: l.lazy, body: `(${src})`, map, inner: map.filter((g) => g !== 0), loops, look };
}

/** True when the Oniguruma source declares a named group (then plain groups do not capture). */
function hasNamedGroups(src: string): boolean {
  let inClass = 0;
  for (let i = 0; i < src.length; i++) {
    const c = src[i];
    if (c === '\\') {
      i++;
      continue;
    }
    if (c === '[') inClass++;
    else if (c === ']' && inClass > 0) inClass--;
    else if (inClass === 0 && c === '(' && src[i + 1] === '?') {
      if ((src[i + 2] === '<' && src[i + 3] !== '=' && src[i + 3] !== '!') || src[i + 2] === "'") return true;
    }
  }
  return false;
}

/** Translates an Oniguruma (Ruby) regex source; `patternName` names it in errors. */
export function translate(src: string, patternName = 'pattern'): Translation {
  const t = new Translator(src, hasNamedGroups(src), patternName).run();
  try {
    new RegExp(t.source, t.flags);
  } catch (e) {
    throw new UntranslatableError(`${patternName}: the translated regex does not compile: ${(e as Error).message}`);
  }
  return t;
}
