/**
 * A static check that a translated grok regex cannot run away in V8's backtracking engine, so it
 * can be matched on the pipeline thread without the timeout guard.
 *
 * Backtracking explodes when the matcher can consume the same text along many paths and tries them
 * all before failing. The check builds the regex's position automaton (Glushkov: one position per
 * character-consuming atom, `follow` edges between them, loops of `*`, `+`, `{n,m}` as edges back)
 * and proves two things:
 *
 * 1. No exponential blow-up. Inside every unbounded repetition of a group (`(?:…)*`, `(?:…){2,}`)
 *    the body must be *strongly deterministic*: from any position the next character selects at
 *    most one next position, and no edge is produced twice (that is what `(a+)+` does: the inner and
 *    the outer loop both lead from `a` to `a`). Then each way through the loop is the only way, and
 *    a failure costs at most one pass per start. A bounded repetition of a group whose body holds no
 *    unbounded repetition (IPv4's `(?:…\.){3}`) is accepted when its number of ways is bounded by a
 *    small constant.
 * 2. How many ambiguous loops lie outside those bodies: a one-character loop (`.*?` of DATA)
 *    whose character set overlaps what may follow it makes the matcher try every split, a cost
 *    linear in the line per start position; two such loops (`%{DATA} %{DATA}`) multiply. The count
 *    is the degree of the polynomial a hostile line can cost; the filter decides from it how long a
 *    value may be matched without the guard (see INLINE_LIMITS in index.ts).
 *
 * The translator's atomic-group emulation `(?:(?=(X))\N)` counts as one position: X never
 * backtracks once matched (its body is checked on its own). Lookarounds consume nothing; their
 * bodies are checked on their own. Any other backreference is a position that may match anything.
 * Character sets are compared on every BMP code point and a sample of astral ones (the translated
 * classes are built from ranges and Unicode properties, so a sample finds the astral overlaps).
 *
 * Anything the parser does not understand makes the pattern "unproven": it then runs guarded, as
 * before. The check is conservative: some safe patterns go to the guard, no unsafe one is let out.
 */

type Node =
  | { t: 'set'; src: string }
  | { t: 'seq'; items: Node[] }
  | { t: 'alt'; alts: Node[] }
  | { t: 'rep'; body: Node; min: number; max: number }
  | { t: 'zero'; body?: Node }
  | { t: 'atomic'; body: Node }
  | { t: 'any' };

class Unsupported extends Error {}

/** Parses the subset of JS regex syntax (flags `su`) the translator emits. */
class Parser {
  pos = 0;
  /** Group numbers opened by an atomic emulation `(?=(`, keyed by JS group number. */
  private groupCount = 0;
  constructor(private readonly src: string) {}

  parse(): Node {
    const n = this.alternation();
    if (this.pos !== this.src.length) throw new Unsupported(`unexpected ${this.src[this.pos]} at ${this.pos}`);
    return n;
  }

  private alternation(): Node {
    const alts = [this.sequence()];
    while (this.src[this.pos] === '|') {
      this.pos++;
      alts.push(this.sequence());
    }
    return alts.length === 1 ? alts[0]! : { t: 'alt', alts };
  }

  private sequence(): Node {
    const items: Node[] = [];
    while (this.pos < this.src.length && this.src[this.pos] !== '|' && this.src[this.pos] !== ')') {
      let atom = this.atom();
      for (;;) {
        const q = this.quantifier();
        if (q === undefined) break;
        atom = { t: 'rep', body: atom, min: q.min, max: q.max };
      }
      items.push(atom);
    }
    return items.length === 1 ? items[0]! : { t: 'seq', items };
  }

  private quantifier(): { min: number; max: number } | undefined {
    const s = this.src;
    const c = s[this.pos];
    let q: { min: number; max: number } | undefined;
    if (c === '*') q = { min: 0, max: Infinity };
    else if (c === '+') q = { min: 1, max: Infinity };
    else if (c === '?') q = { min: 0, max: 1 };
    if (q !== undefined) this.pos++;
    else if (c === '{') {
      const m = /^\{(\d+)(?:(,)(\d*))?\}/.exec(s.slice(this.pos, this.pos + 24));
      if (!m) throw new Unsupported('brace');
      this.pos += m[0].length;
      const min = Number(m[1]);
      q = { min, max: m[2] === undefined ? min : m[3] === '' ? Infinity : Number(m[3]) };
    } else return undefined;
    if (s[this.pos] === '?') this.pos++; // lazy: the same paths, tried in another order
    return q;
  }

