/**
 * Joda-Time pattern parsing, compiled once per pattern. A pattern becomes a list of tokens, each
 * reading its part of the text into a ParsedFields record; `resolve` then turns the fields into an
 * instant the way Joda computes one (defaults, range checks, weekday and half-day rules). The whole
 * text must be consumed, as Joda's parseMillis requires.
 */
import type { LocaleNames, TextField } from './locale.js';
import { zoneFor, type Zone } from './zone.js';

export class DateParseError extends Error {}
export class PatternError extends Error {}

/** What the tokens read. Numbers are undefined until a token sets them. */
export interface ParsedFields {
  year?: number;
  twoDigitYear?: number;
  era?: number;
  month?: number;
  day?: number;
  dayOfYear?: number;
  dayOfWeek?: number;
  hourOfDay?: number;
  clockhourOfDay?: number;
  hourOfHalfday?: number;
  clockhourOfHalfday?: number;
  halfday?: number;
  minute?: number;
  second?: number;
  millis?: number;
  /** Offset in ms, when the text gave one. */
  offset?: number;
  /** Zone named in the text (`ZZZ`). */
  zone?: Zone;
}

type NumField = 'year' | 'month' | 'day' | 'dayOfYear' | 'dayOfWeek' | 'hourOfDay' | 'clockhourOfDay' | 'hourOfHalfday' | 'clockhourOfHalfday' | 'minute' | 'second';

/** A token reads at `pos` and returns the position after it, or -1. */
type Token = (text: string, pos: number, f: ParsedFields) => number;

const isDigit = (c: number) => c >= 48 && c <= 57;

function numberToken(field: NumField, maxDigits: number, signed: boolean): Token {
  return (text, pos, f) => {
    let i = pos;
    let neg = false;
    if (signed && i < text.length && (text[i] === '-' || text[i] === '+')) {
      neg = text[i] === '-';
      i++;
    }
    const start = i;
    const limit = Math.min(text.length, start + maxDigits);
    let v = 0;
    while (i < limit && isDigit(text.charCodeAt(i))) v = v * 10 + (text.charCodeAt(i++) - 48);
    if (i === start) return -1;
    f[field] = neg ? -v : v;
    return i;
  };
}

/** `yy`: two digits read against a pivot; leniently, other digit counts are a literal year. */
function twoDigitYearToken(lenient: boolean): Token {
  return (text, pos, f) => {
    let i = pos;
    if (!lenient) {
      if (pos + 2 > text.length || !isDigit(text.charCodeAt(pos)) || !isDigit(text.charCodeAt(pos + 1))) return -1;
      f.twoDigitYear = (text.charCodeAt(pos) - 48) * 10 + (text.charCodeAt(pos + 1) - 48);
      return pos + 2;
    }
    let neg = false;
    let signed = false;
    if (i < text.length && (text[i] === '-' || text[i] === '+')) {
      neg = text[i] === '-';
      signed = true;
      i++;
    }
    const start = i;
    let v = 0;
    while (i < text.length && i - start < 9 && isDigit(text.charCodeAt(i))) v = v * 10 + (text.charCodeAt(i++) - 48);
    if (i === start) return -1;
    if (i - start === 2 && !signed) f.twoDigitYear = v;
    else f.year = neg ? -v : v;
    return i;
  };
}

/** `S...`: a fraction of a second, up to `maxDigits` digits, kept to the millisecond. */
function fractionToken(maxDigits: number): Token {
  return (text, pos, f) => {
    let i = pos;
    const limit = Math.min(text.length, pos + maxDigits);
    let ms = 0;
    let scale = 100;
    while (i < limit && isDigit(text.charCodeAt(i))) {
      ms += (text.charCodeAt(i++) - 48) * scale;
      scale /= 10;
    }
    if (i === pos) return -1;
    f.millis = Math.floor(ms);
    return i;
  };
}

function textToken(names: TextField, set: (f: ParsedFields, v: number) => void): Token {
  return (text, pos, f) => {
    const m = names.match(text, pos);
    if (!m) return -1;
    set(f, m[0]);
    return m[1];
  };
}

function literalToken(lit: string): Token {
  const lower = lit.toLowerCase();
  const upper = lit.toUpperCase();
  return (text, pos) => {
    if (pos + lit.length > text.length) return -1;
    for (let k = 0; k < lit.length; k++) {
      const c = text[pos + k]!;
      if (c !== lit[k] && c.toLowerCase() !== lower[k] && c.toUpperCase() !== upper[k]) return -1;
    }
    return pos + lit.length;
  };
}

