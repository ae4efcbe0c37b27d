/**
 * One dissect pattern, compiled once into a delimiter plan, and its application to a string.
 *
 * A pattern is fields (`%{...}`) and the literal text between them (delimiters). Dissecting walks
 * the text left to right with `indexOf`: each field's value runs up to the next occurrence of the
 * delimiter after it; the last field takes the rest. No regular expression runs per event, and
 * nothing is written to the event unless every delimiter was found.
 */
import { fieldRef, setField, Timestamp, valueToString, type FieldRef, type Fields } from '@pipeline/core';

export type FieldKind = 'normal' | 'skip' | 'append' | 'indirect';

/** A mistake in a pattern; the plugin turns it into a ConfigError naming the option. */
export class PatternError extends Error {}

export interface ParsedField {
  readonly kind: FieldKind;
  /** The key: the text between `%{` and `}` without prefix and suffix ('' for `%{}`). */
  readonly name: string;
  /** `/n` on an append field (0 without one). */
  readonly ordinal: number;
  /** `->`: repeats of the delimiter after this field are padding. */
  readonly greedy: boolean;
  /** The delimiter before the field in the pattern ('' when none). */
  readonly before: string;
  /** The delimiter after it ('' for the last field). */
  after: string;
  /** Added for text after the last field: that text must be found, what follows it is dropped. */
  readonly auto?: boolean;
}

export interface ParsedPattern {
  /** Text before the first field: the value must start with it. */
  readonly leading: string;
  readonly fields: ParsedField[];
}

// `/n` (one or two digits), `->`, or both in either order, at the end of a key
const SUFFIX = /^(.*?)(\/\d{1,2}|->|\/\d{1,2}->|->\/\d{1,2})?$/s;

function nameAndSuffix(text: string): { name: string; ordinal: number; greedy: boolean } {
  const m = SUFFIX.exec(text)!;
  const suffix = m[2] ?? '';
  const digits = /\d+/.exec(suffix);
  return { name: m[1]!, ordinal: digits ? Number(digits[0]) : 0, greedy: suffix.includes('->') };
}

function parseField(body: string, before: string): ParsedField {
  const at = `'%{${body}}'`;
  if (body === '' || body.startsWith('?')) {
    const s = nameAndSuffix(body.slice(1));
    return { kind: 'skip', name: s.name, ordinal: 0, greedy: s.greedy, before, after: '' };
  }
  if (body.startsWith('+&') || body.startsWith('&+')) throw new PatternError(`field ${at} cannot be both append (+) and indirect (&)`);
  const prefix = body[0];
  if (prefix === '+' || prefix === '&') {
    const rest = body.slice(1);
    if (rest === '') throw new PatternError(`field ${at} is a prefix without a name`);
    const s = nameAndSuffix(rest);
    if (s.name === '') throw new PatternError(`field ${at} has a prefix and a suffix but no name`);
    return { kind: prefix === '+' ? 'append' : 'indirect', name: s.name, ordinal: prefix === '+' ? s.ordinal : 0, greedy: s.greedy, before, after: '' };
  }
  const s = nameAndSuffix(body);
  // a suffix alone (`%{->}`) names nothing: a skip field with that suffix
  return { kind: s.name === '' ? 'skip' : 'normal', name: s.name, ordinal: 0, greedy: s.greedy, before, after: '' };
}

/** Splits a pattern into its leading text and fields, each with the delimiters around it. */
export function parsePattern(pattern: string): ParsedPattern {
  if (pattern === '') throw new PatternError('the pattern is empty');
  const fields: ParsedField[] = [];
  let leading = '';
  let pos = 0;
  for (;;) {
    const open = pattern.indexOf('%{', pos);
    if (open < 0) break;
    const close = pattern.indexOf('}', open + 2);
    if (close < 0) throw new PatternError(`'%{' at offset ${open} is not closed by '}'`);
    const delim = pattern.slice(pos, open);
    const prev = fields[fields.length - 1];
    if (prev === undefined) leading = delim;
    else if (delim === '') {
      // Logstash accepts this but can never match it: an empty delimiter is never found
      throw new PatternError(`fields '%{${pattern.slice(pattern.lastIndexOf('%{', pos - 1) + 2, pos - 1)}}' and '%{${pattern.slice(open + 2, close)}}' have no delimiter between them`);
    } else prev.after = delim;
    fields.push(parseField(pattern.slice(open + 2, close), delim));
    pos = close + 1;
  }
  if (fields.length === 0) throw new PatternError('the pattern has no %{} field');
  const trailing = pattern.slice(pos);
  if (trailing !== '') {
    fields[fields.length - 1]!.after = trailing;
    fields.push({ kind: 'skip', name: '', ordinal: 0, greedy: false, before: trailing, after: '', auto: true });
  }
  return { leading, fields };
}

