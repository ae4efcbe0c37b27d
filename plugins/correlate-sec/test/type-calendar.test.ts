/** correlation/calendar.ts */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { calendar, runCalendar } from '../src/correlation/calendar.js';
import { testRuntime, T0 } from './rt.js';

// T0 is 2023-11-14 22:13:20 UTC, a Tuesday
const RULES = `type=Calendar\ntime=14 22 * * *\ndesc=daily\naction=write - %s %.hmsstr\n\ntype=Calendar\ntime=* * * * *\ncontext=OPEN\ndesc=each minute\naction=write - %s\n\ntype=Calendar\ntime=0 0 0 * *\ndesc=month end\naction=write - %s %.mday\n`;

test('Calendar: input events pass it by', () => {
  const t = testRuntime(RULES);
  t.event('14 22 * * *');
  assert.equal(calendar.match(t.engine, t.rules[0]!, 0), 1);
  assert.deepEqual(t.out, []);
  assert.equal(calendar.expire, undefined);
});

test('runCalendar: the action list runs in a matching minute, once in that minute', () => {
  const t = testRuntime(RULES);
  const daily = [t.rules[0]!];
  runCalendar(t.engine, daily, T0);
  assert.deepEqual(t.out, [], '22:13 does not match');
  t.at(40);
  runCalendar(t.engine, daily, T0 + 40);
  t.at(59);
  runCalendar(t.engine, daily, T0 + 59);
  assert.deepEqual(t.out, ['daily 22:14:00'], 'once in 22:14');
  assert.equal(daily[0]!.matchCount, 1);
  runCalendar(t.engine, daily, T0 + 86400 + 40);
  assert.equal(t.out.length, 2, 'again the next day');
});

test('runCalendar: a rule with a context runs only while the context is there', () => {
  const t = testRuntime(RULES);
  const each = [t.rules[1]!];
  runCalendar(t.engine, each, T0);
  assert.deepEqual(t.out, []);
  t.engine.contexts.create('OPEN', 0, [], '');
  runCalendar(t.engine, each, T0);
  assert.deepEqual(t.out, ['each minute']);
});

test('runCalendar: day 0 is the last day of the month', () => {
  const t = testRuntime(RULES);
  const end = [t.rules[2]!];
  const nov29 = Date.UTC(2023, 10, 29) / 1000;
  const nov30 = Date.UTC(2023, 10, 30) / 1000;
  runCalendar(t.engine, end, nov29);
  assert.deepEqual(t.out, []);
  t.at(nov30 - T0);
  runCalendar(t.engine, end, nov30);
  assert.deepEqual(t.out, ['month end 30']);
});
