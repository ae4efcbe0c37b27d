/**
 * Captures inside a repeated group, Oniguruma's way.
 *
 * In Oniguruma (and Perl) a group inside a repeated group keeps the value of the last iteration in
 * which it took part: `(?:(?<a>a)|(?<b>b))+` on `ab` gives a = "a", b = "b". JavaScript clears the
 * captures of the repeated atom at the start of each iteration, so it gives a = undefined, b = "b".
 * The translation cannot say "do not reset" in a JS regex, so it fixes the result instead, only
 * when it can differ: a repeated group with named groups inside took part, and one of those names is
 * unset (a name set in the last iteration has its last value already).
 *
 * The fix replays the loop's iterations with a regex of one iteration (the loop's body, translated
 * on its own), from where the loop started to where it ended in the match, and takes each name from
 * the last iteration that set it. The first path the loop can take on its own (each iteration's
 * first non-empty match, as many as fit) is the one the whole regex took whenever it ends where the
 * loop ended in the match: the whole regex picks the first loop path that lets the rest match, and
 * any path before it ending at the same place would have let the rest match too. When the replay
 * ends elsewhere (the rest of the regex made the loop give something back) or the loop is lazy, the
 * iterations are peeled from the end instead: a regex of the loop constrained to end at the known
 * place gives its last iteration, then again for what is before it. That regex depends on the
 * place, so it is built for the occasion (rare: a loop that backtracks and lacks a name).
 *
 * The replay runs its iterations without indices (`d` costs an offsets array per match): on the
 * pipeline thread only the strings are needed, once the loop's start is known (from its text, when
 * that occurs once in the line; else the regex runs once more with indices); for the match
 * worker's offsets a name's string that occurs once in its iteration's text tells where it lies.
 * Loops nested in a body are fixed inside each replayed iteration first, by the same rule.
 *
 * The data below is plain (it goes to the match worker too); group numbers are those of the regex
 * the loop sits in.
 */

/** One repeated group that holds named groups. */
export interface RepeatLoop {
  /** Group of the enclosing regex spanning all the loop's iterations. */
  all: number;
  min: number;
  /** -1: unbounded. */
  max: number;
  lazy: boolean;
  /** One iteration as a regex source (flags `su`): `(BODY)`, group 1 the iteration, 2.. the body's groups. */
  body: string;
  /** Per body group number: the enclosing regex's group it stands for (named groups), else 0. */
  map: number[];
  /** The enclosing regex's named groups inside the body (nested loops' included). */
  inner: number[];
  /** Loops inside the body, in the body regex's numbers. */
  loops: RepeatLoop[];
  /** Some named group of the body sits in a lookaround (it may lie outside the iteration's text). */
  look: boolean;
}

type Span = [number, number] | undefined;
type Spans = Span[];

interface Compiled {
  loop: RepeatLoop;
  /** The iteration regex with indices (`d`), and without (cheaper: no offsets array per match). */
  step: RegExp | undefined;
  plain: RegExp | undefined;
  nested: Compiled[];
  /**
   * A captured string found once in its iteration's text tells its offsets: true when no nested
   * loop and no lookaround can put a group elsewhere.
   */
  locatable: boolean;
}

function prepare(loops: readonly RepeatLoop[]): Compiled[] {
  return loops.map((loop) => ({ loop, step: undefined, plain: undefined, nested: prepare(loop.loops), locatable: loop.loops.length === 0 && !loop.look }));
}

/** The loop's iteration regexes, compiled on first use. */
function stepOf(c: Compiled): RegExp {
  return (c.step ??= new RegExp(c.loop.body, 'suyd'));
}

function plainOf(c: Compiled): RegExp {
  return (c.plain ??= new RegExp(c.loop.body, 'suy'));
}

/** Where `v` lies in `text` (at `base`) when it occurs there exactly once. */
function locate(text: string, v: string, base: number): Span {
  if (v.length === 0) return undefined;
  const k = text.indexOf(v);
  return k >= 0 && k === text.lastIndexOf(v) ? [base + k, base + k + v.length] : undefined;
}

/** Whether a loop took part with some text and one of its names is unset. */
function loopNeedsFix(loop: RepeatLoop, spans: Spans): boolean {
  const all = spans[loop.all];
  if (all === undefined || all[0] === all[1]) return false;
  const inner = loop.inner;
  for (let i = 0; i < inner.length; i++) if (spans[inner[i]!] === undefined) return true;
  return false;
}

function fixLoops(list: readonly Compiled[], input: string, spans: Spans): void {
  for (let i = 0; i < list.length; i++) {
    const c = list[i]!;
    // names all set: each has its value from the loop's last iteration, which is the last one
    if (!loopNeedsFix(c.loop, spans)) continue;
    const all = spans[c.loop.all]!;
    const latest = (!c.loop.lazy && replay(c, input, all[0], all[1])) || peel(c, input, all[0], all[1]);
    if (latest === undefined) continue; // cannot happen for a match the regex made; keep JS's values
    const inner = c.loop.inner;
    for (let k = 0; k < inner.length; k++) spans[inner[k]!] = latest[inner[k]!];
  }
}

/** Takes one iteration's named values (body numbers → enclosing numbers), later ones replacing earlier. */
function collect(c: Compiled, ri: Spans, latest: Spans, keepExisting: boolean): void {
  const map = c.loop.map;
  for (let j = 2; j < map.length; j++) {
    const g = map[j]!;
    if (g === 0) continue;
    const s = ri[j];
    if (s === undefined) continue;
    if (keepExisting && latest[g] !== undefined) continue;
    latest[g] = s;
  }
}

