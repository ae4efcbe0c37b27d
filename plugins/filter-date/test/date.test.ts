import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Event, Timestamp, type Fields } from '@pipeline/core';
import { createPlugin, makeContext, VirtualClock } from '@pipeline/core/testing';
import date from '../src/index.js';

const iso = (e: Event, field = '@timestamp') => (e.get(field) as Timestamp).toISOString();

async function make(config: string, now = '2026-06-15T12:00:00Z') {
  const ctx = makeContext({ clock: new VirtualClock(Date.parse(now)) });
  return createPlugin(date, config, ctx);
}

async function parse(config: string, fields: Fields, now?: string) {
  const f = await make(config, now);
  const event = new Event({ '@timestamp': new Timestamp(0), ...fields });
  const matched = f.filter(event, () => {});
  return { event, matched };
}

/** Parses each input and returns the resulting @timestamp, or 'FAIL' when the event was tagged. */
async function table(config: string, inputs: unknown[], now?: string): Promise<string[]> {
  const f = await make(config, now);
  return inputs.map((v) => {
    const e = new Event({ '@timestamp': new Timestamp(0), mydate: v as never });
    f.filter(e, () => {});
    return e.hasTag('_dateparsefailure') ? 'FAIL' : iso(e);
  });
}

describe('date: ISO8601', () => {
  it('parses offsets in every form (Logstash spec table)', async () => {
    const cases: Record<string, string> = {
      '2001-01-01T00:00:00-0800': '2001-01-01T08:00:00.000Z',
      '1974-03-02T04:09:09-0800': '1974-03-02T12:09:09.000Z',
      '2010-05-03T08:18:18+00:00': '2010-05-03T08:18:18.000Z',
      '2004-07-04T12:27:27-00:00': '2004-07-04T12:27:27.000Z',
      '2001-09-05T16:36:36+0000': '2001-09-05T16:36:36.000Z',
      '2001-11-06T20:45:45-0000': '2001-11-06T20:45:45.000Z',
      '2001-12-07T23:54:54Z': '2001-12-07T23:54:54.000Z',
      '2010-05-03T08:18:18.123+00:00': '2010-05-03T08:18:18.123Z',
      '2004-07-04T12:27:27.123-04:00': '2004-07-04T16:27:27.123Z',
      '2001-09-05T16:36:36.123+0700': '2001-09-05T09:36:36.123Z',
      '2001-11-06T20:45:45.123-0000': '2001-11-06T20:45:45.123Z',
      '2001-12-07T23:54:54.123Z': '2001-12-07T23:54:54.123Z',
      '2001-12-07T23:54:54,123Z': '2001-12-07T23:54:54.123Z',
      '2001-11-06 20:45:45.123-0000': '2001-11-06T20:45:45.123Z',
      '2001-12-07 23:54:54.123Z': '2001-12-07T23:54:54.123Z',
      '2001-12-07 23:54:54,123Z': '2001-12-07T23:54:54.123Z',
      '2001-11-06 20:45:45.123': '2001-11-06T20:45:45.123Z',
      '2001-11-06 20:45:45,123': '2001-11-06T20:45:45.123Z',
    };
    assert.deepEqual(await table('match => ["mydate", "ISO8601"] timezone => "UTC"', Object.keys(cases)), Object.values(cases));
  });
  it('uses the timezone option only when the text has no offset', async () => {
    assert.deepEqual(await table('match => ["mydate", "ISO8601"] timezone => "America/Los_Angeles"', ['2001-01-01T00:00:00.123', '2001-07-01T00:00:00', '2001-07-01T00:00:00Z']), [
      '2001-01-01T08:00:00.123Z',
      '2001-07-01T07:00:00.000Z',
      '2001-07-01T00:00:00.000Z',
    ]);
  });
  it('reads date-only, reduced precision, fractions, ordinal and week dates', async () => {
    assert.deepEqual(
      await table('match => ["mydate", "ISO8601"] timezone => "UTC"', ['2011-04-19', '2011-04', '2011', '2011-04-19T03', '2011-04-19T03:44', '2011-04-19T10.5Z', '2011-04-19T10:30.5Z', '2011-04-19T03:44:01.123456789Z', '2011-109', '2011-W16-2', '2009-W01-1', '2011-04-19TZ']),
      ['2011-04-19T00:00:00.000Z', '2011-04-01T00:00:00.000Z', '2011-01-01T00:00:00.000Z', '2011-04-19T03:00:00.000Z', '2011-04-19T03:44:00.000Z', '2011-04-19T10:30:00.000Z', '2011-04-19T10:30:30.000Z', '2011-04-19T03:44:01.123Z', '2011-04-19T00:00:00.000Z', '2011-04-19T00:00:00.000Z', '2008-12-29T00:00:00.000Z', '2011-04-19T00:00:00.000Z'],
    );
  });
  it('refuses what is not ISO8601', async () => {
    assert.deepEqual(
      await table('match => ["mydate", "ISO8601"] timezone => "UTC"', ['2001-13-01', '2001-02-30T00:00:00Z', 'hello', '2011-04-19Z', '2011-04-19 03:44', '2011-04-19T25:00', ' 2011-04-19', '2011-04-19T03:44:01+05:', '']),
      Array(9).fill('FAIL'),
    );
  });
});

