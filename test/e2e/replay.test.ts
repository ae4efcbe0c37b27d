import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { atomicOracle } from '../sec-oracle.js';
import { BIN, freePort, REPO, tempDir, waitFor as until } from './util.js';

/**
 * `pipeline replay` end to end: a three-day archive (two rotated gzip files and the live file)
 * through a config with a date filter and a threshold rule. The alerts must be exactly those the
 * real sec 2.9.1 raises when fed the same lines on a virtual clock set to each line's time
 * (shared/sec-oracle), no output may be created or called without --outputs, and the command
 * ends by itself with exit 0. A missing oracle or sec is a failure, never a skip.
 */
const t = tempDir('pipeline-replay-');
const BASE = Date.UTC(2024, 2, 1) / 1000; // 2024-03-01T00:00:00Z
const DAY = 86_400;

// ---- the archive: noise, and bursts of failed passwords, some of which reach 4 within 300 s
let seed = 7;
const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff), seed % n);
const iso = (s: number) => new Date(s * 1000).toISOString().replace('.000Z', 'Z');
interface Line {
  at: number;
  text: string;
}
function archive(): Line[] {
  const out: Line[] = [];
  const hosts = ['web1', 'db1', 'nas'];
  const users = ['root', 'admin', 'oracle', 'git'];
  for (let s = 0; s < 3 * DAY; s += 1800 + rnd(1800)) {
    const h = hosts[rnd(3)]!;
    out.push({ at: s, text: `${h} CRON[${rnd(9999)}]: (root) CMD (run-parts /etc/cron.hourly)` });
    if (rnd(3) === 0) {
      // a burst: 2 to 6 failures from one address, 20 to 140 s apart
      const ip = `198.51.100.${rnd(8)}`;
      let at = s + rnd(600);
      for (let k = 2 + rnd(5); k > 0; k--) {
        out.push({ at, text: `${h} sshd[${rnd(9999)}]: Failed password for ${users[rnd(4)]} from ${ip} port ${1024 + rnd(60000)} ssh2` });
        out.push({ at, text: `${h} sshd[${rnd(9999)}]: Connection closed by ${ip} port ${1024 + rnd(60000)} [preauth]` });
        at += 20 + rnd(120);
      }
    }
  }
  return out.sort((a, b) => a.at - b.at).map((l) => ({ at: l.at, text: `${iso(BASE + l.at)} ${l.text}` }));
}
const LINES = archive();

/** The rules: ours raise native alerts, sec's write the same text with the time (%u) to out.txt. */
const rules = (act: (resource: string, event: string) => string) =>
  [
    'type=SingleWithThreshold',
    'ptype=RegExp',
    'pattern=^\\S+ (\\S+) sshd\\[\\d+\\]: Failed password for (\\S+) from (\\S+)',
    'desc=ssh password guessing from $3',
    'window=300',
    'thresh=4',
    'continue=TakeNext',
    `action=${act('$3', 'password guessing on $1 by $2 from $3')}`,
    '',
    'type=Single',
    'ptype=RegExp',
    'pattern=^\\S+ (\\S+) sshd\\[\\d+\\]: Failed password for root from (\\S+)',
    'desc=root login attempt',
    `action=${act('$2', 'root login attempt on $1 from $2')}`,
    '',
  ].join('\n');
const OURS = rules((resource, event) => `alert resource=${resource} event="${event}" severity=major`);
const SECS = rules((resource, event) => `write out.txt %u ${resource} ${event}`);

const config = (out: string, port: number) => `
input { tcp { id => "archive" port => ${port} type => syslog tags => ["syslog"] } }
filter {
  if [type] == "syslog" {
    grok { match => { "message" => "^%{TIMESTAMP_ISO8601:ts} %{SYSLOGHOST:syslog_hostname} %{DATA:syslog_program}(?:\\[%{POSINT:syslog_pid}\\])?: %{GREEDYDATA:syslog_message}" } }
    date { match => ["ts", "ISO8601"] }
  }
}
correlate { sec { rules => ["${join(t.dir, 'ours.sec')}"] } }
output {
  if "alert" in [tags] { file { path => "${out}/alerts.jsonl" } }
  tcp { host => "127.0.0.1" port => ${port} codec => json_lines }
}
`;


