import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, describe, test } from 'node:test';
import pino from 'pino';
import { Event } from '@pipeline/core';
import { createPlugin, makeContext, VirtualClock, type TestContext } from '@pipeline/core/testing';
import heartbeat, { LocalHeartbeatMonitor } from '../src/index.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function ctxFor(over: Partial<TestContext> = {}): TestContext {
  const ctx = makeContext(over);
  if (!over.dataDir) cleanups.push(() => rmSync(ctx.dataDir, { recursive: true, force: true }));
  return ctx;
}

async function open(body: string, ctx: TestContext): Promise<LocalHeartbeatMonitor> {
  const out = (await createPlugin(heartbeat, body, ctx)) as LocalHeartbeatMonitor;
  let closed = false;
  cleanups.push(() => {
    if (!closed) out.close();
    closed = true;
  });
  const close = out.close.bind(out);
  out.close = () => {
    if (!closed) close();
    closed = true;
  };
  return out;
}

function secHeartbeat(hb: Record<string, unknown>): Event {
  return new Event({ message: `heartbeat ${String(hb.origin ?? '')}`, heartbeat: hb, tags: ['heartbeat'] });
}

function alerts(path: string): Record<string, unknown>[] {
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.length)
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

const metric = (ctx: TestContext, name: string) => (ctx.metrics.snapshot() as Record<string, unknown>)[name];
const backup = { origin: 'nas_backup', timeout: 60, tags: ['backup'], attributes: { environment: 'Homelab', severity: 'critical' } };