function twoDigits(text: string, pos: number): number {
  if (pos + 2 > text.length) return -1;
  const a = text.charCodeAt(pos);
  const b = text.charCodeAt(pos + 1);
  return isDigit(a) && isDigit(b) ? (a - 48) * 10 + (b - 48) : -1;
}

/**
 * An offset: `Z`, or a sign, two-digit hours and optionally minutes (with or without `:`), and up
 * to `maxFields` fields (2: hours and minutes; 4: down to milliseconds, as ISO-8601 allows).
 */
export function readOffset(text: string, pos: number, maxFields: number): [number, number] | undefined {
  const c = text[pos];
  if (c === 'Z' || c === 'z') return [0, pos + 1];
  if (c !== '+' && c !== '-') return undefined;
  const sign = c === '-' ? -1 : 1;
  let i = pos + 1;
  const hours = twoDigits(text, i);
  if (hours < 0 || hours > 23) return undefined;
  i += 2;
  let ms = hours * 3_600_000;
  const fields: [number, number][] = [
    [59, 60_000],
    [59, 1000],
  ];
  let expectSep: boolean | undefined;
  for (let k = 0; k < fields.length && k + 2 <= maxFields; k++) {
    const ch = text[i];
    if (expectSep === undefined) {
      if (ch === ':') expectSep = true;
      else if (ch !== undefined && isDigit(ch.charCodeAt(0))) expectSep = false;
      else break;
    }
    let j = i;
    if (expectSep) {
      if (text[j] !== ':') break;
      j++;
    }
    const v = twoDigits(text, j);
    if (v < 0) {
      if (expectSep) return undefined; // a separator must be followed by two digits
      break;
    }
    if (v > fields[k]![0]) return undefined;
    ms += v * fields[k]![1];
    i = j + 2;
  }
  if (maxFields >= 4 && (text[i] === '.' || text[i] === ',') && isDigit(text.charCodeAt(i + 1) || 0)) {
    let j = i + 1;
    let frac = 0;
    let scale = 100;
    while (j < text.length && j - i <= 3 && isDigit(text.charCodeAt(j))) {
      frac += (text.charCodeAt(j++) - 48) * scale;
      scale /= 10;
    }
    ms += frac;
    i = j;
  }
  return [sign * ms, i];
}

const offsetToken: Token = (text, pos, f) => {
  const r = readOffset(text, pos, 2);
  if (!r) return -1;
  f.offset = r[0];
  return r[1];
};

const ZONE_ID_RE = /[A-Za-z][A-Za-z0-9_+-]*(?:\/[A-Za-z0-9_+-]+)*/y;

/** `ZZZ`: a zone ID such as `America/Los_Angeles`, the longest prefix that names a zone. */
const zoneIdToken: Token = (text, pos, f) => {
  ZONE_ID_RE.lastIndex = pos;
  const m = ZONE_ID_RE.exec(text);
  if (!m) return -1;
  let id = m[0];
  for (;;) {
    const z = zoneFor(id);
    if (z) {
      f.zone = z;
      return pos + id.length;
    }
    const cut = id.lastIndexOf('/');
    if (cut < 0) return -1;
    id = id.slice(0, cut);
  }
};

interface RawToken {
  letter?: string;
  count: number;
  literal?: string;
}

function tokenize(pattern: string): RawToken[] {
  const out: RawToken[] = [];
  let i = 0;
  while (i < pattern.length) {
    const c = pattern[i]!;
    if (c === "'") {
      // quoted literal; '' is a single quote
      if (pattern[i + 1] === "'") {
        out.push({ count: 1, literal: "'" });
        i += 2;
        continue;
      }
      let lit = '';
      let j = i + 1;
      for (; j < pattern.length; j++) {
        if (pattern[j] === "'") {
          if (pattern[j + 1] === "'") {
            lit += "'";
            j++;
          } else break;
        } else lit += pattern[j];
      }
      if (j >= pattern.length) throw new PatternError(`unterminated quote in pattern '${pattern}'`);
      out.push({ count: lit.length, literal: lit });
      i = j + 1;
    } else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) {
      let j = i;
      while (pattern[j] === c) j++;
      out.push({ letter: c, count: j - i });
      i = j;
    } else {
      out.push({ count: 1, literal: c });
      i++;
    }
  }
  return out;
}

