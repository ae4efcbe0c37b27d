#!/usr/bin/env node
// SEC benchmark: the reference's ruleset (../shared/reference/homelab-setup.md, Jinja filled in,
// every shell action turned into `write out.txt ...` so both engines do the same work and their
// outputs can be compared) over a corpus of the reference's kinds of log lines; our engine and the
// real sec (`sec --notail --input=FILE`) in the same run, whole process against whole process.
// Then memory per open operation with 1,000,000 distinct keys, ours and sec's.
//   node scripts/bench/sec/run.mjs [--lines 1000000] [--keys 1000000] [--skip-sec]
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, rmSync, createWriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../../..');
const args = process.argv.slice(2);
const num = (k, d) => (args.includes(k) ? Number(args[args.indexOf(k) + 1]) : d);
const LINES = num('--lines', 1_000_000);
const KEYS = num('--keys', 1_000_000);
const skipSec = args.includes('--skip-sec');
const work = mkdtempSync(join(tmpdir(), 'sec-bench-'));

// ---- rules: the reference ruleset with shell actions made into writes
const fixture = readFileSync(join(root, 'plugins/correlate-sec/test/fixtures/homelab.sec'), 'utf8');
const rules = fixture.replace(/\b(shellcmd|cspawn LOGTRACKER)\s+/g, 'write out.txt ');
writeFileSync(join(work, 'rules.sec'), rules);

// ---- corpus: deterministic mix of the reference's log lines (about 1 in 4 matches a rule)
let seed = 42;
const rnd = (n) => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff), seed % n);
const hosts = ['web1', 'db1', 'nas', 'gw', 'mail', 'dev3'];
const users = ['root', 'alice', 'bob', 'admin', 'oracle', 'git'];
const ip = () => `10.${rnd(4)}.${rnd(256)}.${rnd(256)}`;
const ts = (i) => `Nov 14 22:${String(13 + ((i / 60000) | 0) % 40).padStart(2, '0')}:${String(((i / 1000) | 0) % 60).padStart(2, '0')}`;
const kinds = [
  // matching lines (weights sum 25)
  [4, (i, h) => `${ts(i)} ${h} sshd[${rnd(9999)}]: pam_unix(sshd:session): session opened for user ${users[rnd(6)]} by (uid=0)`],
  [4, (i, h) => `${ts(i)} ${h} sudo: pam_unix(sudo:session): session closed for user ${users[rnd(6)]}`],
  [3, (i, h) => `${ts(i)} ${h} sshd[${rnd(9999)}]: Accepted publickey for ${users[rnd(6)]} from ${ip()} port ${rnd(65535)} ssh2`],
  [3, (i, h) => `${ts(i)} ${h} sshd[${rnd(9999)}]: Failed password for invalid user ${users[rnd(6)]}x from ${ip()} port ${rnd(65535)} ssh2`],
  [2, (i, h) => `${ts(i)} ${h} sshd[${rnd(9999)}]: pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=${ip()}  user=${users[rnd(6)]}`],
  [2, (i, h) => `${ts(i)} ${h} sudo: pam_unix(sudo:auth): authentication failure; logname=${users[rnd(6)]} uid=1000 euid=0 tty=/dev/pts/0 ruser=${users[rnd(6)]} rhost=  user=${users[rnd(6)]}`],
  [2, (i) => `${ts(i)} pfsense php-fpm[${rnd(999)}]: /index.php: webConfigurator authentication error for user '${users[rnd(6)]}' from: ${ip()}`],
  [1, (i) => `${ts(i)} pfsense php-fpm[${rnd(999)}]: /index.php: Successful login for user '${users[rnd(6)]}' from: ${ip()} (Local Database)`],
  [1, (i) => `${ts(i)} pfsense sshguard[${rnd(999)}]: Attack from \\"${ip()}\\" on service SSH with danger 10.`],
  [1, (i) => `${ts(i)} pfsense sshd[${rnd(9999)}]: error: PAM: Authentication error for ${users[rnd(6)]} from ${ip()}`],
  [1, (i, h) => `${ts(i)} ${h} rsnapshot[${rnd(9999)}]: /usr/bin/rsnapshot hourly: completed successfully`],
  [1, (i, h) => `${ts(i)} ${h} login[${rnd(999)}]: FAILED LOGIN (1) on '/dev/tty1' FOR 'UNKNOWN', Authentication failure`],
  // noise (weight 75)
  [25, (i, h) => `${ts(i)} ${h} kernel: [${rnd(99999)}.${rnd(999999)}] IN=eth0 OUT= MAC=00:11:22:33:44:55 SRC=${ip()} DST=${ip()} LEN=60 PROTO=TCP SPT=${rnd(65535)} DPT=443`],
  [20, (i, h) => `${ts(i)} ${h} CRON[${rnd(99999)}]: (root) CMD (   cd / && run-parts --report /etc/cron.hourly)`],
  [15, (i, h) => `${ts(i)} ${h} systemd[1]: Started Session ${rnd(9999)} of user ${users[rnd(6)]}.`],
  [15, (i, h) => `${ts(i)} ${h} postfix/smtpd[${rnd(9999)}]: connect from unknown[${ip()}]`],
];
const table = [];
for (const [w, f] of kinds) for (let k = 0; k < w; k++) table.push(f);
const corpus = join(work, 'corpus.txt');
{
  const out = createWriteStream(corpus);
  let buf = '';
  for (let i = 0; i < LINES; i++) {
    buf += table[rnd(table.length)](i, hosts[rnd(hosts.length)]) + '\n';
    if (buf.length > 1 << 20) {
      if (!out.write(buf)) await new Promise((r) => out.once('drain', r));
      buf = '';
    }
  }
  out.end(buf);
  await new Promise((r) => out.on('finish', r));
}

