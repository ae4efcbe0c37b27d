import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { Event } from '../src/event/event.js';
import { Timestamp } from '../src/event/timestamp.js';
import { Attribution, type Attributed } from '../src/replay/attribution.js';
import { EventClock } from '../src/replay/clock.js';
import { isGzip, readLines, rotationOrder } from '../src/replay/read.js';
import { replay } from '../src/replay/replay.js';
import { reportHtml } from '../src/replay/report-html.js';
import { SummaryCollector } from '../src/replay/summary.js';
import { DEFAULT_SETTINGS, mergeSettings } from '../src/runtime/settings.js';
import { tempDir } from './helpers.js';

describe('replay: the event clock', () => {
  it('moves timers armed before the start with it, fires them in order on the way, and never goes back', () => {
    const c = new EventClock(Date.UTC(2030, 0, 1));
    const fired: string[] = [];
    c.setInterval(() => fired.push(`tick ${(c.now() - Date.UTC(2024, 2, 1)) / 1000}`), 1000);
    c.setTimeout(() => fired.push(`once ${(c.now() - Date.UTC(2024, 2, 1)) / 1000}`), 2500);
    assert.equal(c.started, false);
    c.start(Date.UTC(2024, 2, 1));
    c.advanceTo(Date.UTC(2024, 2, 1) + 3000);
    assert.deepEqual(fired, ['tick 1', 'tick 2', 'once 2.5', 'tick 3']);
    c.advanceTo(Date.UTC(2024, 2, 1)); // backwards: nothing happens
    assert.equal(c.now(), Date.UTC(2024, 2, 1) + 3000);
    assert.throws(() => c.start(0), /already started/);
  });

  it('runs every second of a long gap (three days: 259,200 ticks) and cancels what is cancelled', () => {
    const c = new EventClock(0);
    let ticks = 0;
    c.setInterval(() => ticks++, 1000);
    const t = c.setTimeout(() => assert.fail('cancelled'), 10);
    t.cancel();
    c.start(0);
    c.advanceTo(3 * 86_400_000);
    assert.equal(ticks, 259_200);
    assert.equal(c.pending, 1);
  });
});

describe('replay: reading archives', () => {
  it('orders rotated files oldest first, whatever order they were named in', () => {
    assert.deepEqual(rotationOrder(['/l/syslog', '/l/syslog.1', '/l/syslog.2.gz', '/l/syslog.10.gz', '/l/auth.log', '/l/auth.log.1']), [
      '/l/syslog.10.gz',
      '/l/syslog.2.gz',
      '/l/syslog.1',
      '/l/syslog',
      '/l/auth.log.1',
      '/l/auth.log',
    ]);
    assert.deepEqual(rotationOrder(['/l/messages', '/l/messages-20240302', '/l/messages-20240301.gz']), ['/l/messages-20240301.gz', '/l/messages-20240302', '/l/messages']);
  });

  it('reads gzip by its bytes, not its name, and keeps a last line without newline', async () => {
    const t = tempDir();
    try {
      const gz = join(t.dir, 'plain-name.log');
      writeFileSync(gz, gzipSync('one\ntwo\r\n\nthree'));
      assert.equal(isGzip(gz), true);
      let bytes = 0;
      const lines: string[] = [];
      for await (const chunk of readLines(gz, (n) => (bytes += n))) lines.push(...chunk);
      assert.deepEqual(lines, ['one', 'two\r', '', 'three']);
      assert.ok(bytes > 0);
    } finally {
      t.cleanup();
    }
  });
});

describe('replay: which rule raised an alert', () => {
  const alert = (text: string) => new Event({ alert: { event: text }, tags: ['alert'] });
  const run = (descs: [string, string][], script: (a: Attribution) => void) => {
    const got: [string, Attributed][] = [];
    const a = new Attribution(new Map(descs), (e, who) => got.push([String((e.fields.alert as { event: string }).event), who]));
    script(a);
    return got;
  };

  it('a rule counted before its alert in a step, or after it (Calendar), owns it; none counted: its event text', () => {
    const got = run(
      [
        ['r.sec:1', 'ssh failures'],
        ['r.sec:9', 'hourly'],
      ],
      (a) => {
        a.step.begin();
        a.counted('r.sec:1');
        a.alert(alert('from a match'));
        a.step.end();
        a.step.begin(); // a timer pass: Calendar runs its actions, then is counted
        a.alert(alert('from a calendar'));
        a.counted('r.sec:9');
        a.step.end();
        a.step.begin(); // a window that expired: nothing counted
        a.alert(alert('from a timeout'));
        a.step.end();
      },
    );
    assert.deepEqual(got, [
      ['from a match', { desc: 'ssh failures', rule: 'r.sec:1' }],
      ['from a calendar', { desc: 'hourly', rule: 'r.sec:9' }],
      ['from a timeout', { desc: 'from a timeout' }],
    ]);
  });

  it('a timer pass while the clock moves to an event is its own step', () => {
    const got = run([['r.sec:1', 'match']], (a) => {
      a.step.begin();
      a.step.begin(); // the timer pass nested in the event's step
      a.alert(alert('expired'));
      a.step.end();
      a.counted('r.sec:1');
      a.alert(alert('matched'));
      a.step.end();
    });
    assert.deepEqual(got, [
      ['expired', { desc: 'expired' }],
      ['matched', { desc: 'match', rule: 'r.sec:1' }],
    ]);
  });
});

