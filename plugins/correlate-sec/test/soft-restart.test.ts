/**
 * Soft restart (a reload that recreates the sec block, SIGABRT or SIGHUP): the state of every rule
 * whose text did not change is kept, per rule. Checked against the real sec 2.9.1 where sec keeps
 * the same (sec keeps operations per rule file, so: rules in files that did not change, and rules
 * that changed), and where we knowingly keep more (an unchanged rule in a file that changed) the
 * real sec's record is asserted beside ours, so the difference is the documented one.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { realSecSteps, ourEngineSteps, type Step } from './soft-restart-oracle.js';

const threshold = (name: string, pattern: string, extra = '') =>
  `type=SingleWithThreshold\nptype=RegExp\npattern=${pattern} (\\S+)\ndesc=${name} $1\naction=write out.txt %u ${name} fired for $1${extra}\nwindow=60\nthresh=3\n`;
const login = 'type=Single\nptype=RegExp\npattern=login (\\S+)\ndesc=login $1\naction=create USER_$1 3600\n';
const check = 'type=Single\nptype=RegExp\npattern=check (\\S+)\ncontext=USER_$1\ndesc=check $1\naction=write out.txt %u user $1 is known\n';
const ping = (word: string) => `type=Single\nptype=SubStr\npattern=ping\ndesc=ping\naction=write out.txt %u pong ${word}\n`;

function dirs() {
  const root = mkdtempSync(join(tmpdir(), 'sec-soft-'));
  return { sec: join(root, 'sec'), ours: join(root, 'ours'), done: () => rmSync(root, { recursive: true, force: true }) };
}

test('soft restart, same as the real sec: a file that did not change keeps its windows, a changed rule restarts its window, contexts and variables stay', async () => {
  const d = dirs();
  try {
    const files = { 'a.sec': threshold('A', 'fail') + '\n' + login, 'b.sec': threshold('B', 'deny') + '\n' + ping('one') + '\n' + check };
    const steps: Step[] = [
      'fail x',
      'fail x',
      'deny y',
      'deny y',
      'login u',
      'ping',
      { at: 5 },
      // B's own text changes (its window grows); everything else in b.sec is as it was
      { abrt: { 'b.sec': threshold('B', 'deny').replace('window=60', 'window=90') + '\n' + ping('one') + '\n' + check } },
      { at: 10 },
      'fail x', // the third in A's window, opened before the restart: fires
      'deny y', // B was edited: its window starts again, this is its first event
      'check u', // the context made before the restart is still there
      'ping',
      { at: 20 },
      'deny y',
      'deny y', // B's third since the restart: fires
      { at: 30 },
    ];
    const theirs = await realSecSteps(d.sec, files, steps);
    const ours = ourEngineSteps(d.ours, files, steps);
    const T = 1700000000;
    assert.equal(theirs, [`${T} pong one`, `${T + 10} A fired for x`, `${T + 10} user u is known`, `${T + 10} pong one`, `${T + 20} B fired for y`, ''].join('\n'), 'the real sec recorded this');
    assert.equal(ours.out, theirs);
    assert.deepEqual(ours.handovers, [{ kept: 1, dropped: 1, sameRules: 4, newRules: 1, contexts: 1 }]);
  } finally {
    d.done();
  }
});

test('soft restart, per rule where sec goes per file: an unchanged rule in an edited file keeps its window (sec drops it); an edited one restarts in both', async () => {
  const d = dirs();
  try {
    const files = { 'r.sec': threshold('A', 'fail') + '\n' + threshold('B', 'deny') + '\n' + ping('one') };
    const steps: Step[] = [
      'fail x',
      'fail x',
      'deny y',
      'deny y',
      { at: 5 },
      // ping's action and B's threshold change; A is moved down by a comment and blank lines, its text unchanged
      { abrt: { 'r.sec': '# moved\n\n' + threshold('A', 'fail') + '\n' + threshold('B', 'deny').replace('thresh=3', 'thresh=2') + '\n' + ping('two') } },
      { at: 10 },
      'fail x',
      'deny y',
      'ping',
      { at: 20 },
      'deny y',
      { at: 30 },
    ];
    const theirs = await realSecSteps(d.sec, files, steps);
    const ours = ourEngineSteps(d.ours, files, steps);
    const T = 1700000000;
    // the real sec: every operation of r.sec ended at the restart, so A's third event is its first
    assert.equal(theirs, [`${T + 10} pong two`, `${T + 20} B fired for y`, ''].join('\n'), 'the real sec recorded this');
    // ours: A's window (rule unchanged) goes on and fires; B (edited) starts again as in sec
    assert.equal(ours.out, [`${T + 10} A fired for x`, `${T + 10} pong two`, `${T + 20} B fired for y`, ''].join('\n'));
    assert.deepEqual(ours.handovers, [{ kept: 1, dropped: 1, sameRules: 1, newRules: 2, contexts: 0 }]);
  } finally {
    d.done();
  }
});

test('soft restart with --intevents: SEC_PRE_SOFTRESTART goes to the old rules, SEC_SOFTRESTART to the new ones, as in the real sec', async () => {
  const d = dirs();
  try {
    const internal = (word: string) => `type=Single\nptype=RegExp\npattern=^(SEC_\\w+)$\ncontext=SEC_INTERNAL_EVENT\ndesc=internal\naction=write out.txt %u $1 seen by the ${word} rules\n`;
    const files = { 'r.sec': internal('old'), 'a.sec': threshold('A', 'fail') };
    const steps: Step[] = ['fail x', 'fail x', { at: 5 }, { abrt: { 'r.sec': internal('new') } }, { at: 6 }, 'fail x', { at: 7 }];
    const theirs = await realSecSteps(d.sec, files, steps, ['--intevents']);
    const ours = ourEngineSteps(d.ours, files, steps, true);
    const T = 1700000000;
    assert.equal(
      theirs,
      [`${T} SEC_STARTUP seen by the old rules`, `${T + 5} SEC_PRE_SOFTRESTART seen by the old rules`, `${T + 5} SEC_SOFTRESTART seen by the new rules`, `${T + 6} A fired for x`, `${T + 7} SEC_SHUTDOWN seen by the new rules`, ''].join('\n'),
      'the real sec recorded this',
    );
    assert.equal(ours.out, theirs);
  } finally {
    d.done();
  }
});