if (args.includes('--corpus-only')) {
  // leave rules.sec and corpus.txt for profiling: node scripts/bench/sec/run.mjs --corpus-only
  console.log(work);
  process.exit(0);
}

function timed(cmd, cmdArgs, cwd) {
  const r = spawnSync('/usr/bin/time', ['-f', '%e %M', cmd, ...cmdArgs], { cwd, encoding: 'utf8', maxBuffer: 1 << 26, env: { ...process.env, TZ: 'UTC' } });
  if (r.status !== 0) throw new Error(`${cmd} failed: ${r.stderr}`);
  const last = r.stderr.trim().split('\n').pop().split(' ');
  return { wall: Number(last[0]), maxRssMB: Math.round(Number(last[1]) / 1024), stdout: r.stdout };
}

const results = [];
const outs = {};
for (const mode of ['engine', 'plugin']) {
  const dir = mkdtempSync(join(work, `ours-${mode}-`));
  const t = timed(process.execPath, [join(here, 'ours.mjs'), '--rules', join(work, 'rules.sec'), '--input', corpus, '--workdir', dir, '--mode', mode], dir);
  results.push({ who: `pipeline (${mode})`, lines: LINES, seconds: t.wall, linesPerSec: Math.round(LINES / t.wall), maxRssMB: t.maxRssMB });
  outs[mode] = readFileSync(join(dir, 'out.txt'), 'utf8');
}
if (!skipSec) {
  const dir = mkdtempSync(join(work, 'sec-'));
  const t = timed('sec', [`--conf=${join(work, 'rules.sec')}`, `--input=${corpus}`, '--notail', '--debug=1'], dir);
  results.push({ who: 'sec 2.9.1', lines: LINES, seconds: t.wall, linesPerSec: Math.round(LINES / t.wall), maxRssMB: t.maxRssMB });
  outs.sec = readFileSync(join(dir, 'out.txt'), 'utf8');
}
const same = skipSec ? 'n/a' : outs.sec === outs.engine && outs.sec === outs.plugin ? 'identical' : 'DIFFERENT';
const written = outs.engine.split('\n').length - 1;

// ---- memory per open operation
const opm = JSON.parse(execFileSync(process.execPath, ['--expose-gc', '--max-old-space-size=4096', join(here, 'opmem.mjs'), '--keys', String(KEYS)], { encoding: 'utf8' }));
let secOp;
if (!skipSec) {
  // sec: the same rule over KEYS distinct failures, peak RSS against a 1-line run
  const dir = mkdtempSync(join(work, 'secmem-'));
  const rule = 'type=SingleWithThreshold\nptype=RegExp\npattern=sshd\\[\\d+\\]: Failed password for (\\S+) from ([\\d.]+)\ndesc=failures for $1 from $2\naction=write /dev/null %s\nwindow=3600\nthresh=2\n';
  writeFileSync(join(dir, 'm.sec'), rule);
  const out = createWriteStream(join(dir, 'keys.txt'));
  for (let i = 0; i < KEYS; i++) out.write(`Nov 14 22:13:20 web1 sshd[${1000 + (i % 5000)}]: Failed password for user${i} from 10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255} port 22 ssh2\n`);
  out.end();
  await new Promise((r) => out.on('finish', r));
  writeFileSync(join(dir, 'one.txt'), 'nothing\n');
  const base = timed('sec', [`--conf=${join(dir, 'm.sec')}`, `--input=${join(dir, 'one.txt')}`, '--notail', '--debug=1'], dir);
  const full = timed('sec', [`--conf=${join(dir, 'm.sec')}`, `--input=${join(dir, 'keys.txt')}`, '--notail', '--debug=1'], dir);
  secOp = { keys: KEYS, bytesPerOperation: Math.round(((full.maxRssMB - base.maxRssMB) * 1048576) / KEYS), maxRssMB: full.maxRssMB, seconds: full.wall };
}

const sec = results.find((r) => r.who.startsWith('sec'));
const lines = [
  `SEC benchmark, ${new Date().toISOString().slice(0, 10)}, node ${process.version}, ${LINES.toLocaleString('en')} lines (${written.toLocaleString('en')} actions written), reference ruleset`,
  '',
  '| engine | seconds | lines/s | vs sec | peak RSS (MB) |',
  '| --- | --- | --- | --- | --- |',
  ...results.map((r) => `| ${r.who} | ${r.seconds.toFixed(2)} | ${r.linesPerSec.toLocaleString('en')} | ${sec ? (r.linesPerSec / sec.linesPerSec).toFixed(1) + '×' : 'n/a'} | ${r.maxRssMB} |`),
  '',
  `write outputs of the engines: ${same}`,
  '',
  `Open operations (${KEYS.toLocaleString('en')} distinct keys, SingleWithThreshold, none fired or expired):`,
  `- pipeline: ${opm.heapBytesPerOperation} bytes of heap per operation (peak RSS ${opm.maxRssMB} MB, ${opm.linesPerSec.toLocaleString('en')} lines/s while opening them)`,
  secOp ? `- sec 2.9.1: ~${secOp.bytesPerOperation} bytes of RSS per operation (peak RSS ${secOp.maxRssMB} MB, ${secOp.seconds.toFixed(1)} s)` : '- sec: skipped',
];
console.log(lines.join('\n'));
writeFileSync(join(here, 'RESULTS.md'), lines.join('\n') + '\n');
rmSync(work, { recursive: true, force: true });
