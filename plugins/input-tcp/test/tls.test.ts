import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import tls from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { VirtualClock } from '@pipeline/core/testing';
import tcp from '../src/index.js';
import { runCommand } from '@pipeline/net/testing';
import { certs, start, tempDir, waitFor, type CertsModule } from './helpers.js';

let pki: CertsModule;
let tmp: ReturnType<typeof tempDir>;
let dir: string;
let other: string;

before(async () => {
  pki = await certs();
  tmp = tempDir('pipeline-tls-');
  dir = join(tmp.dir, 'pki');
  other = join(tmp.dir, 'other');
  pki.certsCreateCA(dir);
  pki.certsCreateServer(dir, { dns: ['localhost'], ip: ['127.0.0.1'] });
  pki.certsCreateClient(dir, 'client1');
  pki.certsCreateCA(other, { commonName: 'Someone Else CA' });
  pki.certsCreateClient(other, 'intruder');
});
after(() => tmp.cleanup());

const tlsConfig = (verify: string) =>
  `port => 0 host => "127.0.0.1" ssl_enable => true ssl_cert => "${dir}/server.pem" ssl_key => "${dir}/server.key" ` +
  `ssl_certificate_authorities => ["${dir}/ca.pem"] ssl_verify => ${verify}`;

/** openssl s_client sending `input`, verifying the server against our CA. */
function sClient(port: number, input: string, extra: string[] = []) {
  return runCommand('openssl', ['s_client', '-connect', `127.0.0.1:${port}`, '-servername', 'localhost', '-CAfile', `${dir}/ca.pem`, '-verify_return_error', '-quiet', '-no_ign_eof', ...extra], input);
}

function tlsConnect(port: number, o: tls.ConnectionOptions = {}): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ host: '127.0.0.1', port, servername: 'localhost', ca: readFileSync(`${dir}/ca.pem`), ...o }, () => resolve(s));
    s.once('error', reject);
  });
}

