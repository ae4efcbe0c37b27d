import { closeMatches, compileTemplate, ConfigError, definePlugin, fieldRef, FieldRefError, opt, Timestamp, type Event, type FieldRef, type Fields, type Resolved } from '@pipeline/core';
import { parseTai64n, parseUnix, parseUnixMs } from './epoch.js';
import { isoParser } from './iso8601.js';
import { compilePattern, DateParseError, localMillis, PatternError, toLocal, type CompiledPattern, type LocalTime } from './joda.js';
import { localeNames, type LocaleNames } from './locale.js';
import { processZone, zoneFor, type Zone } from './zone.js';

const options = {
  match: opt.strings({ required: true, description: 'the field, then one or more formats: Joda patterns, ISO8601, UNIX, UNIX_MS, TAI64N' }),
  timezone: opt.string({ description: "zone for times without an offset: an IANA name, an offset, or %{field}; default: the process's zone (TZ)" }),
  locale: opt.string({ description: 'locale for month and weekday names (BCP 47 or POSIX, e.g. en, en-US, de_DE); default English' }),
  target: opt.field({ default: '@timestamp', description: 'field that receives the parsed timestamp' }),
  tag_on_failure: opt.strings({ default: ['_dateparsefailure'], description: 'tags added when no format matches' }),
};

/** The zone to use for one event: fixed at load, or rendered from `%{...}` per event. */
type ZoneSource = (fields: Fields) => Zone | undefined;

/** One format, ready to turn a field value into epoch milliseconds (throws when it does not apply). */
type Parser = (value: unknown, fields: Fields) => number;

/** A format of `match`, compiled: a named one, or a Joda pattern. */
type Format = { name: 'ISO8601' | 'UNIX' | 'UNIX_MS' | 'TAI64N' } | { name: 'pattern'; source: string; pattern: CompiledPattern };

/**
 * What the options compile to without a clock: `check` (so -t) and `create` both run it, so a bad
 * pattern, zone, locale or field is refused at the option that holds it, by the same code.
 */
function compileOptions(o: Resolved<typeof options>) {
  if (o.match.length < 2)
    throw ConfigError.forOption('match', `date: match needs a field name and at least one format, got ${JSON.stringify(o.match)}`, 'match => ["logdate", "MMM dd HH:mm:ss", "ISO8601"]');
  let names: LocaleNames;
  try {
    names = localeNames(o.locale);
  } catch {
    throw ConfigError.forOption('locale', `date: unknown locale '${o.locale}'`, 'a BCP 47 or POSIX locale such as en, en-US or de_DE');
  }
  let zoneOf: ZoneSource;
  if (o.timezone === undefined) {
    const z = processZone();
    zoneOf = () => z;
  } else if (o.timezone.includes('%{')) {
    const t = compileTemplate(o.timezone);
    zoneOf = (f) => zoneFor(t.render(f));
  } else {
    const z = zoneFor(o.timezone);
    if (!z) {
      const close = closeMatches(o.timezone, Intl.supportedValuesOf('timeZone'));
      throw ConfigError.forOption(
        'timezone',
        `date: unknown time zone '${o.timezone}'` + (close.length ? ` (did you mean '${close[0]}'?)` : ''),
        'use an IANA name such as Europe/Paris, or an offset such as +01:00',
      );
    }
    zoneOf = () => z;
  }
  let field: FieldRef;
  try {
    field = fieldRef(o.match[0]!);
  } catch (e) {
    if (e instanceof FieldRefError) throw ConfigError.forOption('match', `date: match: ${e.message}`, 'the first item of match is the field to read', o.match[0]);
    throw e;
  }
  const formats: Format[] = o.match.slice(1).map((format) => {
    if (format === 'ISO8601' || format === 'UNIX' || format === 'UNIX_MS' || format === 'TAI64N') return { name: format };
    try {
      return { name: 'pattern', source: format, pattern: compilePattern(format, names) };
    } catch (e) {
      if (e instanceof PatternError) throw ConfigError.forOption('match', `date: ${e.message}`, 'formats are Joda-Time patterns (yyyy-MM-dd HH:mm:ss), or ISO8601, UNIX, UNIX_MS, TAI64N', format);
      throw e;
    }
  });
  // the schema checked the target's syntax (opt.field)
  const target = o.target === '@timestamp' ? undefined : fieldRef(o.target);
  return { names, zoneOf, field, formats, target };
}

