import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import jsonLines from '@pipeline/codec-json_lines';
import line from '@pipeline/codec-line';
import { Event, type OutputInstance, type PendingWrite } from '@pipeline/core';
import { createPlugin, makeContext, optionsFromConfig, type TestContext } from '@pipeline/core/testing';
import output from '../src/index.js';
import { certs, events, Peer, recordingLogger, tempDir, until } from './helpers.js';

const opened: OutputInstance[] = [];
const peers: Peer[] = [];
after(async () => {
  for (const p of peers) await p.close();
});

async function peer(o: Parameters<typeof Peer.start>[0] = {}): Promise<Peer> {
  const p = await Peer.start(o);
  peers.push(p);
  return p;
}

/** A context whose codec is `line { format => "%{message}" }`: one event, one known line. */
function lineContext(over: Parameters<typeof makeContext>[0] = {}): TestContext {
  return makeContext({ codecDef: line, codecOptions: optionsFromConfig(line, 'format => "%{message}"'), ...over });
}

async function open(body: string, ctx: TestContext = lineContext()): Promise<OutputInstance> {
  const o = await createPlugin(output, body, ctx);
  opened.push(o);
  return o;
}

const writtenOf = async (r: unknown) => (r as PendingWrite).written;
const counter = (ctx: TestContext, name: string) => ctx.metrics.counter(name).value;