  private atom(): Node {
    const s = this.src;
    const c = s[this.pos]!;
    if (c === '(') return this.group();
    if (c === '[') return this.charClass();
    if (c === '\\') return this.escape();
    if (c === '^' || c === '$') {
      this.pos++;
      return { t: 'zero' };
    }
    if (c === '.') {
      this.pos++;
      return { t: 'set', src: '.' };
    }
    if ('*+?{}'.includes(c)) throw new Unsupported(`quantifier without atom at ${this.pos}`);
    const cp = s.codePointAt(this.pos)!;
    this.pos += cp > 0xffff ? 2 : 1;
    return { t: 'set', src: literal(cp) };
  }

  private group(): Node {
    const s = this.src;
    this.pos++;
    if (s.startsWith('?:', this.pos)) {
      this.pos += 2;
      return this.closeGroup(this.alternation());
    }
    if (s.startsWith('?=', this.pos) || s.startsWith('?!', this.pos) || s.startsWith('?<=', this.pos) || s.startsWith('?<!', this.pos)) {
      const ahead = s[this.pos + 1] === '=' || s[this.pos + 1] === '!';
      this.pos += ahead ? 2 : 3;
      // the translator's atomic group: (?=(X)) directly followed by \N (optionally in (?:…))
      if (s.startsWith('?=', this.pos - 2) && s[this.pos] === '(' && s[this.pos + 1] !== '?') {
        const save = this.pos;
        this.pos++;
        const n = ++this.groupCount;
        const body = this.closeGroup(this.alternation());
        if (s[this.pos] === ')') {
          this.pos++;
          for (const ref of [`(?:\\${n})`, `\\${n}`]) {
            if (s.startsWith(ref, this.pos) && !/\d/.test(s[this.pos + ref.length] ?? '')) {
              this.pos += ref.length;
              return { t: 'atomic', body };
            }
          }
        }
        // a plain lookahead with a capture: parse it again as one
        this.pos = save;
        this.groupCount--;
      }
      return { t: 'zero', body: this.closeGroup(this.alternation()) };
    }
    if (s.startsWith('?<', this.pos)) {
      const end = s.indexOf('>', this.pos);
      if (end < 0) throw new Unsupported('group name');
      this.pos = end + 1;
    } else if (s[this.pos] === '?') throw new Unsupported(`group ${s.slice(this.pos, this.pos + 3)}`);
    this.groupCount++;
    return this.closeGroup(this.alternation());
  }

  private closeGroup(n: Node): Node {
    if (this.src[this.pos] !== ')') throw new Unsupported('unclosed group');
    this.pos++;
    return n;
  }

  private charClass(): Node {
    const s = this.src;
    const start = this.pos;
    this.pos++;
    if (s[this.pos] === '^') this.pos++;
    if (s[this.pos] === ']') this.pos++;
    while (this.pos < s.length && s[this.pos] !== ']') {
      if (s[this.pos] === '\\') {
        this.pos++;
        if (s[this.pos] === 'p' || s[this.pos] === 'P' || s[this.pos] === 'u') {
          if (s[this.pos + 1] === '{') this.pos = s.indexOf('}', this.pos) + 1;
          else this.pos += s[this.pos] === 'u' ? 5 : 2;
          continue;
        }
      }
      this.pos++;
    }
    if (s[this.pos] !== ']') throw new Unsupported('unclosed class');
    this.pos++;
    return { t: 'set', src: s.slice(start, this.pos) };
  }

  private escape(): Node {
    const s = this.src;
    const start = this.pos;
    const c = s[this.pos + 1];
    if (c === undefined) throw new Unsupported('trailing backslash');
    if (c === 'b' || c === 'B') {
      this.pos += 2;
      return { t: 'zero' };
    }
    if (/[1-9]/.test(c) || c === 'k') {
      // a backreference: matches text decided elsewhere, anything as far as this check knows
      this.pos += 2;
      if (c === 'k') this.pos = s.indexOf('>', this.pos) + 1;
      else while (/\d/.test(s[this.pos] ?? '')) this.pos++;
      return { t: 'any' };
    }
    if (c === 'p' || c === 'P') {
      if (s[this.pos + 2] !== '{') throw new Unsupported('property');
      this.pos = s.indexOf('}', this.pos) + 1;
    } else if (c === 'u') {
      this.pos += s[this.pos + 2] === '{' ? s.indexOf('}', this.pos) + 1 - this.pos : 6;
    } else if (c === 'x') this.pos += 4;
    else if (c === 'c') this.pos += 3;
    else if (c === '0') this.pos += 2;
    else this.pos += 2;
    return { t: 'set', src: s.slice(start, this.pos) };
  }
}

