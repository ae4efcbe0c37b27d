import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Event, Spool, VirtualClock } from '@pipeline/core';
import { createPlugin, makeContext, mountTmpfs, type TestContext } from '@pipeline/core/testing';
import alerta, { type AlertaOutput } from '../src/index.js';
import { AlertaDouble } from '../src/testing.js';

const tmp = mkdtempSync(join(tmpdir(), 'alerta-transport-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const metric = (ctx: TestContext, name: string) => ctx.metrics.counter(name).value;
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
  test('a full database takes nothing in (reported once, with the path); written once deliveries free room, in order', () => {
    const clock = new VirtualClock();
    const errors: { o: Record<string, unknown>; msg: string }[] = [];
    const logger = { error: (o: Record<string, unknown>, msg: string) => errors.push({ o, msg }), warn: () => {}, info: () => {} } as never;
    // max_page_count makes SQLite answer SQLITE_FULL exactly as a full disk does
    const path = join(tmp, 'full', 'spool.sqlite');
    const spool = new Spool({ path, clock, logger, maxPageCount: 12 });
    const payload = (i: number) => JSON.stringify({ i, pad: 'x'.repeat(1500) });
    let written = 0;
    for (; written < 100; written++) if (spool.add([{ payload: payload(written) }]).full) break;
    assert.ok(written > 0 && written < 100, `the cap is reached (${written} written)`);
    const r = spool.add([{ payload: payload(written) }]);
    assert.deepEqual(r, { added: 0, duplicates: 0, full: true }, 'nothing is taken in: the caller keeps it');
    assert.equal(spool.diskFull, true);
    assert.equal(spool.depth, written, 'nothing is held in memory');
    assert.ok(spool.retryMs > 0);
    const reports = errors.filter((e) => /the disk is full/.test(e.msg));
    assert.equal(reports.length, 1, 'reported once');
    assert.equal(reports[0]!.o.path, path);
    // delivering from the head frees pages; the held message goes in after the others
    const got: number[] = [];
    for (let k = 0; k < 4; k++) {
      const item = spool.head(1)[0]!;
      got.push((JSON.parse(item.payload) as { i: number }).i);
      assert.equal(spool.ack(item), true);
    }
    assert.equal(spool.add([{ payload: payload(written) }]).added, 1);
    assert.equal(spool.diskFull, false);
    for (;;) {
      const item = spool.head(1)[0];
      if (!item) break;
      got.push((JSON.parse(item.payload) as { i: number }).i);
      spool.ack(item);
    }
    assert.deepEqual(
      got,
      Array.from({ length: written + 1 }, (_, i) => i),
    );
    spool.close();
  });

  test('on a real tmpfs the spool fills itself: receive holds the batch until it is on disk; once Alerta is back, deliveries make room and nothing is lost, order kept', async () => {
    const server = await AlertaDouble.start();
    const tmpfs = mountTmpfs('8m');
    const fs = tmpfs.dir;
    try {
      writeFileSync(join(fs, 'filler'), Buffer.alloc(5 * 1024 * 1024, 1)); // another writer on the same disk
      await server.down();
      const ctx = makeContext({ dataDir: join(tmp, 'full-out') });
      const out = (await createPlugin(alerta, `endpoint => "${server.url}" spool_path => "${join(fs, 'spool.sqlite')}" retry_initial_interval => 1 retry_max_interval => 1`, ctx)) as AlertaOutput;
      const big = (i: number) => new Event({ alert: { resource: `host${i}`, event: 'E', environment: 'Homelab', service: ['ssh'], severity: 'minor', text: 'y'.repeat(1200) } });
      let i = 0;
      let held: Promise<void> | undefined;
      for (; i < 5000 && held === undefined; i++) {
        const r = out.receive([big(i)]);
        if (r instanceof Promise) held = r;
      }
      assert.ok(held, 'a full spool makes receive wait');
      let resolved = false;
      void held.then(() => (resolved = true));
      await out.whenIdle();
      await new Promise((r) => setImmediate(r));
      assert.equal(resolved, false, 'not acknowledged while it is not on disk');
      assert.equal(ctx.metrics.gauge('spool_disk_full').value, 1);
      // Alerta comes back (nobody frees space): deliveries free room, the held alert goes in, and
      // everything arrives
      await server.up();
      for (let n = 0; n < 20_000 && (!resolved || out.spool.depth > 0); n++) {
        ctx.clock.advance(1000);
        await out.whenIdle();
        await new Promise((r) => setImmediate(r));
      }
      assert.equal(resolved, true);
      assert.deepEqual(
        server.alerts.map((a) => a.resource),
        Array.from({ length: i }, (_, k) => `host${k}`),
      );
      assert.equal(metric(ctx, 'failed'), 0);
      assert.equal(metric(ctx, 'dropped'), 0);
      await out.close();
    } finally {
      await server.stop();
      tmpfs.cleanup();
    }
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