describe('heartbeat output, local mode', () => {
  test('raises the timeout alert when the timeout is reached and not before, once, and logs it at warn', async () => {
    const lines: Record<string, unknown>[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        for (const l of chunk.toString().split('\n')) if (l) lines.push(JSON.parse(l) as Record<string, unknown>);
        cb();
      },
    });
    const ctx = ctxFor({ logger: pino({ level: 'warn' }, sink) });
    const path = join(ctx.dataDir, 'heartbeat-alerts.jsonl');
    const out = await open(`mode => "local"`, ctx);
    const t0 = ctx.clock.now();
    out.receive([secHeartbeat(backup)]);
    ctx.clock.advance(59_999);
    assert.deepEqual(alerts(path), []);
    assert.equal(metric(ctx, 'timeouts'), 0);
    ctx.clock.advance(1);
    const a = alerts(path);
    assert.equal(a.length, 1);
    assert.deepEqual(
      { resource: a[0]!.resource, event: a[0]!.event, severity: a[0]!.severity, environment: a[0]!.environment, text: a[0]!.text, tags: a[0]!.tags, value: a[0]!.value, type: a[0]!.type },
      { resource: 'nas_backup', event: 'HeartbeatTimeout', severity: 'critical', environment: 'Homelab', text: 'Heartbeat not received in 60 seconds', tags: ['backup'], value: '60', type: 'heartbeatAlert' },
    );
    assert.equal(a[0]!.createTime, new Date(t0 + 60_000).toISOString());
    assert.deepEqual(a[0]!.correlate, ['HeartbeatTimeout', 'HeartbeatOK']);
    ctx.clock.advance(3_600_000);
    assert.equal(alerts(path).length, 1, 'a standing alert is not repeated');
    assert.equal(metric(ctx, 'timeouts'), 1);
    assert.equal(metric(ctx, 'origins_down'), 1);
    const warned = lines.filter((l) => l.level === 40 && l.event === 'HeartbeatTimeout');
    assert.equal(warned.length, 1);
    assert.equal(warned[0]!.resource, 'nas_backup');
  });

  test('heartbeats within the timeout keep an origin quiet; each origin has its own timeout', async () => {
    const ctx = ctxFor();
    const path = join(ctx.dataDir, 'alerts.jsonl');
    const out = await open(`mode => "local" alert_path => "${path}"`, ctx);
    out.receive([secHeartbeat(backup), secHeartbeat({ origin: 'slow', timeout: 300 })]);
    for (let i = 0; i < 10; i++) {
      ctx.clock.advance(50_000);
      out.receive([secHeartbeat(backup)]);
    }
    // 500 s have passed: only 'slow' (300 s) timed out, and with the default severity major
    assert.deepEqual(alerts(path).map((a) => [a.resource, a.severity, a.environment]), [['slow', 'major', 'Production']]);
    assert.equal(metric(ctx, 'delivered'), 12);
  });

  test('clears the alert with a HeartbeatOK normal line when the origin returns, and can time out again', async () => {
    const ctx = ctxFor();
    const path = join(ctx.dataDir, 'heartbeat-alerts.jsonl');
    const out = await open(`mode => "local"`, ctx);
    out.receive([secHeartbeat(backup)]);
    ctx.clock.advance(90_000);
    out.receive([secHeartbeat(backup)]);
    let a = alerts(path);
    assert.deepEqual(a.map((x) => [x.event, x.severity]), [['HeartbeatTimeout', 'critical'], ['HeartbeatOK', 'normal']]);
    assert.equal(a[1]!.resource, 'nas_backup');
    assert.equal(a[1]!.value, '90');
    assert.equal(metric(ctx, 'cleared'), 1);
    assert.equal(metric(ctx, 'origins_down'), 0);
    out.receive([secHeartbeat(backup)]);
    assert.equal(alerts(path).length, 2, 'a heartbeat from a healthy origin writes nothing');
    ctx.clock.advance(60_000);
    a = alerts(path);
    assert.deepEqual(a.map((x) => x.event), ['HeartbeatTimeout', 'HeartbeatOK', 'HeartbeatTimeout']);
  });

  test('options win in local mode too: timeout and severity from the config', async () => {
    const ctx = ctxFor();
    const path = join(ctx.dataDir, 'heartbeat-alerts.jsonl');
    const out = await open(`mode => "local" timeout => "10" severity => "warning" environment => "Lab" origin => "%{host}-alive"`, ctx);
    out.receive([new Event({ host: 'pi', heartbeat: backup })]);
    ctx.clock.advance(9_999);
    assert.equal(alerts(path).length, 0);
    ctx.clock.advance(1);
    assert.deepEqual(alerts(path).map((a) => [a.resource, a.severity, a.environment]), [['pi-alive', 'warning', 'Lab']]);
  });

  test('survives a restart: the last heartbeat is remembered, the deadline kept, a standing alert not repeated and still cleared', async () => {
    const clock = new VirtualClock();
    const ctx1 = ctxFor({ clock });
    const path = join(ctx1.dataDir, 'heartbeat-alerts.jsonl');
    const out1 = await open(`mode => "local"`, ctx1);
    out1.receive([secHeartbeat(backup), secHeartbeat({ ...backup, origin: 'router', timeout: 600 })]);
    clock.advance(30_000);
    out1.close();

    // restarted 30 s later: the nas deadline is 30 s away, not 60
    const ctx2 = makeContext({ clock, dataDir: ctx1.dataDir });
    const out2 = await open(`mode => "local"`, ctx2);
    clock.advance(29_999);
    assert.equal(alerts(path).length, 0);
    clock.advance(1);
    assert.deepEqual(alerts(path).map((a) => [a.resource, a.event]), [['nas_backup', 'HeartbeatTimeout']]);
    out2.close();

    // stopped for longer than router's timeout: its alert comes as soon as we are back
    clock.advance(1_000_000);
    const ctx3 = makeContext({ clock, dataDir: ctx1.dataDir });
    const out3 = await open(`mode => "local"`, ctx3);
    clock.advance(0);
    assert.deepEqual(alerts(path).map((a) => [a.resource, a.event]), [['nas_backup', 'HeartbeatTimeout'], ['router', 'HeartbeatTimeout']]);
    out3.receive([secHeartbeat(backup)]);
    assert.deepEqual(alerts(path).map((a) => [a.resource, a.event]).slice(2), [['nas_backup', 'HeartbeatOK']]);
    assert.equal(metric(ctx3, 'origins_down'), 1);
  });

  test('an alert file that cannot be written is retried, the alert is not lost', async () => {
    const ctx = ctxFor();
    const path = join(ctx.dataDir, 'sub', 'alerts.jsonl');
    const out = await open(`mode => "local" alert_path => "${path}"`, ctx);
    rmSync(join(ctx.dataDir, 'sub'), { recursive: true });
    out.receive([secHeartbeat(backup)]);
    ctx.clock.advance(60_000);
    assert.equal(metric(ctx, 'failed'), 1);
    assert.equal(metric(ctx, 'timeouts'), 0);
    const { mkdirSync } = await import('node:fs');
    mkdirSync(join(ctx.dataDir, 'sub'));
    ctx.clock.advance(30_000);
    assert.deepEqual(alerts(path).map((a) => a.event), ['HeartbeatTimeout']);
    assert.equal(metric(ctx, 'timeouts'), 1);
  });

  test('an invalid heartbeat is refused and counted, not watched', async () => {
    const ctx = ctxFor();
    const out = await open(`mode => "local"`, ctx);
    out.receive([secHeartbeat({ origin: 'x', timeout: 'never' })]);
    ctx.clock.advance(100 * 86_400_000);
    assert.equal(alerts(join(ctx.dataDir, 'heartbeat-alerts.jsonl')).length, 0);
    assert.equal(metric(ctx, 'failed'), 1);
    assert.equal(out.spool.deadLetters().length, 1);
  });
});
