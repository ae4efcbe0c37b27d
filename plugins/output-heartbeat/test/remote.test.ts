import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, test } from 'node:test';
import { Event } from '@pipeline/core';
import { createPlugin, makeContext, VirtualClock, type TestContext } from '@pipeline/core/testing';
import heartbeat, { RemoteHeartbeatOutput } from '../src/index.js';
import { HeartbeatReplayServer, scenario } from './replay-server.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function serve(o: ConstructorParameters<typeof HeartbeatReplayServer>[0] = {}): Promise<[HeartbeatReplayServer, string]> {
  const s = new HeartbeatReplayServer(o);
  const url = await s.start();
  cleanups.push(() => s.stop());
  return [s, url];
}

function ctxFor(over: Partial<TestContext> = {}): TestContext {
  const ctx = makeContext(over);
  if (!over.dataDir) cleanups.push(() => rmSync(ctx.dataDir, { recursive: true, force: true }));
  return ctx;
}

async function open(body: string, ctx: TestContext): Promise<RemoteHeartbeatOutput> {
  const out = (await createPlugin(heartbeat, body, ctx)) as RemoteHeartbeatOutput;
  cleanups.push(() => out.close());
  return out;
}

/** A heartbeat event as the SEC engine's native `heartbeat` action emits it. */
function secHeartbeat(hb: Record<string, unknown>): Event {
  return new Event({ message: `heartbeat ${String(hb.origin ?? '')}`, heartbeat: hb, tags: ['heartbeat'] });
}

/** Moves the virtual clock in steps, letting real network I/O finish after each step. */
async function run(out: RemoteHeartbeatOutput, clock: VirtualClock, ms: number, step = 1000): Promise<void> {
  for (let t = 0; t < ms; t += step) {
    clock.advance(Math.min(step, ms - t));
    await out.whenIdle();
    await new Promise((r) => setImmediate(r));
  }
  await out.whenIdle();
}

const metric = (ctx: TestContext, name: string) => (ctx.metrics.snapshot() as Record<string, unknown>)[name];
const recordedBody = scenario('heartbeat-create').request.body as Record<string, unknown>;