describe('tcp output, client mode', () => {
  it('writes each batch, encoded by the json codec by default (no separator, as Logstash)', async () => {
    const p = await peer();
    const o = await open(`host => "127.0.0.1" port => ${p.port}`, makeContext());
    await writtenOf(await o.receive(events(2)));
    await until(() => p.text().length > 0 && p.text().endsWith('}') && p.text().split('}{').length === 2, 'two JSON documents');
    const docs = p.text().split('}{');
    assert.equal(JSON.parse(docs[0] + '}').message, 'm0000');
    assert.equal(JSON.parse('{' + docs[1]).message, 'm0001');
    await o.close?.();
  });

  it('with json_lines, one JSON document per line', async () => {
    const p = await peer();
    const o = await open(`host => "127.0.0.1" port => ${p.port}`, makeContext({ codecDef: jsonLines, codecOptions: optionsFromConfig(jsonLines, '') }));
    await writtenOf(await o.receive(events(3)));
    await o.close?.();
    assert.deepEqual(
      p.text().trimEnd().split('\n').map((l) => JSON.parse(l).message),
      ['m0000', 'm0001', 'm0002'],
    );
  });

  it('close() writes out what it holds, ends the connection and waits for the peer to close', async () => {
    const p = await peer();
    const o = await open(`host => "127.0.0.1" port => ${p.port}`);
    for (let i = 0; i < 20; i++) await o.receive(events(50, i * 50));
    await o.close?.();
    assert.equal(p.connections.length, 1);
    assert.equal(p.connections[0]!.ended, true);
    assert.deepEqual(p.text().split('\n').slice(0, -1), events(1000).map((e) => e.fields.message));
  });

  it('holds the pipeline back while the peer does not read, and goes on when it does', async () => {
    const p = await peer();
    p.pause();
    const o = await open(`host => "127.0.0.1" port => ${p.port}`);
    const big = Array.from({ length: 16 }, (_, i) => new Event({ message: String(i % 10).repeat(1 << 20) }));
    let resolved = false;
    const r = Promise.resolve(o.receive(big)).then((w) => {
      resolved = true;
      return w;
    });
    await until(() => p.connections.length === 1, 'the connection');
    // 16 MiB cannot all fit in the kernel's buffers of a peer that reads nothing
    await new Promise((res) => setTimeout(res, 300));
    assert.equal(resolved, false, 'receive must wait while the peer reads nothing');
    p.resume();
    await writtenOf(await r);
    await o.close?.();
    assert.equal(p.text().length, 16 * ((1 << 20) + 1));
  });

  it('connects again with back-off on the pipeline clock: reconnect_interval, doubling, up to 30 s', async () => {
    const p = await peer();
    const port = p.port;
    await p.close();
    peers.splice(peers.indexOf(p), 1);
    const ctx = lineContext();
    const o = await open(`host => "127.0.0.1" port => ${port} reconnect_interval => 1`, ctx);
    let done = false;
    const r = Promise.resolve(o.receive(events(1))).then((w) => {
      done = true;
      return w;
    });
    const waits: number[] = [];
    for (let attempt = 1; attempt <= 8; attempt++) {
      await until(() => counter(ctx, 'connect_failures') === attempt, `failure ${attempt}`);
      // the next attempt starts exactly when its wait is over
      let waited = 0;
      while (counter(ctx, 'connect_attempts') === attempt) {
        ctx.clock.advance(500);
        waited += 500;
      }
      waits.push(waited);
    }
    assert.deepEqual(waits, [1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000]);
    assert.equal(done, false);
    // the peer comes back on the same port: the batch goes out
    const back = await peer({ port });
    await until(() => counter(ctx, 'connect_failures') === 9, 'failure 9');
    ctx.clock.advance(30_000);
    await writtenOf(await r);
    await o.close?.();
    assert.equal(back.text(), 'm0000\n');
  });

  it('after the peer resets the connection, writes again what the window holds, then the rest, in order', async () => {
    const p = await peer();
    const ctx = lineContext();
    const chunk = 'm0000\n'.length;
    // room for two and a half lines: the last three lines accepted are kept (see link.ts, trim)
    const o = await open(`host => "127.0.0.1" port => ${p.port} reconnect_interval => 1 resend_window_bytes => ${(chunk * 5) / 2}`, ctx);
    for (let i = 0; i < 10; i++) await writtenOf(await o.receive(events(1, i)));
    await until(() => p.text().length === 10 * chunk, 'ten lines');
    p.reset();
    await until(() => counter(ctx, 'disconnects') === 1, 'the lost connection');
    const r = o.receive(events(2, 10));
    ctx.clock.advance(1000);
    await writtenOf(await r);
    await o.close?.();
    assert.equal(p.connections.length, 2);
    assert.deepEqual(p.connections[1]!.text.split('\n').slice(0, -1), ['m0007', 'm0008', 'm0009', 'm0010', 'm0011']);
    assert.equal(counter(ctx, 'resent_bytes'), 3 * chunk);
  });

  it('resend_window_bytes => 0: nothing the kernel accepted is written again', async () => {
    const p = await peer();
    const ctx = lineContext();
    const o = await open(`host => "127.0.0.1" port => ${p.port} reconnect_interval => 1 resend_window_bytes => 0`, ctx);
    for (let i = 0; i < 5; i++) await writtenOf(await o.receive(events(1, i)));
    await until(() => p.text().length === 30, 'five lines');
    p.reset();
    await until(() => counter(ctx, 'disconnects') === 1, 'the lost connection');
    const r = o.receive(events(1, 5));
    ctx.clock.advance(1000);
    await writtenOf(await r);
    await o.close?.();
    assert.equal(p.connections[1]!.text, 'm0005\n');
  });

  it('a peer that crashes mid-stream and comes back loses nothing (default window)', async () => {
    const p = await peer();
    const ctx = lineContext();
    const o = await open(`host => "127.0.0.1" port => ${p.port} reconnect_interval => 1`, ctx);
    const n = 20_000;
    for (let i = 0; i < n; i += 100) {
      await o.receive(events(100, i));
      if (i === 10_000) {
        p.reset(); // whatever sat in the buffers at this point is gone with the connection
        await until(() => counter(ctx, 'disconnects') === 1, 'the lost connection');
        ctx.clock.advance(1000);
      }
    }
    await o.close?.();
    const seen = new Set(p.text().split('\n').slice(0, -1));
    const missing = events(n).filter((e) => !seen.has(e.fields.message as string));
    assert.equal(missing.length, 0);
    assert.equal(p.connections.length, 2);
  });

  it('connection refused, then a peer: one warning for the first failure, one info when connected', async () => {
    const p = await peer();
    const port = p.port;
    await p.close();
    peers.splice(peers.indexOf(p), 1);
    const { logger, records } = recordingLogger();
    const ctx = lineContext({ logger });
    const o = await open(`host => "127.0.0.1" port => ${port}`, ctx);
    const r = o.receive(events(1));
    await until(() => counter(ctx, 'connect_failures') === 1, 'a failure');
    const back = await peer({ port });
    ctx.clock.advance(10_000); // reconnect_interval's default, as Logstash's
    await writtenOf(await r);
    await o.close?.();
    assert.equal(back.text(), 'm0000\n');
    const warn = records.find((x) => x.msg === 'cannot connect, retrying');
    assert.equal(warn?.retry_in_ms, 10_000);
    assert.ok(records.some((x) => x.msg === 'connected again; writing again what the peer may not have read'));
  });
});

