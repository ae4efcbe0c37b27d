import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Event } from '@pipeline/core';
import { createPlugin, runFilter } from '@pipeline/core/testing';
import openvpn from '../src/index.js';

async function parse(line: string, config = ''): Promise<{ out: Event; matched: boolean | void }> {
  const f = await createPlugin(openvpn, config);
  const out = new Event({ message: line });
  return { out, matched: f.filter(out, () => {}) };
}

const parts = (e: Event) => e.get('openvpn') as Record<string, unknown>;

describe('openvpn: server messages', () => {
  it('reads a client connect with its common name and real address (log file, 2.4 time format)', async () => {
    const { out, matched } = await parse('Sun Jul 16 12:29:13 2017 198.51.100.220:24138 [alice] Peer Connection Initiated with [AF_INET]198.51.100.220:24138');
    assert.equal(matched, true);
    assert.deepEqual(parts(out), {
      event: 'connected',
      common_name: 'alice',
      real_ip: '198.51.100.220',
      real_port: 24138,
      timestamp: 'Sun Jul 16 12:29:13 2017',
    });
    assert.deepEqual(out.tags, ['openvpn']);
  });

  it('reads a connect from an IPv6 peer through syslog', async () => {
    const { out } = await parse('Mar 19 10:35:11 vpn1 ovpn-server[811]: 2001:db8:5::7:49502 [bob] Peer Connection Initiated with [AF_INET6]2001:db8:5::7:49502');
    assert.deepEqual(parts(out), { event: 'connected', common_name: 'bob', real_ip: '2001:db8:5::7', real_port: 49502 });
    assert.equal(out.get('syslog_hostname'), 'vpn1');
    assert.equal(out.get('syslog_program'), 'ovpn-server');
    assert.equal(out.get('syslog_pid'), '811');
  });

  it('reads the assigned virtual address, with and without IPv6', async () => {
    const v4 = (await parse('2023-09-26 06:51:10 alice/198.51.100.220:24138 MULTI_sva: pool returned IPv4=10.8.0.6, IPv6=(Not enabled)')).out;
    assert.deepEqual(parts(v4), { event: 'address_assigned', common_name: 'alice', real_ip: '198.51.100.220', real_port: 24138, virtual_ip: '10.8.0.6', timestamp: '2023-09-26 06:51:10' });
    const v6 = (await parse('alice/198.51.100.220:24138 MULTI_sva: pool returned IPv4=10.8.0.6, IPv6=fd00:8::1000')).out;
    assert.equal(parts(v6).virtual_ipv6, 'fd00:8::1000');
  });

  it('reads authentication failures in their several forms', async () => {
    const cases: [string, Record<string, unknown>][] = [
      [
        'Sun Jul 16 12:29:13 2017 198.51.100.220:24138 TLS Auth Error: Auth Username/Password verification failed for peer',
        { event: 'auth_failed', real_ip: '198.51.100.220', real_port: 24138, reason: 'Auth Username/Password verification failed for peer', timestamp: 'Sun Jul 16 12:29:13 2017' },
      ],
      [
        "203.0.113.9:1194 TLS Auth Error: --client-config-dir authentication failed for common name 'mallory' file='/etc/openvpn/ccd/mallory'",
        { event: 'auth_failed', common_name: 'mallory', real_ip: '203.0.113.9', real_port: 1194, reason: "--client-config-dir authentication failed for common name 'mallory' file='/etc/openvpn/ccd/mallory'" },
      ],
      [
        "alice/198.51.100.220:24138 SENT CONTROL [alice]: 'AUTH_FAILED' (status=1)",
        { event: 'auth_failed', common_name: 'alice', real_ip: '198.51.100.220', real_port: 24138, reason: 'AUTH_FAILED' },
      ],
      [
        "198.51.100.220:24138 SENT CONTROL [alice]: 'AUTH_FAILED,Session expired' (status=1)",
        { event: 'auth_failed', common_name: 'alice', real_ip: '198.51.100.220', real_port: 24138, reason: 'Session expired' },
      ],
      [
        "2023-09-26 06:51:10 us=16720 192.0.2.44:63733 TLS: Username/auth-token authentication failed for username 'dan10'",
        { event: 'auth_failed', username: 'dan10', real_ip: '192.0.2.44', real_port: 63733, reason: 'Username/auth-token authentication failed', timestamp: '2023-09-26 06:51:10' },
      ],
      ["AUTH-PAM: BACKGROUND: user 'zed' failed to authenticate: Authentication failure", { event: 'auth_failed', username: 'zed', reason: 'Authentication failure' }],
      [
        "OTP-AUTH: authentication failed for username 'zed', remote 192.0.2.16:46192",
        { event: 'auth_failed', username: 'zed', real_ip: '192.0.2.16', real_port: 46192, reason: 'OTP-AUTH: authentication failed' },
      ],
    ];
    for (const [line, want] of cases) assert.deepEqual(parts((await parse(line)).out), want, line);
  });

  it('reads TLS errors, taking the peer from the message when the line has no client prefix', async () => {
    const a = (await parse('91.198.100.12:51851 TLS Error: TLS handshake failed')).out;
    assert.deepEqual(parts(a), { event: 'tls_error', real_ip: '91.198.100.12', real_port: 51851, reason: 'TLS handshake failed' });
    const b = (await parse('Thu Mar 19 10:35:11 2020 TLS Error: cannot locate HMAC in incoming packet from [AF_INET]203.0.113.50:40512')).out;
    assert.deepEqual(parts(b), {
      event: 'tls_error',
      real_ip: '203.0.113.50',
      real_port: 40512,
      reason: 'cannot locate HMAC in incoming packet from [AF_INET]203.0.113.50:40512',
      timestamp: 'Thu Mar 19 10:35:11 2020',
    });
    const c = (await parse('203.0.113.50:40512 VERIFY ERROR: depth=0, error=certificate has expired: CN=carol')).out;
    assert.equal(parts(c).event, 'tls_error');
    assert.equal(parts(c).common_name, 'carol');
  });

  it('reads the verified peer certificate (depth 0 only)', async () => {
    const ok = (await parse('Fri Aug  6 15:00:53 2021 10.0.19.205:41003 VERIFY OK: depth=0, C=CN, ST=BeiJing, L=BJ, O=example, OU=example, CN=client, name=example')).out;
    assert.deepEqual(parts(ok), { event: 'tls_verified', common_name: 'client', real_ip: '10.0.19.205', real_port: 41003, timestamp: 'Fri Aug  6 15:00:53 2021' });
    assert.equal((await parse('10.0.19.205:41003 VERIFY OK: depth=1, CN=Easy-RSA CA')).matched, false);
  });

  it('reads disconnects and inactivity timeouts', async () => {
    const term = (await parse('Sun Jul 16 12:29:21 2017 alice/198.51.100.220:24138 SIGTERM[soft,remote-exit] received, client-instance exiting')).out;
    assert.deepEqual(parts(term), {
      event: 'disconnected',
      common_name: 'alice',
      real_ip: '198.51.100.220',
      real_port: 24138,
      signal: 'SIGTERM',
      reason: 'remote-exit',
      timestamp: 'Sun Jul 16 12:29:21 2017',
    });
    const usr1 = (await parse('bob/2001:db8:5::7:49502 SIGUSR1[soft,ping-restart] received, client-instance restarting')).out;
    assert.deepEqual([parts(usr1).signal, parts(usr1).reason, parts(usr1).real_ip], ['SIGUSR1', 'ping-restart', '2001:db8:5::7']);
    const idle = (await parse('bob/198.51.100.3:1194 [bob] Inactivity timeout (--ping-restart), restarting')).out;
    assert.deepEqual(parts(idle), { event: 'inactivity_timeout', common_name: 'bob', real_ip: '198.51.100.3', real_port: 1194, reason: '--ping-restart' });
  });

  it('leaves other lines alone and returns false', async () => {
    for (const line of [
      '198.51.100.220:24138 peer info: IV_VER=3.git::662eae9a:Release',
      'MULTI: multi_create_instance called',
      'Initialization Sequence Completed',
      'Jan 28 08:39:14 fw1 sshd[411]: Accepted publickey for root from 10.0.0.9 port 50022 ssh2',
    ]) {
      const { out, matched } = await parse(line);
      assert.equal(matched, false, line);
      assert.deepEqual(out.tags, []);
      assert.equal(out.includes('openvpn'), false);
    }
  });
});