function literal(cp: number): string {
  return `\\u{${cp.toString(16)}}`;
}

// ---- character sets: does any character belong to both? ----

const ASTRAL_SAMPLE: number[] = [];
for (let cp = 0x10000; cp <= 0x10ffff; cp += 0x3f1) ASTRAL_SAMPLE.push(cp);
const setRegex = new Map<string, RegExp>();
const overlapCache = new Map<string, boolean>();

function setRe(src: string): RegExp {
  let re = setRegex.get(src);
  if (re === undefined) {
    re = src === '' ? /[^\s\S]/su : new RegExp(`^(?:${src})$`, 'su');
    setRegex.set(src, re);
  }
  return re;
}

function overlaps(a: string, b: string): boolean {
  // '' is the set of an atomic group that consumes nothing: it shares no character
  if (a === '' || b === '') return false;
  if (a === b) return true;
  const key = a < b ? `${a}\u0000${b}` : `${b}\u0000${a}`;
  let r = overlapCache.get(key);
  if (r !== undefined) return r;
  const ra = setRe(a);
  const rb = setRe(b);
  r = false;
  for (let cp = 0; cp <= 0xffff && !r; cp++) {
    if (cp >= 0xd800 && cp <= 0xdfff) continue;
    const ch = String.fromCharCode(cp);
    if (ra.test(ch) && rb.test(ch)) r = true;
  }
  for (let i = 0; i < ASTRAL_SAMPLE.length && !r; i++) {
    const ch = String.fromCodePoint(ASTRAL_SAMPLE[i]!);
    if (ra.test(ch) && rb.test(ch)) r = true;
  }
  overlapCache.set(key, r);
  return r;
}

// ---- the position automaton ----

interface Pos {
  set: string;
  /** Set by a one-position loop over a single character set (`x*`, `x{2,}`). */
  loop: boolean;
}

interface Frag {
  first: number[];
  last: number[];
  nullable: boolean;
}

class Automaton {
  readonly pos: Pos[] = [];
  /** Follow edges as produced, duplicates kept (a duplicate is an ambiguity). */
  readonly edges: [number, number][] = [];
  /** Bodies checked on their own (lookarounds, atomic groups). */
  readonly inner: Node[] = [];
  /** Repetitions of a group, checked on their own. */
  readonly reps: Extract<Node, { t: 'rep' }>[] = [];

  build(n: Node): Frag {
    switch (n.t) {
      case 'set':
      case 'any':
        return this.position(n.t === 'set' ? n.src : '.');
      case 'atomic': {
        this.inner.push(n.body);
        const a = new Automaton();
        const f = a.build(n.body);
        const set = f.first.map((p) => a.pos[p]!.set).join('|');
        return f.nullable ? { ...this.position(set), nullable: true } : this.position(set);
      }
      case 'zero':
        if (n.body !== undefined) this.inner.push(n.body);
        return { first: [], last: [], nullable: true };
      case 'alt': {
        const fs = n.alts.map((a) => this.build(a));
        return { first: fs.flatMap((f) => f.first), last: fs.flatMap((f) => f.last), nullable: fs.some((f) => f.nullable) };
      }
      case 'seq': {
        let acc: Frag = { first: [], last: [], nullable: true };
        for (const it of n.items) {
          const f = this.build(it);
          for (const p of acc.last) for (const q of f.first) this.edges.push([p, q]);
          acc = {
            first: acc.nullable ? [...acc.first, ...f.first] : acc.first,
            last: f.nullable ? [...acc.last, ...f.last] : f.last,
            nullable: acc.nullable && f.nullable,
          };
        }
        return acc;
      }
      case 'rep': {
        if (n.max === 0) return { first: [], last: [], nullable: true };
        if (n.body.t !== 'set' && n.body.t !== 'any' && n.max > 1) this.reps.push(n);
        const start = this.pos.length;
        const f = this.build(n.body);
        if (n.max > 1) {
          for (const p of f.last) for (const q of f.first) this.edges.push([p, q]);
          if (this.pos.length === start + 1 && n.max === Infinity) this.pos[start]!.loop = true;
        }
        return { first: f.first, last: f.last, nullable: f.nullable || n.min === 0 };
      }
    }
  }

  private position(set: string): Frag {
    const p = this.pos.length;
    this.pos.push({ set, loop: false });
    return { first: [p], last: [p], nullable: false };
  }

