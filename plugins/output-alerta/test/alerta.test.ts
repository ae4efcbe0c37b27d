import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { Event, Timestamp } from '@pipeline/core';
import { createPlugin, makeContext, type TestContext } from '@pipeline/core/testing';
import alerta, { type AlertaOutput } from '../src/index.js';
import { AlertaDouble } from '../src/testing.js';

const dirs: string[] = [];
function ctxFor(dataDir?: string): TestContext {
  const ctx = makeContext(dataDir ? { dataDir } : {});
  dirs.push(ctx.dataDir);
  return ctx;
}
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function make(server: AlertaDouble, body: string, ctx = ctxFor()): Promise<AlertaOutput> {
  return (await createPlugin(alerta, `endpoint => "${server.url}" ${body}`, ctx)) as AlertaOutput;
}

/** Advances the virtual clock in steps, letting each retry's real HTTP request finish. */
async function advance(ctx: TestContext, out: AlertaOutput, ms: number, step = 5_000): Promise<void> {
  await out.whenIdle();
  for (let t = 0; t < ms; t += step) {
    ctx.clock.advance(Math.min(step, ms - t));
    await out.whenIdle();
  }
}

const alertEvent = (alert: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
  new Event({ message: 'line', tags: ['alert'], alert, ...extra, '@timestamp': new Timestamp(Date.UTC(2026, 10, 27, 22, 0, 0, 123)) });

const metric = (ctx: TestContext, name: string) => ctx.metrics.counter(name).value;

describe('alerta output against the recorded Alerta 9.0.1 answers', () => {
  let server: AlertaDouble;
  before(async () => {
    server = await AlertaDouble.start();
  });
  after(() => server.stop());

  test('every Alerta field is mapped: options win, the rest comes from [alert]; the recorded 201 is a success', async () => {
    const ctx = ctxFor();
    const fixture = server.byName.get('create-alert')!.request.body as Record<string, unknown>;
    // resource, service and attributes from options (templates); everything else from [alert]
    const out = await make(
      server,
      `resource => "%{[node][name]}" service => ["homelab-monitor", "%{[node][svc]}"] attributes => { "region" => "%{[node][region]}" "runbook" => "https://wiki.example.invalid/runbooks/node-down" } create_time => false`,
      ctx,
    );
    const ev = alertEvent(
      {
        resource: 'ignored-because-option-wins',
        event: 'NodeDown',
        environment: 'Homelab',
        severity: 'warning',
        correlate: ['NodeDown', 'NodeUnreachable', 'NodeUp'],
        service: ['ignored'],
        group: 'Network',
        value: '60% packet loss',
        text: 'fixture-host1 is not answering ping',
        tags: ['homelab', 'rack1'],
        origin: 'fixture-capture/monitor1',
        type: 'homelabAlert',
        timeout: 3600,
        raw_data: 'PING fixture-host1: 5 packets transmitted, 2 received, 60% packet loss',
      },
      { node: { name: 'fixture-host1', svc: 'ssh', region: 'lab' } },
    );
    await out.receive([ev]);
    await out.whenIdle();
    const req = server.requests.at(-1)!;
    assert.deepEqual(req.body, fixture);
    assert.equal(req.scenario, 'create-alert');
    assert.equal(req.status, 201);
    assert.equal(req.headers['content-type'], 'application/json');
    assert.equal(req.headers.authorization, undefined);
    // the same alert again is the recorded duplicate: still a success, sent once each
    await out.receive([ev]);
    await out.whenIdle();
    assert.equal(server.requests.at(-1)!.scenario, 'duplicate-alert');
    assert.equal(metric(ctx, 'delivered'), 2);
    assert.equal(metric(ctx, 'retried'), 0);
    assert.equal(metric(ctx, 'failed'), 0);
    await out.close();
  });

  test('createTime is the event @timestamp with milliseconds (accepted by Alerta)', async () => {
    const ctx = ctxFor();
    const out = await make(server, `resource => "r1" event => "E" environment => "Homelab" service => ["s"] severity => "minor"`, ctx);
    await out.receive([alertEvent({})]);
    await out.whenIdle();
    const b = server.requests.at(-1)!.body as Record<string, unknown>;
    assert.equal(b.createTime, '2026-11-27T22:00:00.123Z');
    assert.equal(server.requests.at(-1)!.status, 201);
    await out.close();
  });

  test('202 "Alert converted to Heartbeat" counts as delivered', async () => {
    const ctx = ctxFor();
    const out = await make(server, 'create_time => false', ctx);
    const body = server.byName.get('event-heartbeat-converted')!.request.body as Record<string, unknown>;
    await out.receive([alertEvent(body)]);
    await out.whenIdle();
    assert.equal(server.requests.at(-1)!.status, 202);
    assert.equal(metric(ctx, 'delivered'), 1);
    await out.close();
  });

  test('alerts Alerta would refuse are dead-lettered without sending: missing resource/event, bad severity, environment, timeout, attribute key', async () => {
    const ctx = ctxFor();
    const out = await make(server, 'allowed_environments => ["Homelab"]', ctx);
    const before = server.requests.length;
    await out.receive([
      alertEvent({ event: 'E', severity: 'warning', environment: 'Homelab', service: ['s'] }),
      alertEvent({ resource: 'r', severity: 'warning', environment: 'Homelab', service: ['s'] }),
      alertEvent({ resource: 'r', event: 'E', severity: 'information', environment: 'Homelab', service: ['s'] }),
      alertEvent({ resource: 'r', event: 'E', severity: 'warning', environment: 'Staging', service: ['s'] }),
      alertEvent({ resource: 'r', event: 'E', severity: 'warning', environment: 'Homelab', service: ['s'], timeout: 'soon' }),
      alertEvent({ resource: 'r', event: 'E', severity: 'warning', environment: 'Homelab', service: ['s'], attributes: { 'mount.point': '/' } }),
    ]);
    await out.whenIdle();
    assert.equal(server.requests.length, before, 'nothing was sent');
    const dead = out.spool.deadLetters();
    assert.equal(dead.length, 6);
    assert.match(dead[0]!.message, /resource/);
    assert.match(dead[1]!.message, /event/);
    assert.match(dead[2]!.message, /Severity \(information\)/);
    assert.match(dead[3]!.message, /Staging/);
    assert.match(dead[4]!.message, /timeout/);
    assert.match(dead[5]!.message, /mount\.point/);
    assert.equal(metric(ctx, 'failed'), 6);
    await out.close();
  });

  test('an unknown static severity is refused at load', async () => {
    await assert.rejects(make(server, 'severity => "information"'), /severity 'information' is not one of Alerta's/);
  });

  test('403 from the reject plugin (no service) is dead-lettered with its message and never retried', async () => {
    const ctx = ctxFor();
    const out = await make(server, '', ctx);
    const before = server.requests.length;
    await out.receive([alertEvent({ resource: 'r-noservice', event: 'E', severity: 'warning', environment: 'Homelab' })]);
    await advance(ctx, out, 300_000);
    assert.equal(server.requests.length, before + 1);
    assert.equal(server.requests.at(-1)!.scenario, 'no-service');
    const dead = out.spool.deadLetters();
    assert.equal(dead.length, 1);
    assert.equal(dead[0]!.status, '403');
    assert.equal(dead[0]!.message, '[POLICY] Alert must define a service');
    assert.equal(metric(ctx, 'retried'), 0);
    await out.close();
  });

  test('500 for a severity the server does not know: bounded retries, final error carries the message', async () => {
    const ctx = ctxFor();
    // the operator widened `severities`, so the bad one gets through to Alerta, which answers 500
    const out = await make(server, `severities => ["warning", "bogus"] retry_max_attempts => 4 retry_initial_interval => 1 retry_max_interval => 8`, ctx);
    const before = server.requests.length;
    await out.receive([alertEvent({ resource: 'fixture-host-bogus', event: 'CheckFailed', severity: 'bogus', environment: 'Homelab', service: ['homelab-monitor'] })]);
    await advance(ctx, out, 600_000, 1_000);
    const sent = server.requests.slice(before);
    assert.equal(sent.length, 4);
    assert.ok(sent.every((r) => r.scenario === 'unknown-severity' && r.status === 500));
    const dead = out.spool.deadLetters();
    assert.equal(dead.length, 1);
    assert.equal(dead[0]!.status, '500');
    assert.match(dead[0]!.message, /^Severity \(bogus\) is not one of/);
    assert.equal(metric(ctx, 'retried'), 3);
    assert.equal(metric(ctx, 'failed'), 1);
    await out.close();
  });

  test('429 (synthetic: Alerta never recorded one) honours Retry-After and is retried until delivered', async () => {
    const ctx = ctxFor();
    const out = await make(server, 'resource => "r429" event => "E" service => ["s"] environment => "Homelab"', ctx);
    server.failNext(429, 2, 'synthetic 429: too many requests', '30');
    const before = server.requests.length;
    await out.receive([alertEvent({})]);
    await out.whenIdle();
    assert.equal(server.requests.length, before + 1);
    ctx.clock.advance(20_000); // Retry-After 30 s: not yet
    await out.whenIdle();
    assert.equal(server.requests.length, before + 1);
    await advance(ctx, out, 120_000, 10_000);
    const sent = server.requests.slice(before);
    assert.deepEqual(
      sent.map((r) => r.status),
      [429, 429, 201],
    );
    assert.equal(metric(ctx, 'delivered'), 1);
    assert.equal(metric(ctx, 'retried'), 2);
    await out.close();
  });
});

describe('alerta output with authentication (recorded with AUTH_REQUIRED=true)', () => {
  const adminKey = 'demo-admin-key-0123456789abcdef';
  let server: AlertaDouble;
  before(async () => {
    server = await AlertaDouble.start({ authRequired: true, adminKey, readonlyKey: 'demo-readonly-key-0123456789' });
  });
  after(() => server.stop());

  test('api_key is sent as "Authorization: Key ..." and accepted', async () => {
    const ctx = ctxFor();
    const out = await make(server, `api_key => "${adminKey}" resource => "fixture-auth-host" event => "ValidKey" environment => "Homelab" service => ["homelab-monitor"] severity => "warning"`, ctx);
    await out.receive([alertEvent({})]);
    await out.whenIdle();
    const req = server.requests.at(-1)!;
    assert.equal(req.headers.authorization, `Key ${adminKey}`);
    assert.equal(req.status, 201);
    assert.equal(metric(ctx, 'delivered'), 1);
    await out.close();
  });

  test('401 for a bad key: dead-lettered once, and the key Alerta echoes is redacted', async () => {
    const ctx = ctxFor();
    const badKey = 'not-a-real-key-but-a-secret-123456';
    const logged: string[] = [];
    const out = await make(server, `api_key => "${badKey}" resource => "fixture-auth-host" event => "BadKey" environment => "Homelab" service => ["homelab-monitor"]`, ctx);
    const before = server.requests.length;
    await out.receive([alertEvent({})]);
    await advance(ctx, out, 300_000);
    assert.equal(server.requests.length, before + 1, 'not retried');
    assert.equal(server.requests.at(-1)!.scenario, 'auth-bad-key');
    const dead = out.spool.deadLetters();
    assert.equal(dead.length, 1);
    assert.equal(dead[0]!.status, '401');
    assert.ok(!dead[0]!.message.includes(badKey), dead[0]!.message);
    assert.match(dead[0]!.message, /API key parameter '<redacted>' is invalid/);
    logged.push(JSON.stringify(dead));
    assert.ok(!logged.join('').includes(badKey));
    await out.close();
  });

  test('401 without a key and 403 for a read-only key are permanent', async () => {
    const ctx = ctxFor();
    const noKey = await make(server, 'resource => "h" event => "NoKey" environment => "Homelab" service => ["s"]', ctx);
    await noKey.receive([alertEvent({})]);
    await advance(ctx, noKey, 120_000);
    assert.equal(server.requests.at(-1)!.scenario, 'auth-no-key');
    assert.equal(noKey.spool.deadLetters()[0]!.status, '401');
    await noKey.close();
    const ctx2 = ctxFor();
    const ro = await make(server, 'api_key => "demo-readonly-key-0123456789" resource => "h" event => "RO" environment => "Homelab" service => ["s"]', ctx2);
    await ro.receive([alertEvent({})]);
    await advance(ctx2, ro, 120_000);
    assert.equal(server.requests.at(-1)!.scenario, 'auth-readonly-key-alert');
    assert.equal(ro.spool.deadLetters()[0]!.message, 'Missing required scope: write:alerts');
    assert.equal(ctx2.metrics.counter('retried').value, 0);
    await ro.close();
  });
});

describe('alerta output during an outage', () => {
  const body = 'event => "%{[alert][event]}" resource => "%{[alert][resource]}" environment => "Homelab" service => ["ssh"] severity => "warning" retry_initial_interval => 1 retry_max_interval => 30';
  const burst = (from: number, n: number) => Array.from({ length: n }, (_, i) => alertEvent({ resource: `host${from + i}`, event: `Event${from + i}` }));
  const received = (server: AlertaDouble) => server.alerts.map((a) => a.resource as string);
  const names = (from: number, n: number) => Array.from({ length: n }, (_, i) => `host${from + i}`);

  test('an outage of several minutes: every alert delivered exactly once, in order, after recovery', async () => {
    const server = await AlertaDouble.start();
    const ctx = ctxFor();
    const out = await make(server, body, ctx);
    await out.receive(burst(0, 5));
    await out.whenIdle();
    await server.down();
    for (let i = 0; i < 6; i++) {
      await out.receive(burst(5 + i * 10, 10));
      await advance(ctx, out, 60_000); // a minute between bursts: six minutes down
    }
    assert.equal(out.spool.depth, 60);
    assert.ok(out.loop.inOutage);
    await server.up();
    await advance(ctx, out, 60_000);
    assert.deepEqual(received(server), names(0, 65));
    assert.equal(new Set(received(server)).size, 65);
    assert.equal(out.spool.depth, 0);
    assert.equal(metric(ctx, 'delivered'), 65);
    assert.equal(metric(ctx, 'spooled'), 60);
    assert.ok(metric(ctx, 'retried') > 5);
    assert.equal(metric(ctx, 'failed'), 0);
    await out.close();
    await server.stop();
  });

  test('a restart of the output during the outage loses and duplicates nothing', async () => {
    const server = await AlertaDouble.start();
    const first = ctxFor();
    let out = await make(server, body, first);
    await server.down();
    await out.receive(burst(0, 30));
    await advance(first, out, 180_000);
    await out.close(); // Pipeline stops while Alerta is still down
    const second = makeContext({ dataDir: first.dataDir });
    out = await make(server, body, second);
    assert.equal(out.spool.depth, 30);
    await out.receive(burst(30, 20));
    await advance(second, out, 120_000);
    await server.up();
    await advance(second, out, 60_000);
    assert.deepEqual(received(server), names(0, 50));
    assert.equal(out.spool.depth, 0);
    await out.close();
    await server.stop();
  });

  test('503 from a proxy in front of Alerta (synthetic) is an outage: spooled, not dead-lettered', async () => {
    const server = await AlertaDouble.start();
    const ctx = ctxFor();
    const out = await make(server, `${body} retry_max_attempts => 2`, ctx);
    server.failNext(503, 6, 'synthetic 503 from a proxy');
    await out.receive(burst(0, 3));
    await advance(ctx, out, 600_000);
    assert.deepEqual(received(server), names(0, 3));
    assert.equal(out.spool.deadLetters().length, 0);
    await out.close();
    await server.stop();
  });

  test('alerts older than spool_max_age are summarised in one alert, newer ones replayed', async () => {
    const server = await AlertaDouble.start();
    const ctx = ctxFor();
    const out = await make(server, `${body} spool_max_age => 3600`, ctx);
    await server.down();
    await out.receive(burst(0, 10));
    await advance(ctx, out, 2 * 3_600_000, 60_000);
    await out.receive(burst(10, 2));
    await server.up();
    await advance(ctx, out, 120_000);
    assert.deepEqual(received(server), ['pipeline-spool', 'host10', 'host11']);
    const summary = server.alerts[0]!;
    assert.equal(summary.value, '10');
    assert.equal(summary.environment, 'Homelab');
    assert.match(String(summary.text), /^10 alerts from .* were summarised/);
    assert.equal(metric(ctx, 'dropped'), 10);
    await out.close();
    await server.stop();
  });

  test('spool_max_bytes caps the spool: the oldest are summarised', async () => {
    const server = await AlertaDouble.start();
    const ctx = ctxFor();
    const out = await make(server, `${body} spool_max_bytes => 4000`, ctx);
    await server.down();
    await out.receive(burst(0, 40));
    await out.whenIdle();
    await advance(ctx, out, 5_000);
    assert.ok(out.spool.bytes <= 4000 + 1000, `spool holds ${out.spool.bytes} bytes`);
    await server.up();
    await advance(ctx, out, 120_000);
    const got = received(server);
    assert.equal(got[0], 'pipeline-spool');
    assert.equal(Number(server.alerts[0]!.value) + got.length - 1, 40, 'summarised + replayed = all');
    assert.deepEqual(got.slice(1), names(40 - (got.length - 1), got.length - 1));
    await out.close();
    await server.stop();
  });
});
