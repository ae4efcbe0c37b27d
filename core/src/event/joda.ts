/**
 * Joda-Time style date formatting, the `%{+yyyy.MM.dd}` form of Logstash's sprintf, always in UTC.
 * A pattern compiles once into a list of part writers.
 */
const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

type Part = (d: Date) => string;

const pad = (n: number, width: number): string => {
  const s = String(Math.abs(n));
  return (n < 0 ? '-' : '') + (s.length >= width ? s : '0'.repeat(width - s.length) + s);
};

function tokenPart(letter: string, count: number): Part {
  switch (letter) {
    case 'y':
    case 'Y':
    case 'u':
      return count === 2 ? (d) => pad(d.getUTCFullYear() % 100, 2) : (d) => pad(d.getUTCFullYear(), count);
    case 'x': // week-based year: close enough to the calendar year except at the turn of the year
      return (d) => pad(isoWeekYear(d), count === 2 ? 2 : count);
    case 'w':
      return (d) => pad(isoWeek(d), count);
    case 'M':
      if (count >= 4) return (d) => MONTHS[d.getUTCMonth()]!;
      if (count === 3) return (d) => MONTHS[d.getUTCMonth()]!.slice(0, 3);
      return (d) => pad(d.getUTCMonth() + 1, count);
    case 'd':
      return (d) => pad(d.getUTCDate(), count);
    case 'D':
      return (d) => pad(dayOfYear(d), count);
    case 'E':
      return count >= 4 ? (d) => DAYS[d.getUTCDay()]! : (d) => DAYS[d.getUTCDay()]!.slice(0, 3);
    case 'e':
      return (d) => pad(d.getUTCDay() === 0 ? 7 : d.getUTCDay(), count);
    case 'a':
      return (d) => (d.getUTCHours() < 12 ? 'AM' : 'PM');
    case 'H':
      return (d) => pad(d.getUTCHours(), count);
    case 'k':
      return (d) => pad(d.getUTCHours() === 0 ? 24 : d.getUTCHours(), count);
    case 'h':
      return (d) => pad(d.getUTCHours() % 12 === 0 ? 12 : d.getUTCHours() % 12, count);
    case 'K':
      return (d) => pad(d.getUTCHours() % 12, count);
    case 'm':
      return (d) => pad(d.getUTCMinutes(), count);
    case 's':
      return (d) => pad(d.getUTCSeconds(), count);
    case 'S':
      return (d) => pad(d.getUTCMilliseconds(), 3).slice(0, count).padEnd(count, '0');
    case 'Z':
      return count === 1 ? () => '+0000' : count === 2 ? () => '+00:00' : () => 'UTC';
    case 'z':
      return () => 'UTC';
    case 'G':
      return (d) => (d.getUTCFullYear() > 0 ? 'AD' : 'BC');
    case 'C':
      return (d) => pad(Math.floor(d.getUTCFullYear() / 100), count);
    default:
      throw new Error(`illegal pattern component: ${letter.repeat(count)}`);
  }
}

function dayOfYear(d: Date): number {
  return Math.floor((Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()) - Date.UTC(d.getUTCFullYear(), 0, 1)) / 86400000) + 1;
}

function isoThursday(d: Date): Date {
  const t = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()));
  t.setUTCDate(t.getUTCDate() + 3 - ((t.getUTCDay() + 6) % 7));
  return t;
}
function isoWeekYear(d: Date): number {
  return isoThursday(d).getUTCFullYear();
}
function isoWeek(d: Date): number {
  const th = isoThursday(d);
  return Math.floor((th.getTime() - Date.UTC(th.getUTCFullYear(), 0, 1)) / 604800000) + 1;
}

/** Compiles a Joda pattern into a formatter of epoch milliseconds (UTC). Throws on an unknown letter. */
export function compileJoda(pattern: string): (ms: number) => string {
  const parts: (Part | string)[] = [];
  let i = 0;
  while (i < pattern.length) {
    const c = pattern[i]!;
    if (c === "'") {
      const end = pattern.indexOf("'", i + 1);
      if (end === i + 1) parts.push("'");
      else parts.push(pattern.slice(i + 1, end < 0 ? pattern.length : end));
      i = end < 0 ? pattern.length : end + 1;
    } else if (/[A-Za-z]/.test(c)) {
      let j = i;
      while (pattern[j] === c) j++;
      parts.push(tokenPart(c, j - i));
      i = j;
    } else {
      parts.push(c);
      i++;
    }
  }
  return (ms) => {
    const d = new Date(ms);
    let out = '';
    for (const p of parts) out += typeof p === 'string' ? p : p(d);
    return out;
  };
}
