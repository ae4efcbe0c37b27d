import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { after, describe, it } from 'node:test';
import { Event, Timestamp } from '@pipeline/core';
import { createPlugin, makeContext, optionsFromConfig } from '@pipeline/core/testing';
import output, { portOf } from '../src/index.js';

/** A real UDP socket on 127.0.0.1 that keeps what it receives. */
async function receiver(): Promise<{ port: number; got: string[]; close(): Promise<void> }> {
  const s = dgram.createSocket('udp4');
  const got: string[] = [];
  s.on('message', (m) => got.push(m.toString('utf8')));
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  return { port: s.address().port, got, close: () => new Promise<void>((r) => s.close(() => r())) };
}

const ev = (fields: Record<string, unknown>) => new Event(fields, Timestamp.parse('2026-03-04T05:06:07.000Z'));

async function until(cond: () => boolean, what: string): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > 10_000) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('udp output', () => {
  const receivers: Awaited<ReturnType<typeof receiver>>[] = [];
  after(async () => {
    for (const r of receivers) await r.close();
  });
  const recv = async () => {
    const r = await receiver();
    receivers.push(r);
    return r;
  };

  it('sends one datagram per event, JSON by default (as Logstash); receive resolves once all are sent', async () => {
    const r = await recv();
    const ctx = makeContext();
    const o = await createPlugin(output, `host => "127.0.0.1" port => ${r.port}`, ctx);
    await o.receive([ev({ message: 'a' }), ev({ message: 'b', n: 2 })]);
    assert.equal(ctx.metrics.counter('datagrams_sent').value, 2);
    await until(() => r.got.length === 2, 'two datagrams');
    const docs = r.got.map((g) => JSON.parse(g));
    assert.deepEqual(docs.map((d) => d.message), ['a', 'b'], 'in order');
    assert.equal(docs.find((d) => d.message === 'b').n, 2);
    await o.close?.();
  });

  it('resolves a host name once, not per datagram', async () => {
    const r = await recv();
    const o = await createPlugin(output, `host => "localhost" port => "${r.port}"`, makeContext());
    await o.receive(Array.from({ length: 50 }, (_, i) => ev({ message: `m${i}` })));
    await until(() => r.got.length === 50, 'fifty datagrams');
    assert.deepEqual(r.got.map((g) => JSON.parse(g).message), Array.from({ length: 50 }, (_, i) => `m${i}`), 'in order, the name resolved before the first');
    await o.close?.();
  });

  it('takes the port from the event (sprintf); an event without a usable port is dropped and counted', async () => {
    const [a, b] = [await recv(), await recv()];
    const ctx = makeContext();
    const o = await createPlugin(output, 'host => "127.0.0.1" port => "%{[target][port]}"', ctx);
    await o.receive([
      ev({ message: 'to-a', target: { port: a.port } }),
      ev({ message: 'to-b', target: { port: String(b.port) } }),
      ev({ message: 'nowhere' }),
      ev({ message: 'bad', target: { port: 'seventy' } }),
      ev({ message: 'big', target: { port: 70000 } }),
    ]);
    await until(() => a.got.length === 1 && b.got.length === 1, 'one datagram each');
    assert.equal(JSON.parse(a.got[0]!).message, 'to-a');
    assert.equal(JSON.parse(b.got[0]!).message, 'to-b');
    assert.equal(ctx.metrics.counter('bad_port_events').value, 3);
    await o.close?.();
  });

  it('retries a failed send retry_count times, retry_backoff_ms apart on the pipeline clock, then drops it', async () => {
    const ctx = makeContext();
    // the kernel refuses datagrams to the broadcast address on a socket without SO_BROADCAST (EACCES)
    const o = await createPlugin(output, 'host => "255.255.255.255" port => 9 retry_count => 2 retry_backoff_ms => 250', ctx);
    let done = false;
    const r = Promise.resolve(o.receive([ev({ message: 'x' })])).then(() => (done = true));
    const failures = () => ctx.metrics.counter('send_failures').value;
    await until(() => failures() === 1, 'the first failure');
    ctx.clock.advance(249);
    await new Promise((res) => setImmediate(res));
    assert.equal(failures(), 1, 'no retry before its back-off');
    ctx.clock.advance(1);
    await until(() => failures() === 2, 'the first retry');
    ctx.clock.advance(250);
    await until(() => failures() === 3, 'the second retry');
    await r;
    assert.equal(done, true);
    assert.equal(ctx.metrics.counter('datagrams_dropped').value, 1);
    assert.equal(ctx.metrics.counter('datagrams_sent').value, 0);
    await o.close?.();
  });

  it('with retry_count 0 (the default) a failed send is dropped at once', async () => {
    const ctx = makeContext();
    const o = await createPlugin(output, 'host => "255.255.255.255" port => 9', ctx);
    await o.receive([ev({ message: 'x' }), ev({ message: 'y' })]);
    assert.equal(ctx.metrics.counter('send_failures').value, 2);
    assert.equal(ctx.metrics.counter('datagrams_dropped').value, 2);
    await o.close?.();
  });

  it('a datagram too large is dropped without retries', async () => {
    const r = await recv();
    const ctx = makeContext();
    const o = await createPlugin(output, `host => "127.0.0.1" port => ${r.port} retry_count => 5`, ctx);
    await o.receive([ev({ message: 'x'.repeat(70_000) }), ev({ message: 'small' })]);
    assert.equal(ctx.metrics.counter('datagrams_too_large').value, 1);
    assert.equal(ctx.metrics.counter('send_failures').value, 1);
    await until(() => r.got.length === 1, 'the small one');
    assert.equal(JSON.parse(r.got[0]!).message, 'small');
    await o.close?.();
  });

  it('close drops retries still waiting, so a stopping pipeline is not held', async () => {
    const ctx = makeContext();
    const o = await createPlugin(output, 'host => "255.255.255.255" port => 9 retry_count => 3 retry_backoff_ms => 60000', ctx);
    const r = o.receive([ev({ message: 'x' })]);
    await until(() => ctx.metrics.counter('send_failures').value === 1, 'the failure');
    await o.close?.();
    await r;
    assert.equal(ctx.metrics.counter('datagrams_dropped').value, 1);
  });

  it('options: Logstash names and defaults; a fixed port is checked at load', async () => {
    const o = optionsFromConfig(output, 'host => "h" port => 514');
    assert.equal(o.port, '514');
    assert.equal(o.retry_count, 0);
    assert.equal(o.retry_backoff_ms, 10);
    assert.equal(output.defaultCodec, 'json');
    assert.throws(() => optionsFromConfig(output, 'port => 1'), /missing required option 'host'/);
    assert.throws(() => optionsFromConfig(output, 'host => "h"'), /missing required option 'port'/);
    await assert.rejects(() => createPlugin(output, 'host => "h" port => "syslog"', makeContext()), /port must be a number from 1 to 65535/);
    await assert.rejects(() => createPlugin(output, 'host => "h" port => 0', makeContext()), /port must be a number from 1 to 65535/);
    assert.equal(portOf(' 514 '), 514);
    assert.equal(portOf('65536'), undefined);
    assert.throws(() => optionsFromConfig(output, 'host => "h" port => 1 retry_count => -1'), /at least 0/);
  });
});