describe('date: Joda patterns', () => {
  it('parses the syslog forms, with one or two spaces before the day', async () => {
    const conf = 'match => ["mydate", "MMM dd HH:mm:ss", "MMM  d HH:mm:ss"] timezone => "UTC"';
    assert.deepEqual(await table(conf, ['Apr 17 09:32:01', 'Apr  7 09:32:01', 'apr 17 09:32:01', 'April 17 09:32:01', 'Apr 17 09:32', 'Apr 31 09:32:01']), [
      '2026-04-17T09:32:01.000Z',
      '2026-04-07T09:32:01.000Z',
      '2026-04-17T09:32:01.000Z',
      '2026-04-17T09:32:01.000Z',
      'FAIL',
      'FAIL',
    ]);
  });
  it('reads an offset (Z, ZZ) and a zone ID (ZZZ) from the text', async () => {
    assert.deepEqual(await table('match => ["mydate", "MMM dd HH:mm:ss Z"]', ['Nov 24 01:29:01 -0800', 'Nov 24 01:29:01 +05:30'], '2026-11-30T00:00:00Z'), ['2026-11-24T09:29:01.000Z', '2026-11-23T19:59:01.000Z']);
    assert.deepEqual(await table('match => ["mydate", "yyyy-MM-dd HH:mm:ss ZZZ"]', ['2020-06-01 12:00:00 America/New_York', '2020-01-01 12:00:00 Europe/Paris', '2020-01-01 12:00:00 Nowhere/Land']), ['2020-06-01T16:00:00.000Z', '2020-01-01T11:00:00.000Z', 'FAIL']);
  });
  it('handles quoted literals, adjacent numeric fields, fractions and half-day clocks', async () => {
    assert.deepEqual(await table(`match => ["mydate", "yyyy-MM-dd'T'HH:mm:ss", "yyyyMMddHHmmss", "yyyy-MM-dd HH:mm:ss.SSSSSS", "yyyy/MM/dd hh:mm a", "dd/MMM/yyyy:HH:mm:ss Z"] timezone => "UTC"`, ['2015-01-01T01:12:23', '20150101011223', '2015-01-01 01:12:23.123456', '2015-01-01 07:05 PM', '2015/01/01 12:00 AM', '2015/01/01 12:30 pm', '10/Oct/2000:13:55:36 -0700']), [
      '2015-01-01T01:12:23.000Z',
      '2015-01-01T01:12:23.000Z',
      '2015-01-01T01:12:23.123Z',
      'FAIL',
      '2015-01-01T00:00:00.000Z',
      '2015-01-01T12:30:00.000Z',
      '2000-10-10T20:55:36.000Z',
    ]);
  });
  it('reads two-digit years in the window 80 years back to 19 ahead', async () => {
    assert.deepEqual(await table('match => ["mydate", "dd/MM/yy"] timezone => "UTC"', ['01/02/03', '01/02/45', '01/02/46', '01/02/99'], '2026-06-15T00:00:00Z'), ['2003-02-01T00:00:00.000Z', '2045-02-01T00:00:00.000Z', '1946-02-01T00:00:00.000Z', '1999-02-01T00:00:00.000Z']);
  });
  it('reads weekday names', async () => {
    assert.deepEqual(await table('match => ["mydate", "EEE MMM dd HH:mm:ss yyyy", "EEEE, dd MMMM yyyy"] timezone => "UTC"', ['Sun Jun 02 20:38:03 2019', 'Sunday, 02 June 2019', 'Sun Jun 02 20:38:03 2019 x']), ['2019-06-02T20:38:03.000Z', '2019-06-02T00:00:00.000Z', 'FAIL']);
  });
  it('refuses patterns Joda cannot parse with, when the config loads', async () => {
    await assert.rejects(createPlugin(date, 'match => ["f", "HH:mm z"]'), /cannot be parsed/);
    await assert.rejects(createPlugin(date, 'match => ["f", "qq"]'), /illegal pattern component/);
    await assert.rejects(createPlugin(date, "match => [\"f\", \"yyyy 'T\"]"), /unterminated quote/);
    await assert.rejects(createPlugin(date, 'match => ["f"]'), /at least one format/);
    await assert.rejects(createPlugin(date, 'match => ["f", "ISO8601"] timezone => "Mars/Olympus"'), /unknown time zone/);
    await assert.rejects(createPlugin(date, 'match => ["f", "ISO8601"] locale => "!!"'), /unknown locale/);
  });
});