/**
 * Iterations one after the other from `start`; undefined unless they end exactly at `end`. Each
 * runs without indices; a name's offsets come from where its string lies in the iteration's text
 * when it lies there once, else (or when the body is not locatable) the iteration runs again with them.
 */
function replay(c: Compiled, input: string, start: number, end: number): Spans | undefined {
  const plain = plainOf(c);
  const map = c.loop.map;
  const max = c.loop.max;
  const latest: Spans = [];
  let pos = start;
  let n = 0;
  while (pos < end && (max < 0 || n < max)) {
    plain.lastIndex = pos;
    const r = plain.exec(input);
    if (r === null) break;
    const text = r[0];
    if (text.length === 0) break; // an empty iteration ends a loop
    let exact = c.locatable;
    if (exact) {
      for (let j = 2; j < map.length; j++) {
        const g = map[j]!;
        const v = r[j];
        if (g === 0 || v === undefined) continue;
        const s = locate(text, v, pos);
        if (s === undefined) {
          exact = false;
          break;
        }
        latest[g] = s;
      }
    }
    if (!exact) {
      const re = stepOf(c);
      re.lastIndex = pos;
      const ri = re.exec(input)!.indices as unknown as Spans;
      if (c.nested.length > 0) fixLoops(c.nested, input, ri);
      collect(c, ri, latest, false);
    }
    pos += text.length;
    n++;
  }
  return pos === end && n >= c.loop.min ? latest : undefined;
}

/** The same replay for strings only (a match without indices): the last string of each name. */
function replayStrings(c: Compiled, input: string, start: number, end: number): (string | undefined)[] | undefined {
  const plain = plainOf(c);
  const map = c.loop.map;
  const max = c.loop.max;
  const latest: (string | undefined)[] = [];
  let pos = start;
  let n = 0;
  while (pos < end && (max < 0 || n < max)) {
    plain.lastIndex = pos;
    const r = plain.exec(input);
    if (r === null) break;
    const len = r[0].length;
    if (len === 0) break;
    for (let j = 2; j < map.length; j++) {
      const g = map[j]!;
      if (g !== 0 && r[j] !== undefined) latest[g] = r[j];
    }
    pos += len;
    n++;
  }
  return pos === end && n >= c.loop.min ? latest : undefined;
}

/** Iterations from the last one back, each from a regex of the loop constrained to end there. */
function peel(c: Compiled, input: string, start: number, end: number): Spans | undefined {
  const { min, max, lazy } = c.loop;
  const latest: Spans = [];
  let to = end;
  for (let n = 0; to > start; n++) {
    if (max >= 0 && n >= max) return undefined;
    const lo = Math.max(min - n, 1);
    if (max >= 0 && max - n < lo) return undefined;
    const hi = max < 0 ? '' : String(max - n);
    const re = new RegExp(`(?:${c.loop.body}){${lo},${hi}}${lazy ? '?' : ''}(?=[\\s\\S]{${input.length - to}}(?![\\s\\S]))`, 'suyd');
    re.lastIndex = start;
    const r = re.exec(input);
    if (r === null) return undefined;
    const ri = r.indices as unknown as Spans;
    const it = ri[1]!;
    if (it[1] !== to || it[0] === to) return undefined;
    if (c.nested.length > 0) fixLoops(c.nested, input, ri);
    collect(c, ri, latest, true);
    to = it[0];
  }
  return latest;
}

/** The fix for one translated regex: its top-level loops. */
export class RepeatFixer {
  private readonly top: Compiled[];
  /** Every named group some loop sets. */
  private readonly inner: number[];
  private withIndices: RegExp | undefined;

  constructor(
    loops: readonly RepeatLoop[],
    private readonly source: string,
    private readonly flags: string,
  ) {
    this.top = prepare(loops);
    this.inner = [...new Set(loops.flatMap((l) => l.inner))];
  }

  /** Fixes a match's offsets in place (`d` flag indices, as the match worker has them). */
  fixIndices(input: string, indices: Spans): void {
    fixLoops(this.top, input, indices);
  }

  /**
   * Fixes a match's strings in place. A loop without nested loops whose text occurs once in the
   * input is replayed from there without indices; otherwise the regex runs once more, with
   * indices, and the loops are fixed by their offsets.
   */
  fixMatch(input: string, m: RegExpExecArray): void {
    let cheap = true;
    let needed = false;
    for (let i = 0; i < this.top.length; i++) {
      const c = this.top[i]!;
      const loop = c.loop;
      const all = m[loop.all];
      if (all === undefined || all.length === 0) continue;
      const inner = loop.inner;
      let unset = false;
      for (let k = 0; k < inner.length && !unset; k++) unset = m[inner[k]!] === undefined;
      if (!unset) continue;
      needed = true;
      // (strings alone do for a body with lookarounds, not with nested loops: they need offsets)
      if (!cheap || c.nested.length > 0 || loop.lazy) {
        cheap = false;
        continue;
      }
      const at = input.indexOf(all);
      const latest = at >= 0 && at === input.lastIndexOf(all) ? replayStrings(c, input, at, at + all.length) : undefined;
      if (latest === undefined) {
        cheap = false;
        continue;
      }
      for (let k = 0; k < inner.length; k++) m[inner[k]!] = latest[inner[k]!] as string;
    }
    if (!needed || cheap) return;
    const re = (this.withIndices ??= new RegExp(this.source, this.flags.replace(/[gyd]/g, '') + 'yd'));
    re.lastIndex = m.index;
    const r = re.exec(input);
    if (r === null || r[0] !== m[0]) return;
    const spans = r.indices as unknown as Spans;
    fixLoops(this.top, input, spans);
    for (const g of this.inner) {
      const s = spans[g];
      m[g] = s === undefined ? (undefined as unknown as string) : input.slice(s[0], s[1]);
    }
  }
}
