import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { SMTPServer } from 'smtp-server';
import { simpleParser } from 'mailparser';
import { AlertaDouble } from '@pipeline/output-alerta/testing';
import { startRelay, type Relay } from './rsyslog.js';
import { BIN, freePort, REPO, startPipeline, tempDir, waitFor, type Running } from './util.js';

/**
 * Issue 7's end-to-end test: pipelines/homelab.conf as shipped, fed a scripted day of logs by two
 * real rsyslog relays (one over TLS with a client certificate made by `pipeline certs`), on event
 * time (SEC_TIME_SOURCE=event) so nothing waits for real hours. It checks the per-host files, the
 * exact alerts and heartbeats at an Alerta double replaying Alerta's recorded answers, and the
 * throttled e-mails at a real SMTP server.
 */
// the day before today, in syslog's "Mmm dd" (the date filter gives it this year)
const day = new Date(Date.now() - 86_400_000);
const MON = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'][day.getMonth()];
const at = (hh: number, mm: number, ss = 0) => `${MON} ${String(day.getDate()).padStart(2, ' ')} ${String(hh).padStart(2, '0')}:${String(mm).padStart(2, '0')}:${String(ss).padStart(2, '0')}`;

/** web1's day, sent over TLS with a client certificate. */
function web1Day(): string[] {
  const l: string[] = [];
  for (let i = 0; i < 5; i++) l.push(`<38>${at(8, 0, i * 7)} web1 sshd[${4100 + i}]: Failed password for invalid user admin from 203.0.113.5 port ${50000 + i} ssh2`);
  for (let i = 0; i < 3; i++) l.push(`<38>${at(8, 5, i * 9)} web1 sshd[${4200 + i}]: pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=203.0.113.5  user=root`);
  for (let i = 0; i < 2; i++) l.push(`<85>${at(9, 0, i * 20)} web1 sudo: pam_unix(sudo:auth): authentication failure; logname=bob uid=1001 euid=0 tty=/dev/pts/${i} ruser=bob rhost=  user=bob`);
  l.push(`<86>${at(9, 30)} web1 sshd[4300]: Accepted publickey for alice from 192.0.2.10 port 40000 ssh2`);
  l.push(`<86>${at(9, 30, 1)} web1 sshd[4300]: pam_unix(sshd:session): session opened for user alice by (uid=0)`);
  l.push(`<86>${at(17, 45)} web1 sshd[4300]: pam_unix(sshd:session): session closed for user alice`);
  for (let h = 0; h < 24; h += 3) l.push(`<30>${at(h, 10)} web1 nginx[900]: 192.0.2.${h} GET /index.html 200`);
  return l;
}

/** The NAS and the pfSense firewall (no hostname in its lines), sent over RELP (omrelp). */
function lanDay(): string[] {
  const l: string[] = [];
  for (let h = 0; h < 24; h++) l.push(`<78>${at(h, 0, 5)} nas rsnapshot[${6000 + h}]: /usr/bin/rsnapshot hourly: completed successfully`);
  l.push(`<38>${at(10, 0)} php-fpm[321]: /index.php: webConfigurator authentication error for user 'admin' from: 198.51.100.20`);
  l.push(`<38>${at(10, 0, 40)} php-fpm[321]: /index.php: webConfigurator authentication error for user 'admin' from: 198.51.100.20`);
  l.push(`<38>${at(10, 30)} php-fpm[321]: /index.php: Successful login for user 'admin' from: 192.0.2.10 (Local Database)`);
  l.push(`<38>${at(11, 0)} sshguard[77]: Attack from "203.0.113.9" on service SSH with danger 10.`);
  return l;
}

