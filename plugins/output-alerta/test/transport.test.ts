import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Event, Spool, VirtualClock } from '@pipeline/core';
import { createPlugin, makeContext, type TestContext } from '@pipeline/core/testing';
import alerta, { type AlertaOutput } from '../src/index.js';
import { AlertaDouble } from '../src/testing.js';

const tmp = mkdtempSync(join(tmpdir(), 'alerta-transport-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const ev = (i: number) => new Event({ alert: { resource: `host${i}`, event: 'E', environment: 'Homelab', service: ['ssh'], severity: 'minor' } });

/** A CA and a server certificate for 127.0.0.1, made with the openssl command. */
function makeCerts(dir: string): { ca: string; key: string; cert: string } {
  const run = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  run('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=pipeline test CA');
  run('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1');
  writeFileSync(join(dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1\n');
  run('x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.pem', '-days', '2', '-extfile', 'san.ext');
  return { ca: join(dir, 'ca.pem'), key: join(dir, 'server.key'), cert: join(dir, 'server.pem') };
}

describe('alerta transport', () => {
  let certs: { ca: string; key: string; cert: string };
  let tlsServer: AlertaDouble;
  before(async () => {
    certs = makeCerts(tmp);
    tlsServer = await AlertaDouble.start({ tls: { key: readFileSync(certs.key), cert: readFileSync(certs.cert) } });
  });
  after(() => tlsServer.stop());

  test('https with ssl_certificate_authorities: the CA is trusted, alerts delivered over one kept-alive connection', async () => {
    const ctx = makeContext({ dataDir: join(tmp, 'ok') });
    const out = (await createPlugin(alerta, `endpoint => "${tlsServer.url}" ssl_certificate_authorities => "${certs.ca}"`, ctx)) as AlertaOutput;
    const conns = tlsServer.connections;
    for (let i = 0; i < 5; i++) {
      await out.receive([ev(i)]);
      await out.whenIdle();
    }
    assert.deepEqual(
      tlsServer.alerts.slice(-5).map((a) => a.resource),
      ['host0', 'host1', 'host2', 'host3', 'host4'],
    );
    assert.equal(tlsServer.connections - conns, 1, 'one TLS connection for five alerts');
    await out.close();
  });

  test('https without the CA: the certificate is refused, alerts stay spooled (nothing is sent in clear)', async () => {
    const ctx = makeContext({ dataDir: join(tmp, 'noca') });
    const out = (await createPlugin(alerta, `endpoint => "${tlsServer.url}"`, ctx)) as AlertaOutput;
    const before = tlsServer.requests.length;
    await out.receive([ev(9)]);
    await out.whenIdle();
    assert.equal(tlsServer.requests.length, before);
    assert.equal(out.spool.depth, 1);
    assert.equal(ctx.metrics.counter('retried').value, 1);
    await out.close();
  });
});

describe('spool on a full disk', () => {
  test('a full database is reported, messages are held in memory in order, and written once there is room', () => {
    const clock = new VirtualClock();
    const errors: string[] = [];
    const logger = { error: (_o: unknown, msg: string) => errors.push(msg), warn: () => {}, info: () => {} } as never;
    // max_page_count makes SQLite answer SQLITE_FULL exactly as a full disk does
    const spool = new Spool({ path: join(tmp, 'full', 'spool.sqlite'), clock, logger, maxPageCount: 12 });
    const payload = (i: number) => JSON.stringify({ i, pad: 'x'.repeat(1500) });
    for (let i = 0; i < 40; i++) {
      const r = spool.add([{ payload: payload(i) }]);
      assert.equal(r.added, 1);
      assert.equal(r.refused, 0);
    }
    assert.equal(spool.diskFull, true);
    assert.equal(errors.filter((m) => /disk is full/.test(m)).length, 1, 'reported once');
    assert.equal(spool.depth, 40);
    // delivering from the head frees pages; held messages move to disk and order is kept
    const got: number[] = [];
    for (;;) {
      const item = spool.head(1)[0];
      if (!item) break;
      got.push((JSON.parse(item.payload) as { i: number }).i);
      spool.ack(item);
    }
    assert.deepEqual(
      got,
      Array.from({ length: 40 }, (_, i) => i),
    );
    // the next message finds room on disk again
    assert.equal(spool.add([{ payload: payload(40) }]).inMemory, 0);
    assert.equal(spool.diskFull, false);
    spool.close();
  });

  test('keys make adds idempotent: a key waiting or delivered is not added again', () => {
    const clock = new VirtualClock();
    const spool = new Spool({ path: join(tmp, 'keys', 'spool.sqlite'), clock });
    assert.equal(spool.add([{ payload: 'a', key: 'k1' }, { payload: 'a again', key: 'k1' }]).duplicates, 1);
    spool.ack(spool.head(1)[0]!);
    assert.equal(spool.add([{ payload: 'a', key: 'k1' }]).duplicates, 1);
    assert.equal(spool.wasDelivered('k1'), true);
    spool.close();
  });
});