  /**
   * One-character loops where the next character does not decide between going on and leaving
   * (its set overlaps a position after the loop, or the loop edge is there twice): the matcher
   * tries each length there. Overlaps among the exits only are bounded by the pattern's size.
   */
  loopsThatMayStop(): number[] {
    const out: number[] = [];
    const follow = this.followMap();
    for (const [p, qs] of follow) {
      if (!this.pos[p]!.loop) continue;
      let self = 0;
      let clash = false;
      for (const q of qs) {
        if (q === p) self++;
        else if (overlaps(this.pos[p]!.set, this.pos[q]!.set)) clash = true;
      }
      if (clash || self > 1) out.push(p);
    }
    return out;
  }

  private followMap(): Map<number, number[]> {
    const follow = new Map<number, number[]>();
    for (const [p, q] of this.edges) {
      let l = follow.get(p);
      if (l === undefined) follow.set(p, (l = []));
      l.push(q);
    }
    return follow;
  }

  /** Positions whose next character does not decide the next position (overlap or a repeated edge). */
  ambiguous(first: number[]): { points: Set<number>; startAmbiguous: boolean } {
    const follow = this.followMap();
    const points = new Set<number>();
    for (const [p, qs] of follow) if (!deterministic(qs, this.pos)) points.add(p);
    return { points, startAmbiguous: !deterministic(first, this.pos) };
  }
}

function deterministic(qs: readonly number[], pos: readonly Pos[]): boolean {
  for (let i = 0; i < qs.length; i++) {
    for (let j = i + 1; j < qs.length; j++) {
      if (qs[i] === qs[j]) return false;
      if (overlaps(pos[qs[i]!]!.set, pos[qs[j]!]!.set)) return false;
    }
  }
  return true;
}

/** Upper bound of the ways a node can match one text, or Infinity when not bounded by a constant. */
function ways(n: Node): number {
  switch (n.t) {
    case 'set':
    case 'any':
    case 'zero':
    case 'atomic':
      return 1;
    case 'alt':
      return n.alts.reduce((s, a) => s + ways(a), 0);
    case 'seq':
      return n.items.reduce((s, a) => s * ways(a), 1);
    case 'rep': {
      if (n.max === Infinity) return Infinity;
      const w = ways(n.body);
      // each count from min to max is one more way to split the text
      return Math.pow(w, n.max) * (n.max - n.min + 1);
    }
  }
}

/** Whether a node contains an unbounded repetition (outside atomic groups and lookarounds). */
function unbounded(n: Node): boolean {
  switch (n.t) {
    case 'rep':
      return n.max === Infinity || unbounded(n.body);
    case 'seq':
      return n.items.some(unbounded);
    case 'alt':
      return n.alts.some(unbounded);
    default:
      return false;
  }
}

const MAX_BOUNDED_WAYS = 10_000;

export interface BacktrackVerdict {
  /** No exponential backtracking (point 1 above). */
  safe: boolean;
  /** Ambiguous one-character loops in sequence (point 2), the largest over the regex and its inner bodies. */
  loops: number;
  /** Why not safe, for the log and the tests. */
  reason?: string;
}

/** Checks one node as a regex of its own: repetitions of groups and inner bodies; counts ambiguous loops. */
function check(n: Node, out: { loops: number }): string | undefined {
  const a = new Automaton();
  a.build(n);
  for (const body of a.inner) {
    const r = check(body, out);
    if (r !== undefined) return r;
  }
  for (const rep of a.reps) {
    if (rep.max !== Infinity && !unbounded(rep.body) && ways(rep) <= MAX_BOUNDED_WAYS) continue;
    // the repetition alone, its loop included: it must be strongly deterministic
    const ra = new Automaton();
    const rf = ra.build(rep);
    const { points, startAmbiguous } = ra.ambiguous(rf.first);
    if (startAmbiguous || points.size > 0) return 'a repeated group can match the same text in more than one way';
  }
  out.loops = Math.max(out.loops, a.loopsThatMayStop().length);
  return undefined;
}

const verdicts = new Map<string, BacktrackVerdict>();

/** Whether the JS regex source (flags `su`, as the translator emits it) is proven unable to run away. */
export function provenSafe(source: string): BacktrackVerdict {
  // the verdict depends on structure only: patterns that differ in their field names share it
  const key = source.replace(/\(\?<[^=!>][^>]*>/g, '(');
  let v = verdicts.get(key);
  if (v !== undefined) return v;
  try {
    const out = { loops: 0 };
    const reason = check(new Parser(source).parse(), out);
    v = reason === undefined ? { safe: true, loops: out.loops } : { safe: false, loops: out.loops, reason };
  } catch (e) {
    if (!(e instanceof Unsupported)) throw e;
    v = { safe: false, loops: 0, reason: `not analysed: ${e.message}` };
  }
  verdicts.set(key, v);
  return v;
}
