import v8 from 'node:v8';

/**
 * The key=value scanner. Logstash's kv builds one regex and calls Ruby's String#scan with it; a
 * backtracking engine can spend quadratic or exponential time on hostile lines, which is why
 * Logstash needs a timeout. This scanner walks the text once instead, reproducing what that regex
 * matches:
 *
 *   key    = one or more of: a backslash and any character but a newline, or a character that is
 *            neither a value_split nor a field_split character
 *   split  = a value_split character (lenient whitespace: with optional spaces around it)
 *   value  = "…" | '…' | (…) | […] | <…>  (brackets when include_brackets) — each followed by a
 *            field split or the end of a line — or else the characters up to the next field split
 *   then a field_split character (consumed) or the end of a line.
 *
 * With field_split_pattern / value_split_pattern the split tests are those regexes, tried at single
 * positions (sticky), so a user pattern can cost at most its own match time per character.
 */
export interface Splitters {
  /** Is the character at i a field separator? Returns the separator's length, or 0. */
  fieldSplitAt(text: string, i: number): number;
  /** Length of a value separator (with lenient spaces) at i, or -1. */
  valueSplitAt(text: string, i: number): number;
  /** Does a key have to stop at i (a value or field separator starts there)? */
  keyStopAt(text: string, i: number): boolean;
  /** Does an unquoted value have to stop at i? */
  valueStopAt(text: string, i: number): boolean;
  /** Quick test: can the text hold a pair at all? */
  hasValueSplit(text: string): boolean;
  /**
   * Whether a separator starting at a backslash ends a key or value before the backslash can
   * escape anything (true for split patterns, so `\\r\\n` splits on a literal backslash-r-backslash-n).
   */
  readonly stopBeforeEscape?: boolean;
  /** Called when a scan starts (time limits). */
  begin?(): void;
}

export type Pair = (key: string, value: string | undefined) => void;

const BACKSLASH = 92;
const NEWLINE = 10;

const QUOTES: readonly (readonly [string, string])[] = [
  ['"', '"'],
  ["'", "'"],
];
const BRACKETS: readonly (readonly [string, string])[] = [
  ['(', ')'],
  ['[', ']'],
  ['<', '>'],
];

/** Length of an escape unit at i (backslash + a character that is not a newline), else 0. */
function escapeAt(text: string, i: number): number {
  return text.charCodeAt(i) === BACKSLASH && i + 1 < text.length && text.charCodeAt(i + 1) !== NEWLINE ? 2 : 0;
}

export class ScanTimeout extends Error {}

export function makeScanner(sp: Splitters, includeBrackets: boolean): (text: string, emit: Pair) => void {
  const wrappers = includeBrackets ? [...QUOTES, ...BRACKETS] : QUOTES;
  const stopFirst = sp.stopBeforeEscape === true;

  /** After a value ends at i: a field split (consumed) or end of line. Returns the match end or -1. */
  const endAt = (text: string, i: number): number => {
    if (i >= text.length) return i;
    const fs = sp.fieldSplitAt(text, i);
    if (fs > 0) return i + fs;
    return text.charCodeAt(i) === NEWLINE ? i : -1;
  };

  /** A wrapped value at v: returns [inner or undefined when empty, match end], or undefined. */
  const wrappedAt = (text: string, v: number): [string | undefined, number] | undefined => {
    const open = text[v];
    for (const [o, close] of wrappers) {
      if (open !== o) continue;
      let i = v + 1;
      while (i < text.length && text[i] !== close) i += escapeAt(text, i) || 1;
      if (i >= text.length) return undefined;
      const end = endAt(text, i + 1);
      if (end < 0) return undefined;
      return [i > v + 1 ? text.slice(v + 1, i) : undefined, end];
    }
    return undefined;
  };

  return (text, emit) => {
    sp.begin?.();
    if (!sp.hasValueSplit(text)) return;
    let p = 0;
    const n = text.length;
    while (p < n) {
      // the key: the longest run of key units from p
      let e = p;
      while (e < n) {
        if (stopFirst && sp.keyStopAt(text, e)) break;
        const esc = escapeAt(text, e);
        if (esc) e += esc;
        else if (!stopFirst && sp.keyStopAt(text, e)) break;
        else e++;
      }
      if (e === p) {
        p++;
        continue;
      }
      const vs = sp.valueSplitAt(text, e);
      if (vs < 0) {
        // No split after the longest key; shorter keys from p, or keys starting inside this
        // run, end at the same place, so the next candidate start is the run's end.
        p = e;
        continue;
      }
      const key = text.slice(p, e);
      const v = e + vs;
      const wrapped = wrappedAt(text, v);
      if (wrapped) {
        emit(key, wrapped[0]);
        p = wrapped[1];
        continue;
      }
      let u = v;
      while (u < n) {
        if (stopFirst && sp.valueStopAt(text, u)) break;
        const esc = escapeAt(text, u);
        if (esc) u += esc;
        else if (!stopFirst && sp.valueStopAt(text, u)) break;
        else u++;
      }
      const end = endAt(text, u);
      emit(key, u > v ? text.slice(v, u) : undefined);
      // end < 0 cannot follow an unquoted value (it stops only at a separator or a newline)
      p = end < 0 ? u + 1 : end;
    }
  };
}

