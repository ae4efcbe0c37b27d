import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Event } from '@pipeline/core';
import { VirtualClock } from '@pipeline/core/testing';
import { certs, runCommand, start, tempDir, waitFor, type Started } from '@pipeline/net/testing';
import syslog from '../src/index.js';
import { startRsyslog, type ForwardOptions } from './rsyslog.js';

let tmp: ReturnType<typeof tempDir>;
let pki: string;
before(async () => {
  tmp = tempDir('pipeline-syslog-');
  pki = join(tmp.dir, 'pki');
  const c = await certs();
  c.certsCreateCA(pki);
  c.certsCreateServer(pki, { dns: ['localhost'], ip: ['127.0.0.1'] });
  c.certsCreateClient(pki, 'rsyslog-client');
  c.certsCreateCA(join(tmp.dir, 'other'), { commonName: 'Other CA' });
  c.certsCreateClient(join(tmp.dir, 'other'), 'stranger');
});
after(() => tmp.cleanup());

const byMessage = (events: Event[]) => events.map((e) => e.get('message') as string).sort();

describe('syslog input with util-linux logger', () => {
  it('parses logger over TCP (3164, 5424 with SD, octet counted) and UDP into fields', async () => {
    // the clock is at the real time: RFC 3164 timestamps have no year, it is inferred from "now"
    const t = await start(syslog, 'port => 0 host => "127.0.0.1"', { clock: new VirtualClock(Date.now()) });
    try {
      const P = String(t.port);
      const runs = [
        ['--tcp', '--rfc3164', '-p', 'auth.warning', '-t', 'tcp3164', 'hello 3164'],
        ['--tcp', '--rfc5424', '-p', 'auth.notice', '--msgid', 'LOGIN', '--sd-id', 'bench@32473', '--sd-param', 'run="1"', '-t', 'tcp5424', 'hello sd'],
        ['--tcp', '--octet-count', '-t', 'octet', 'hello octet'],
        ['-d', '--rfc3164', '-t', 'udp3164', 'hello udp 3164'],
        ['-d', '--rfc5424', '-t', 'udp5424', 'hello udp 5424'],
      ];
      for (const args of runs) {
        const r = await runCommand('logger', ['-n', '127.0.0.1', '-P', P, ...args]);
        assert.equal(r.code, 0, r.stderr);
      }
      await waitFor(() => t.sink.events.length === runs.length, `${runs.length} events`);
      const by = (prog: string) => t.sink.events.find((e) => e.get('program') === prog)!;
      const a = by('tcp3164');
      assert.equal(a.get('message'), 'hello 3164');
      assert.equal(a.get('priority'), 36);
      assert.equal(a.get('facility'), 4);
      assert.equal(a.get('severity'), 4);
      assert.equal(a.get('facility_label'), 'security/authorization');
      assert.equal(a.get('severity_label'), 'Warning');
      assert.equal(a.get('host'), '127.0.0.1');
      assert.equal(a.get('port'), undefined, "no port field (Logstash's syslog input sets none)");
      assert.match(a.get('timestamp') as string, /^[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d$/);
      assert.ok(Math.abs(a.timestamp.ms - Date.now()) < 120_000, '@timestamp comes from the message');
      const b = by('tcp5424');
      assert.equal(b.get('message'), 'hello sd');
      assert.equal(b.get('msgid'), 'LOGIN');
      assert.deepEqual(b.get('[structured_data][bench@32473]'), { run: '1' });
      assert.equal(b.get('pid'), undefined);
      assert.equal(by('octet').get('message'), 'hello octet');
      assert.equal(by('udp3164').get('message'), 'hello udp 3164');
      assert.equal(by('udp5424').get('message'), 'hello udp 5424');
      for (const e of t.sink.events) assert.equal(typeof e.get('logsource'), 'string');
    } finally {
      await t.stop();
    }
  });

  it('an unparseable line keeps its text, gets _syslogparsefailure and the default priority', async () => {
    const t = await start(syslog, 'port => 0 host => "127.0.0.1"');
    try {
      const r = await runCommand('bash', ['-c', `printf 'not syslog at all\\n\\x00\\xff\\n' > /dev/tcp/127.0.0.1/${t.port}`]);
      assert.equal(r.code, 0, r.stderr);
      await waitFor(() => t.sink.events.length === 2, '2 events');
      assert.deepEqual(byMessage(t.sink.events), ['\u0000\ufffd', 'not syslog at all']);
      for (const e of t.sink.events) {
        assert.ok(e.hasTag('_syslogparsefailure'));
        assert.equal(e.get('priority'), 13);
        assert.equal(e.get('severity_label'), 'Notice');
      }
      assert.equal(t.metric('parse_failures'), 2);
    } finally {
      await t.stop();
    }
  });
});

describe('syslog input with a real rsyslog forwarding client', () => {
  const LINES = Array.from({ length: 50 }, (_, i) => `client line ${i} äö`);

  async function forward(config: string, fwd: Omit<ForwardOptions, 'dir' | 'port'>, name: string, extra?: (t: Started) => void) {
    // real time: rsyslog's gtls checks certificate dates against the real clock
    const t = await start(syslog, config, { clock: new VirtualClock(Date.now()) });
    const client = startRsyslog({ ...fwd, dir: join(tmp.dir, name), port: t.port }, LINES);
    try {
      await waitFor(() => t.sink.events.length >= LINES.length, `${LINES.length} lines from rsyslog (${name})`, 20_000).catch((e) => {
        throw new Error(`${e.message}; got ${t.sink.events.length}; rsyslog said: ${client.log()}`);
      });
      await new Promise((r) => setTimeout(r, 300)); // anything duplicated would show up now
      assert.deepEqual(byMessage(t.sink.events), [...LINES].sort(), 'every line arrives exactly once');
      for (const e of t.sink.events) {
        assert.equal(e.get('host'), '127.0.0.1');
        assert.equal(e.get('logsource'), 'bench-client');
        assert.equal(e.get('program'), 'demoapp');
        assert.equal(e.get('facility_label'), 'local0');
        assert.equal(e.get('severity_label'), 'Informational');
        assert.equal(e.hasTag('_syslogparsefailure'), false);
      }
      extra?.(t);
    } finally {
      await client.stop();
      await t.stop();
    }
  }

  it('plain TCP (omfwd, LF framing)', () => forward('port => 0 host => "127.0.0.1"', { protocol: 'tcp' }, 'tcp'));

  it('TCP with octet-counted RFC 5424 frames', () =>
    forward('port => 0 host => "127.0.0.1"', { protocol: 'tcp', framing: 'octet-counted', template: 'RSYSLOG_SyslogProtocol23Format' }, 'octet'));

  it('UDP', () => forward('port => 0 host => "127.0.0.1"', { protocol: 'udp' }, 'udp'));

  const tlsBase = () => `port => 0 host => "127.0.0.1" ssl_enable => true ssl_cert => "${pki}/server.pem" ssl_key => "${pki}/server.key"`;

  it('TLS through gtls, anonymous client', () =>
    forward(`${tlsBase()} ssl_verify => false`, { protocol: 'tcp', tls: { ca: `${pki}/ca.pem`, authMode: 'anon' } }, 'tls-anon'));

  it('TLS through gtls with a client certificate made by pipeline certs, required by ssl_verify', () =>
    forward(
      `${tlsBase()} ssl_certificate_authorities => "${pki}/ca.pem" ssl_client_authentication => "required"`,
      { protocol: 'tcp', tls: { ca: `${pki}/ca.pem`, cert: `${pki}/rsyslog-client.pem`, key: `${pki}/rsyslog-client.key`, authMode: 'x509/name', permittedPeer: 'localhost' } },
      'tls-cert',
      (t) => {
        for (const e of t.sink.events) assert.equal(e.get('sslsubject'), 'CN=rsyslog-client');
        assert.equal(t.metric('tls_handshake_failures'), 0);
      },
    ));

  it('TLS with ssl_verify => true refuses an rsyslog client whose certificate is from another CA, and counts it', async () => {
    const t = await start(syslog, `${tlsBase()} ssl_certificate_authorities => "${pki}/ca.pem" ssl_verify => true`, { clock: new VirtualClock(Date.now()) });
    const other = join(tmp.dir, 'other');
    const client = startRsyslog(
      { dir: join(tmp.dir, 'tls-stranger'), port: t.port, protocol: 'tcp', tls: { ca: `${pki}/ca.pem`, cert: `${other}/stranger.pem`, key: `${other}/stranger.key`, authMode: 'anon' } },
      ['should not arrive'],
    );
    try {
      await waitFor(() => t.metric('tls_handshake_failures') >= 1, 'a refused handshake', 20_000);
      assert.ok(t.logs.some((l) => l.msg === 'TLS handshake refused'));
      assert.equal(t.sink.events.length, 0);
    } finally {
      await client.stop();
      await t.stop();
    }
  });
});
