import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPlugin, makeContext, runFilter } from '@pipeline/core/testing';
import { Event } from '@pipeline/core';
import grok from '../src/index.js';

// The reference's grok block (../shared/reference/homelab-setup.md, filter section), verbatim.
const REFERENCE = String.raw`
  match => {
     "message" => [ "%{SYSLOGTIMESTAMP:syslog_timestamp} %{DATA:syslog_program}(?:\[%{POSINT:syslog_pid}\])?: \[%{DATA}\] %{DATA:snort_event} \[Classification: %{DATA:snort_classification}\] \[Priority: %{NUMBER:snort_priority}\] \{%{DATA:snort_protocol}\} %{IP:snort_src_ip}:%{POSINT:snort_src_port} -> %{IP:snort_dest}:%{POSINT:snort_dest_port}",
     "%{SYSLOGTIMESTAMP:syslog_timestamp} %{SYSLOGHOST:syslog_hostname} %{DATA:syslog_program}(?:\[%{POSINT:syslog_pid}\])?: /usr/bin/rsnapshot( -v)? %{DATA:rsnapshot_event}: %{GREEDYDATA:rsnapshot_output}",
     "%{SYSLOGTIMESTAMP:syslog_timestamp} %{SYSLOGHOST:syslog_hostname} %{DATA:syslog_program}(?:\[%{POSINT:syslog_pid}\])?: %{GREEDYDATA:syslog_message}",
     "%{TIMESTAMP_ISO8601:syslog_timestamp} %{SYSLOGHOST:syslog_hostname} %{DATA:syslog_program}(?:\[%{POSINT:syslog_pid}\])?: %{GREEDYDATA:syslog_message}",
     "%{SYSLOGTIMESTAMP:syslog_timestamp} %{DATA:syslog_program}(?:\[%{POSINT:syslog_pid}\])?: %{GREEDYDATA:syslog_message}"]
  }`;

function strip(e: Event): Record<string, unknown> {
  const { '@timestamp': _t, '@version': _v, ...rest } = e.fields;
  return rest;
}

for (const timeout of [0, 30000]) {
  const mode = timeout === 0 ? 'direct' : 'worker-guarded';
  test(`reference grok (${mode}): snort, rsnapshot, sshd and pfSense lines give Logstash's fields`, async () => {
    const f = await createPlugin(grok, `${REFERENCE}\n timeout_millis => ${timeout}`);
    const lines = {
      snort: '<33>Mar  1 00:00:00 snort[2729]: [1:2001219:20] ET SCAN Potential SSH Scan [Classification: Attempted Information Leak] [Priority: 2] {TCP} 203.0.113.168:31145 -> 10.0.0.1:22',
      rsnapshot: '<78>Mar  1 04:00:01 backup01 rsnapshot[4242]: /usr/bin/rsnapshot -v hourly: completed successfully',
      sshd: '<38>Mar  1 00:00:05 jumpbox sshd[18205]: Accepted publickey for alice from 198.51.100.7 port 52544 ssh2',
      pfsense: '<38>Mar  1 00:00:00 sshd[18205]: Invalid user ubnt from 198.51.100.113 port 52544',
    };
    const out = runFilter(f, Object.values(lines).map((message) => ({ message })));
    assert.deepEqual(strip(out[0]!), {
      message: lines.snort,
      syslog_timestamp: 'Mar  1 00:00:00',
      syslog_program: 'snort',
      syslog_pid: '2729',
      snort_event: 'ET SCAN Potential SSH Scan',
      snort_classification: 'Attempted Information Leak',
      snort_priority: '2',
      snort_protocol: 'TCP',
      snort_src_ip: '203.0.113.168',
      snort_src_port: '31145',
      snort_dest: '10.0.0.1',
      snort_dest_port: '22',
    });
    assert.deepEqual(strip(out[1]!), {
      message: lines.rsnapshot,
      syslog_timestamp: 'Mar  1 04:00:01',
      syslog_hostname: 'backup01',
      syslog_program: 'rsnapshot',
      syslog_pid: '4242',
      rsnapshot_event: 'hourly',
      rsnapshot_output: 'completed successfully',
    });
    assert.deepEqual(strip(out[2]!), {
      message: lines.sshd,
      syslog_timestamp: 'Mar  1 00:00:05',
      syslog_hostname: 'jumpbox',
      syslog_program: 'sshd',
      syslog_pid: '18205',
      syslog_message: 'Accepted publickey for alice from 198.51.100.7 port 52544 ssh2',
    });
    assert.deepEqual(strip(out[3]!), {
      message: lines.pfsense,
      syslog_timestamp: 'Mar  1 00:00:00',
      syslog_program: 'sshd',
      syslog_pid: '18205',
      syslog_message: 'Invalid user ubnt from 198.51.100.113 port 52544',
    });
    await f.close?.();
  });
}

