import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runTests, type TestReport } from '../src/cli/test-cases.js';
import { DEFAULT_SETTINGS, mergeSettings } from '../src/runtime/settings.js';
import { cli, FIXTURES, REPO_ROOT, tempDir } from './helpers.js';

/**
 * `pipeline test`: case files against a config's filter and correlate sections on event time.
 * The rule files are written for each test; every case names what it checks.
 */
const t = tempDir('pipeline-test-cases-');
const settings = () => mergeSettings(DEFAULT_SETTINGS, { 'path.data': t.dir });

function file(name: string, text: string): string {
  const p = join(t.dir, name);
  writeFileSync(p, text);
  return p;
}

async function run(yaml: string, name = 'case.yml'): Promise<TestReport> {
  return runTests([file(name, yaml)], settings(), t.dir);
}

const only = (r: TestReport) => {
  assert.equal(r.files.length, 1);
  assert.equal(r.files[0]!.error, undefined, r.files[0]!.error);
  return r.files[0]!.cases;
};

/** A config_string with a sec block reading `rules` (written to the temp dir). */
function secConfig(rules: string, filter = '', name = 'rules.sec'): string {
  const path = file(name, rules);
  return `filter { ${filter} } correlate { sec { rules => ["${path}"] } }`;
}

before(() => {
  file(
    'threshold.sec',
    [
      'type=SingleWithThreshold',
      'ptype=RegExp',
      'pattern=login failure for (\\S+)',
      'desc=login failures of $1',
      'window=60',
      'thresh=3',
      'action=alert resource=$1 event="3 login failures" severity=major',
      '',
    ].join('\n'),
  );
});
after(() => t.cleanup());

describe('pipeline test: the command', () => {
  const passing = () =>
    file(
      'pass.yml',
      `config_string: 'filter { mutate { add_field => { "seen" => "yes" } } }'
cases:
  - name: a field is added
    input: [hello]
    expect: [{ message: hello, seen: "yes" }]
`,
    );
  const failing = () =>
    file(
      'fail.yml',
      `config_string: 'filter { grok { match => { "message" => "pid=%{POSINT:pid}" } } }'
cases:
  - name: grok keeps the digits as a string
    input: ["pid=4242"]
    expect: [{ pid: "4242" }]
  - name: a number is not the string
    input: ["pid=4242"]
    expect: [{ pid: 4242 }]
`,
    );

  it('exits 0 and prints one ok line per case when every case passes', () => {
    const r = cli(['test', passing()], { cwd: t.dir });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /^ {2}ok {4}a field is added$/m);
    assert.match(r.stdout, /^1 passed, 0 failed$/m);
  });

  it('exits 1 and shows the first mismatching field with both values and their types', () => {
    const r = cli(['test', failing()], { cwd: t.dir });
    assert.equal(r.status, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /^ {2}ok {4}grok keeps the digits as a string$/m);
    assert.match(r.stdout, /^ {2}FAIL {2}a number is not the string {2}\(fail\.yml:6\)$/m);
    assert.match(r.stdout, /expect\[0\] \[pid\]: expected 4242 \(number\), got "4242" \(string\)/);
    assert.match(r.stdout, /expect\[0\] was \{"message":"pid=4242"/);
    assert.match(r.stdout, /^1 passed, 1 failed$/m);
  });

  it('--json prints one object with every case, and the same exit code', () => {
    const r = cli(['test', '--json', passing(), failing()], { cwd: t.dir });
    assert.equal(r.status, 1, r.stderr);
    const report = JSON.parse(r.stdout) as TestReport;
    assert.equal(report.ok, false);
    assert.equal(report.passed, 2);
    assert.equal(report.failed, 1);
    const bad = report.files[1]!.cases[1]!;
    assert.equal(bad.ok, false);
    assert.deepEqual({ list: bad.mismatch!.list, index: bad.mismatch!.index, field: bad.mismatch!.field, expected: bad.mismatch!.expected, actual: bad.mismatch!.actual }, { list: 'expect', index: 0, field: '[pid]', expected: 4242, actual: '4242' });
  });

  it('a missing file, or a directory without cases, fails', () => {
    const r = cli(['test', 'no-such.yml'], { cwd: t.dir });
    assert.equal(r.status, 1);
    assert.match(r.stdout, /no-such\.yml: no such file or directory/);
  });

  it('a plugin under development is tested through --path.plugins, as its author runs its cases', () => {
    const cases = file('plugin.yml', `config_string: 'filter { stamp { } }'\ncases:\n  - name: events are numbered in order\n    input: [a, b]\n    expect: [{ stamp: 0 }, { stamp: 1 }]\n`);
    const r = cli(['test', '--path.plugins', join(FIXTURES, 'plugins', 'stamp-filter'), cases], { cwd: t.dir });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /^ {2}ok {4}events are numbered in order$/m);
  });

  it("the repository's own pipelines pass their cases (pipelines/tests)", () => {
    const r = cli(['test', 'pipelines/tests'], { cwd: REPO_ROOT });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /^\d+ passed, 0 failed$/m);
    assert.doesNotMatch(r.stdout, /FAIL/);
  });
});

