/**
 * Differential test on a public rule set: ssh.sec from SEC's rule set repository
 * (github.com/simple-evcorr/rulesets, file ssh.sec, by John P. Rouillard, GPL-2) run by the real
 * sec 2.9.1 (through ../shared/sec-oracle, on a virtual clock) and by our engine, on scripted sshd
 * input (test/fixtures/ssh-ruleset/NN-*.txt, one scenario per rule path: see that folder's
 * README). Both must write the same standard output and load the same rules.
 *
 * ssh.sec's reports pipe to /usr/bin/mailx; both sides run a copy in which each such report
 * writes the mail's command line and then reports the store to standard output (report without
 * a command), so no shell runs and what would have been mailed is compared byte for byte.
 * observe.sec (ours) prints, at each "PROBE host pid" line, which of ssh.sec's contexts exist.
 *
 * Needs the Debian package `sec` (scripts/setup-debian.sh installs it), the oracle in shared/ and
 * ssh.sec itself, which is looked up in shared/ (see fixtures/ssh-ruleset/README.md); without any
 * of them the test fails.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SecEngine } from '../src/engine.js';
import { readRuleFile, isWarning, type RuleError } from '../src/rules.js';
import { toBytes } from '../src/bytes.js';

const here = dirname(fileURLToPath(import.meta.url));
const REPO = resolve(here, '../../../..');
const FIXTURES = resolve(here, '../../test/fixtures/ssh-ruleset');
const BASE = 1700000000;

function firstExisting(what: string, candidates: string[]): string {
  const found = candidates.find((c) => existsSync(c));
  assert.ok(found, `${what} not found; looked in:\n  ${candidates.join('\n  ')}`);
  return found;
}

const SHARED = [resolve(REPO, '../shared'), '/work/shared'];
const oracleDir = () => firstExisting('the SEC oracle (shared/sec-oracle)', SHARED.map((s) => join(s, 'sec-oracle')));
const sshSec = () =>
  firstExisting(
    'ssh.sec from github.com/simple-evcorr/rulesets (expected in shared/fixtures/sec-rulesets/, see test/fixtures/ssh-ruleset/README.md)',
    [...(process.env.SEC_RULESETS_DIR ? [join(process.env.SEC_RULESETS_DIR, 'ssh.sec')] : []), ...SHARED.map((s) => join(s, 'fixtures/sec-rulesets/ssh.sec'))],
  );

/**
 * ssh.sec with each `report CTX /usr/bin/mailx -s "SUBJECT" alerts@example.com` (the command may
 * start on a continuation line) turned into `write - <the mailx command>; report CTX`; the one
 * inside `create NAME 300 ...` becomes a parenthesised action list, as two actions need.
 */
export function withoutMail(text: string): { text: string; replaced: number } {
  let replaced = 0;
  const mail = String.raw`report (\S+)(?:[ \t]*\\\n)?[ \t]*(/usr/bin/mailx -s "[^"\n]*" alerts@example\.com)`;
  const inCreate = new RegExp(String.raw`(create \S+ \d+ )` + mail, 'g');
  const plain = new RegExp(mail, 'g');
  const out = text
    .replace(inCreate, (_m, create: string, ctx: string, cmd: string) => {
      replaced++;
      return `${create}(write - ${cmd}; report ${ctx})`;
    })
    .replace(plain, (_m, ctx: string, cmd: string) => {
      replaced++;
      return `write - ${cmd}; report ${ctx}`;
    });
  return { text: out, replaced };
}