/** The year of an instant as seen in a zone. */
function yearIn(zone: Zone, ms: number): number {
  return new Date(ms + zone.offsetAt(ms)).getUTCFullYear();
}

export default definePlugin({
  kind: 'filter',
  name: 'date',
  parallel: true,
  description: 'Parses a date from a field into @timestamp (or another target), as Logstash’s date filter.',
  options,
  check(o) {
    compileOptions(o);
  },
  create(o, ctx) {
    const { names, zoneOf, field, formats, target } = compileOptions(o);
    const clock = ctx.clock;

    /** Local wall-clock time to an instant in a zone; a time skipped by a DST change fails. */
    const inZone = (zone: Zone, localMs: number): number => {
      const t = zone.localToUtc(localMs);
      if (t === undefined) throw new DateParseError('illegal instant: the local time falls in a daylight-saving gap');
      return t;
    };

    /**
     * A date without a year takes the year (last, this or next) whose wall-clock time is closest
     * to now's, so December lines read in January land in the old year. Only that year is then
     * converted, so a time in a daylight-saving gap fails as it does in Logstash.
     */
    const guessYear = (local: LocalTime, offsetNow: number, toUtc: (localMs: number) => number): number => {
      const nowLocal = clock.now() + offsetNow;
      const nowYear = new Date(nowLocal).getUTCFullYear();
      let best = 0;
      let bestDist = Infinity;
      for (const y of [nowYear - 1, nowYear, nowYear + 1]) {
        const l = localMillis(local, y);
        const dist = Math.abs(l - nowLocal);
        if (dist < bestDist) {
          best = l;
          bestDist = dist;
        }
      }
      return toUtc(best);
    };

    const parsers: Parser[] = [];
    for (const format of formats) {
      switch (format.name) {
        case 'ISO8601': {
          const iso = isoParser(names);
          parsers.push((value, fields) => {
            if (typeof value !== 'string') throw new DateParseError('ISO8601 expects a string');
            const r = iso(value);
            const ms = localMillis(r.local);
            if (r.offset !== undefined) return ms - r.offset;
            const zone = zoneOf(fields);
            if (!zone) throw new DateParseError('unknown time zone');
            return inZone(zone, ms);
          });
          break;
        }
        case 'UNIX':
          parsers.push(parseUnix);
          break;
        case 'UNIX_MS':
          parsers.push(parseUnixMs);
          break;
        case 'TAI64N':
          parsers.push(parseTai64n);
          break;
        case 'pattern': {
          const { pattern: p, source } = format;
          const pivotNowYear = yearIn(processZone(), clock.now());
          parsers.push((value, fields) => {
            if (typeof value !== 'string') throw new DateParseError(`pattern '${source}' expects a string`);
            const f = p.read(value);
            if (!f) return NaN;
            const local = toLocal(f, pivotNowYear);
            let toUtc: (localMs: number) => number;
            let offsetNow: number;
            if (f.offset !== undefined) {
              const off = f.offset;
              toUtc = (ms) => ms - off;
              offsetNow = off;
            } else {
              const zone = f.zone ?? zoneOf(fields);
              if (!zone) throw new DateParseError('unknown time zone');
              toUtc = (ms) => inZone(zone, ms);
              offsetNow = p.hasYear ? 0 : zone.offsetAt(clock.now());
            }
            return p.hasYear ? toUtc(localMillis(local)) : guessYear(local, offsetNow, toUtc);
          });
        }
      }
    }

    const setTarget: (e: Event, ts: Timestamp) => void = target === undefined ? (e, ts) => void (e.timestamp = ts) : (e, ts) => target.set(e.fields, ts);
    const tags = o.tag_on_failure;
    const matches = ctx.metrics.counter('matches');
    const failures = ctx.metrics.counter('failures');

    return {
      filter(event) {
        const value = field.get(event.fields);
        if (value === undefined || value === null) return false;
        for (let i = 0; i < parsers.length; i++) {
          let ms: number;
          try {
            ms = parsers[i]!(value, event.fields);
          } catch {
            continue;
          }
          if (!Number.isFinite(ms)) continue;
          setTarget(event, new Timestamp(ms));
          matches.inc();
          return true;
        }
        failures.inc();
        for (const t of tags) event.tag(t);
        ctx.logger.debug({ field: field.text, value }, 'failed parsing date');
        return false;
      },
    };
  },
});