describe('date: the year of syslog timestamps', () => {
  const conf = 'match => ["mydate", "MMM dd HH:mm:ss"] timezone => "UTC"';
  it('a December line read in January is last year’s', async () => {
    assert.deepEqual(await table(conf, ['Dec 31 23:59:00'], '2014-01-01T00:30:50Z'), ['2013-12-31T23:59:00.000Z']);
  });
  it('a January line read in December is next year’s', async () => {
    assert.deepEqual(await table(conf, ['Jan 01 01:00:00'], '2013-12-31T23:59:50Z'), ['2014-01-01T01:00:00.000Z']);
  });
  it('other lines get the year closest to now', async () => {
    assert.deepEqual(await table(conf, ['Jun 02 20:38:03', 'Nov 15 10:00:00', 'Mar 01 00:00:00'], '2026-01-10T00:00:00Z'), ['2026-06-02T20:38:03.000Z', '2025-11-15T10:00:00.000Z', '2026-03-01T00:00:00.000Z']);
  });
  it('29 February without a year parses and lands on a leap year when one is closest', async () => {
    assert.deepEqual(await table(conf, ['Feb 29 12:00:00'], '2028-02-20T00:00:00Z'), ['2028-02-29T12:00:00.000Z']);
  });
  it('a weekday in a pattern without a year follows Joda (the weekday of year 2000 decides)', async () => {
    // Jun 02 2000 was a Friday; Sunday moves the date to the Sunday of that week, Jun 04.
    assert.deepEqual(await table('match => ["mydate", "EEE MMM dd HH:mm:ss"] timezone => "UTC"', ['Sun Jun 02 20:38:03', 'Fri Jun 02 20:38:03'], '2026-06-10T00:00:00Z'), ['2026-06-04T20:38:03.000Z', '2026-06-02T20:38:03.000Z']);
  });
});

