/**
 * dissect in a real pipeline run: core/bin/pipeline.js with a config file, the stdin input and
 * json_lines on stdout; and `-t` reporting a bad pattern at its place in the file.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const REPO = join(dirname(fileURLToPath(import.meta.url)), '../../../..');
const BIN = join(REPO, 'core/bin/pipeline.js');
const wd = mkdtempSync(join(tmpdir(), 'dissect-pipeline-'));
after(() => rmSync(wd, { recursive: true, force: true }));

const CONFIG = `input { stdin {} }
filter {
  dissect {
    mapping => { "message" => "<%{pri}>%{timestamp->} %{+timestamp} %{+timestamp} %{logsource} %{program}[%{pid}]: %{msg}" }
    convert_datatype => { "pid" => "int" "pri" => "int" }
    add_tag => ["dissected"]
    add_field => { "from" => "%{logsource}/%{program}" }
    remove_field => ["host"]
  }
}
output { stdout { codec => json_lines } }
`;

function start(args: string[], input = '') {
  return spawnSync(process.execPath, [BIN, 'start', ...args, '--api.enabled', 'false', '--path.data', join(wd, 'data'), '--log.level', 'error'], {
    cwd: wd,
    input,
    encoding: 'utf8',
    timeout: 120_000,
    maxBuffer: 64 * 1024 * 1024,
  });
}

describe('dissect: through a pipeline run', () => {
  it('dissects syslog headers; common options apply on success only', () => {
    const conf = join(wd, 'syslog.conf');
    writeFileSync(conf, CONFIG);
    const lines = [
      '<34>Oct 11 22:14:15 mymachine su[123]: su root failed for lonvick on /dev/pts/8',
      '<13>Feb  5 17:32:18 web1 sshd[4242]: Accepted publickey for alice',
      'not a syslog line',
    ];
    const r = start(['-f', conf], lines.join('\n') + '\n');
    assert.equal(r.status, 0, r.stderr);
    const out = r.stdout.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.equal(out.length, 3);
    const by = new Map(out.map((e) => [e.message, e]));
    const first = by.get(lines[0])!;
    assert.deepEqual(
      [first.pri, first.timestamp, first.logsource, first.program, first.pid, first.msg, first.tags, first.from, first.host],
      [34, 'Oct 11 22:14:15', 'mymachine', 'su', 123, 'su root failed for lonvick on /dev/pts/8', ['dissected'], 'mymachine/su', undefined],
    );
    // "Feb  5": the day's padding is skipped by -> (and the join is the one space of the pattern)
    const second = by.get(lines[1])!;
    assert.deepEqual([second.timestamp, second.logsource, second.program, second.pid], ['Feb 5 17:32:18', 'web1', 'sshd', 4242]);
    const bad = by.get(lines[2])!;
    assert.deepEqual(bad.tags, ['_dissectfailure', '_dataconversionnullvalue_pid_int', '_dataconversionnullvalue_pri_int']);
    assert.equal(bad.from, undefined, 'add_field only on success');
    assert.equal(typeof bad.host, 'string', 'remove_field only on success');
    assert.equal(bad.program, undefined);
  });

  it('-t reports a bad pattern at its line and column', () => {
    const conf = join(wd, 'bad.conf');
    writeFileSync(conf, 'input { stdin {} }\nfilter {\n  dissect {\n    mapping => { "message" => "%{a} %{+&b}" }\n  }\n}\noutput { stdout {} }\n');
    const r = start(['-f', conf, '-t']);
    assert.equal(r.status, 1);
    assert.match(r.stdout + r.stderr, /bad\.conf:4:31: dissect: bad pattern for 'message': field '%\{\+&b\}' cannot be both append/);
  });
});
