/**
 * End to end: the seed ruleset migrated by `pipeline sec migrate`, run by a real `pipeline start`
 * with the email output against a real SMTP server (smtp-server, STARTTLS, as the email output's
 * tests use): the log lines that made the seed send its five mails make Pipeline send the same five.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import { certsCreateCA, certsCreateServer, PipelineProcess, until } from '@pipeline/core/testing';

const HERE = dirname(fileURLToPath(import.meta.url));
const PKG = resolve(HERE, '..', '..');
const REPO = resolve(PKG, '..', '..');
const SEED = join(PKG, 'test', 'fixtures', 'migrate', 'homelab-seed.sec');

/** Lines as rsyslog forwards them (the seed matched them in Logstash's JSON output files). */
const LINES = [
  // the five that mail (the Web UI failure twice: thresh=2 within 120 s)
  'Nov 14 22:13:20 web1 sshd[4121]: pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=203.0.113.9  user=root',
  'Nov 14 22:13:21 web1 sshd[4122]: Failed password for invalid user admin from 203.0.113.10 port 50022 ssh2',
  "Nov 14 22:13:22 php-fpm[771]: /index.php: webConfigurator authentication error for user 'admin' from: 198.51.100.7",
  "Nov 14 22:13:23 php-fpm[771]: /index.php: webConfigurator authentication error for user 'admin' from: 198.51.100.7",
  "Nov 14 22:13:24 php-fpm[772]: /index.php: Successful login for user 'admin' from: 198.51.100.8",
  'Nov 14 22:13:25 sshguard[88]: Attack from "192.0.2.66" on service SSH with danger 30.',
  // alerts without a mail, and the heartbeat
  'Nov 14 22:13:26 web1 sudo: pam_unix(sudo:auth): authentication failure; logname=bob uid=1000 euid=0 tty=/dev/pts/0 ruser=bob rhost=  user=bob',
  'Nov 14 22:13:27 web1 login[900]: FAILED LOGIN (1) on /dev/tty1 FOR UNKNOWN, Authentication failure',
  'Nov 14 22:13:28 web1 sshd[4130]: pam_unix(sshd:session): session opened for user alice(uid=1001) by (uid=0)',
  'Nov 14 22:13:29 web1 sshd[4131]: Accepted publickey for alice from 192.168.1.20 port 40022 ssh2',
  'Nov 14 22:13:30 sshd[99]: Accepted password for admin from 192.168.1.21 port 40023 ssh2',
  'Nov 14 22:13:31 sshd[98]: error: PAM: Authentication error for root from 192.168.1.22',
  'Nov 14 22:13:32 nas rsnapshot[501]: /usr/bin/rsnapshot hourly: completed successfully',
];

const WANT_MAILS = [
  ['ssh login failure in web1', 'ssh login failure in web1 from 203.0.113.9 by root'],
  ['ssh login failure in web1 with invalid user', 'ssh login failure in web1 with invalid user admin from 203.0.113.10'],
  ['Failed login in Pfsense Web UI', 'Failed login in Pfsense Web UI for user admin from 198.51.100.7'],
  ['Successful login in Pfsense Web UI', 'Successful login in Pfsense Web UI for user admin from 198.51.100.8'],
  ["Pfsense's sshguard detected an attack", 'Attack from 192.0.2.66 on service SSH with danger 30'],
];

it('the migrated seed, a real pipeline start and a real SMTP server: every mail the seed sent is sent, once', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sec-migrate-e2e-'));
  const received: { from: string; to: string[]; secure: boolean; mail: ParsedMail }[] = [];
  certsCreateCA(join(dir, 'certs'));
  certsCreateServer(join(dir, 'certs'), { ip: ['127.0.0.1'] });
  const smtp = new SMTPServer({
    key: readFileSync(join(dir, 'certs', 'server.key')),
    cert: readFileSync(join(dir, 'certs', 'server.pem')),
    authOptional: true,
    logger: false,
    disableReverseLookup: true,
    onData(stream, session, cb) {
      simpleParser(stream).then(
        (mail) => {
          received.push({ from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '', to: session.envelope.rcptTo.map((r) => r.address), secure: session.secure, mail });
          cb();
        },
        (e: Error) => cb(e),
      );
    },
  });
  await new Promise<void>((r) => smtp.listen(0, '127.0.0.1', () => r()));
  const port = (smtp.server.address() as { port: number }).port;
  let p: PipelineProcess | undefined;
  try {
    const rules = join(dir, 'homelab.sec');
    const mig = spawnSync(process.execPath, [join(REPO, 'core', 'bin', 'pipeline.js'), 'sec', 'migrate', SEED, '--write', rules], { cwd: dir, encoding: 'utf8' });
    assert.equal(mig.status, 0, mig.stderr);
    const check = spawnSync(process.execPath, [join(REPO, 'core', 'bin', 'pipeline.js'), 'sec', 'check', rules], { cwd: dir, encoding: 'utf8' });
    assert.equal(check.stdout, 'Rules OK\n', check.stderr);

    // the homelab config's shape: SEC on the json_lines text, natives to a file, mails as homelab.conf sends them
    const conf = `
input { stdin { type => syslog tags => ["syslog"] } }
correlate { sec { rules => ["${rules}"] match_json_lines => true } }
output {
  if "alert" in [tags] or "heartbeat" in [tags] { file { path => "${join(dir, 'natives.json')}" codec => json_lines } }
  if "alert" in [tags] and [alert][attributes][mail_subject] {
    email {
      address => "127.0.0.1" port => ${port} starttls => "required" ssl_certificate_authorities => "${join(dir, 'certs', 'ca.pem')}"
      from => "sec@logs.home.arpa" to => "owner@home.arpa"
      subject => "%{[alert][attributes][mail_subject]}" body => "%{[alert][attributes][mail_body]}"
    }
  }
}`;
    p = PipelineProcess.start(['-e', conf, '--path.data', join(dir, 'data'), '--api.enabled', 'false'], { cwd: dir, report: join(dir, 'left-open.json') });
    await p.waitForLog((r) => r.msg === 'pipeline started', 'the pipeline to start');
    p.stdin.write(LINES.join('\n') + '\n');
    assert.ok(await until(() => received.length >= WANT_MAILS.length, 30_000), `mails received: ${received.length}${p.problems()}`);
    p.stdin.end();
    assert.equal(await p.exit(), 0, p.problems());

    const got = received.map((r) => [r.mail.subject, String(r.mail.text).trim()]).sort();
    assert.deepEqual(got, [...WANT_MAILS].sort());
    for (const r of received) {
      assert.equal(r.from, 'sec@logs.home.arpa');
      assert.deepEqual(r.to, ['owner@home.arpa']);
      assert.equal(r.secure, true, 'STARTTLS');
    }
    const natives = readFileSync(join(dir, 'natives.json'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { tags: string[]; alert?: { event: string; resource: string }; heartbeat?: { origin: string } });
    assert.equal(natives.filter((n) => n.tags.includes('alert')).length, 11, 'one alert per alerta send of the seed');
    assert.deepEqual(natives.filter((n) => n.tags.includes('heartbeat')).map((n) => n.heartbeat!.origin), ['nas_backup']);
    assert.ok(natives.some((n) => n.alert?.event === 'Pfsense - attack from 192.0.2.66 on service SSH' && n.alert.resource === 'pfsense'));
  } finally {
    if (p?.running) p.signal('SIGKILL');
    await new Promise<void>((r) => smtp.close(() => r()));
    rmSync(dir, { recursive: true, force: true });
  }
});