/** A field of the event the pattern writes (normal and append fields), with what makes its value. */
interface Slot {
  readonly ref: FieldRef;
  readonly text: string;
  /** Index of the last normal field with this name, or -1 (then appends start from the event's value). */
  normal: number;
  /** Append fields in the order they are joined: by `/n`, then as written. */
  readonly appends: { index: number; join: string }[];
  readonly timestamp: boolean;
}

interface Indirect {
  readonly index: number;
  /** The key's own field, when the pattern writes it (staged value), else -1. */
  readonly slot: number;
  readonly keyRef: FieldRef;
  /** Another field of the pattern with the key as its name (`%{?key}`), or -1. */
  readonly other: number;
}

export interface DissectOptions {
  /** Joins append values; undefined: the delimiter before the append field, or a space. */
  readonly appendSeparator?: string | undefined;
}

/**
 * A compiled pattern. `dissect` finds every field's bounds first; only when all delimiters are
 * there does it compute the values and write them, so a failed match leaves the event as it was.
 * An instance reuses its scratch arrays: it is used by one filter instance, one event at a time.
 */
export class Dissector {
  readonly pattern: string;
  private readonly leading: string;
  private readonly n: number;
  /** Delimiter after each field but the last. */
  private readonly delims: string[];
  private readonly delimCodes: Int32Array;
  private readonly greedy: Uint8Array;
  private readonly slots: Slot[];
  private readonly indirects: Indirect[];
  private readonly starts: Int32Array;
  private readonly ends: Int32Array;
  private readonly staged: (string | undefined)[];
  private readonly names: string[];
  private readonly touchesTimestamp: boolean;

  constructor(pattern: string, options: DissectOptions = {}) {
    this.pattern = pattern;
    const parsed = parsePattern(pattern);
    const fields = parsed.fields;
    this.leading = parsed.leading;
    this.n = fields.length;
    this.delims = fields.slice(0, -1).map((f) => f.after);
    this.delimCodes = Int32Array.from(this.delims, (d) => (d.length === 1 ? d.charCodeAt(0) : -1));
    this.greedy = Uint8Array.from(fields.slice(0, -1), (f) => (f.greedy ? 1 : 0));
    this.starts = new Int32Array(this.n);
    this.ends = new Int32Array(this.n);

    const refOf = (name: string): FieldRef => {
      try {
        return fieldRef(name);
      } catch (e) {
        throw new PatternError(`field name '${name}' is not a field reference: ${(e as Error).message}`);
      }
    };
    const byPath = new Map<string, number>();
    const slots: Slot[] = [];
    const slotOf = (ref: FieldRef): number => {
      const key = JSON.stringify(ref.path);
      let i = byPath.get(key);
      if (i === undefined) {
        if (ref.path.length === 1 && ref.path[0] === '@metadata') throw new PatternError("a field cannot replace '@metadata' (name one inside it, e.g. [@metadata][x])");
        i = slots.length;
        byPath.set(key, i);
        slots.push({ ref, text: ref.text, normal: -1, appends: [], timestamp: ref.path.length === 1 && ref.path[0] === '@timestamp' });
      }
      return i;
    };
    const appends: { slot: number; index: number; ordinal: number; join: string }[] = [];
    const indirects: Indirect[] = [];
    for (const [index, f] of fields.entries()) {
      if (f.kind === 'normal') slots[slotOf(refOf(f.name))]!.normal = index;
      else if (f.kind === 'append') {
        const join = options.appendSeparator ?? (f.before === '' ? ' ' : f.before);
        appends.push({ slot: slotOf(refOf(f.name)), index, ordinal: f.ordinal, join });
      }
    }
    // stable sort: equal ordinals keep the order they were written in
    appends.sort((a, b) => a.ordinal - b.ordinal);
    for (const a of appends) slots[a.slot]!.appends.push({ index: a.index, join: a.join });
    for (const [index, f] of fields.entries()) {
      if (f.kind !== 'indirect') continue;
      const keyRef = refOf(f.name);
      const slot = byPath.get(JSON.stringify(keyRef.path)) ?? -1;
      const other = fields.findIndex((g, j) => j !== index && !g.auto && g.name === f.name);
      indirects.push({ index, slot, keyRef, other });
    }
    this.slots = slots;
    this.indirects = indirects;
    this.staged = new Array<string | undefined>(slots.length).fill(undefined);
    this.names = new Array<string>(indirects.length).fill('');
    this.touchesTimestamp = slots.some((s) => s.timestamp);
  }