describe('replay: the summary', () => {
  it('counts failure tags, skips events outside --from/--to, and groups alerts per rule and hour', () => {
    const s = new SummaryCollector(Date.UTC(2024, 2, 1), Date.UTC(2024, 2, 2));
    const ev = (iso: string, tags: string[] = []) => new Event({ message: 'x', tags, '@timestamp': iso });
    assert.equal(s.filtered(ev('2024-03-01T10:00:00Z', ['_grokparsefailure', '_dateparsefailure'])), true);
    assert.equal(s.filtered(ev('2024-03-01T10:00:01Z', ['_jsonparsefailure'])), true);
    assert.equal(s.filtered(ev('2024-03-02T00:00:00Z')), false);
    const a = (iso: string) => new Event({ alert: { resource: 'web1', event: 'e', text: 'long' }, tags: ['alert'], '@timestamp': new Timestamp(Date.parse(iso)) });
    s.alert(a('2024-03-01T10:00:00Z'), { desc: 'd', rule: 'r.sec:1' });
    s.alert(a('2024-03-01T10:59:59Z'), { desc: 'd', rule: 'r.sec:1' });
    s.alert(a('2024-03-01T11:00:00Z'), { desc: 'd', rule: 'r.sec:1' });
    const out = s.summary(['f'], 0, 1);
    assert.equal(out.events, 3);
    assert.equal(out.skipped, 1);
    assert.deepEqual(out.failures, { _grokparsefailure: 1, _dateparsefailure: 1, _jsonparsefailure: 1 });
    assert.equal(out.from, '2024-03-01T10:00:00.000Z');
    assert.equal(out.to, '2024-03-01T10:00:01.000Z');
    assert.equal(out.alerts.length, 1);
    assert.deepEqual(out.alerts[0]!.hours, { '2024-03-01T10:00:00.000Z': 2, '2024-03-01T11:00:00.000Z': 1 });
    assert.equal(out.alerts[0]!.first, '2024-03-01T10:00:00.000Z');
    assert.equal(out.alerts[0]!.last, '2024-03-01T11:00:00.000Z');
    assert.equal(out.alerts[0]!.examples.length, 3);
    const html = reportHtml(out);
    assert.equal((html.match(/<rect /g) ?? []).length, 2, 'one bar per hour with alerts');
    assert.match(html, /<td class="num">3<\/td><td class="t">2024-03-01T10:00:00.000Z<\/td><td class="t">2024-03-01T11:00:00.000Z<\/td>/);
    assert.match(html, /<td class="ex">web1 · e<\/td>/, 'the first alert in a few words, not its whole text');
  });
});

describe('replay: the run', () => {
  it('a date filter drives the SEC clock; late lines are counted; a missing year is guessed from the clock, which then is event time', async () => {
    const t = tempDir();
    try {
      writeFileSync(
        join(t.dir, 'r.sec'),
        'type=SingleWithThreshold\nptype=RegExp\npattern=fail (\\S+)\ndesc=failures of $1\nwindow=60\nthresh=2\naction=alert resource=$1 event="two failures"\n',
      );
      // Dec 31 then Jan 1: the second line's year is the next one, guessed from the clock (event time by then)
      writeFileSync(join(t.dir, 'log'), ['Dec 31 23:59:30 fail a', 'Jan  1 00:00:20 fail a', 'Jan  1 00:05:00 fail b', 'Dec 31 23:59:59 fail b', ''].join('\n'));
      const settings = mergeSettings(DEFAULT_SETTINGS, {
        'path.data': t.dir,
        'config.string': `filter { grok { match => { "message" => "^%{SYSLOGTIMESTAMP:ts} %{GREEDYDATA}" } } date { match => ["ts", "MMM dd HH:mm:ss", "MMM  d HH:mm:ss"] timezone => "UTC" } }
          correlate { sec { rules => ["${join(t.dir, 'r.sec')}"] } }`,
      });
      const s = await replay({ settings, workingDir: t.dir, files: ['log'] });
      assert.equal(s.lines, 4);
      assert.equal(s.late, 1);
      // a: 50 s apart across New Year -> fires; b: the late line is correlated at 00:05:00 -> fires too
      assert.equal(s.alerts.length, 1);
      assert.equal(s.alerts[0]!.desc, 'failures of $1');
      assert.equal(s.alerts[0]!.count, 2);
      const first = new Date(s.alerts[0]!.first);
      assert.equal(first.getUTCMonth(), 0);
      assert.equal(first.getUTCDate(), 1);
      assert.equal(s.alerts[0]!.first.slice(10), 'T00:00:20.000Z');
      assert.equal(s.alerts[0]!.last.slice(10), 'T00:05:00.000Z');
      assert.equal(new Date(s.from!).getUTCFullYear() + 1, new Date(s.to!).getUTCFullYear());
    } finally {
      t.cleanup();
    }
  });
});