describe('date: time zones and daylight saving', () => {
  it('applies a named zone, summer and winter', async () => {
    assert.deepEqual(await table('match => ["mydate", "yyyy MMM dd HH:mm:ss"] locale => "en" timezone => "America/Los_Angeles"', ['2013 Nov 24 01:29:01', '2013 Jun 24 01:29:01']), ['2013-11-24T09:29:01.000Z', '2013-06-24T08:29:01.000Z']);
  });
  it('takes the zone from the event with %{field}', async () => {
    const f = await make('match => ["mydate", "yyyy MMM dd HH:mm:ss"] timezone => "%{mytz}"');
    const a = new Event({ mydate: '2013 Nov 24 01:29:01', mytz: 'America/Los_Angeles' });
    const b = new Event({ mydate: '2013 Nov 24 01:29:01', mytz: 'Asia/Tokyo' });
    const c = new Event({ mydate: '2013 Nov 24 01:29:01', mytz: 'Not/AZone' });
    for (const e of [a, b, c]) f.filter(e, () => {});
    assert.equal(iso(a), '2013-11-24T09:29:01.000Z');
    assert.equal(iso(b), '2013-11-23T16:29:01.000Z');
    assert.ok(c.hasTag('_dateparsefailure'));
  });
  it('fails a local time skipped by the spring change, takes the earlier instant in the autumn overlap', async () => {
    const conf = 'match => ["mydate", "yyyy-MM-dd HH:mm:ss"] timezone => "Europe/Berlin"';
    assert.deepEqual(await table(conf, ['2016-03-27 01:59:59', '2016-03-27 02:30:00', '2016-03-27 03:00:00', '2016-10-30 02:30:00', '2016-10-30 03:00:00', '2016-03-26 02:00:37']), [
      '2016-03-27T00:59:59.000Z',
      'FAIL',
      '2016-03-27T01:00:00.000Z',
      '2016-10-30T00:30:00.000Z',
      '2016-10-30T02:00:00.000Z',
      '2016-03-26T01:00:37.000Z',
    ]);
    assert.deepEqual(await table('match => ["mydate", "yyyy-MM-dd HH:mm:ss"] timezone => "America/New_York"', ['2024-03-10 02:30:00', '2024-11-03 01:30:00']), ['FAIL', '2024-11-03T05:30:00.000Z']);
  });
  it('applies DST to syslog timestamps whose year is guessed', async () => {
    assert.deepEqual(await table('match => ["mydate", "MMM dd HH:mm:ss"] timezone => "CET"', ['Mar 26 02:00:37', 'Mar 27 02:30:00', 'Jul 01 12:00:00'], '2016-03-29T23:59:50Z'), ['2016-03-26T01:00:37.000Z', 'FAIL', '2016-07-01T10:00:00.000Z']);
  });
  it('accepts fixed offsets as zones', async () => {
    assert.deepEqual(await table('match => ["mydate", "yyyy-MM-dd HH:mm"] timezone => "+05:30"', ['2020-01-01 12:00']), ['2020-01-01T06:30:00.000Z']);
  });
  it("defaults to the process's zone (TZ)", async () => {
    const saved = process.env.TZ;
    process.env.TZ = 'America/New_York';
    try {
      assert.deepEqual(await table('match => ["mydate", "yyyy-MM-dd HH:mm:ss", "ISO8601"]', ['2020-01-15 12:00:00', '2020-07-15T12:00:00']), ['2020-01-15T17:00:00.000Z', '2020-07-15T16:00:00.000Z']);
      process.env.TZ = 'Asia/Kolkata';
      assert.deepEqual(await table('match => ["mydate", "yyyy-MM-dd HH:mm:ss"]', ['2020-01-15 12:00:00']), ['2020-01-15T06:30:00.000Z']);
    } finally {
      if (saved === undefined) delete process.env.TZ;
      else process.env.TZ = saved;
    }
  });
});

describe('date: locales', () => {
  it('English by default and for en-US / en_US', async () => {
    for (const loc of ['', 'locale => "en-US"', 'locale => "en_US"'])
      assert.deepEqual(await table(`match => ["mydate", "dd MMM yyyy"] timezone => "UTC" ${loc}`, ['05 Mar 2020', '05 Mär 2020']), ['2020-03-05T00:00:00.000Z', 'FAIL']);
  });
  it('other locales read their own month and weekday names', async () => {
    assert.deepEqual(await table('match => ["mydate", "EEE, dd MMM yyyy"] timezone => "UTC" locale => "de"', ['Do., 05 Mär 2020', 'Do, 05 März 2020', 'Thu, 05 Mar 2020']), ['2020-03-05T00:00:00.000Z', '2020-03-05T00:00:00.000Z', 'FAIL']);
    assert.deepEqual(await table('match => ["mydate", "dd MMMM yyyy"] timezone => "UTC" locale => "fr"', ['05 mars 2020', '01 août 2020']), ['2020-03-05T00:00:00.000Z', '2020-08-01T00:00:00.000Z']);
  });
});

describe('date: UNIX, UNIX_MS, TAI64N', () => {
  it('UNIX reads seconds as strings and numbers, with millisecond fractions', async () => {
    assert.deepEqual(await table('match => ["mydate", "UNIX"]', ['0', '1000000000', 0, 1000000000, '1350414944.123456', 1350414944.123456, '1478207457.4', '-1', '%{bad_value}', '2147483648', '1.', 'abc', ' 1']), [
      '1970-01-01T00:00:00.000Z',
      '2001-09-09T01:46:40.000Z',
      '1970-01-01T00:00:00.000Z',
      '2001-09-09T01:46:40.000Z',
      '2012-10-16T19:15:44.123Z',
      '2012-10-16T19:15:44.123Z',
      '2016-11-03T21:10:57.400Z',
      '1969-12-31T23:59:59.000Z',
      'FAIL',
      'FAIL',
      'FAIL',
      'FAIL',
      'FAIL',
    ]);
  });
  it('UNIX_MS reads milliseconds; UNIX then UNIX_MS covers both', async () => {
    assert.deepEqual(await table('match => ["mydate", "UNIX_MS"]', ['0', '456', '1000000000123', 456, 1000000000123, '12.5']), ['1970-01-01T00:00:00.000Z', '1970-01-01T00:00:00.456Z', '2001-09-09T01:46:40.123Z', '1970-01-01T00:00:00.456Z', '2001-09-09T01:46:40.123Z', 'FAIL']);
    assert.deepEqual(await table('match => ["mydate", "UNIX", "UNIX_MS"]', ['1478207457', '1478207457.456', '1000000000123', 1478207457.456, 1000000000123]), [
      '2016-11-03T21:10:57.000Z',
      '2016-11-03T21:10:57.456Z',
      '2001-09-09T01:46:40.123Z',
      '2016-11-03T21:10:57.456Z',
      '2001-09-09T01:46:40.123Z',
    ]);
  });
  it('TAI64N with and without the leading @', async () => {
    assert.deepEqual(await table('match => ["mydate", "TAI64N"]', ['4000000050d506482dbdf024', '@4000000050d506482dbdf024', '@40000000', 12]), ['2012-12-22T01:00:46.767Z', '2012-12-22T01:00:46.767Z', 'FAIL', 'FAIL']);
  });
});