/** The shared oracle with its clock file written atomically (see test/oracle/README.md). */
function oracleCopy(dir: string): string {
  const src = oracleDir();
  copyFileSync(join(src, 'sec-vclock.pl'), join(dir, 'sec-vclock.pl'));
  let runner = readFileSync(join(src, 'vclock-run.mjs'), 'utf8');
  runner = runner.replace('import { readFileSync, writeFileSync,', 'import { renameSync, readFileSync, writeFileSync,');
  let swaps = 0;
  runner = runner.replace(/^( *)writeFileSync\(clockFile, `\$\{now\}\\n`\);/gm, (_m, indent: string) => {
    swaps++;
    return `${indent}writeFileSync(clockFile + '.tmp', \`\${now}\\n\`); renameSync(clockFile + '.tmp', clockFile);`;
  });
  assert.equal(swaps, 2, 'the oracle runner changed: the atomic clock patch no longer applies');
  assert.match(runner, /import \{ renameSync,/);
  writeFileSync(join(dir, 'vclock-run.mjs'), runner);
  return join(dir, 'vclock-run.mjs');
}

interface Side {
  stdout: string;
  /** The rules a side refused to load (see refusal()), sorted. */
  refused: string[];
}

/**
 * A refused rule, named so both sides compare: sec 2.9.1 gives the wrong line for the second of
 * two bad rules (both "at line 137"), so a rule refused for its context expression is named by
 * that expression; any other refusal by its message.
 */
function refusal(message: string, file: string, line: number): string {
  const m = /invalid context expression '(.*)'/i.exec(message);
  if (!m) return `other: ${message}`;
  const ctx = file ? /^\s*context\s*=(.*)$/.exec(readFileSync(file, 'latin1').split('\n')[line - 1] ?? '') : null;
  return `context: ${(ctx ? ctx[1]! : m[1]!).trim()}`;
}

function realSec(runner: string, rules: string[], scenario: string, work: string): Side {
  const args = [runner, '--rules', rules.join(','), '--scenario', scenario, '--workdir', work, '--base', String(BASE), '--sec-arg=--log=sec.log'];
  const r = spawnSync(process.execPath, args, {
    cwd: work,
    env: { ...process.env, TZ: 'UTC' },
    encoding: 'utf8',
    timeout: 120_000,
  });
  assert.ok(!r.error, `could not run the oracle: ${r.error?.message}`);
  const read = (f: string) => (existsSync(join(work, f)) ? readFileSync(join(work, f), 'utf8') : '');
  assert.equal(r.status, 0, `the real sec failed (is the Debian package sec installed?): ${r.stderr}\n${read('stderr.txt')}`);
  const log = read('sec.log');
  // sec logs the rule-file errors (--debug=3 keeps only errors and warnings)
  const refused = [...log.matchAll(/Rule in \S+ at line \d+: (.*)/g)].map((m) => refusal(m[1]!, '', 0)).sort();
  return { stdout: readFileSync(join(work, 'stdout.txt'), 'latin1'), refused };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function ourEngine(rules: string[], scenario: string, work: string): Promise<Side> {
  process.env.TZ = 'UTC';
  const errors: RuleError[] = [];
  const files = rules.map((f) => readRuleFile(f, { allowShell: false }, errors)).filter((f) => f !== undefined);
  let now = BASE;
  let stdout = '';
  const engine = new SecEngine(files, { now: () => now, workingDir: work, stdout: (t) => void (stdout += t) }, { inputName: '-' });
  engine.start();
  const lines = readFileSync(scenario, 'utf8').split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  for (const line of lines) {
    const m = /^#!\s*(.*)$/.exec(line);
    if (!m) {
      engine.input(toBytes(line));
      continue;
    }
    const d = m[1]!.trim();
    if (d === '' || d.startsWith('#')) continue;
    if (/^\+\d+$/.test(d)) now += Number(d.slice(1));
    else if (/^@\d+$/.test(d)) now = BASE + Number(d.slice(1));
    else throw new Error(`bad directive ${line}`);
    engine.tick();
    engine.drain();
    await sleep(0);
  }
  engine.shutdown();
  const refused = errors.filter((e) => !isWarning(e)).map((e) => refusal(e.message, e.file, e.line)).sort();
  return { stdout: Buffer.from(stdout, 'utf8').toString('latin1'), refused };
}

const scenarios = readdirSync(FIXTURES)
  .filter((f) => /^\d\d-.*\.txt$/.test(f))
  .sort();

test('ssh.sec scenarios are present', () => {
  assert.ok(scenarios.length >= 12, `found ${scenarios.length}`);
});

/** Git's blob id of ssh.sec at simple-evcorr/rulesets 3055daa (last changed in e861700, 2015). */
const SSH_SEC_BLOB = 'd9704e9a4d24c653f146ebac26c77b3374d661c7';

test('ssh.sec is the published file', () => {
  const bytes = readFileSync(sshSec());
  const blob = createHash('sha1').update(`blob ${bytes.length}\0`).update(bytes).digest('hex');
  assert.equal(blob, SSH_SEC_BLOB);
});

test('the mailx rewrite touches every report in ssh.sec and nothing else', () => {
  const original = readFileSync(sshSec(), 'latin1');
  const { text, replaced } = withoutMail(original);
  assert.equal(replaced, (original.match(/\/usr\/bin\/mailx/g) ?? []).length);
  assert.equal(replaced, 5);
  assert.doesNotMatch(text, /report \S+[ \t]*(?:\\\n[ \t]*)?\/usr\/bin\/mailx/, 'no report still pipes to mailx');
  const rest = (t: string) => t.split('\n').filter((l) => !/mailx|report /.test(l));
  assert.deepEqual(rest(text), rest(original), 'every other line unchanged');
  assert.match(text, /create session_log_5min_timer_\$1_\$2 300 \(write - \/usr\/bin\/mailx -s "ssh errors for host \$1 pid \$2" alerts@example\.com; report session_log_\$1_\$2\)/);
});

for (const name of scenarios) {
  test(`ssh.sec against the real sec: ${name}`, async () => {
    const work = mkdtempSync(join(tmpdir(), 'sec-ssh-'));
    try {
      const rulesDir = join(work, 'rules');
      mkdirSync(rulesDir);
      writeFileSync(join(rulesDir, 'ssh.sec'), withoutMail(readFileSync(sshSec(), 'latin1')).text, 'latin1');
      copyFileSync(join(FIXTURES, 'observe.sec'), join(rulesDir, 'observe.sec'));
      const rules = [join(rulesDir, 'ssh.sec'), join(rulesDir, 'observe.sec')];
      const runner = oracleCopy(work);
      const secWork = join(work, 'sec');
      const ourWork = join(work, 'ours');
      mkdirSync(secWork);
      mkdirSync(ourWork);
      const scenario = join(FIXTURES, name);
      const want = realSec(runner, rules, scenario, secWork);
      const got = await ourEngine(rules, scenario, ourWork);
      // the scenario reached its probes on the real sec: the comparison is not between two empty outputs
      const probes = readFileSync(scenario, 'utf8').split('\n').filter((l) => l.startsWith('PROBE ')).length;
      assert.equal((want.stdout.match(/^--- probe /gm) ?? []).length, probes, 'every probe printed by the real sec');
      assert.deepEqual(got.refused, want.refused, 'the same rules refused at load');
      assert.equal(got.stdout, want.stdout, 'standard output');
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });
}
