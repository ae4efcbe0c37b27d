/**
 * The `ISO8601` format: Joda's ISODateTimeFormat.dateTimeParser, hand-written, then the
 * "almost ISO" fallbacks Logstash adds (`yyyy-MM-dd HH:mm:ss.SSS` with `.` or `,`, with or without
 * an offset). Accepted: calendar (`2011-04-19`), ordinal (`2011-109`) and week (`2011-W16-2`) dates,
 * an optional `T` time (`HH`, `HH:mm`, `HH:mm:ss`, a fraction on the last one, `.` or `,`), an
 * offset (`Z`, `+hh`, `+hh:mm`, `+hhmm`) only after a `T`; or a time alone after `T`.
 */
import { compilePattern, daysInMonth, DateParseError, readOffset, utcMillis, type CompiledPattern, type LocalTime } from './joda.js';
import type { LocaleNames } from './locale.js';

export interface IsoResult {
  local: LocalTime;
  /** Offset in ms when the text gives one. */
  offset?: number;
}

const isDigit = (c: number) => c >= 48 && c <= 57;

class Reader {
  pos = 0;
  constructor(readonly s: string) {}
  peek(): string | undefined {
    return this.s[this.pos];
  }
  /** Reads 1..max digits (at least `min`); returns -1 when there are fewer than `min`. */
  digits(min: number, max: number): number {
    const start = this.pos;
    let v = 0;
    while (this.pos < this.s.length && this.pos - start < max && isDigit(this.s.charCodeAt(this.pos))) v = v * 10 + (this.s.charCodeAt(this.pos++) - 48);
    if (this.pos - start < min) {
      this.pos = start;
      return -1;
    }
    return v;
  }
  countDigits(): number {
    let i = this.pos;
    while (i < this.s.length && isDigit(this.s.charCodeAt(i))) i++;
    return i - this.pos;
  }
  /** A fraction after `.` or `,`: returns its value in [0,1), or undefined when there is none. */
  fraction(): number | undefined {
    const c = this.peek();
    if ((c !== '.' && c !== ',') || !isDigit(this.s.charCodeAt(this.pos + 1))) return undefined;
    this.pos++;
    const start = this.pos;
    while (this.pos < this.s.length && this.pos - start < 9 && isDigit(this.s.charCodeAt(this.pos))) this.pos++;
    return Number('0.' + this.s.slice(start, this.pos));
  }
}

function fail(text: string): never {
  throw new DateParseError(`'${text}' is not an ISO8601 date-time`);
}

function range(v: number, lo: number, hi: number, text: string): number {
  if (v < lo || v > hi) fail(text);
  return v;
}

/** The time element after `T`: hours, then optional minutes and seconds, a fraction on the last. */
function readTime(r: Reader, text: string): number {
  const h = r.digits(1, 2);
  if (h < 0) fail(text);
  range(h, 0, 23, text);
  let ms = h * 3_600_000;
  if (r.peek() === ':') {
    r.pos++;
    const m = r.digits(1, 2);
    if (m < 0) fail(text);
    ms += range(m, 0, 59, text) * 60_000;
    if (r.peek() === ':') {
      r.pos++;
      const s = r.digits(1, 2);
      if (s < 0) fail(text);
      ms += range(s, 0, 59, text) * 1000;
      const fr = r.fraction();
      if (fr !== undefined) ms += Math.floor(fr * 1000 + 1e-9);
    } else {
      const fr = r.fraction();
      if (fr !== undefined) ms += Math.floor(fr * 60_000 + 1e-9);
    }
  } else {
    const fr = r.fraction();
    if (fr !== undefined) ms += Math.floor(fr * 3_600_000 + 1e-9);
  }
  return ms;
}

function isoWeekDate(year: number, week: number, dow: number): { year: number; month: number; day: number } {
  // Week 1 is the week holding 4 January; weeks start on Monday.
  const jan4 = new Date(utcMillis(year, 1, 4, 0, 0, 0, 0));
  const jan4Dow = jan4.getUTCDay() === 0 ? 7 : jan4.getUTCDay();
  const d = new Date(jan4.getTime() + ((week - 1) * 7 + (dow - jan4Dow)) * 86_400_000);
  return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate() };
}