describe('pipeline test: time', () => {
  it('after: moves the clock, so a threshold counts only within its window', async () => {
    const cases = only(
      await run(`config_string: 'correlate { sec { rules => ["${join(t.dir, 'threshold.sec')}"] } }'
cases:
  - name: three failures within 60 s fire once
    start: 2025-12-03T10:00:00Z
    input:
      - login failure for bob
      - after: 30s
      - login failure for bob
      - after: 30s
      - login failure for bob
    alerts:
      - { "[alert][resource]": bob, "[alert][severity]": major, "@timestamp": "2025-12-03T10:01:00.000Z" }
  - name: the third failure 61 s after the first must not fire
    start: 2025-12-03T10:00:00Z
    input:
      - login failure for bob
      - after: 30s
      - login failure for bob
      - after: 31s
      - login failure for bob
    alerts: []
  - name: messages are stamped with the clock, which after moves
    start: 2025-12-03T10:00:00Z
    input: [one, { after: 90s }, two, { after: 1h }, three]
    expect:
      - { "@timestamp": "2025-12-03T10:00:00.000Z" }
      - { "@timestamp": "2025-12-03T10:01:30.000Z" }
      - { "@timestamp": "2025-12-03T11:01:30.000Z" }
`),
    );
    for (const c of cases) assert.equal(c.ok, true, `${c.name}: ${c.mismatch?.message ?? c.error}`);
    assert.equal(cases[0]!.alerts, 1);
    assert.equal(cases[1]!.alerts, 0);
  });

  it('the clock follows @timestamp as the filters set it: a date filter drives the window', async () => {
    const cases = only(
      await run(`config_string: >
  filter { grok { match => { "message" => "^%{TIMESTAMP_ISO8601:ts} %{GREEDYDATA:rest}" } } date { match => ["ts", "ISO8601"] } }
  correlate { sec { rules => ["${join(t.dir, 'threshold.sec')}"] } }
cases:
  - name: the lines' own times decide, not the order they are fed in
    input:
      - 2025-12-03T10:00:00Z login failure for eve
      - 2025-12-03T10:00:59Z login failure for eve
      - 2025-12-03T10:02:00Z login failure for eve
      - 2025-12-03T10:02:10Z login failure for eve
      - 2025-12-03T10:02:20Z login failure for eve
    alerts:
      - { "[alert][resource]": eve, "@timestamp": "2025-12-03T10:02:20.000Z" }
  - name: a line older than the clock is late and correlated at the current time
    input:
      - 2025-12-03T10:00:00Z login failure for joe
      - 2025-12-03T10:05:00Z login failure for joe
      - 2025-12-03T10:00:01Z login failure for joe
      - 2025-12-03T10:00:02Z login failure for joe
    expect:
      - { "@timestamp": "2025-12-03T10:00:00.000Z" }
      - { "@timestamp": "2025-12-03T10:05:00.000Z" }
      - { "@timestamp": "2025-12-03T10:00:01.000Z" }
      - { "@timestamp": "2025-12-03T10:00:02.000Z" }
    alerts:
      - { "[alert][resource]": joe, "@timestamp": "2025-12-03T10:05:00.000Z" }
`),
    );
    for (const c of cases) assert.equal(c.ok, true, `${c.name}: ${c.mismatch?.message ?? c.error}`);
    assert.equal(cases[1]!.late, 2, 'two lines came after a later one');
    // the late ones joined the 10:05 failure in its window (at 10:00:01 they would have been 299 s too early)
  });

  it('the clock starts at the first event map’s @timestamp', async () => {
    const cases = only(
      await run(`config_string: 'filter { }'
cases:
  - name: a message after an event takes the clock's time
    input:
      - { message: first, "@timestamp": "2024-02-29T23:59:59Z" }
      - { after: 2s }
      - second
    expect:
      - { message: first, "@timestamp": "2024-02-29T23:59:59.000Z" }
      - { message: second, "@timestamp": "2024-03-01T00:00:01.000Z" }
`),
    );
    assert.equal(cases[0]!.ok, true, cases[0]!.mismatch?.message);
  });

  it('a heartbeat, a Calendar rule and a context lifetime run on the case clock', async () => {
    const rules = [
      'type=Single',
      'ptype=SubStr',
      'pattern=backup done on nas',
      'desc=backup heartbeat',
      'action=heartbeat origin=nas_backup timeout=3600; create BACKUP_RAN 600',
      '',
      'type=Single',
      'ptype=SubStr',
      'pattern=check backup',
      'context=BACKUP_RAN',
      'desc=backup seen recently',
      'action=alert resource=nas event="backup ran recently" severity=informational',
      '',
      'type=Calendar',
      'time=0 * * * *',
      'desc=hourly tick',
      'action=alert resource=clock event="hourly tick" severity=informational',
      '',
    ].join('\n');
    const cases = only(
      await run(`config_string: '${secConfig(rules)}'
cases:
  - name: a heartbeat, then the context it created answers for 600 s
    start: 2025-12-03T10:10:00Z
    input:
      - backup done on nas
      - after: 599s
      - check backup
      - after: 2s
      - check backup
    alerts:
      - { "[heartbeat][origin]": nas_backup, "[heartbeat][timeout]": 3600, tags: [heartbeat] }
      - { "[alert][event]": backup ran recently, "@timestamp": "2025-12-03T10:19:59.000Z" }
  - name: the Calendar rule fires at each full hour the clock passes
    start: 2025-12-03T10:30:00Z
    input:
      - { after: 3h }
    alerts:
      - { "[alert][event]": hourly tick, "@timestamp": "2025-12-03T11:00:00.000Z" }
      - { "[alert][event]": hourly tick, "@timestamp": "2025-12-03T12:00:00.000Z" }
      - { "[alert][event]": hourly tick, "@timestamp": "2025-12-03T13:00:00.000Z" }
`),
    );
    for (const c of cases) assert.equal(c.ok, true, `${c.name}: ${c.mismatch?.message ?? c.error}`);
  });
});