describe('tcp output, TLS client', () => {
  const { dir, cleanup } = tempDir();
  after(cleanup);
  certs(dir, 'create-ca');
  certs(dir, 'create-server', '--dns', 'localhost', '--ip', '127.0.0.1');
  certs(dir, 'create-server', '--dns', 'elsewhere.example', '--name', 'other');
  certs(dir, 'create-client', 'web1');
  const f = (n: string) => join(dir, n);
  const serverTls = (name = 'server') => ({ cert: readFileSync(f(`${name}.pem`)), key: readFileSync(f(`${name}.key`)) });

  it('verifies the server against ssl_certificate_authorities (ssl_verification_mode full by default)', async () => {
    const p = await peer({ tls: serverTls() });
    const o = await open(`host => "127.0.0.1" port => ${p.port} ssl_enabled => true ssl_certificate_authorities => ["${f('ca.pem')}"]`);
    await writtenOf(await o.receive(events(2)));
    await o.close?.();
    assert.equal(p.text(), 'm0000\nm0001\n');
  });

  it('refuses a server its CAs do not know, and one whose certificate names another host', async () => {
    for (const [name, cas] of [
      ['server', ''],
      ['other', `ssl_certificate_authorities => ["${f('ca.pem')}"]`],
    ] as const) {
      const p = await peer({ tls: serverTls(name) });
      const { logger, records } = recordingLogger();
      const ctx = lineContext({ logger });
      const o = await createPlugin(output, `host => "127.0.0.1" port => ${p.port} ssl_enabled => true ${cas}`, ctx);
      void o.receive(events(1));
      await until(() => counter(ctx, 'connect_failures') === 1, 'a refused handshake');
      assert.equal(p.text(), '');
      const err = String(records.find((x) => x.msg === 'cannot connect, retrying')?.err);
      assert.match(err, name === 'server' ? /self-signed|unable to (get|verify)/i : /does not match|altnames/i);
      // the same server is accepted when verification is off (ssl_verify => false is Logstash's older spelling)
      const lax = await open(`host => "127.0.0.1" port => ${p.port} ssl_enable => true ssl_verify => false`);
      await writtenOf(await lax.receive(events(1, 7)));
      await lax.close?.();
      assert.equal(p.text(), 'm0007\n');
    }
  });

  it('presents its client certificate to a server that requires one', async () => {
    const p = await peer({ tls: { ...serverTls(), ca: readFileSync(f('ca.pem')), requestCert: true, rejectUnauthorized: true } });
    const o = await open(
      `host => "localhost" port => ${p.port} ssl_enabled => true ssl_cacert => "${f('ca.pem')}" ssl_cert => "${f('web1.pem')}" ssl_key => "${f('web1.key')}"`,
    );
    await writtenOf(await o.receive(events(1)));
    await o.close?.();
    assert.equal(p.connections[0]!.clientCN, 'web1');
    assert.equal(p.text(), 'm0000\n');
  });

  it('writes again across a reset over TLS too', async () => {
    const p = await peer({ tls: serverTls() });
    const ctx = lineContext();
    const o = await open(`host => "127.0.0.1" port => ${p.port} reconnect_interval => 1 ssl_enabled => true ssl_certificate_authorities => ["${f('ca.pem')}"]`, ctx);
    for (let i = 0; i < 3; i++) await writtenOf(await o.receive(events(1, i)));
    await until(() => p.text().length === 18, 'three lines');
    p.reset();
    await until(() => counter(ctx, 'disconnects') === 1, 'the lost connection');
    const r = o.receive(events(1, 3));
    ctx.clock.advance(1000);
    await writtenOf(await r);
    await o.close?.();
    assert.equal(p.connections[1]!.text, 'm0000\nm0001\nm0002\nm0003\n');
  });
});
