import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import relp from '../src/index.js';
import { certs, RelpClient, start, tempDir, waitFor } from './helpers.js';

let tmp: ReturnType<typeof tempDir>;
let dir: string;
let other: string;

before(async () => {
  const pki = await certs();
  tmp = tempDir('pipeline-relp-tls-');
  dir = join(tmp.dir, 'pki');
  other = join(tmp.dir, 'other');
  pki.certsCreateCA(dir);
  pki.certsCreateServer(dir, { dns: ['localhost'], ip: ['127.0.0.1'] });
  pki.certsCreateClient(dir, 'client1');
  pki.certsCreateCA(other, { commonName: 'Someone Else CA' });
  pki.certsCreateClient(other, 'intruder');
});
after(() => tmp.cleanup());

// Logstash relp's option names: ssl_cacert (an alias of ssl_certificate_authorities here)
const config = (verify: string) =>
  `port => 0 host => "127.0.0.1" ssl_enable => true ssl_cert => "${dir}/server.pem" ssl_key => "${dir}/server.key" ssl_cacert => "${dir}/ca.pem" ssl_verify => ${verify}`;

const clientTls = (who = dir, name = 'client1') => ({ ca: readFileSync(`${dir}/ca.pem`), cert: readFileSync(`${who}/${name}.pem`), key: readFileSync(`${who}/${name}.key`) });

describe('relp input over TLS', () => {
  it('ssl_verify => true: a client certificate from our CA is served (sslsubject set); none, or another CA, is refused and counted', async () => {
    const t = await start(relp, config('true'));
    try {
      const good = await RelpClient.connect(t.port, { tls: clientTls() });
      await good.response(good.open());
      await good.response(good.send('syslog', 'over tls'));
      assert.equal(t.sink.events[0]!.get('message'), 'over tls');
      assert.equal(t.sink.events[0]!.get('sslsubject'), 'CN=client1');
      for (const tlsOpts of [{ ca: readFileSync(`${dir}/ca.pem`) }, clientTls(other, 'intruder')]) {
        // TLS 1.3: the client learns of the refusal only after its handshake, on the first read
        const c = await RelpClient.connect(t.port, { tls: tlsOpts }).catch(() => undefined);
        if (c) {
          c.open();
          await c.closed();
          assert.equal(c.responses.length, 0);
        }
      }
      await waitFor(() => t.metric('tls_handshake_failures') >= 2, 'two refused handshakes');
      assert.equal(t.sink.events.length, 1);
      good.destroy();
    } finally {
      await t.stop();
    }
  });

  it('ssl_verify => false: anonymous TLS clients are served without sslsubject', async () => {
    const t = await start(relp, config('false'));
    try {
      const c = await RelpClient.connect(t.port, { tls: { ca: readFileSync(`${dir}/ca.pem`) } });
      await c.response(c.open());
      await c.response(c.send('syslog', 'anonymous'));
      assert.equal(t.sink.events[0]!.get('message'), 'anonymous');
      assert.equal(t.sink.events[0]!.get('sslsubject'), undefined);
      c.destroy();
    } finally {
      await t.stop();
    }
  });

  it('an incomplete TLS setup is refused at start', async () => {
    await assert.rejects(start(relp, 'port => 0 ssl_enable => true'), /ssl_cert and ssl_key/);
    await assert.rejects(start(relp, `port => 0 ssl_enable => true ssl_cert => "${dir}/server.pem" ssl_key => "${dir}/server.key" ssl_verify => required`), /need ssl_certificate_authorities/);
  });
});