describe('date: fields, target and failures', () => {
  it('reads a nested field and writes a target field', async () => {
    const { event, matched } = await parse('match => ["[data][deep]", "ISO8601"] target => "[parsed][at]"', { data: { deep: '2013-01-01T00:00:00.000Z' } });
    assert.equal(matched, true);
    assert.equal(iso(event, '[parsed][at]'), '2013-01-01T00:00:00.000Z');
    assert.equal(iso(event), '1970-01-01T00:00:00.000Z');
  });
  it('does nothing, without a tag, when the field is missing or null', async () => {
    for (const fields of [{}, { mydate: null }]) {
      const { event, matched } = await parse('match => ["mydate", "ISO8601"]', fields);
      assert.equal(matched, false);
      assert.deepEqual(event.tags, []);
    }
  });
  it('tags a failure (default and custom tags) and leaves @timestamp alone', async () => {
    const a = await parse('match => ["mydate", "yyyy/MM/dd"]', { mydate: '2013/Apr/21' });
    assert.equal(a.matched, false);
    assert.deepEqual(a.event.tags, ['_dateparsefailure']);
    assert.equal(iso(a.event), '1970-01-01T00:00:00.000Z');
    const b = await parse('match => ["mydate", "yyyy/MM/dd"] tag_on_failure => ["date_failed", "x"]', { mydate: '2013/Apr/21' });
    assert.deepEqual(b.event.tags, ['date_failed', 'x']);
  });
  it('fails on arrays, hashes, and numbers given to text patterns', async () => {
    assert.deepEqual(await table('match => ["mydate", "yyyy/MM/dd", "ISO8601"]', [['2013/04/21'], { a: 1 }, 20130421, true]), ['FAIL', 'FAIL', 'FAIL', 'FAIL']);
  });
  it('tries the formats in order and stops at the first that parses', async () => {
    assert.deepEqual(await table('match => ["mydate", "yyyy-MM-dd", "dd.MM.yyyy", "UNIX"] timezone => "UTC"', ['2013-04-21', '21.04.2013', '1366502400']), ['2013-04-21T00:00:00.000Z', '2013-04-21T00:00:00.000Z', '2013-04-21T00:00:00.000Z']);
  });
  it('rejects a huge hostile value quickly', async () => {
    const t0 = performance.now();
    const big = '2013-04-21' + '9'.repeat(2_000_000);
    assert.deepEqual(await table('match => ["mydate", "ISO8601", "yyyy-MM-dd", "UNIX", "UNIX_MS", "MMM dd HH:mm:ss"]', [big, 'A'.repeat(1_000_000)]), ['FAIL', 'FAIL']);
    assert.ok(performance.now() - t0 < 2000);
  });
  it('parses the syslog timestamps of the reference log lines', async () => {
    const f = await make('match => ["syslog_timestamp", "MMM  d HH:mm:ss", "MMM dd HH:mm:ss", "ISO8601"] timezone => "Europe/Helsinki"', '2026-03-02T10:00:00Z');
    const lines = ['Mar  2 09:15:01', 'Feb 27 23:59:59', '2026-03-02T09:15:01.123456+02:00'];
    const out = lines.map((l) => {
      const e = new Event({ syslog_timestamp: l });
      f.filter(e, () => {});
      return iso(e);
    });
    assert.deepEqual(out, ['2026-03-02T07:15:01.000Z', '2026-02-27T21:59:59.000Z', '2026-03-02T07:15:01.123Z']);
  });
});