test('grok: no match tags _grokparsefailure and returns false; custom tag_on_failure', async () => {
  const f = await createPlugin(grok, 'match => { "message" => "%{IP:ip}" } timeout_millis => 0');
  const e = new Event({ message: 'no address here' });
  assert.equal(f.filter(e, () => {}), false);
  assert.deepEqual(e.tags, ['_grokparsefailure']);
  const g = await createPlugin(grok, 'match => { "message" => "%{IP:ip}" } tag_on_failure => ["a", "b"] timeout_millis => 0');
  const e2 = new Event({ message: 'x' });
  g.filter(e2, () => {});
  assert.deepEqual(e2.tags, ['a', 'b']);
});

test('grok: typed captures, duplicate names and Logstash merge rules', async () => {
  const run = async (pattern: string, message: string, extra = '') => {
    const f = await createPlugin(grok, `match => { "message" => "${pattern}" } timeout_millis => 0 ${extra}`);
    const [e] = runFilter(f, [{ message }]);
    return strip(e!);
  };
  assert.deepEqual(await run('%{WORD:t} %{NUMBER:t} %{WORD:t}', 'a 1 b'), { message: 'a 1 b', t: ['a', 'b', '1'] });
  assert.deepEqual(await run('%{INT:n:int}/%{INT:n:int}', '3/7'), { message: '3/7', n: 3 });
  assert.deepEqual(await run('%{INT:n}/%{INT:n:int}', '3/7'), { message: '3/7', n: ['3', 7] });
  assert.deepEqual(await run('%{NUMBER:f:float} %{NUMBER:i:int}', '3.99 3.99'), { message: '3.99 3.99', f: 3.99, i: 3 });
  assert.deepEqual(await run('%{GREEDYDATA:message}', 'hello'), { message: ['hello', 'hello'] });
  assert.deepEqual(await run('%{GREEDYDATA:message}', 'hello', 'overwrite => ["message"]'), { message: 'hello' });
  assert.deepEqual(await run('%{WORD:[a][b]} %{WORD:c.d}', 'x y'), { message: 'x y', a: { b: 'x' }, 'c.d': 'y' });
  assert.deepEqual(await run('%{WORD:w}', 'x', 'target => "parsed"'), { message: 'x', parsed: { w: 'x' } });
  assert.deepEqual(await run('(?<raw>\\w+)-(?<raw2>\\d*)', 'ab-'), { message: 'ab-', raw: 'ab' });
  assert.deepEqual(await run('(?<raw>\\w+)-(?<raw2>\\d*)', 'ab-', 'keep_empty_captures => true'), { message: 'ab-', raw: 'ab', raw2: '' });
  assert.deepEqual(await run('(?<X:n:int>\\d*)x', 'x'), { message: 'x', n: 0 });
  assert.deepEqual(await run('(?:(?<X:n:int>\\d+)y)?x', 'x'), { message: 'x' });
  assert.deepEqual(await run('(?:%{INT:v}|%{WORD:v})', 'abc'), { message: 'abc', v: 'abc' });
});