/** Joda's "numeric token" test, which decides whether a field may read more digits than its letters. */
function isNumeric(t: RawToken | undefined): boolean {
  if (!t || !t.letter) return false;
  switch (t.letter) {
    case 'c':
    case 'C':
    case 'x':
    case 'y':
    case 'Y':
    case 'd':
    case 'h':
    case 'H':
    case 'm':
    case 's':
    case 'S':
    case 'e':
    case 'D':
    case 'F':
    case 'W':
    case 'k':
    case 'K':
      return true;
    case 'M':
      return t.count <= 2;
  }
  return false;
}

export interface CompiledPattern {
  readonly pattern: string;
  /** Logstash's test: a `y` or `Y` anywhere in the pattern text means the year is given. */
  readonly hasYear: boolean;
  /** Reads the whole text into fields; undefined when the text does not fit the pattern. */
  read(text: string): ParsedFields | undefined;
}

export function compilePattern(pattern: string, names: LocaleNames): CompiledPattern {
  if (pattern.length === 0) throw new PatternError('empty date pattern');
  const raw = tokenize(pattern);
  const tokens: Token[] = [];
  for (let k = 0; k < raw.length; k++) {
    const t = raw[k]!;
    if (t.literal !== undefined) {
      // consecutive literals merge, as Joda's builder does
      tokens.push(literalToken(t.literal));
      continue;
    }
    const n = t.count;
    const nextNumeric = isNumeric(raw[k + 1]);
    switch (t.letter) {
      case 'y':
      case 'Y':
        if (n === 2) tokens.push(twoDigitYearToken(!nextNumeric));
        else tokens.push(numberToken('year', nextNumeric ? n : 9, t.letter === 'y'));
        break;
      case 'M':
        tokens.push(n >= 3 ? textToken(names.months, (f, v) => (f.month = v)) : numberToken('month', Math.max(n, 2), false));
        break;
      case 'd':
        tokens.push(numberToken('day', Math.max(n, 2), false));
        break;
      case 'D':
        tokens.push(numberToken('dayOfYear', Math.max(n, 3), false));
        break;
      case 'H':
        tokens.push(numberToken('hourOfDay', Math.max(n, 2), false));
        break;
      case 'k':
        tokens.push(numberToken('clockhourOfDay', Math.max(n, 2), false));
        break;
      case 'h':
        tokens.push(numberToken('clockhourOfHalfday', Math.max(n, 2), false));
        break;
      case 'K':
        tokens.push(numberToken('hourOfHalfday', Math.max(n, 2), false));
        break;
      case 'm':
        tokens.push(numberToken('minute', Math.max(n, 2), false));
        break;
      case 's':
        tokens.push(numberToken('second', Math.max(n, 2), false));
        break;
      case 'S':
        tokens.push(fractionToken(n));
        break;
      case 'E':
        tokens.push(textToken(names.weekdays, (f, v) => (f.dayOfWeek = v)));
        break;
      case 'e':
        tokens.push(numberToken('dayOfWeek', n, false));
        break;
      case 'a':
        tokens.push(textToken(names.halfdays, (f, v) => (f.halfday = v)));
        break;
      case 'G':
        tokens.push(textToken(names.eras, (f, v) => (f.era = v)));
        break;
      case 'Z':
        tokens.push(n >= 3 ? zoneIdToken : offsetToken);
        break;
      case 'z':
        throw new PatternError(`time zone names ('z') cannot be parsed (pattern '${pattern}'); use Z, ZZ or ZZZ`);
      case 'w':
      case 'x':
      case 'C':
        throw new PatternError(`week-based and century fields ('${t.letter}') are not supported for parsing (pattern '${pattern}')`);
      default:
        throw new PatternError(`illegal pattern component '${t.letter!.repeat(n)}' in '${pattern}'`);
    }
  }
  const hasYear = /[yY]/.test(pattern);
  return {
    pattern,
    hasYear,
    read(text) {
      const f: ParsedFields = {};
      let pos = 0;
      for (let k = 0; k < tokens.length; k++) {
        pos = tokens[k]!(text, pos, f);
        if (pos < 0) return undefined;
      }
      return pos === text.length ? f : undefined;
    },
  };
}

// ---- resolving fields to an instant ----