/** The real sec's alerts: the lines on a virtual clock set to each line's time before it is read. */
function secAlerts(): string[] {
  const work = join(t.dir, 'oracle');
  mkdirSync(work, { recursive: true });
  const runner = atomicOracle(work);
  writeFileSync(join(work, 'rules.sec'), SECS);
  const scenario: string[] = [];
  let now = -1;
  for (const l of LINES) {
    if (l.at !== now) scenario.push(`#! @${(now = l.at)}`);
    scenario.push(l.text);
  }
  writeFileSync(join(work, 'scenario.txt'), scenario.join('\n') + '\n');
  const r = spawnSync(process.execPath, [runner, '--rules', join(work, 'rules.sec'), '--scenario', join(work, 'scenario.txt'), '--workdir', join(work, 'run'), '--base', String(BASE), '--timeout', '300'], {
    encoding: 'utf8',
    env: { ...process.env, TZ: 'UTC' },
    timeout: 600_000,
  });
  assert.equal(r.status, 0, `the oracle failed: ${r.stderr}`);
  const out = join(work, 'run', 'out.txt');
  return existsSync(out) ? readFileSync(out, 'utf8').split('\n').filter(Boolean) : [];
}

interface Summary {
  lines: number;
  events: number;
  late: number;
  failures: Record<string, number>;
  from: string;
  to: string;
  alerts: { desc: string; count: number; first: string; last: string; examples: unknown[] }[];
}

function runReplay(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolveRun) => {
    const child = spawn(process.execPath, [BIN, 'replay', ...args], { cwd: t.dir, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('exit', (code) => resolveRun({ code, stdout, stderr }));
  });
}

let port = 0;
let connections = 0;
let received = '';
const sockets: Socket[] = [];
const server = createServer((s) => {
  connections++;
  sockets.push(s);
  s.setEncoding('utf8').on('data', (d: string) => (received += d));
});
let files: string[] = [];

before(async () => {
  port = await freePort();
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  writeFileSync(join(t.dir, 'ours.sec'), OURS);
  // three days in logrotate's names: auth.log.2.gz (day 1), auth.log.1.gz (day 2), auth.log (day 3)
  const text = (from: number, to: number) => LINES.filter((l) => l.at >= from && l.at < to).map((l) => l.text + '\n').join('');
  writeFileSync(join(t.dir, 'auth.log.2.gz'), gzipSync(text(0, DAY)));
  writeFileSync(join(t.dir, 'auth.log.1.gz'), gzipSync(text(DAY, 2 * DAY)));
  writeFileSync(join(t.dir, 'auth.log'), text(2 * DAY, 3 * DAY));
  // as a shell's glob gives them: newest first
  files = ['auth.log', 'auth.log.1.gz', 'auth.log.2.gz'];
});
after(() => {
  for (const s of sockets) s.destroy();
  server.close();
  t.cleanup();
});