test('grok: break_on_match false tries every pattern; the last pattern decides success', async () => {
  const f = await createPlugin(grok, 'match => { "message" => ["%{WORD:a}", "%{INT:b}"] } break_on_match => false timeout_millis => 0');
  const [e] = runFilter(f, [{ message: 'abc 12' }]);
  assert.deepEqual(strip(e!), { message: 'abc 12', a: 'abc', b: '12' });
  const [e2] = runFilter(f, [{ message: 'abc' }]);
  assert.deepEqual(e2!.tags, ['_grokparsefailure']);
  assert.equal(e2!.get('a'), 'abc');
});

test('grok: array values try each element; missing fields are skipped', async () => {
  const f = await createPlugin(grok, 'match => { "message" => "%{INT:n}" } timeout_millis => 0');
  const [e] = runFilter(f, [{ message: ['x', '5', '6'] }]);
  assert.deepEqual(e!.get('n'), ['5', '6']);
  const [e2] = runFilter(f, [{ other: 1 }]);
  assert.deepEqual(e2!.tags, ['_grokparsefailure']);
});

test('grok: patterns_dir with patterns_files_glob, pattern_definitions, inline %{NAME=def}', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'grok-pat-'));
  try {
    writeFileSync(join(dir, 'mine.pat'), '# comment\nMYHOST h-\\d+\n');
    writeFileSync(join(dir, 'ignored.txt'), 'MYHOST zzz\n');
    const f = await createPlugin(grok, `match => { "message" => "%{MYHOST:h} %{MYWORD:w} %{X:x=\\d{2}}" } patterns_dir => ["${dir}"] patterns_files_glob => "*.pat" pattern_definitions => { "MYWORD" => "[a-z]+" } timeout_millis => 0`, makeContext());
    const [e] = runFilter(f, [{ message: 'h-12 abc 42' }]);
    assert.deepEqual(strip(e!), { message: 'h-12 abc 42', h: 'h-12', w: 'abc', x: '42' });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('grok: unknown pattern names and untranslatable regexes fail at load with the pattern', async () => {
  await assert.rejects(async () => createPlugin(grok, 'match => { "message" => "%{NOPE:x}" }'), /%\{NOPE\} not defined/);
  await assert.rejects(async () => createPlugin(grok, 'match => { "message" => "a\\Kb" }'), /a\\\\Kb|\\K/);
  await assert.rejects(async () => createPlugin(grok, 'match => { "message" => "x" } ecs_compatibility => "v8"'), /legacy/);
});

test('grok: a runaway pattern is stopped after timeout_millis, tagged _groktimeout, and the next event is not held up', async () => {
  // URIPROTO is [A-Za-z]([A-Za-z0-9+\-.]+)+ : exponential backtracking when "://" does not follow it
  // (the line holds "://" elsewhere, so the required-literal pre-check cannot skip the regex)
  const f = await createPlugin(grok, 'match => { "message" => ["%{URI:u}", "%{WORD:w}"] } timeout_millis => 200');
  const hostile = 'a'.repeat(40) + '!://x';
  const t0 = performance.now();
  const [bad] = runFilter(f, [{ message: hostile }]);
  const t1 = performance.now();
  assert.deepEqual(bad!.tags, ['_groktimeout']);
  assert.ok(t1 - t0 >= 190 && t1 - t0 < 5000, `timed out after ${t1 - t0} ms`);
  const [good] = runFilter(f, [{ message: 'hello http://example.com/x' }]);
  assert.equal(performance.now() - t1 < 3000, true);
  assert.equal(good!.get('u'), 'http://example.com/x');
  assert.equal(good!.tags.length, 0);
  await f.close?.();
});

test('grok: timeout_scope => event bounds all patterns of the event together', async () => {
  const f = await createPlugin(grok, 'match => { "message" => ["%{URI:u}", "%{WORD:w}"] } timeout_millis => 150 timeout_scope => "event"');
  const [bad] = runFilter(f, [{ message: 'b'.repeat(40) + '!://x' }]);
  assert.deepEqual(bad!.tags, ['_groktimeout']);
  const [ok] = runFilter(f, [{ message: 'word' }]);
  assert.equal(ok!.get('w'), 'word');
  await f.close?.();
});
