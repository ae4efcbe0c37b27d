import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { checkRuleFiles } from '../src/loader.js';
import { migrateRuleFile, parseMailCommand } from '../src/migrate.js';
import { parseNativeAction } from '../src/native.js';

const HERE = dirname(fileURLToPath(import.meta.url)); // plugins/correlate-sec/dist/test
const PKG = resolve(HERE, '..', '..');
const REPO = resolve(PKG, '..', '..');
const BIN = join(REPO, 'core', 'bin', 'pipeline.js');
export const SEED = join(PKG, 'test', 'fixtures', 'migrate', 'homelab-seed.sec');

/** The five mails of the seed's send_email.py calls, subject and body as written there. */
export const SEED_MAILS: [string, string][] = [
  ['ssh login failure in $1', 'ssh login failure in $1 from $2 by $3'],
  ['ssh login failure in $1 with invalid user', 'ssh login failure in $1 with invalid user $2 from $3'],
  ['Failed login in Pfsense Web UI', 'Failed login in Pfsense Web UI for user $1 from $2'],
  ['Successful login in Pfsense Web UI', 'Successful login in Pfsense Web UI for user $1 from $2'],
  ["Pfsense's sshguard detected an attack", 'Attack from $1 on service $2 with danger $3'],
];

function tmp(): { dir: string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'sec-migrate-'));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Checks migrated text as `pipeline sec check` does, without allow_shell. */
function checkText(text: string): string[] {
  const t = tmp();
  try {
    writeFileSync(join(t.dir, 'm.sec'), text);
    return checkRuleFiles([join(t.dir, 'm.sec')]).errors.map((e) => `${e.line}: ${e.message}`);
  } finally {
    t.cleanup();
  }
}

/** The native actions of the rule file's action= lines, parsed as the engine parses them. */
function natives(text: string) {
  return text
    .split('\n')
    .filter((l) => /^action=/.test(l))
    .flatMap((l) => l.slice('action='.length).split(/\s*;\s*/))
    .filter((a) => /^(alert|heartbeat)\s/.test(a))
    .map((a) => {
      const kind = a.startsWith('alert') ? 'alert' : 'heartbeat';
      const spec = parseNativeAction(kind, a.slice(kind.length + 1));
      return { kind, fields: Object.fromEntries(spec.keys.map((k, i) => [k, spec.values[i]!])) };
    });
}