function weeksInYear(year: number): number {
  const dec28 = isoWeekDate(year + 1, 1, 1); // Monday of next year's week 1
  const mon1 = isoWeekDate(year, 1, 1);
  return Math.round((utcMillis(dec28.year, dec28.month, dec28.day, 0, 0, 0, 0) - utcMillis(mon1.year, mon1.month, mon1.day, 0, 0, 0, 0)) / 604_800_000);
}

/** Joda's dateTimeParser; throws DateParseError when the text is not in that grammar. */
export function parseStrictIso(text: string): IsoResult {
  const r = new Reader(text);
  let local: LocalTime = { year: 1970, month: 1, day: 1, time: 0 };
  let offset: number | undefined;
  if (r.peek() === 'T') {
    r.pos++;
    local.time = readTime(r, text);
  } else {
    let neg = false;
    if (r.peek() === '-' || r.peek() === '+') {
      neg = r.peek() === '-';
      r.pos++;
    }
    const y = r.digits(1, 9);
    if (y < 0) fail(text);
    const year = neg ? -y : y;
    local = { year, month: 1, day: 1, time: 0 };
    if (r.peek() === '-') {
      r.pos++;
      if (r.peek() === 'W') {
        r.pos++;
        const w = r.digits(2, 2);
        if (w < 0 || w < 1 || w > weeksInYear(year)) fail(text);
        let dow = 1;
        if (r.peek() === '-') {
          r.pos++;
          dow = r.digits(1, 1);
          if (dow < 1 || dow > 7) fail(text);
        }
        const d = isoWeekDate(year, w, dow);
        local = { ...d, time: 0 };
      } else if (r.countDigits() === 3) {
        // ordinal date: Joda tries both forms and keeps the one that reads further
        const doy = r.digits(3, 3);
        const leap = daysInMonth(year, 2) === 29;
        range(doy, 1, leap ? 366 : 365, text);
        const d = new Date(utcMillis(year, 1, doy, 0, 0, 0, 0));
        local = { year, month: d.getUTCMonth() + 1, day: d.getUTCDate(), time: 0 };
      } else {
        const m = r.digits(1, 2);
        if (m < 0) fail(text);
        local.month = range(m, 1, 12, text);
        if (r.peek() === '-') {
          r.pos++;
          const d = r.digits(1, 2);
          if (d < 0) fail(text);
          local.day = range(d, 1, daysInMonth(year, m), text);
        }
      }
    }
    if (r.peek() === 'T') {
      r.pos++;
      const c = r.peek();
      if (c !== undefined && isDigit(c.charCodeAt(0))) local.time = readTime(r, text);
    } else if (r.pos !== text.length) fail(text);
  }
  if (r.pos < text.length) {
    const o = readOffset(text, r.pos, 4);
    if (!o) fail(text);
    offset = o[0];
    r.pos = o[1];
  }
  if (r.pos !== text.length) fail(text);
  return offset === undefined ? { local } : { local, offset };
}

/** ISO8601 with Logstash's fallbacks, compiled once per locale. */
export function isoParser(names: LocaleNames): (text: string) => IsoResult {
  const fallbacks: CompiledPattern[] = ['yyyy-MM-dd HH:mm:ss.SSSZ', 'yyyy-MM-dd HH:mm:ss.SSS', 'yyyy-MM-dd HH:mm:ss,SSSZ', 'yyyy-MM-dd HH:mm:ss,SSS'].map((p) => compilePattern(p, names));
  return (text) => {
    try {
      return parseStrictIso(text);
    } catch (e) {
      for (const p of fallbacks) {
        try {
          const f = p.read(text);
          if (!f) continue;
          const local: LocalTime = {
            year: f.year!,
            month: range(f.month!, 1, 12, text),
            day: range(f.day!, 1, daysInMonth(f.year!, f.month!), text),
            time: range(f.hourOfDay!, 0, 23, text) * 3_600_000 + range(f.minute!, 0, 59, text) * 60_000 + range(f.second!, 0, 59, text) * 1000 + (f.millis ?? 0),
          };
          return f.offset === undefined ? { local } : { local, offset: f.offset };
        } catch {
          // next fallback
        }
      }
      throw e;
    }
  };
}
