/**
 * Differential check on a public rule set, outside `npm test` (the runner takes only *.test.js):
 * ssh.sec from SEC's rule set repository (github.com/simple-evcorr/rulesets, file ssh.sec, by
 * John P. Rouillard, GPL-2) run by the real sec 2.9.1 (through ../shared/sec-oracle, on a virtual
 * clock) and by our engine, on scripted sshd input (test/fixtures/ssh-ruleset/NN-*.txt, one
 * scenario per rule path: see that folder's README). Both must write the same standard output and
 * load the same rules.
 *
 * ssh.sec is fetched from a public repository, so it is not part of this project: get it and run
 *
 *   SEC_RULESETS_DIR=/dir/holding/ssh.sec node --test plugins/correlate-sec/dist/test/ssh-ruleset.check.js
 *
 * (see the README's "Checking against public rule sets"). The blob id is checked, so the scenarios
 * always meet the file they were written for.
 *
 * ssh.sec's reports pipe to /usr/bin/mailx; both sides run a copy in which each such report
 * writes the mail's command line and then reports the store to standard output (report without
 * a command), so no shell runs and what would have been mailed is compared byte for byte.
 * observe.sec (ours) prints, at each "PROBE host pid" line, which of ssh.sec's contexts exist.
 *
 * Needs the Debian package `sec` (scripts/setup-debian.sh installs it), the oracle in shared/ and
 * ssh.sec; without any of them the check fails.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { SHARED, TEST_DIR, bothSides, firstExisting } from './oracle-util.js';

const FIXTURES = join(TEST_DIR, 'fixtures/ssh-ruleset');

const sshSec = () =>
  firstExisting(
    'ssh.sec from github.com/simple-evcorr/rulesets (set SEC_RULESETS_DIR to its folder, see the README)',
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
    const sshText = withoutMail(readFileSync(sshSec(), 'latin1')).text;
    const scenario = join(FIXTURES, name);
    const { want, got } = await bothSides(
      [
        ['ssh.sec', sshText],
        ['observe.sec', readFileSync(join(FIXTURES, 'observe.sec'), 'latin1')],
      ],
      scenario,
    );
    // the scenario reached its probes on the real sec: the comparison is not between two empty outputs
    const probes = readFileSync(scenario, 'utf8').split('\n').filter((l) => l.startsWith('PROBE ')).length;
    assert.equal((want.stdout.match(/^--- probe /gm) ?? []).length, probes, 'every probe printed by the real sec');
    assert.deepEqual(got.refused, want.refused, 'the same rules refused at load');
    assert.equal(got.stdout, want.stdout, 'standard output');
  });
}