/** Splitters from character classes (`field_split`, `value_split`), as Logstash builds them. */
export function charClassSplitters(fieldSplit: string, valueSplit: string, lenient: boolean): Splitters {
  const fs = new RegExp(`[${fieldSplit}]`);
  const vs = new RegExp(`[${valueSplit}]`);
  const key = new RegExp(`[${valueSplit}${fieldSplit}]`);
  // Precomputed answers for the first 256 code units; the regexes decide for the rest.
  const table = (re: RegExp) => Uint8Array.from({ length: 256 }, (_, c) => (re.test(String.fromCharCode(c)) ? 1 : 0));
  const fsT = table(fs);
  const vsT = table(vs);
  const keyT = table(key);
  const is = (t: Uint8Array, re: RegExp, text: string, i: number) => {
    const c = text.charCodeAt(i);
    return c < 256 ? t[c] === 1 : re.test(text[i]!);
  };
  const vsHere = (text: string, i: number) => i < text.length && is(vsT, vs, text, i);
  const spaceSplits = vs.test(' ');
  return {
    fieldSplitAt: (text, i) => (is(fsT, fs, text, i) ? 1 : 0),
    valueSplitAt(text, i) {
      if (!lenient) return vsHere(text, i) ? 1 : -1;
      // ` *[vs] *`: the spaces are taken greedily; when the next character is not a separator
      // but a space is one, the regex gives back the last space to be the separator.
      let j = i;
      while (text.charCodeAt(j) === 32) j++;
      if (!vsHere(text, j)) return j > i && spaceSplits ? j - i : -1;
      j++;
      while (text.charCodeAt(j) === 32) j++;
      return j - i;
    },
    keyStopAt: (text, i) => is(keyT, key, text, i),
    valueStopAt: (text, i) => is(fsT, fs, text, i),
    hasValueSplit: (text) => vs.test(text),
  };
}

/**
 * Splitters from regexes (`field_split_pattern`, `value_split_pattern`; the other may still be a
 * character class). As in Logstash, a key and an unquoted value never span a newline here.
 *
 * A pattern that runs on the linear engine is searched forward and its next match remembered, so
 * each position costs O(1) and a whole line one pass. A pattern that needs backtracking is tried at
 * single positions (sticky), so the scan can be stopped between two tries (timeout_millis).
 */
export function patternSplitters(fieldPattern: string, valuePattern: string, lenient: boolean, timeoutMs: number): Splitters & { readonly linear: boolean } {
  const sp = lenient ? ' *' : '';
  const clock = { startedAt: 0, calls: 0, timeoutMs };
  const fs = matcher(`(?:${fieldPattern})`, clock);
  const vs = matcher(`${sp}(?:${valuePattern})${sp}`, clock);
  return {
    linear: fs.linear && vs.linear,
    stopBeforeEscape: true,
    begin() {
      clock.startedAt = performance.now();
      clock.calls = 0;
    },
    fieldSplitAt: (text, i) => Math.max(0, fs.at(text, i)),
    valueSplitAt: (text, i) => vs.at(text, i),
    keyStopAt: (text, i) => text.charCodeAt(i) === NEWLINE || vs.at(text, i) >= 0 || fs.at(text, i) >= 0,
    valueStopAt: (text, i) => text.charCodeAt(i) === NEWLINE || fs.at(text, i) >= 0,
    hasValueSplit: (text) => vs.any(text),
  };
}

interface Matcher {
  readonly linear: boolean;
  /** Length of the match starting exactly at i, or -1. */
  at(text: string, i: number): number;
  any(text: string): boolean;
}

interface ScanClock {
  startedAt: number;
  calls: number;
  /** 0 disables the limit. */
  timeoutMs: number;
}

function matcher(source: string, clock: ScanClock): Matcher {
  const search = linearRegex(source, 'g');
  if (search.flags.includes('l')) {
    // The leftmost match at or after a position does not depend on where the search began, so a
    // remembered match stays valid for every position up to it.
    let lastText: string | undefined;
    let from = 0;
    let matchAt = -1;
    let matchLen = 0;
    const next = (text: string, i: number): void => {
      if (text === lastText && from <= i && (matchAt === -1 || matchAt >= i)) return;
      search.lastIndex = i;
      const m = search.exec(text);
      lastText = text;
      from = i;
      matchAt = m ? m.index : -1;
      matchLen = m ? m[0].length : 0;
    };
    return {
      linear: true,
      at(text, i) {
        next(text, i);
        return matchAt === i ? matchLen : -1;
      },
      any(text) {
        next(text, 0);
        return matchAt >= 0;
      },
    };
  }
  // Backtracking: one try per position, and the time limit checked every 64 tries. There is no
  // search over the whole line (it could not be stopped), so `any` always says yes.
  const sticky = new RegExp(source, 'y');
  return {
    linear: false,
    at(text, i) {
      if (clock.timeoutMs > 0 && (++clock.calls & 63) === 0 && performance.now() - clock.startedAt > clock.timeoutMs) throw new ScanTimeout(`kv scan exceeded ${clock.timeoutMs} ms`);
      sticky.lastIndex = i;
      return sticky.test(text) ? sticky.lastIndex - i : -1;
    },
    any: () => true,
  };
}

let linearEngine: boolean | undefined;

/**
 * Compiles a user pattern with V8's linear-time engine (the `l` flag) when the pattern allows it
 * (no lookaround, no backreferences), so no input can make it backtrack; otherwise with the usual
 * backtracking engine. The engine is behind a V8 flag that only makes the `l` flag available.
 */
function linearRegex(source: string, flags: string): RegExp {
  if (linearEngine === undefined) {
    try {
      new RegExp('a', 'l');
      linearEngine = true;
    } catch {
      try {
        v8.setFlagsFromString('--enable-experimental-regexp-engine');
        new RegExp('a', 'l');
        linearEngine = true;
      } catch {
        linearEngine = false;
      }
    }
  }
  if (linearEngine) {
    try {
      return new RegExp(source, flags + 'l');
    } catch {
      // needs backtracking features: fall through
    }
  }
  return new RegExp(source, flags);
}