describe('pipeline test: events and matching', () => {
  it('expect: [] holds when the filters drop everything, and fails when one gets through', async () => {
    const cases = only(
      await run(`config_string: 'filter { if [message] =~ /^#/ { drop { } } }'
cases:
  - name: comments are dropped
    input: ["# one", "# two"]
    expect: []
  - name: a line that is no comment gets through
    input: ["# one", "not a comment"]
    expect: []
`),
    );
    assert.equal(cases[0]!.ok, true, cases[0]!.mismatch?.message);
    assert.equal(cases[1]!.ok, false);
    assert.equal(cases[1]!.mismatch!.message, 'expect: expected 0 events, got 1; the first unexpected one is expect[0]');
    assert.equal(cases[1]!.mismatch!.event!.message, 'not a comment');
  });

  it('fields: decorate every input event as an input does; maps are whole events', async () => {
    const cases = only(
      await run(`config_string: 'filter { if [type] == "syslog" { mutate { add_tag => ["parsed"] } } }'
cases:
  - name: type and tags from fields:, a field the event has is kept
    fields: { type: syslog, tags: [syslog], "[host][name]": web1 }
    input:
      - a line
      - { message: an event, "[host][name]": db1, tags: [json] }
    expect:
      - { type: syslog, tags: [syslog, parsed], host: { name: web1 } }
      - { type: syslog, tags: [json, syslog, parsed], "[host][name]": db1 }
  - name: a nested map matches partly, an array exactly
    fields: { type: syslog, tags: [syslog] }
    input: [a line]
    expect:
      - { tags: [syslog] }
`),
    );
    assert.equal(cases[0]!.ok, true, cases[0]!.mismatch?.message);
    assert.equal(cases[1]!.ok, false);
    assert.equal(cases[1]!.mismatch!.message, 'expect[0] [tags]: expected ["syslog"] (array), got ["syslog","parsed"] (array)');
  });

  it('~ matches an absent field only', async () => {
    const cases = only(
      await run(`config_string: 'filter { }'
cases:
  - name: absent
    input: [x]
    expect: [{ nothing: ~ }]
  - name: present
    input: [x]
    expect: [{ message: ~ }]
`),
    );
    assert.equal(cases[0]!.ok, true);
    assert.equal(cases[1]!.mismatch!.message, 'expect[0] [message]: expected null (null), got "x" (string)');
  });

  it('a missing alert is named with what was expected', async () => {
    const cases = only(
      await run(`config_string: 'correlate { sec { rules => ["${join(t.dir, 'threshold.sec')}"] } }'
cases:
  - name: two failures are not three
    input: [login failure for ann, login failure for ann]
    alerts: [{ "[alert][resource]": ann }]
`),
    );
    assert.equal(cases[0]!.ok, false);
    assert.equal(cases[0]!.mismatch!.message, 'alerts: expected 1 alert, got 0; nothing matched alerts[0] {"[alert][resource]":"ann"}');
  });
});