describe('the homelab config end to end', () => {
  const t = tempDir();
  const cleanups: (() => Promise<void> | void)[] = [];
  after(async () => {
    for (const c of cleanups.reverse()) await c();
    t.cleanup();
  });

  it('files, alerts, heartbeats and throttled e-mails for a scripted day from real rsyslog clients', async () => {
    const certs = join(t.dir, 'certs');
    for (const args of [['create-ca'], ['create-server', '--dns', 'localhost', '--ip', '127.0.0.1'], ['create-client', 'web1']])
      execFileSync(process.execPath, [BIN, 'certs', ...args, '--dir', certs], { stdio: 'pipe' });

    const alerta = await AlertaDouble.start({ environments: ['Homelab', 'Homenet'] });
    cleanups.push(() => alerta.stop());
    const mails: { subject: string; text: string; to: string }[] = [];
    const smtp = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      onData(stream, _session, cb) {
        void simpleParser(stream).then((m) => {
          mails.push({ subject: m.subject ?? '', text: (m.text ?? '').trim(), to: String((m.to as { text?: string } | undefined)?.text ?? '') });
          cb();
        }, cb);
      },
    });
    const smtpPort = await freePort();
    await new Promise<void>((r) => smtp.listen(smtpPort, '127.0.0.1', () => r()));
    cleanups.push(() => new Promise<void>((r) => smtp.close(() => r())));

    const [plain, tls, relp] = [await freePort(), await freePort(), await freePort()];
    const logs = join(t.dir, 'logs');
    const p: Running = startPipeline(['-f', join(REPO, 'pipelines', 'homelab.conf'), '--path.data', join(t.dir, 'data'), '--api.enabled', 'false'], {
      cwd: t.dir,
      env: {
        PIPELINE_SYSLOG_PORT: String(plain),
        PIPELINE_SYSLOG_TLS_PORT: String(tls),
        PIPELINE_RELP_PORT: String(relp),
        PIPELINE_TLS_DIR: certs,
        PIPELINE_TLS_VERIFY: 'true',
        PIPELINE_LOG_DIR: logs,
        ALERTA_ENDPOINT: alerta.url,
        SMTP_HOST: '127.0.0.1',
        SMTP_PORT: String(smtpPort),
        MAIL_FROM: 'pipeline@homelab.test',
        MAIL_TO: 'admin@homelab.test',
        SEC_TIME_SOURCE: 'event',
      },
    });
    cleanups.push(() => void p.child.kill('SIGKILL'));
    await waitFor(() => p.stderr().includes('pipeline started'), 'start');

    const relays: Relay[] = [
      startRelay({ dir: join(t.dir, 'relay-tls'), port: tls, tls: { ca: join(certs, 'ca.pem'), cert: join(certs, 'web1.pem'), key: join(certs, 'web1.key') } }),
      // the LAN relay forwards over RELP, the lossless transport homelab.conf offers
      startRelay({ dir: join(t.dir, 'relay-relp'), port: relp, relp: true }),
    ];
    cleanups.push(async () => {
      for (const r of relays) await r.stop();
    });
    const web1 = web1Day();
    const lan = lanDay();
    relays[0]!.write(web1);
    relays[1]!.write(lan);

    // per-host files: every line once, filed under the sender and its program
    const lines = (f: string) => (existsSync(join(logs, f)) ? readFileSync(join(logs, f), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, any>) : []);
    const filed = () => (existsSync(logs) ? readdirSync(logs).reduce((n, f) => n + lines(f).length, 0) : 0);
    await waitFor(() => filed() === web1.length + lan.length, `all ${web1.length + lan.length} lines filed (${filed()})`, 60_000).catch((e: Error) => {
      throw new Error(`${e.message}\n${relays.map((r) => r.log()).join('\n')}\n${p.stderr().slice(-3000)}`);
    });
    // web1's relay came over the tcp input, which names its sender (dns_reverse_lookup_enabled,
    // Logstash's default: 127.0.0.1 is localhost in /etc/hosts); RELP's host is the address
    assert.deepEqual(readdirSync(logs).sort(), ['127.0.0.1-php-fpm.log', '127.0.0.1-rsnapshot.log', '127.0.0.1-sshguard.log', 'localhost-nginx.log', 'localhost-sshd.log', 'localhost-sudo.log']);
    assert.equal(lines('127.0.0.1-rsnapshot.log').length, 24);
    assert.equal(lines('localhost-sshd.log').length, 11);
    const sshd = lines('localhost-sshd.log');
    assert.ok(sshd.every((e) => e.sslsubject === 'CN=web1'), 'web1 came over TLS with its client certificate');
    assert.ok(sshd.every((e) => e.tags.includes('syslog') && e.syslog_hostname === 'web1'));
    assert.deepEqual(lines('127.0.0.1-rsnapshot.log')[0]!.tags, ['syslog', 'relp', 'rsnapshot'], 'the LAN lines came over RELP');

    // the exact alerts at Alerta
    const expected = [
      ...Array(5).fill('warning web1 sshd Homelab ssh login failure in web1 with invalid user admin from 203.0.113.5'),
      ...Array(3).fill('warning web1 sshd Homelab ssh login failure in web1 from 203.0.113.5 by root'),
      ...Array(2).fill('warning web1 sudo Homelab sudo authentication failure by bob in host web1'),
      'informational web1 sshd Homelab Accepted publickey for user alice in host web1 from 192.0.2.10',
      'informational web1 sshd Homelab sshd session opened for user alice in host web1',
      'informational web1 sshd Homelab sshd session closed for user alice in host web1',
      "critical pfsense pfsense Homenet Failed login in Pfsense Web UI for user 'admin' from '198.51.100.20'",
      "warning pfsense pfsense Homenet Successful login in Pfsense Web UI for user 'admin' from '192.0.2.10'",
      'critical pfsense sshguard Homenet Pfsense - attack from 203.0.113.9 on service SSH',
    ].sort();
    const got = () => alerta.alerts.map((a) => `${a.severity} ${a.resource} ${(a.service as string[]).join(',')} ${a.environment} ${a.event}`).sort();
    await waitFor(() => alerta.alerts.length >= expected.length, `${expected.length} alerts at Alerta (${alerta.alerts.length})`, 60_000);
    await new Promise((r) => setTimeout(r, 500));
    assert.deepEqual(got(), expected);
    for (const a of alerta.alerts) assert.deepEqual(a.correlate, ['SEC']);
    const attack = alerta.alerts.find((a) => String(a.event).startsWith('Pfsense - attack'))!;
    assert.match(String(attack.text), /Attack from \\"203\.0\.113\.9\\"/, 'the rule saw the JSON line, as SEC did on Logstash files');

    // one heartbeat per hourly backup
    await waitFor(() => alerta.heartbeats.length >= 24, `24 heartbeats (${alerta.heartbeats.length})`, 60_000);
    assert.equal(alerta.heartbeats.length, 24);
    for (const h of alerta.heartbeats) {
      assert.equal(h.origin, 'nas_backup');
      assert.equal(h.timeout, 86400);
    }

    // e-mails: the reference's mailing rules, at most 3 an hour per resource
    await waitFor(() => mails.length >= 6, `6 mails (${mails.length})`, 60_000);
    await new Promise((r) => setTimeout(r, 1000));
    const bySubject = mails.map((m) => m.subject).sort();
    assert.equal(mails.filter((m) => m.subject.startsWith('ssh login failure in web1')).length, 3, 'web1: 8 mailing alerts, throttled to 3');
    assert.deepEqual(bySubject.filter((s) => !s.startsWith('ssh login failure')), ['Failed login in Pfsense Web UI', "Pfsense's sshguard detected an attack", 'Successful login in Pfsense Web UI']);
    assert.ok(mails.every((m) => m.to === 'admin@homelab.test'));
    assert.equal(mails.find((m) => m.subject === 'Failed login in Pfsense Web UI')!.text, 'Failed login in Pfsense Web UI for user admin from 198.51.100.20');

    p.child.kill('SIGTERM');
    assert.equal(await p.exited, 0, p.stderr().slice(-2000));
  });
});