describe('heartbeat output, alerta mode', () => {
  test('maps [heartbeat] from the SEC action to the body alerta heartbeat sends, and gets the recorded 201', async () => {
    const [server, url] = await serve();
    const ctx = ctxFor();
    const out = await open(`endpoint => "${url}"`, ctx);
    out.receive([secHeartbeat({ origin: 'fixture-capture/backup-job', timeout: 900, tags: ['homelab', 'backup'], attributes: { environment: 'Homelab', severity: 'major' } })]);
    await out.whenIdle();
    assert.equal(server.requests.length, 1);
    assert.deepEqual(server.requests[0]!.body, recordedBody);
    assert.equal(server.requests[0]!.scenario, 'heartbeat-create');
    assert.equal(server.requests[0]!.status, 201);
    assert.equal(server.requests[0]!.headers['content-type'], 'application/json');
    assert.equal(server.requests[0]!.headers.authorization, undefined);
    assert.equal(metric(ctx, 'delivered'), 1);
    assert.equal(out.spool.depth, 0);
  });

  test('options win over [heartbeat] fields and are sprintf templates; -E/--severity go into attributes', async () => {
    const [server, url] = await serve();
    const ctx = ctxFor();
    const out = await open(
      `endpoint => "${url}" origin => "fixture-capture/%{job}" timeout => "%{t}" tags => ["homelab", "%{job_kind}"] environment => "Homelab" severity => "major"`,
      ctx,
    );
    const ev = secHeartbeat({ origin: 'somewhere-else', timeout: 60, tags: ['x'], attributes: { environment: 'Production', severity: 'minor' } });
    ev.set('job', 'backup-job');
    ev.set('t', '900');
    ev.set('job_kind', 'backup');
    out.receive([ev, ev]);
    await out.whenIdle();
    assert.deepEqual(server.requests.map((r) => r.body), [recordedBody, recordedBody]);
    // the same heartbeat twice is an upsert on origin: the recorded create, then the recorded again, same id
    assert.deepEqual(server.requests.map((r) => r.scenario), ['heartbeat-create', 'heartbeat-again']);
    assert.equal(metric(ctx, 'delivered'), 2);
  });

  test('without [heartbeat] or options: origin pipeline/<host>, no timeout (Alerta default), attributes kept from the option hash', async () => {
    const [server, url] = await serve();
    const out = await open(`endpoint => "${url}" attributes => { "site" => "%{site}" } service => ["backup"] group => "Jobs"`, ctxFor());
    out.receive([new Event({ site: 'home' })]);
    await out.whenIdle();
    const b = server.requests[0]!.body;
    assert.match(String(b.origin), /^pipeline\/.+/);
    assert.equal('timeout' in b, false);
    assert.deepEqual(b.tags, []);
    assert.deepEqual(b.attributes, { site: 'home', service: ['backup'], group: 'Jobs' });
  });

  test('api_key is sent as Authorization: Key; the recorded 201 with the admin key', async () => {
    const [server, url] = await serve({ authRequired: true });
    const ctx = ctxFor();
    const out = await open(`endpoint => "${url}" api_key => "<ADMIN_KEY>"`, ctx);
    out.receive([secHeartbeat(scenario('auth-heartbeat-valid-key').request.body as Record<string, unknown>)]);
    await out.whenIdle();
    assert.equal(server.requests[0]!.headers.authorization, 'Key <ADMIN_KEY>');
    assert.equal(server.requests[0]!.scenario, 'auth-heartbeat-valid-key');
    assert.equal(metric(ctx, 'delivered'), 1);
  });

  test('an empty api_key sends no header: the recorded 401 is dead-lettered and never retried', async () => {
    const [server, url] = await serve({ authRequired: true });
    const ctx = ctxFor();
    const out = await open(`endpoint => "${url}" api_key => ""`, ctx);
    out.receive([secHeartbeat({ origin: 'fixture-capture/auth-heartbeat', timeout: 900 })]);
    await run(out, ctx.clock, 10 * 60_000, 10_000);
    assert.equal(server.requests.length, 1);
    assert.equal(server.requests[0]!.headers.authorization, undefined);
    assert.equal(server.requests[0]!.scenario, 'auth-heartbeat-no-key');
    const dead = out.spool.deadLetters();
    assert.equal(dead.length, 1);
    assert.equal(dead[0]!.status, '401');
    assert.equal(dead[0]!.message, 'Missing authorization API Key or Bearer Token');
    assert.equal(metric(ctx, 'failed'), 1);
    assert.equal(metric(ctx, 'retried'), 0);
  });

  test("a bad key's 401 echoes the key: dead-lettered with the key redacted", async () => {
    const [server, url] = await serve({ authRequired: true });
    const secret = 'S3cretKeyThatMustNotLeak';
    const ctx = ctxFor();
    const out = await open(`endpoint => "${url}" api_key => "${secret}"`, ctx);
    out.receive([secHeartbeat({ origin: 'o1' })]);
    await out.whenIdle();
    assert.equal(server.requests[0]!.scenario, 'auth-bad-key');
    const dead = out.spool.deadLetters();
    assert.equal(dead.length, 1);
    assert.equal(dead[0]!.message, "API key parameter '<redacted>' is invalid");
    assert.doesNotMatch(JSON.stringify(dead), new RegExp(secret));
  });

  test('the recorded 403 for a read-only key is dead-lettered with its message', async () => {
    const [server, url] = await serve({ authRequired: true });
    const ctx = ctxFor();
    const out = await open(`endpoint => "${url}" api_key => "<READONLY_KEY>"`, ctx);
    out.receive([secHeartbeat({ origin: 'o1' })]);
    await run(out, ctx.clock, 60_000, 5_000);
    assert.equal(server.requests.length, 1);
    assert.deepEqual(
      out.spool.deadLetters().map((d) => [d.status, d.message]),
      [['403', 'Missing required scope: write:heartbeats']],
    );
  });

  test('an outage of several minutes, then recovery: every heartbeat delivered once, in order', async () => {
    const [server, url] = await serve();
    await server.stop();
    const ctx = ctxFor();
    const out = await open(`endpoint => "${url}" retry_max_interval => 30`, ctx);
    const origins: string[] = [];
    for (let i = 0; i < 6; i++) {
      origins.push(`job-${i}`);
      out.receive([secHeartbeat({ origin: `job-${i}`, timeout: 600, attributes: { environment: 'Homelab', severity: 'critical' } })]);
      await run(out, ctx.clock, 60_000, 5_000); // a minute between heartbeats, Alerta down
    }
    assert.equal(server.requests.length, 0);
    assert.equal(out.spool.depth, 6);
    assert.ok((metric(ctx, 'retried') as number) >= 6);
    assert.equal(metric(ctx, 'spooled'), 6);
    assert.equal(metric(ctx, 'failed'), 0);
    await server.start();
    await run(out, ctx.clock, 60_000, 5_000);
    assert.deepEqual(server.accepted.map((b) => b.origin), origins);
    assert.equal(server.requests.length, 6);
    assert.equal(metric(ctx, 'delivered'), 6);
    assert.equal(out.spool.depth, 0);
  });

  test('a restart during the outage loses nothing: spooled heartbeats go out first, in order, once', async () => {
    const [server, url] = await serve();
    await server.stop();
    const clock = new VirtualClock();
    const ctx1 = ctxFor({ clock });
    const out1 = (await createPlugin(heartbeat, `endpoint => "${url}"`, ctx1)) as RemoteHeartbeatOutput;
    out1.receive([secHeartbeat({ origin: 'a' }), secHeartbeat({ origin: 'b' })]);
    await run(out1, clock, 120_000, 5_000);
    out1.receive([secHeartbeat({ origin: 'c' })]);
    await out1.whenIdle();
    await out1.close();

    const ctx2 = makeContext({ clock, dataDir: ctx1.dataDir });
    const out2 = await open(`endpoint => "${url}"`, ctx2);
    await out2.whenIdle();
    assert.equal(out2.spool.depth, 3);
    out2.receive([secHeartbeat({ origin: 'd' })]);
    await run(out2, clock, 120_000, 5_000);
    assert.equal(server.requests.length, 0);
    await server.start();
    await run(out2, clock, 90_000, 5_000);
    assert.deepEqual(server.accepted.map((b) => b.origin), ['a', 'b', 'c', 'd']);
    assert.equal(server.requests.length, 4);
    assert.equal(out2.spool.depth, 0);
  });

  test('429 (synthetic) is retried and then delivered; 500 (synthetic) is retried a bounded number of times, then dead-lettered with its message', async () => {
    const [server, url] = await serve();
    const ctx = ctxFor();
    const out = await open(`endpoint => "${url}" retry_max_attempts => 3`, ctx);
    server.failNext(429, 2);
    out.receive([secHeartbeat({ origin: 'x' })]);
    await run(out, ctx.clock, 30_000);
    assert.deepEqual(server.requests.map((r) => r.status), [429, 429, 201]);
    assert.equal(metric(ctx, 'delivered'), 1);

    server.failNext(500, 10, 'synthetic internal error');
    out.receive([secHeartbeat({ origin: 'y' }), secHeartbeat({ origin: 'z' })]);
    await run(out, ctx.clock, 60_000);
    // y got three 500s and was dead-lettered with the message; z, waiting behind it, then got its three
    const dead = out.spool.deadLetters();
    assert.deepEqual(dead.map((d) => [d.status, d.message, JSON.parse(d.payload).origin]), [
      ['500', 'synthetic internal error', 'y'],
      ['500', 'synthetic internal error', 'z'],
    ]);
    assert.deepEqual(server.requests.filter((r) => r.status === 500).map((r) => r.body.origin), ['y', 'y', 'y', 'z', 'z', 'z']);
    assert.equal(metric(ctx, 'failed'), 2);
  });

  test('a heartbeat Alerta would refuse is dead-lettered before sending (normal severity, bad timeout, dotted attribute)', async () => {
    const [server, url] = await serve();
    const ctx = ctxFor();
    const out = await open(`endpoint => "${url}"`, ctx);
    out.receive([
      secHeartbeat({ origin: 'a', attributes: { severity: 'normal' } }),
      secHeartbeat({ origin: 'b', timeout: 'soon' }),
      secHeartbeat({ origin: 'c', attributes: { 'a.b': '1' } }),
      secHeartbeat({ origin: 'd', attributes: { severity: 'bogus' } }),
      secHeartbeat({ origin: 'ok', attributes: { severity: 'critical' } }),
    ]);
    await out.whenIdle();
    assert.deepEqual(server.accepted.map((b) => b.origin), ['ok']);
    assert.deepEqual(out.spool.deadLetters().map((d) => [JSON.parse(d.payload).origin, d.status]), [['a', 'invalid'], ['b', 'invalid'], ['c', 'invalid'], ['d', 'invalid']]);
    assert.equal(metric(ctx, 'failed'), 4);
  });

  test('https with ssl_certificate_authorities: delivered when the CA is trusted, kept in the spool when it is not', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hb-tls-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    // a self-signed certificate for 127.0.0.1 (Debian's openssl), which is its own CA
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1',
      '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'ignore' });
    const tls = { key: readFileSync(join(dir, 'key.pem'), 'utf8'), cert: readFileSync(join(dir, 'cert.pem'), 'utf8') };
    const [server, url] = await serve({ tls });
    assert.match(url, /^https:/);

    const untrusting = ctxFor();
    const out1 = await open(`endpoint => "${url}"`, untrusting);
    out1.receive([secHeartbeat({ origin: 'tls-check' })]);
    await run(out1, untrusting.clock, 10_000);
    assert.equal(server.requests.length, 0);
    assert.equal(out1.spool.depth, 1, 'an untrusted certificate is not a reason to drop the heartbeat');
    assert.ok((metric(untrusting, 'retried') as number) >= 1);

    const ctx = ctxFor();
    const out = await open(`endpoint => "${url}" ssl_certificate_authorities => "${join(dir, 'cert.pem')}"`, ctx);
    out.receive([secHeartbeat(recordedBody)]);
    await out.whenIdle();
    assert.deepEqual(server.accepted, [recordedBody]);
    assert.equal(metric(ctx, 'delivered'), 1);
  });

  test('the config is checked at load', async () => {
    await assert.rejects(async () => createPlugin(heartbeat, `timeout => "60"`, ctxFor()), /endpoint/);
    await assert.rejects(async () => createPlugin(heartbeat, `endpoint => "http://x" severity => "ok"`, ctxFor()), /non-normal/);
    await assert.rejects(async () => createPlugin(heartbeat, `endpoint => "http://x" severity => "bogus"`, ctxFor()), /not one of/);
    await assert.rejects(async () => createPlugin(heartbeat, `endpoint => "http://x" timeout => "1h"`, ctxFor()), /whole number/);
    await assert.rejects(async () => createPlugin(heartbeat, `endpoint => "ftp://x"`, ctxFor()), /http/);
  });
});