describe('pipeline replay', () => {
  it('raises exactly the alerts the real sec raises on the same lines at their times, calls no output, and ends with 0', async () => {
    const expected = secAlerts();
    assert.ok(expected.length >= 5, `the archive should make the rules fire a few times (sec raised ${expected.length})`);
    const dry = join(t.dir, 'dry');
    writeFileSync(join(t.dir, 'replay.conf'), config(dry, port));
    const r = await runReplay(['-f', 'replay.conf', '--summary', 'json', ...files]);
    assert.equal(r.code, 0, r.stderr);
    const s = JSON.parse(r.stdout) as Summary;
    assert.equal(s.lines, LINES.length);
    assert.equal(s.events, LINES.length);
    assert.equal(s.late, 0, 'the rotated files were read oldest first');
    assert.deepEqual(s.failures, { _grokparsefailure: 0, _dateparsefailure: 0 });
    assert.equal(s.from, iso(BASE + LINES[0]!.at).replace('Z', '.000Z'));
    assert.equal(s.to, iso(BASE + LINES.at(-1)!.at).replace('Z', '.000Z'));
    const total = s.alerts.reduce((a, x) => a + x.count, 0);
    assert.equal(total, expected.length, `summary: ${JSON.stringify(s.alerts.map((a) => [a.desc, a.count]))}`);
    // per rule, by its desc: the threshold fired on some bursts, the root rule on every root failure
    const count = (desc: string) => s.alerts.find((a) => a.desc === desc)?.count ?? 0;
    assert.equal(count('ssh password guessing from $3'), expected.filter((l) => / password guessing on /.test(l)).length);
    assert.equal(count('root login attempt'), expected.filter((l) => / root login attempt on /.test(l)).length);
    assert.ok(count('ssh password guessing from $3') >= 3, JSON.stringify(s.alerts.map((a) => [a.desc, a.count])));
    // the dry run created no output: no file, no connection
    assert.equal(existsSync(join(dry, 'alerts.jsonl')), false, 'the file output was called without --outputs');
    assert.equal(connections, 0, 'the tcp output connected without --outputs');

    // with --outputs, the alerts reach the file output: the same lines, times and all, as sec's
    const wet = join(t.dir, 'wet');
    writeFileSync(join(t.dir, 'replay-out.conf'), config(wet, port));
    const w = await runReplay(['-f', 'replay-out.conf', '--outputs', ...files]);
    assert.equal(w.code, 0, w.stderr);
    assert.match(w.stdout, new RegExp(`^replayed 3 files, ${LINES.length.toLocaleString('en-US')} lines`, 'm'));
    const ours = readFileSync(join(wet, 'alerts.jsonl'), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { '@timestamp': string; alert: { resource: string; event: string } })
      .map((a) => `${Date.parse(a['@timestamp']) / 1000} ${a.alert.resource} ${a.alert.event}`);
    assert.deepEqual(ours, expected);
    assert.ok(connections > 0, 'with --outputs the tcp output is called');
    await until(() => received.split('\n').length > LINES.length, 'the tcp output to send every line and alert');
    assert.equal(received.split('\n').filter(Boolean).length, LINES.length + expected.length);
  });

  it('--from/--to correlate one day only, and --report writes a self-contained page', async () => {
    writeFileSync(join(t.dir, 'replay.conf'), config(join(t.dir, 'dry2'), port));
    const day2 = new Date((BASE + DAY) * 1000).toISOString();
    const day3 = new Date((BASE + 2 * DAY) * 1000).toISOString();
    const r = await runReplay(['-f', 'replay.conf', '--summary', 'json', '--from', day2, '--to', day3, '--report', 'report.html', ...files]);
    assert.equal(r.code, 0, r.stderr);
    const s = JSON.parse(r.stdout) as Summary & { skipped: number };
    const inDay = LINES.filter((l) => l.at >= DAY && l.at < 2 * DAY).length;
    assert.equal(s.events, LINES.length);
    assert.equal(s.skipped, LINES.length - inDay);
    for (const a of s.alerts) assert.ok(a.first >= day2 && a.last < day3, JSON.stringify(a));
    const html = readFileSync(join(t.dir, 'report.html'), 'utf8');
    assert.match(html, /^<!doctype html>/);
    assert.match(html, /<svg [^>]*aria-label="alerts per rule per hour"/);
    assert.doesNotMatch(html, /<script|<link|src=|href=/i, 'nothing is fetched or run');
    for (const a of s.alerts) assert.ok(html.includes(a.desc.replace(/&/g, '&amp;')), a.desc);
  });

  it('JSON lines keep their @timestamp; a config error exits 1', async () => {
    writeFileSync(join(t.dir, 'events.jsonl'), LINES.slice(0, 50).map((l) => JSON.stringify({ message: l.text, '@timestamp': new Date((BASE + l.at) * 1000).toISOString(), type: 'json' })).join('\n') + '\n');
    writeFileSync(join(t.dir, 'json.conf'), `filter { } correlate { sec { rules => ["${join(t.dir, 'ours.sec')}"] } }`);
    const r = await runReplay(['-f', 'json.conf', '--summary', 'json', 'events.jsonl']);
    assert.equal(r.code, 0, r.stderr);
    const s = JSON.parse(r.stdout) as Summary;
    assert.equal(s.events, 50);
    assert.equal(s.from, new Date((BASE + LINES[0]!.at) * 1000).toISOString());
    const bad = await runReplay(['-e', 'filter { nosuchfilter { } }', 'events.jsonl']);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /unknown filter plugin 'nosuchfilter'/);
  });
});