const isLeap = (y: number) => (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
export const daysInMonth = (y: number, m: number) => (m === 2 && isLeap(y) ? 29 : DAYS_IN_MONTH[m - 1]!);

function check(v: number | undefined, lo: number, hi: number, name: string): void {
  if (v !== undefined && (v < lo || v > hi)) throw new DateParseError(`value ${v} for ${name} must be in the range [${lo},${hi}]`);
}

/** Milliseconds of a UTC calendar date-time, for any year (Date.UTC maps 0–99 to 19xx). */
export function utcMillis(y: number, mo: number, d: number, h: number, mi: number, s: number, ms: number): number {
  if (y >= 100) return Date.UTC(y, mo - 1, d, h, mi, s, ms);
  const t = new Date(0);
  t.setUTCFullYear(y, mo - 1, d);
  t.setUTCHours(h, mi, s, ms);
  return t.getTime();
}

/** Local wall-clock time, as calendar fields. */
export interface LocalTime {
  year: number;
  month: number;
  day: number;
  /** ms into the day */
  time: number;
}

/** The two-digit-year window: Joda pivots on the current year minus 30, so 80 years back to 19 ahead. */
export function pivotYear(twoDigits: number, nowYear: number): number {
  const low = nowYear - 30 - 50;
  const t = ((low % 100) + 100) % 100;
  let year = twoDigits + low - t;
  if (twoDigits < t) year += 100;
  return year;
}

/**
 * Applies Joda's defaults and checks to the parsed fields: year 2000 when the text has none (the
 * caller then guesses the real year), January, the 1st, midnight. Throws on out-of-range values.
 */
export function toLocal(f: ParsedFields, nowYear: number): LocalTime {
  let year = f.year ?? (f.twoDigitYear !== undefined ? pivotYear(f.twoDigitYear, nowYear) : 2000);
  if (f.era === 0) year = 1 - year;
  check(f.month, 1, 12, 'monthOfYear');
  const month = f.month ?? 1;
  check(f.day, 1, daysInMonth(year, month), 'dayOfMonth');
  let day = f.day ?? 1;
  let m = month;
  if (f.dayOfYear !== undefined && f.month === undefined && f.day === undefined) {
    check(f.dayOfYear, 1, isLeap(year) ? 366 : 365, 'dayOfYear');
    const d = new Date(utcMillis(year, 1, f.dayOfYear, 0, 0, 0, 0));
    m = d.getUTCMonth() + 1;
    day = d.getUTCDate();
  }
  check(f.hourOfDay, 0, 23, 'hourOfDay');
  check(f.clockhourOfDay, 1, 24, 'clockhourOfDay');
  check(f.clockhourOfHalfday, 1, 12, 'clockhourOfHalfday');
  check(f.hourOfHalfday, 0, 11, 'hourOfHalfday');
  check(f.minute, 0, 59, 'minuteOfHour');
  check(f.second, 0, 59, 'secondOfMinute');
  check(f.dayOfWeek, 1, 7, 'dayOfWeek');
  let hour = 0;
  if (f.hourOfDay !== undefined) hour = f.hourOfDay;
  else if (f.clockhourOfDay !== undefined) hour = f.clockhourOfDay % 24;
  else if (f.clockhourOfHalfday !== undefined) hour = (f.clockhourOfHalfday % 12) + 12 * (f.halfday ?? 0);
  else if (f.hourOfHalfday !== undefined) hour = f.hourOfHalfday + 12 * (f.halfday ?? 0);
  else if (f.halfday !== undefined) hour = 12 * f.halfday;
  const time = hour * 3_600_000 + (f.minute ?? 0) * 60_000 + (f.second ?? 0) * 1000 + (f.millis ?? 0);
  if (f.dayOfWeek !== undefined) {
    // Joda sets the weekday after the day of month: the date moves within its Monday–Sunday week.
    const d = new Date(utcMillis(year, m, day, 0, 0, 0, 0));
    const iso = d.getUTCDay() === 0 ? 7 : d.getUTCDay();
    d.setUTCDate(d.getUTCDate() + (f.dayOfWeek - iso));
    return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate(), time };
  }
  return { year, month: m, day, time };
}

export function localMillis(t: LocalTime, year = t.year): number {
  // Joda's withYear keeps the month and clamps the day (29 February in a common year → 28).
  const day = Math.min(t.day, daysInMonth(year, t.month));
  return utcMillis(year, t.month, day, 0, 0, 0, 0) + t.time;
}
