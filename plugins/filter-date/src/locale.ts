/**
 * Month, weekday, half-day and era names a date pattern reads (`MMM`, `EEE`, `a`, `G`). English is
 * built in; other locales take their names from Intl (CLDR), which is close to, but not always
 * the same as, the JVM's tables. Matching is case-insensitive and takes the longest name, as Joda
 * does, and both the short and the long form of a name are accepted whatever the letter count.
 */
export interface TextField {
  /** Returns [value, end position] of the longest name at `pos`, or undefined. */
  match(text: string, pos: number): [number, number] | undefined;
}

export interface LocaleNames {
  readonly tag: string;
  readonly months: TextField;
  readonly weekdays: TextField;
  readonly halfdays: TextField;
  readonly eras: TextField;
}

const EN_MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
// ISO numbering: Monday is 1, Sunday 7.
const EN_DAYS = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'];

function textField(entries: [string, number][]): TextField {
  const byLength = new Map<number, Map<string, number>>();
  for (const [name, value] of entries) {
    if (!name) continue;
    const key = name.toLowerCase();
    let m = byLength.get(key.length);
    if (!m) byLength.set(key.length, (m = new Map()));
    if (!m.has(key)) m.set(key, value);
  }
  const lengths = [...byLength.keys()].sort((a, b) => b - a);
  return {
    match(text, pos) {
      for (const len of lengths) {
        if (pos + len > text.length) continue;
        const v = byLength.get(len)!.get(text.slice(pos, pos + len).toLowerCase());
        if (v !== undefined) return [v, pos + len];
      }
      return undefined;
    },
  };
}

/** Abbreviations are written with and without a final dot (`Mär`, `Do.`): accept both. */
function withDotless(names: [string, number][]): [string, number][] {
  const out = [...names];
  for (const [n, v] of names) out.push(n.endsWith('.') ? [n.slice(0, -1), v] : [n + '.', v]);
  return out;
}

function english(): LocaleNames {
  return {
    tag: 'en',
    months: textField(EN_MONTHS.flatMap((m, i) => [[m, i + 1], [m.slice(0, 3), i + 1]] as [string, number][])),
    weekdays: textField(EN_DAYS.flatMap((d, i) => [[d, i + 1], [d.slice(0, 3), i + 1]] as [string, number][])),
    halfdays: textField([
      ['AM', 0],
      ['PM', 1],
    ]),
    eras: textField([
      ['BC', 0],
      ['AD', 1],
    ]),
  };
}

function fromIntl(tag: string): LocaleNames {
  const fmt = (o: Intl.DateTimeFormatOptions) => new Intl.DateTimeFormat(tag, { timeZone: 'UTC', ...o });
  const part = (f: Intl.DateTimeFormat, ms: number, type: string) => f.formatToParts(ms).find((p) => p.type === type)?.value ?? '';
  const months: [string, number][] = [];
  for (const style of ['long', 'short'] as const) {
    const f = fmt({ month: style, day: 'numeric' }); // the "format" (genitive) forms, as in dates
    const alone = fmt({ month: style }); // the stand-alone forms
    for (let m = 0; m < 12; m++) {
      const ms = Date.UTC(2000, m, 15);
      months.push([part(f, ms, 'month'), m + 1], [alone.format(ms), m + 1]);
    }
  }
  const weekdays: [string, number][] = [];
  for (const style of ['long', 'short'] as const) {
    const f = fmt({ weekday: style });
    // 2000-01-03 was a Monday
    for (let d = 0; d < 7; d++) weekdays.push([f.format(Date.UTC(2000, 0, 3 + d)), d + 1]);
  }
  const h = fmt({ hour: 'numeric', hourCycle: 'h12' });
  const halfdays: [string, number][] = [
    [part(h, Date.UTC(2000, 0, 1, 9), 'dayPeriod'), 0],
    [part(h, Date.UTC(2000, 0, 1, 21), 'dayPeriod'), 1],
    ['AM', 0],
    ['PM', 1],
  ];
  const e = fmt({ era: 'short', year: 'numeric' });
  const eras: [string, number][] = [
    [part(e, Date.UTC(-100, 0, 1), 'era'), 0],
    [part(e, Date.UTC(2000, 0, 1), 'era'), 1],
  ];
  return { tag, months: textField(withDotless(months)), weekdays: textField(withDotless(weekdays)), halfdays: textField(halfdays), eras: textField(eras) };
}

const cache = new Map<string, LocaleNames>();

/**
 * Names for a locale tag (`en`, `en-US`, `de`, POSIX `de_DE` too). Throws a RangeError for a tag
 * Intl does not accept.
 */
export function localeNames(tag: string | undefined): LocaleNames {
  const norm = (tag ?? 'en').replaceAll('_', '-');
  let names = cache.get(norm);
  if (!names) {
    const canonical = Intl.getCanonicalLocales(norm)[0] ?? 'en';
    names = canonical === 'en' || canonical.startsWith('en-') ? english() : fromIntl(canonical);
    cache.set(norm, names);
  }
  return names;
}
