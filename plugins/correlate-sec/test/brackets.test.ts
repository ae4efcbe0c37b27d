/**
 * Differential test on a rule file of our own, test/fixtures/bracket-rules/brackets.sec: patterns
 * built on Perl's bracket-class corners (those ssh.sec depends on, `\[[^]]+\]` and `[A-z0-9_-]`,
 * and more: `[]a]`, `[]-]`, `[][]`, `[^][]`, `[\]]`, POSIX and negated POSIX classes, hex range
 * ends, false ranges, (?i) with classes, /x and /xx, bytes above \x7f) in Single,
 * SingleWithThreshold and Pair rules whose actions print their captures. The real sec 2.9.1 (the
 * oracle in shared/sec-oracle, virtual clock) and our engine run it on scenario.txt; standard
 * output and out.txt must be identical.
 *
 * Needs the Debian package `sec` (scripts/setup-debian.sh) and the oracle; without either the
 * test fails, it does not skip.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TEST_DIR, bothSides } from './oracle-util.js';

const DIR = join(TEST_DIR, 'fixtures/bracket-rules');
const RULES = readFileSync(join(DIR, 'brackets.sec'), 'latin1');
const SCENARIO = join(DIR, 'scenario.txt');

/** Each rule's tag: the first word its action writes. */
const TAGS = [...RULES.matchAll(/^action2?=write (?:-|out\.txt) (\S+)/gm)].map((m) => m[1]!);

const b = (s: string) => Buffer.from(s, 'utf8').toString('latin1');

/**
 * Lines that Perl's rules give and a translation to JavaScript easily gets wrong; checked on the
 * real sec's output, so the scenario stays aimed at them (the comparison is the test).
 */
const STDOUT_LINES = [
  'accepted host=[host1] pid=[4242] id=[ID 800047 auth.info] how=[publickey] user=[bob_x-1] from=[10.0.0.1]',
  // A-z holds ^ ` and \; [^]]+ takes a [
  'accepted host=[host2] pid=[7] id=[a[b] how=[password] user=[a^b`c\\d] from=[::1]',
  'ra []a]a] [b] []c]]',
  'rd []-]-] [x-]]',
  'nd [abc-!] [123] []',
  'eb []]] [x[]] [y]',
  'hx [ABZ] [09_] [az]',
  // (?i): [[:upper:]] takes lower case too; [^a-z] refuses both cases
  'cu [ABc] [DeF] [-rest]',
  'cn [123-_!#] [aBc]',
  'az [az[\\]^_`] [{|}]',
  'bb [][][] [x] []y]',
  'fr [a_9-z-w] [ab-ce-c] [-.-.-] [ tail]',
  'es [\\-\\^-\\] [a^a^] [$.$] [ end]',
  'xs [ a a a ] [x]',
  'xt [aa] [ bb ab|rest]',
  'w5 [ab-c-] [12-9] [x]',
  'w6 [ab^c] [d] [[\\]] [x]',
  'w7 [KK] [k] [a] [K]',
  // the threshold keeps the first line's $3; (?i) after the class part of the pattern
  'threshold [k1] [alice] [DEAD] at 1700000005',
  'threshold [k2] [bob] [2] at 1700000066',
  // $1 and $2 reach pattern2 quoted: "axb" and "x]yxz" do not close [a.b] id=x]y.z
  'pair close [a.b] [x]y.z] [third] at 1700000071',
  'pair close [r] [-]-] [done] at 1700000081',
];
const OUT_LINES = [
  // /i does not fold bytes: \xc3 is in [\xc0-\xde] but not, folded, in [\xe0-\xfe]
  'li [\xc3] [\x89\xc3\xa9]',
  b('lt [caf] [é] [ au lait]'),
];

test('brackets.sec: same standard output and out.txt as the real sec', async () => {
  const { want, got } = await bothSides([['brackets.sec', RULES]], SCENARIO, ['out.txt']);
  assert.deepEqual(want.refused, [], 'the real sec loads every rule');
  assert.deepEqual(got.refused, want.refused, 'the same rules refused at load');

  // the real sec took the paths the scenario is written for
  const written = (want.stdout + want.files['out.txt']).split('\n');
  const silent = TAGS.filter((t) => !written.some((l) => l.startsWith(`${t} `)));
  assert.deepEqual(silent, [], 'every rule wrote at least once on the real sec');
  assert.ok(TAGS.length >= 25, `rules found: ${TAGS.length}`);
  for (const l of STDOUT_LINES) assert.ok(want.stdout.split('\n').includes(l), `the real sec wrote: ${l}`);
  for (const l of OUT_LINES) assert.ok(want.files['out.txt']!.split('\n').includes(l), `the real sec wrote to out.txt: ${l}`);
  // lines no rule may take
  for (const l of ['pair close [late]', 'pair close [a.b] [x]y.z] [first]', 'pair close [a.b] [x]y.z] [fourth]', 'cn [ABC]', 'lj [\xc3']) {
    assert.ok(!written.some((w) => w.startsWith(l)), `the real sec did not write ${l}`);
  }

  assert.equal(got.stdout, want.stdout, 'standard output');
  assert.equal(got.files['out.txt'], want.files['out.txt'], 'out.txt');
});
