import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import tls from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { ConfigError } from '@pipeline/core';
import { createPlugin } from '@pipeline/core/testing';
import httpInput from '../src/index.js';
import { makePki, request, start, tempDir, waitFor, type RequestOptions } from './helpers.js';

let tmp: ReturnType<typeof tempDir>;
let dir: string;

before(() => {
  tmp = tempDir('pipeline-http-tls-');
  dir = tmp.dir;
  makePki(dir);
});
after(() => tmp.cleanup());

const server = () => `ssl_enabled => true ssl_certificate => "${dir}/server.pem" ssl_key => "${dir}/server.key"`;
const ca = () => readFileSync(join(dir, 'ca.pem'));
const client = (name: string): RequestOptions => ({ cert: readFileSync(join(dir, `${name}.pem`)), key: readFileSync(join(dir, `${name}.key`)) });
const post = (port: number, o: RequestOptions = {}) => request(port, { tls: true, ca: ca(), agent: false, body: 'secure', ...o });

describe('http input over TLS', () => {
  it('ssl_enabled with ssl_certificate and ssl_key: HTTPS, the server verified by the client; plain HTTP is not served', async () => {
    const t = await start(server());
    try {
      const r = await post(t.port);
      assert.equal(r.status, 200);
      assert.equal(t.sink.events[0]!.get('message'), 'secure');
      await assert.rejects(request(t.port, { body: 'plain' }));
      assert.equal(t.sink.events.length, 1);
    } finally {
      await t.stop();
    }
  });

  it('ssl_client_authentication => none: no client certificate asked for', async () => {
    const t = await start(server());
    try {
      const r = await new Promise<boolean>((resolve, reject) => {
        const s = tls.connect({ host: '127.0.0.1', port: t.port, servername: 'localhost', ca: ca() }, () => {
          // a server that asks for a certificate lists the CAs it accepts; none here
          resolve(s.getPeerCertificate() !== undefined);
          s.destroy();
        });
        s.on('error', reject);
      });
      assert.equal(r, true);
      assert.equal((await post(t.port, client('intruder'))).status, 200, 'a certificate is not checked when none is asked for');
    } finally {
      await t.stop();
    }
  });

  it('ssl_client_authentication => required: a certificate of our CA is served; none, or one of another CA, is refused', async () => {
    const t = await start(`${server()} ssl_certificate_authorities => ["${dir}/ca.pem"] ssl_client_authentication => required`);
    try {
      assert.equal((await post(t.port, client('client'))).status, 200);
      await assert.rejects(post(t.port));
      await assert.rejects(post(t.port, client('intruder')));
      assert.equal(t.sink.events.length, 1);
      assert.ok(t.metric('tls_handshake_failures') >= 1);
    } finally {
      await t.stop();
    }
  });

  it('ssl_client_authentication => optional: without a certificate is fine, a verified one too, an unverified one is refused', async () => {
    const t = await start(`${server()} ssl_certificate_authorities => ["${dir}/ca.pem"] ssl_client_authentication => optional`);
    try {
      assert.equal((await post(t.port)).status, 200);
      assert.equal((await post(t.port, client('client'))).status, 200);
      await assert.rejects(post(t.port, client('intruder')));
      assert.equal(t.sink.events.length, 2);
      assert.equal(t.metric('tls_client_refused'), 1);
    } finally {
      await t.stop();
    }
  });

  it('ssl_certificate_authorities may name a directory of CA files', async () => {
    const cas = join(dir, 'cas');
    mkdirSync(cas, { recursive: true });
    copyFileSync(join(dir, 'ca.pem'), join(cas, 'ca.pem'));
    const t = await start(`${server()} ssl_certificate_authorities => ["${cas}"] ssl_client_authentication => required`);
    try {
      assert.equal((await post(t.port, client('client'))).status, 200);
    } finally {
      await t.stop();
    }
  });

  it('ssl_key_passphrase opens an encrypted key; a wrong one fails the check', async () => {
    const t = await start(`ssl_enabled => true ssl_certificate => "${dir}/server.pem" ssl_key => "${dir}/server.enc.key" ssl_key_passphrase => "secret"`);
    try {
      assert.equal((await post(t.port)).status, 200);
    } finally {
      await t.stop();
    }
    await assert.rejects(
      createPlugin(httpInput, `ssl_enabled => true ssl_certificate => "${dir}/server.pem" ssl_key => "${dir}/server.enc.key" ssl_key_passphrase => "wrong"`),
      (e: unknown) => e instanceof ConfigError && /TLS setup failed/.test(e.message),
    );
  });

  it('ssl_supported_protocols => ["TLSv1.3"]: a TLS 1.2 client is refused, a TLS 1.3 one served', async () => {
    const t = await start(`${server()} ssl_supported_protocols => ["TLSv1.3"]`);
    try {
      await assert.rejects(post(t.port, { maxVersion: 'TLSv1.2' }));
      assert.equal((await post(t.port, { minVersion: 'TLSv1.3' })).status, 200);
    } finally {
      await t.stop();
    }
  });

  it('ssl_cipher_suites: only the listed suite (IANA name) is negotiated', async () => {
    const t = await start(`${server()} ssl_supported_protocols => ["TLSv1.2"] ssl_cipher_suites => ["TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"]`);
    try {
      const cipher = await new Promise<string>((resolve, reject) => {
        const s = tls.connect({ host: '127.0.0.1', port: t.port, servername: 'localhost', ca: ca() }, () => {
          resolve(s.getCipher().name);
          s.destroy();
        });
        s.on('error', reject);
      });
      assert.equal(cipher, 'ECDHE-ECDSA-AES128-GCM-SHA256');
      await assert.rejects(post(t.port, { ciphers: 'ECDHE-ECDSA-AES256-GCM-SHA384', maxVersion: 'TLSv1.2' }));
    } finally {
      await t.stop();
    }
  });

  it('ssl_handshake_timeout: a connection that never completes its handshake is closed', async () => {
    const t = await start(`${server()} ssl_handshake_timeout => 200`);
    try {
      const s = net.connect(t.port, '127.0.0.1');
      let closed = false;
      s.on('close', () => (closed = true));
      s.on('error', () => {});
      await waitFor(() => closed, 'the silent connection to be closed', 5000);
      assert.ok(t.metric('tls_handshake_failures') >= 1);
    } finally {
      await t.stop();
    }
  });

  it('incomplete or contradictory TLS settings are config errors; unknown suites and protocols too', async () => {
    const refuse = (body: string, re: RegExp) => assert.rejects(createPlugin(httpInput, `port => 0 ${body}`), re);
    await refuse('ssl_enabled => true', /needs ssl_certificate and ssl_key/);
    await refuse(`ssl_enabled => true ssl_certificate => "${dir}/server.pem"`, /requires an ssl_key/);
    await refuse(`ssl_enabled => true ssl_key => "${dir}/server.key"`, /ssl_certificate is required/);
    await refuse(`${server()} ssl_client_authentication => required`, /requires ssl_certificate_authorities/);
    await refuse(`${server()} ssl_certificate_authorities => ["${dir}/ca.pem"]`, /requires ssl_client_authentication/);
    await refuse(`${server()} ssl_cipher_suites => ["TLS_NOPE"]`, /unknown cipher suite 'TLS_NOPE'/);
    await refuse(`${server()} ssl_supported_protocols => ["SSLv3"]`, /unknown protocol 'SSLv3'/);
    await refuse(`ssl_enabled => true ssl_certificate => "${dir}/missing.pem" ssl_key => "${dir}/server.key"`, /cannot read ssl_certificate/);
  });

  it('ssl_* settings without ssl_enabled are reported unused', async () => {
    const t = await start(`ssl_certificate => "${dir}/server.pem" ssl_key => "${dir}/server.key"`);
    try {
      assert.ok(t.logs.some((l) => l.msg === 'SSL settings are not used while ssl_enabled is false'));
      assert.equal((await request(t.port, { body: 'plain' })).status, 200);
    } finally {
      await t.stop();
    }
  });

  it('reload (SIGHUP) re-reads the certificate files', async () => {
    const live = join(dir, 'live');
    mkdirSync(live, { recursive: true });
    copyFileSync(join(dir, 'server.pem'), join(live, 'server.pem'));
    copyFileSync(join(dir, 'server.key'), join(live, 'server.key'));
    const t = await start(`ssl_enabled => true ssl_certificate => "${live}/server.pem" ssl_key => "${live}/server.key"`);
    try {
      assert.equal((await post(t.port)).status, 200);
      // a certificate from another CA: after reload the client (trusting only ours) refuses the server
      copyFileSync(join(dir, 'intruder.pem'), join(live, 'server.pem'));
      copyFileSync(join(dir, 'intruder.key'), join(live, 'server.key'));
      await t.input.reload();
      assert.ok(t.logs.some((l) => l.msg === 'TLS certificates reloaded'));
      await assert.rejects(post(t.port));
    } finally {
      await t.stop();
    }
  });
});
