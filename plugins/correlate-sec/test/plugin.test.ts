import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Event, Timestamp } from '@pipeline/core';
import { createPlugin, makeContext, VirtualClock } from '@pipeline/core/testing';
import sec, { migrateRuleFile, checkRuleFiles, type SecInstance } from '../src/index.js';

const FIXTURES = resolve(dirname(fileURLToPath(import.meta.url)), '../../test/fixtures');

function setup(rules: string, extra = '') {
  const dir = mkdtempSync(join(tmpdir(), 'sec-plugin-'));
  writeFileSync(join(dir, 'r.sec'), rules);
  const ctx = makeContext({ workingDir: dir, resolvePath: (p: string) => resolve(dir, p), clock: new VirtualClock(1700000000 * 1000) });
  return { dir, ctx, make: async () => (await createPlugin(sec, `rules => ["*.sec"] ${extra}`, ctx)) as unknown as SecInstance, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

test('plugin: matches message, emits alert events, counts matches per rule, timers run in flush on the pipeline clock', async () => {
  const s = setup('type=PairWithWindow\nptype=RegExp\npattern=down (\\S+)\ndesc=$1 down\naction=alert resource=$1 event=down severity=major text=%s\nptype2=SubStr\npattern2=up $1\ndesc2=up\naction2=write out.txt %s\nwindow=5\n');
  try {
    const p = await s.make();
    const out: Event[] = [];
    const emit = (e: Event) => void out.push(e);
    assert.equal(p.filter(new Event({ message: 'down web1' }), emit), true);
    assert.equal(p.filter(new Event({ message: 'nothing' }), emit), false);
    s.ctx.clock.advance(5000);
    p.flush(emit, false);
    assert.equal(out.length, 0);
    s.ctx.clock.advance(1000);
    p.flush(emit, false);
    assert.equal(out.length, 1);
    assert.deepEqual(out[0]!.get('[alert]'), { resource: 'web1', event: 'down', severity: 'major', text: 'web1 down' });
    assert.deepEqual(out[0]!.tags, ['alert']);
    assert.equal(out[0]!.timestamp.ms, 1700000006000);
    const snap = s.ctx.metrics.snapshot() as Record<string, any>;
    assert.equal(snap.matches, 1);
    assert.equal(snap.rule_matches['r.sec:1'], 1);
    p.close();
  } finally {
    s.cleanup();
  }
});

test('plugin: synthetic events go out tagged; write resolves against the working directory; dump', async () => {
  const s = setup('type=Single\nptype=RegExp\npattern=^go (\\w+)\ndesc=go\naction=event made $1; create SEEN_$1\n\ntype=Single\nptype=RegExp\npattern=^made (\\w+)\ndesc=made\naction=write out.txt got $1\n', 'dump => "sec.dump"');
  try {
    const p = await s.make();
    const out: Event[] = [];
    p.filter(new Event({ message: 'go x' }), (e) => out.push(e));
    assert.equal(out.length, 1);
    assert.equal(out[0]!.get('message'), 'made x');
    assert.deepEqual(out[0]!.tags, ['sec']);
    p.flush(() => {}, false);
    assert.equal(readFileSync(join(s.dir, 'out.txt'), 'utf8'), 'got x\n');
    assert.match(p.dump(), /Context name: SEEN_x/);
    assert.match(readFileSync(join(s.dir, 'sec.dump'), 'utf8'), /SEEN_x/);
    p.flush(() => {}, true);
  } finally {
    s.cleanup();
  }
});

test('plugin: time_source event uses the latest @timestamp, never going back; due timers fire when it moves', async () => {
  const s = setup('type=SingleWithThreshold\nptype=RegExp\npattern=fail (\\w+)\ndesc=$1\naction=write out.txt %u three for %s\naction2=write out.txt %u end %s\nwindow=60\nthresh=3\n', 'time_source => "event"');
  try {
    const p = await s.make();
    const ev = (sec: number, m: string) => new Event({ message: m, '@timestamp': new Timestamp(sec * 1000) });
    const emit = () => {};
    p.filter(ev(1000, 'fail a'), emit);
    p.filter(ev(1030, 'fail a'), emit);
    p.filter(ev(900, 'fail a'), emit); // older timestamp: clock stays at 1030
    s.ctx.clock.advance(3600_000); // the pipeline clock does not matter
    p.flush(emit, false);
    p.filter(ev(1200, 'other'), emit);
    p.flush(emit, false);
    assert.equal(readFileSync(join(s.dir, 'out.txt'), 'utf8'), '1030 three for a\n1200 end a\n');
  } finally {
    s.cleanup();
  }
});

test("plugin: match_json_lines matches the event's JSON line (the reference sshguard rule's \\\\\" form)", async () => {
  const s = setup('type=Single\nptype=RegExp\npattern=Attack from \\\\"([0-9.]+)\\\\"\ndesc=a\naction=write out.txt $1\n', 'match_json_lines => true');
  try {
    const p = await s.make();
    p.filter(new Event({ message: 'sshguard[1]: Attack from "10.1.2.3" on service SSH' }), () => {});
    p.flush(() => {}, false);
    assert.equal(readFileSync(join(s.dir, 'out.txt'), 'utf8'), '10.1.2.3\n');
  } finally {
    s.cleanup();
  }
});

test('plugin: shell actions fail the load with file:line and the migrate hint unless allow_shell', async () => {
  const s = setup('type=Single\nptype=SubStr\npattern=a\ndesc=x\naction=shellcmd echo hi\n');
  try {
    await assert.rejects(s.make(), /r\.sec:5: action 'shellcmd' runs a shell command.*pipeline sec migrate/s);
  } finally {
    s.cleanup();
  }
});

test('reference ruleset (Jinja filled in) loads with allow_shell, and fails without it naming each shell line', () => {
  const f = join(FIXTURES, 'homelab.sec');
  assert.deepEqual(checkRuleFiles([f], { allowShell: true }).errors, []);
  const strict = checkRuleFiles([f]);
  assert.ok(strict.errors.length >= 10);
  assert.ok(strict.errors.every((e) => e.file === f && e.line > 0 && /pipeline sec migrate/.test(e.message)));
});

test('migrate: alerta send/heartbeat become native actions; information -> informational; mails and the tracker too (more in migrate.test.ts)', () => {
  const f = join(FIXTURES, 'homelab.sec');
  const m = migrateRuleFile(readFileSync(f, 'utf8'), f);
  assert.ok(!/alerta/.test(m.text.split('\n').filter((l) => l.startsWith('action=')).join('\n')));
  assert.match(m.text, /^action=alert service=sudo resource=\$1 environment=Homelab event="sudo authentication failure by \$2 in host \$1" correlate=SEC severity=warning text=\$0$/m);
  assert.match(m.text, /^action=heartbeat origin=\$1_backup timeout=86400 attributes.environment=Homelab attributes.severity=critical$/m);
  assert.ok(m.warnings.some((w) => /mapped to 'informational'/.test(w)));
  // send_email.py becomes the alert's mail attributes; the logtracker pair is removed: no shell is left
  assert.match(m.text, /^action=alert service=sshd .* attributes\.mail_subject="ssh login failure in \$1" attributes\.mail_body="ssh login failure in \$1 from \$2 by \$3"$/m);
  assert.doesNotMatch(m.text, /^action=cspawn/m);
  assert.ok(checkRuleFiles([f]).errors.length > 6);
  const dir = mkdtempSync(join(tmpdir(), 'sec-mig-'));
  try {
    writeFileSync(join(dir, 'm.sec'), m.text);
    assert.deepEqual(checkRuleFiles([join(dir, 'm.sec')]).errors, []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('hostile log lines through native actions reach no shell', async () => {
  const f = join(FIXTURES, 'homelab.sec');
  const m = migrateRuleFile(readFileSync(f, 'utf8'), f);
  // keep only what needs no shell: drop the remaining send_email/cspawn actions
  const noShell = m.text
    .replace(/; shellcmd \/usr\/local\/bin\/send_email\.py[^\n]*/g, '')
    .replace(/action=cspawn [^\n]*/, 'action=none');
  const s = setup(noShell);
  const marker = join(s.dir, 'PWNED');
  try {
    const p = await s.make();
    const out: Event[] = [];
    const hostile = [
      `Nov 14 22:13:20 web1 sudo: pam_unix(sudo:auth): authentication failure; logname= uid=0 tty= ruser= rhost= user=bob'; touch ${marker}; echo '`,
      `Nov 14 22:13:20 web1 sudo: pam_unix(sudo:auth): authentication failure; rhost= user=alice $(touch ${marker}) \`touch ${marker}\` "quoted"`,
      `Nov 14 22:13:21 web1 sshd[12]: Accepted password for root from 10.0.0.1 port 22 ssh2 --severity critical\n$(touch ${marker})`,
    ];
    for (const h of hostile) p.filter(new Event({ message: h }), (e) => out.push(e));
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(existsSync(marker), false);
    assert.equal(out.length, 3);
    assert.equal(out[0]!.get('[alert][text]'), hostile[0]);
    assert.equal(out[0]!.get('[alert][resource]'), 'web1');
    assert.equal(out[1]!.get('[alert][text]'), hostile[1]);
    assert.equal(out[2]!.get('[alert][severity]'), 'informational');
    assert.equal(out[2]!.get('[alert][event]'), 'Accepted password for user root in host web1 from 10.0.0.1');
  } finally {
    s.cleanup();
  }
});