  /** The names the pattern writes, as field references (for docs and tests). */
  get targets(): string[] {
    return this.slots.map((s) => s.text);
  }

  /** Finds every field's bounds; false when a delimiter is missing. */
  private locate(s: string): boolean {
    const { starts, ends, delims, delimCodes, greedy } = this;
    let pos = 0;
    if (this.leading !== '') {
      if (!s.startsWith(this.leading)) return false;
      pos = this.leading.length;
    }
    const last = this.n - 1;
    for (let i = 0; i < last; i++) {
      const d = delims[i]!;
      const at = s.indexOf(d, pos);
      if (at < 0) return false;
      starts[i] = pos;
      ends[i] = at;
      pos = at + d.length;
      if (greedy[i] === 1) {
        // `->`: further copies of the delimiter right after it are padding
        const code = delimCodes[i]!;
        if (code >= 0) while (s.charCodeAt(pos) === code) pos++;
        else while (s.startsWith(d, pos)) pos += d.length;
      }
    }
    starts[last] = pos;
    ends[last] = s.length;
    return true;
  }

  /**
   * Dissects `s` into `fields`. Returns false, writing nothing, when a delimiter is missing or a
   * value meant for `@timestamp` is not a timestamp (or an indirect name from the data is
   * `@timestamp` or `@metadata`).
   */
  dissect(s: string, fields: Fields): boolean {
    if (s.length === 0 || !this.locate(s)) return false;
    const { starts, ends, slots, staged } = this;
    // values of the fields the pattern names: a normal field's, then the appends joined to it
    for (let k = 0; k < slots.length; k++) {
      const slot = slots[k]!;
      let v: string | undefined;
      // while the value is one stretch of `s` (parts joined by the very text between them, as in
      // `%{ts} %{+ts}` on "Oct 11"), it stays a range and is sliced once
      let rs = -1;
      let re = -1;
      if (slot.normal >= 0) {
        rs = starts[slot.normal]!;
        re = ends[slot.normal]!;
      } else if (slot.appends.length > 0) {
        // an append may start from a value the event already has
        const old = slot.ref.get(fields);
        if (old !== undefined && old !== null) v = valueToString(old);
      }
      const appends = slot.appends;
      for (let j = 0; j < appends.length; j++) {
        const a = appends[j]!;
        const as = starts[a.index]!;
        const ae = ends[a.index]!;
        if (rs >= 0) {
          if (as === re + a.join.length && s.startsWith(a.join, re)) {
            re = ae;
            continue;
          }
          v = s.slice(rs, re);
          rs = -1;
        }
        if (v === undefined) {
          rs = as;
          re = ae;
        } else v = v + a.join + s.slice(as, ae);
      }
      if (rs >= 0) v = s.slice(rs, re);
      staged[k] = v;
    }
    // indirect fields: the name is the value of the key field, as the event will have it
    const { indirects, names } = this;
    for (let j = 0; j < indirects.length; j++) {
      const ind = indirects[j]!;
      let name: string | undefined;
      if (ind.slot >= 0) name = staged[ind.slot];
      else {
        const cur = ind.keyRef.get(fields);
        if (cur !== undefined && cur !== null) name = valueToString(cur);
        else if (ind.other >= 0) name = s.slice(starts[ind.other]!, ends[ind.other]!);
      }
      name ??= '';
      // `@metadata` must stay an object and `@timestamp` a timestamp: a name from the data
      // that would replace either fails the match
      if (name === '@metadata' || name === '@timestamp') return false;
      names[j] = name;
    }
    let ts: Timestamp | undefined;
    if (this.touchesTimestamp) {
      for (let k = 0; k < slots.length; k++) {
        if (!slots[k]!.timestamp) continue;
        ts = Timestamp.parse(staged[k]!);
        if (ts === undefined) return false;
      }
    }
    // every check passed: write (a slot always has a value: a normal field's or an append's)
    for (let k = 0; k < slots.length; k++) {
      const slot = slots[k]!;
      slot.ref.set(fields, slot.timestamp ? ts : staged[k]);
    }
    for (let j = 0; j < indirects.length; j++) {
      const name = names[j]!;
      if (name === '') continue;
      // a name from the data is one literal key at the top level, `__proto__` included
      setField(fields, name, s.slice(starts[indirects[j]!.index]!, ends[indirects[j]!.index]!));
    }
    return true;
  }
}