describe('openvpn: options', () => {
  it('uses source, target and tag_on_failure', async () => {
    const f = await createPlugin(openvpn, 'source => "line" target => "[vpn][ovpn]" tag_on_failure => ["_openvpnparsefailure"]');
    const [good, bad, none] = runFilter(f, [{ line: 'alice/198.51.100.220:24138 SIGTERM[soft,remote-exit] received, client-instance exiting' }, { line: 'Initialization Sequence Completed' }, {}]);
    assert.equal(good!.get('[vpn][ovpn][event]'), 'disconnected');
    assert.deepEqual(bad!.tags, ['_openvpnparsefailure']);
    assert.deepEqual(none!.tags, ['_openvpnparsefailure']);
  });

  it('keeps syslog_* fields an earlier filter set', async () => {
    const f = await createPlugin(openvpn, '');
    const [out] = runFilter(f, [{ message: 'Mar 19 10:35:11 vpn1 openvpn[811]: 198.51.100.3:1194 TLS Error: TLS handshake failed', syslog_program: 'openvpn-udp' }]);
    assert.equal(out!.get('syslog_program'), 'openvpn-udp');
    assert.equal(out!.get('syslog_timestamp'), 'Mar 19 10:35:11');
  });

  it('refuses a malformed target', async () => {
    await assert.rejects(createPlugin(openvpn, 'target => "[x"'), /openvpn: option 'target': malformed field reference/);
  });
});