describe('pipeline test: the file', () => {
  const error = async (yaml: string) => (await run(yaml, 'bad.yml')).files[0]!.error;

  it('refuses unknown keys, bad durations and cases that check nothing, with the line', async () => {
    assert.match((await error(`config_string: 'filter {}'\ncases:\n  - name: a\n    imput: [x]\n    expect: []\n`))!, /bad\.yml:4: unknown key 'imput' in a case/);
    assert.match((await error(`config_string: 'filter {}'\ncases:\n  - name: a\n    input:\n      - x\n      - after: soon\n    expect: []\n`))!, /bad\.yml:6: \{after: DURATION\}/);
    assert.match((await error(`config_string: 'filter {}'\ncases:\n  - name: a\n    input: [x]\n`))!, /bad\.yml:3: case 'a' checks nothing/);
    assert.match((await error(`cases:\n  - name: a\n    input: [x]\n    expect: []\n`))!, /give the config under test/);
    assert.match((await error(`config_string: 'filter {'\ncases:\n  - name: a\n    input: [x]\n    expect: []\n`))!, /the config <config_string> is refused/);
  });

  it('a config path resolves against the working directory, then the case file', async () => {
    file('mine.conf', 'filter { mutate { add_field => { "from" => "mine" } } }');
    const r = await runTests([file('rel.yml', 'config: mine.conf\ncases:\n  - name: a\n    input: [x]\n    expect: [{ from: mine }]\n')], settings(), REPO_ROOT);
    assert.equal(r.ok, true, JSON.stringify(r.files[0]));
  });
});
