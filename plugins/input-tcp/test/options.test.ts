import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import tls from 'node:tls';
import { after, before, describe, it } from 'node:test';
import tcp from '../src/index.js';
import { certs, checkThenStart, start, tempDir, waitFor, sendAndClose } from './helpers.js';

/**
 * Every option of Logstash's tcp input documentation (logstash-input-tcp docs/index.asciidoc:
 * the options table and the obsolete ssl_cert/ssl_enable/ssl_verify) is accepted; the one that
 * cannot mean anything here (ssl_verification_mode, client mode only) is warned about once at start.
 */
let tmp: ReturnType<typeof tempDir>;
let dir: string;
before(async () => {
  tmp = tempDir('pipeline-tcp-options-');
  dir = join(tmp.dir, 'pki');
  const pki = await certs();
  pki.certsCreateCA(dir);
  pki.certsCreateServer(dir, { dns: ['localhost'], ip: ['127.0.0.1'] });
});
after(() => tmp.cleanup());

describe("tcp input: Logstash's documented options", () => {
  it('a config with every documented option passes -t; start warns once per ignored option', async () => {
    const conf = join(tmp.dir, 'all.conf');
    writeFileSync(
      conf,
      `input {
  tcp {
    host => "127.0.0.1"
    port => 0
    mode => "server"
    dns_reverse_lookup_enabled => true
    ecs_compatibility => "v8"
    proxy_protocol => false
    ssl_enabled => true
    ssl_certificate => "${dir}/server.pem"
    ssl_key => "${dir}/server.key"
    ssl_key_passphrase => "unused for an unencrypted key"
    ssl_certificate_authorities => ["${dir}/ca.pem"]
    ssl_client_authentication => "optional"
    ssl_extra_chain_certs => []
    ssl_cipher_suites => ["TLS_AES_256_GCM_SHA384", "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"]
    ssl_supported_protocols => ["TLSv1.2", "TLSv1.3"]
    ssl_verification_mode => "full"
    tcp_keep_alive => true
  }
  tcp { port => 0 host => "127.0.0.1" ssl_enable => false ssl_cert => "${dir}/server.pem" ssl_key => "${dir}/server.key" ssl_verify => false }
}
output { null {} }
`,
    );
    const r = await checkThenStart(conf, '"msg":"pipeline started"', join(tmp.dir, 'data'));
    assert.equal(r.check.code, 0, r.check.stdout + r.check.stderr);
    const warned = r.startLog.split('\n').filter((l) => l.includes('is deprecated: has no effect'));
    assert.equal(warned.length, 1, r.startLog.slice(-3000));
    assert.match(warned[0]!, /option 'ssl_verification_mode'/);
  });

  it('refuses what it cannot do, at -t: proxy_protocol => true, an unknown cipher suite or protocol, mode => client', async () => {
    for (const [opt, err] of [
      ['proxy_protocol => true', /PROXY protocol is not supported/],
      ['ssl_cipher_suites => ["TLS_NOT_A_SUITE"]', /unknown cipher suite 'TLS_NOT_A_SUITE'/],
      ['ssl_supported_protocols => ["SSLv3"]', /'SSLv3' is not one of TLSv1\.1, TLSv1\.2, TLSv1\.3/],
      ['mode => "client"', /mode/],
    ] as const)
      await assert.rejects(() => start(tcp, `port => 0 ${opt}`), err);
  });

  it('ssl_cipher_suites (IANA names) and ssl_supported_protocols restrict what a client can negotiate', async () => {
    const t = await start(
      tcp,
      `port => 0 host => "127.0.0.1" ssl_enabled => true ssl_certificate => "${dir}/server.pem" ssl_key => "${dir}/server.key" ssl_verify => false ` +
        `ssl_cipher_suites => ["TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"] ssl_supported_protocols => ["TLSv1.2"]`,
    );
    const ca = readFileSync(`${dir}/ca.pem`);
    const hello = (o: tls.ConnectionOptions) =>
      new Promise<{ cipher: string; protocol: string | null } | Error>((resolve) => {
        const s = tls.connect({ host: '127.0.0.1', port: t.port, servername: 'localhost', ca, ...o }, () => {
          const r = { cipher: s.getCipher().name, protocol: s.getProtocol() };
          s.end();
          resolve(r);
        });
        s.on('error', (e) => resolve(e));
      });
    try {
      assert.deepEqual(await hello({}), { cipher: 'ECDHE-RSA-AES128-GCM-SHA256', protocol: 'TLSv1.2' });
      assert.ok((await hello({ minVersion: 'TLSv1.3' })) instanceof Error, 'TLS 1.3 only: refused');
      assert.ok((await hello({ ciphers: 'ECDHE-RSA-AES256-GCM-SHA384', maxVersion: 'TLSv1.2' })) instanceof Error, 'another suite: refused');
    } finally {
      await t.stop();
    }
  });

  it('ecs_compatibility => v8: the connection metadata goes under [@metadata][input][tcp], nothing at the top level', async () => {
    const t = await start(tcp, 'port => 0 host => "127.0.0.1" ecs_compatibility => "v8" dns_reverse_lookup_enabled => false');
    try {
      await sendAndClose(t.port, 'hello\n');
      await waitFor(() => t.sink.events.length === 1, 'an event');
      const e = t.sink.events[0]!;
      assert.deepEqual(Object.keys(e.fields).filter((k) => !k.startsWith('@')).sort(), ['message']);
      assert.equal(e.get('[@metadata][input][tcp][source][name]'), '127.0.0.1');
      assert.equal(e.get('[@metadata][input][tcp][source][ip]'), '127.0.0.1');
      assert.equal(typeof e.get('[@metadata][input][tcp][source][port]'), 'number');
    } finally {
      await t.stop();
    }
  });
});