describe('sec migrate: the seed ruleset (homelab-setup.md, Jinja filled in)', () => {
  const seed = readFileSync(SEED, 'utf8');
  const m = migrateRuleFile(seed, SEED);

  it('the seed itself needs allow_shell: 12 alerta calls (11 send, 1 heartbeat), 5 mails, the tracker', () => {
    assert.equal(seed.match(/^\s*(action=)?\s*shellcmd\s+\S*alerta .* send /gm)?.length, 11);
    assert.equal(seed.match(/shellcmd \S*alerta .* heartbeat /g)?.length, 1);
    assert.equal(seed.match(/shellcmd \/usr\/local\/bin\/send_email\.py/g)?.length, 5);
    assert.deepEqual(checkRuleFiles([SEED], { allowShell: true }).errors, []);
    assert.equal(checkRuleFiles([SEED]).errors.length, 13, 'the cspawn and 12 shellcmd lines');
  });

  it('migrated, it passes sec check without allow_shell', () => {
    assert.deepEqual(checkText(m.text), []);
    assert.doesNotMatch(m.text, /^[^#]*(shellcmd|cspawn|addinput|alerta --)/m);
  });

  it('keeps all 11 alerts and the heartbeat, fields as the alerta calls gave them', () => {
    const n = natives(m.text);
    assert.equal(n.filter((x) => x.kind === 'alert').length, 11);
    assert.deepEqual(
      n.filter((x) => x.kind === 'heartbeat').map((x) => x.fields),
      [{ origin: '$1_backup', timeout: '86400', 'attributes.environment': 'Homelab', 'attributes.severity': 'critical' }],
    );
    const tty = n.find((x) => x.fields.service === 'TTYlogin')!.fields;
    assert.deepEqual(tty, { service: 'TTYlogin', resource: 'logs', environment: 'Homelab', event: 'TTY login failure', correlate: 'SEC', severity: 'warning', text: '$0' });
    const web = n.find((x) => x.fields.event?.startsWith('Failed login in Pfsense'))!.fields;
    assert.equal(web.event, "Failed login in Pfsense Web UI for user '$1' from '$2'");
    assert.equal(web.severity, 'critical');
    assert.equal(n.filter((x) => x.fields.severity === 'informational').length, 2, "'information' became 'informational'");
  });

  it('keeps all 5 mails, subject and body, on the alert of their rule', () => {
    const withMail = natives(m.text).filter((x) => x.fields['attributes.mail_subject'] !== undefined);
    assert.deepEqual(
      withMail.map((x) => [x.fields['attributes.mail_subject'], x.fields['attributes.mail_body']]),
      SEED_MAILS,
    );
    // one sender and recipient in the whole file: they go to the email output's options, not each alert
    assert.ok(withMail.every((x) => x.fields['attributes.mail_to'] === undefined));
    assert.deepEqual(m.summary.mailSettings, [{ server: 'relay.home.arpa', port: '25', from: 'sec@logs.home.arpa', to: 'owner@home.arpa' }]);
  });

  it('removes the logtracker cspawn/addinput pair with a comment that file discovery is native', () => {
    assert.doesNotMatch(m.text, /^type=.*\n(?:.*\n){0,4}.*LOGTRACKER/m);
    assert.doesNotMatch(m.text, /^[^#].*(SEC_STARTUP|Open file)/m);
    assert.match(m.text, /^# pipeline sec migrate: removed the file tracker rules that were here \(cspawn LOGTRACKER \/usr\/local\/bin\/logtracker\.py .*addinput\)\.$/m);
    assert.match(m.text, /^# pipeline sec migrate: File discovery is native: .*path => \["\/srv\/logstash\/\*rsnapshot\.log", "\/srv\/logstash\/\*sshd\.log", "\/srv\/logstash\/\*sudo\.log", "\/srv\/logstash\/\*php-fpm\.log", "\/srv\/logstash\/\*-sshguard\.log"\]\.$/m);
    assert.equal(m.summary.removed.length, 1);
    assert.equal(m.summary.left.length, 0);
    assert.equal(m.summary.translated.length, 17, '11 alerts + 1 heartbeat + 5 mails');
  });

  it('keeps everything else as written: patterns, desc, window/thresh, comments', () => {
    // after the tracker rules (removed), every line but the action lines is the seed's
    const kept = (t: string) => t.slice(t.indexOf('# SSH/sudo sessions')).split('\n').filter((l) => !/^action=|^\s+shellcmd /.test(l));
    assert.deepEqual(kept(m.text), kept(seed));
    assert.match(m.text, /^# secerity warning because ssh to pfsense are rare$/m);
  });
});

describe('sec migrate: what it cannot translate is commented out with the reason', () => {
  const rules = `type=Single
ptype=RegExp
pattern=disk (\\S+) full
desc=disk full
action=shellcmd /usr/bin/logger -t sec "disk $1 full"; write - disk $1 full; \\
  shellcmd alerta send --resource $1 --event DiskFull --severity major; \\
  shellcmd send_email.py "x@y.test" "ops@y.test" "disk full" "disk $1 full" "relay.x.test" 25

type=Single
ptype=SubStr
pattern=fan failure
desc=fan
action=pipe '%s' /bin/mail -s 'fan' root@localhost

type=Single
ptype=SubStr
pattern=mail only
desc=a mail with no alert
action=shellcmd /opt/bin/notify-mail.sh "a@x.test" "b@x.test" "only a mail" "body $0" "relay.x.test" 587

type=SingleWithScript
ptype=SubStr
pattern=scripted
script=/usr/local/bin/check.sh
desc=script
action=write - scripted

type=Single
ptype=SubStr
pattern=nested
desc=a shell action inside if
action=if %x ( shellcmd touch /tmp/x ) else ( write - no )

type=Single
ptype=PerlFunc
pattern=sub { $_[0] =~ /perl/ }
desc=perl
action=write - perl

type=Single
ptype=SubStr
pattern=two mails
desc=two recipients
action=shellcmd alerta send -r r1 -e E1 -s minor; shellcmd send_email.py "x@y.test" "other@y.test" "S2" "B2" "relay.x.test" 25
`;
  const m = migrateRuleFile(rules, 'r.sec');

  it('passes sec check without allow_shell', () => {
    assert.deepEqual(checkText(m.text), []);
  });

  it('a shell action with no native form is left out of its list, the rest kept, the reason above the rule', () => {
    assert.match(m.text, /^# pipeline sec migrate: left out of line 5's action: 'shellcmd \/usr\/bin\/logger -t sec "disk \$1 full"'; it runs a shell command that has no native equivalent; .*allow_shell => true.*\ntype=Single\nptype=RegExp\npattern=disk/m);
    assert.match(m.text, /^action=write - disk \$1 full; alert resource=\$1 event=DiskFull severity=major attributes\.mail_subject="disk full" attributes\.mail_body="disk \$1 full" attributes\.mail_from=x@y\.test attributes\.mail_to=ops@y\.test$/m);
    assert.match(m.text, /^# pipeline sec migrate: left out of line 13's action: 'pipe '%s' \/bin\/mail -s 'fan' root@localhost'/m);
    assert.match(m.text, /pattern=fan failure\ndesc=fan\naction=none$/m, 'an emptied list becomes none');
  });

  it('a mail with no alert to carry it is left out, saying how to write it', () => {
    assert.match(m.text, /left out of line 19's action: 'shellcmd \/opt\/bin\/notify-mail\.sh .*'; a mail rides on an alert .* attributes\.mail_subject="only a mail" attributes\.mail_body="body \$0"$/m);
  });

  it('SingleWithScript and PerlFunc: the rule is commented out; an if holding a shell action is left out whole', () => {
    assert.match(m.text, /^# pipeline sec migrate: commented out the rule below: SingleWithScript runs its script through a shell.*\n# type=SingleWithScript\n# ptype=SubStr\n# pattern=scripted\n# script=/m);
    assert.match(m.text, /^# pipeline sec migrate: commented out the rule below: its ptype=PerlFunc pattern runs Perl code.*\n# type=Single\n# ptype=PerlFunc/m);
    assert.match(m.text, /^# pipeline sec migrate: left out of line 32's action: 'if %x \( shellcmd touch \/tmp\/x \) else \( write - no \)'; it runs a shell command .*\ntype=Single\nptype=SubStr\npattern=nested\ndesc=.*\naction=none$/m);
  });

  it('mails to different addresses carry mail_from/mail_to; the summary lists translated, removed, left', () => {
    assert.match(m.text, /^action=alert resource=r1 event=E1 severity=minor attributes\.mail_subject=S2 attributes\.mail_body=B2 attributes\.mail_from=x@y\.test attributes\.mail_to=other@y\.test$/m);
    assert.deepEqual(m.summary.removed, []);
    assert.deepEqual(
      m.summary.left.map((l) => l.line),
      [5, 13, 19, 21, 32, 34],
    );
    assert.equal(m.summary.translated.length, 4, '2 alerts, 2 mails');
  });

  it('recognises mail scripts by their six arguments, not any command with "mail" in it', () => {
    assert.deepEqual(parseMailCommand('/usr/local/bin/send_email.py "a@b" "c@d" "s" "b o d y" "relay" 25'), { from: 'a@b', to: 'c@d', subject: 's', body: 'b o d y', server: 'relay', port: '25' });
    assert.equal(parseMailCommand('/usr/local/bin/send_email.py "a@b" "c@d" "s" "b" "relay"')?.port, '25', 'the port defaults to 25');
    assert.equal(parseMailCommand("/bin/mail -s 'fan' root@localhost"), null);
    assert.equal(parseMailCommand('/usr/bin/fetchmail a b c d e'), null);
  });
});

describe('pipeline sec migrate / check, the real command', () => {
  const cli = (args: string[], cwd = REPO) => spawnSync(process.execPath, [BIN, ...args], { cwd, encoding: 'utf8', timeout: 60_000 });

  it('migrate writes rules that check accepts without allow_shell; the summary on stderr', () => {
    const t = tmp();
    try {
      const out = join(t.dir, 'migrated.sec');
      const r = cli(['sec', 'migrate', SEED, '--write', out]);
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stdout, '');
      assert.match(r.stderr, /^pipeline sec migrate .*homelab-seed\.sec: translated 11 alert\(s\), 1 heartbeat\(s\), 5 mail\(s\); removed 1; left 0$/m);
      assert.match(r.stderr, /^translated:\n {2}line 29: shellcmd {2}alerta .* -> alert$/m);
      assert.match(r.stderr, /^removed:\n {2}line 7: the file tracker \(cspawn LOGTRACKER .*\(rules at lines 7, 14\)$/m);
      assert.match(r.stderr, /^left \(commented out, with the reason, in the output\): none$/m);
      assert.match(r.stderr, /^ {2}address => "relay\.home\.arpa" port => 25 from => "sec@logs\.home\.arpa" to => "owner@home\.arpa"$/m);
      assert.match(r.stderr, /^warning: .*:29: --endpoint-url http:\/\/127\.0\.0\.1\/api dropped \(lines 29, 35, .*, 117\); configure the Alerta output's endpoint instead$/m);
      assert.equal(readFileSync(out, 'utf8'), migrateRuleFile(readFileSync(SEED, 'utf8'), SEED).text);

      const ok = cli(['sec', 'check', out]);
      assert.equal(ok.status, 0, ok.stderr);
      assert.equal(ok.stdout, 'Rules OK\n');
      const stdout = cli(['sec', 'migrate', SEED]);
      assert.equal(stdout.stdout, readFileSync(out, 'utf8'), 'without --write the rules go to stdout');
    } finally {
      t.cleanup();
    }
  });

  it('check: the seed fails without allow_shell (each shell line, exit 1) and passes with it', () => {
    const bad = cli(['sec', 'check', SEED]);
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /homelab-seed\.sec:12: action 'cspawn' runs a shell command; .*pipeline sec migrate FILE/);
    assert.match(bad.stderr, /^13 error\(s\)$/m);
    const ok = cli(['sec', 'check', '--allow-shell', SEED]);
    assert.equal(ok.status, 0, ok.stderr);
    assert.equal(ok.stdout, 'Rules OK\n');
  });

  it('usage mistakes: one line, exit 2; --help prints the usage', () => {
    for (const [args, re] of [
      [['sec'], /name a subcommand: check or migrate/],
      [['sec', 'check'], /Not enough non-option arguments: got 0, need at least 1/],
      [['sec', 'migrate'], /Not enough non-option arguments/],
      [['sec', 'check', SEED, '--nope'], /Unknown argument: nope/],
      [['sec', 'bogus'], /Unknown argument: bogus/],
    ] as [string[], RegExp][]) {
      const r = cli(args);
      assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.match(r.stderr, re);
    }
    const help = cli(['sec', 'check', '--help']);
    assert.equal(help.status, 0);
    assert.match(help.stdout, /--allow-shell/);
    assert.match(cli(['sec', '--help']).stdout, /pipeline sec migrate <file>/);
    const missing = cli(['sec', 'migrate', '/nonexistent/rules.sec']);
    assert.equal(missing.status, 1);
    assert.match(missing.stderr, /cannot read \/nonexistent\/rules\.sec/);
  });
});