describe('pipeline certs (core/src/certs)', () => {
  it('writes PEM files, keys with mode 0600, a server certificate Node and OpenSSL verify for localhost and 127.0.0.1', async () => {
    for (const f of ['ca.key', 'server.key', 'client1.key']) assert.equal(statSync(join(dir, f)).mode & 0o777, 0o600, f);
    assert.equal(statSync(join(dir, 'server.pem')).mode & 0o777, 0o644);
    const r = await runCommand('openssl', ['verify', '-CAfile', `${dir}/ca.pem`, '-verify_hostname', 'localhost', '-verify_ip', '127.0.0.1', '-purpose', 'sslserver', `${dir}/server.pem`]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const c = await runCommand('openssl', ['verify', '-CAfile', `${dir}/ca.pem`, '-purpose', 'sslclient', `${dir}/client1.pem`]);
    assert.equal(c.code, 0, c.stdout + c.stderr);
    assert.throws(() => pki.certsCreateClient(dir, 'client1'), /exists/);
  });
});

describe('tcp input over TLS', () => {
  it('anonymous clients (ssl_verify => false): openssl s_client lines arrive with host', async () => {
    const t = await start(tcp, `${tlsConfig('false')} dns_reverse_lookup_enabled => false`);
    try {
      const r = await sClient(t.port, 'tls one\ntls two\n');
      assert.equal(r.code, 0, r.stderr);
      await waitFor(() => t.sink.events.length === 2, '2 events');
      assert.deepEqual(t.sink.events.map((e) => e.get('message')), ['tls one', 'tls two']);
      assert.equal(t.sink.events[0]!.get('host'), '127.0.0.1');
      assert.equal(t.sink.events[0]!.get('sslsubject'), undefined);
    } finally {
      await t.stop();
    }
  });

  it('ssl_verify => true: a client certificate from our CA is served (sslsubject set); no certificate, or another CA, is refused, logged and counted', async () => {
    const t = await start(tcp, tlsConfig('true'));
    try {
      // a good client stays connected throughout
      const good = await tlsConnect(t.port, { cert: readFileSync(`${dir}/client1.pem`), key: readFileSync(`${dir}/client1.key`) });
      good.write('before\n');
      await waitFor(() => t.sink.events.length === 1, 'first good line');

      await sClient(t.port, 'no cert\n');
      await sClient(t.port, 'other ca\n', ['-cert', `${other}/intruder.pem`, '-key', `${other}/intruder.key`]);
      await waitFor(() => t.metric('tls_handshake_failures') >= 2, '2 refusals');
      const refusals = t.logs.filter((l) => l.msg === 'TLS handshake refused');
      assert.ok(refusals.length >= 2, 'refusals are logged');
      assert.equal(refusals[0]!.peer, '127.0.0.1');

      const ok = await sClient(t.port, 'with cert\n', ['-cert', `${dir}/client1.pem`, '-key', `${dir}/client1.key`]);
      assert.equal(ok.code, 0, ok.stderr);
      good.write('after\n');
      await waitFor(() => t.sink.events.length === 3, 'the good lines');
      assert.deepEqual(t.sink.events.map((e) => e.get('message')).sort(), ['after', 'before', 'with cert']);
      for (const e of t.sink.events) assert.equal(e.get('sslsubject'), 'CN=client1');
      good.destroy();
    } finally {
      await t.stop();
    }
  });

  it('garbage handshakes and plain text on the TLS port do not disturb a connected client', async () => {
    const t = await start(tcp, tlsConfig('false'));
    try {
      const good = await tlsConnect(t.port);
      for (const junk of [Buffer.from([0x16, 0x03, 0x01, 0xff, 0xff, 1, 2, 3, 4]), Buffer.from('GET / HTTP/1.0\r\n\r\n'), Buffer.alloc(5000, 0xab)]) {
        const s = net.connect({ host: '127.0.0.1', port: t.port });
        s.on('error', () => {});
        s.end(junk);
      }
      await waitFor(() => t.metric('tls_handshake_failures') >= 3, '3 failed handshakes');
      // a completed s_client handshake that then sends binary garbage: its own events, nothing else
      const junk = await sClient(t.port, Buffer.from([0, 0xff, 0xfe, 10, 0x16, 0x03, 0x01, 10]).toString('latin1'));
      assert.equal(junk.code, 0, junk.stderr);
      await waitFor(() => t.sink.events.length === 2, 'the garbage lines');
      t.sink.events.length = 0;
      good.write('still fine\n');
      await waitFor(() => t.sink.events.length === 1, 'the good line');
      assert.equal(t.sink.events[0]!.get('message'), 'still fine');
      good.destroy();
    } finally {
      await t.stop();
    }
  });

  it('reload() picks up a replaced certificate for new connections; expiring certificates are warned about', async () => {
    // the virtual clock starts at the real time: certificates are checked by real TLS stacks too
    const t = await start(tcp, tlsConfig('false'), { clock: new VirtualClock(Date.now()) });
    try {
      const fp = async () => {
        const s = await tlsConnect(t.port);
        const f = s.getPeerCertificate().fingerprint256;
        s.destroy();
        return f;
      };
      const first = await fp();
      assert.equal(t.logs.filter((l) => /expires in/.test(String(l.msg))).length, 0);
      // replace the files with a certificate that expires in 10 days
      // (signed by the same CA, valid from the input's clock's "now")
      const next = join(tmp.dir, 'next');
      mkdirSync(next);
      copyFileSync(`${dir}/ca.pem`, join(next, 'ca.pem'));
      copyFileSync(`${dir}/ca.key`, join(next, 'ca.key'));
      pki.certsCreateServer(next, { dns: ['localhost'], days: 10, notBefore: new Date(t.ctx.clock.now()) });
      writeFileSync(`${dir}/server.pem`, readFileSync(join(next, 'server.pem')));
      writeFileSync(`${dir}/server.key`, readFileSync(join(next, 'server.key')));
      await t.input.reload!();
      const second = await fp();
      assert.notEqual(second, first);
      assert.ok(t.logs.some((l) => l.msg === 'TLS certificates reloaded'));
      assert.ok(t.logs.some((l) => /TLS certificate expires in (9|10) days/.test(String(l.msg))));
      // a broken file keeps the old certificate
      writeFileSync(`${dir}/server.key`, 'not a key');
      await t.input.reload!();
      assert.ok(t.logs.some((l) => /TLS reload failed/.test(String(l.msg))));
      assert.equal(await fp(), second);
    } finally {
      await t.stop();
      writeFileSync(`${dir}/server.key`, readFileSync(join(tmp.dir, 'next', 'server.key')));
    }
  });
});
