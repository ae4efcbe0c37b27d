import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import tls from 'node:tls';
import line from '@pipeline/codec-line';
import type { PendingWrite } from '@pipeline/core';
import { createPlugin, makeContext, optionsFromConfig, type TestContext } from '@pipeline/core/testing';
import output from '../src/index.js';
import { BroadcastServer } from '../src/server.js';
import { certs, events, recordingLogger, tempDir, until } from './helpers.js';

const lineContext = (over: Parameters<typeof makeContext>[0] = {}): TestContext =>
  makeContext({ codecDef: line, codecOptions: optionsFromConfig(line, 'format => "%{message}"'), ...over });

/** A client of the output's server: what it read. */
async function client(port: number, secure?: tls.ConnectionOptions): Promise<{ text: () => string; socket: net.Socket }> {
  let text = '';
  const socket = await new Promise<net.Socket>((resolve, reject) => {
    const s = secure ? tls.connect({ host: '127.0.0.1', port, ...secure }, () => resolve(s)) : net.connect({ host: '127.0.0.1', port }, () => resolve(s));
    s.once('error', reject);
  });
  socket.setEncoding('utf8').on('data', (d: string) => (text += d));
  return { text: () => text, socket };
}

describe('tcp output, server mode', () => {
  const { dir, cleanup } = tempDir();
  after(cleanup);
  certs(dir, 'create-ca');
  certs(dir, 'create-server', '--dns', 'localhost', '--ip', '127.0.0.1');
  certs(dir, 'create-client', 'web1');
  const f = (n: string) => join(dir, n);

  it('writes every event to each client connected at the time', async () => {
    const ctx = lineContext();
    const o = await createPlugin(output, 'host => "127.0.0.1" port => 0 mode => "server"', ctx);
    const port = ctx.metrics.gauge('listen_port').value;
    const a = await client(port);
    await until(() => ctx.metrics.gauge('clients').value === 1, 'one client');
    await ((await o.receive(events(2))) as PendingWrite).written;
    const b = await client(port);
    await until(() => ctx.metrics.gauge('clients').value === 2, 'two clients');
    await ((await o.receive(events(1, 2))) as PendingWrite).written;
    await until(() => a.text().length === 18 && b.text().length === 6, 'the lines');
    assert.equal(a.text(), 'm0000\nm0001\nm0002\n');
    assert.equal(b.text(), 'm0002\n');
    await o.close?.();
  });

  it('holds the pipeline back while a client does not read', async () => {
    const ctx = lineContext();
    const o = await createPlugin(output, 'host => "127.0.0.1" port => 0 mode => "server"', ctx);
    const c = await client(ctx.metrics.gauge('listen_port').value);
    c.socket.pause();
    await until(() => ctx.metrics.gauge('clients').value === 1, 'the client');
    const big = events(1);
    big[0]!.fields.message = 'x'.repeat(16 << 20);
    let resolved = false;
    const r = Promise.resolve(o.receive(big)).then((w) => ((resolved = true), w));
    await new Promise((res) => setTimeout(res, 300));
    assert.equal(resolved, false);
    c.socket.resume();
    await ((await r) as PendingWrite).written;
    await until(() => c.text().length === (16 << 20) + 1, 'all of it');
    await o.close?.();
  });

  it('TLS with client certificates required', async () => {
    const ctx = lineContext();
    const o = await createPlugin(
      output,
      `host => "127.0.0.1" port => 0 mode => "server" ssl_enabled => true ssl_certificate => "${f('server.pem')}" ssl_key => "${f('server.key')}" ssl_certificate_authorities => ["${f('ca.pem')}"] ssl_client_authentication => "required"`,
      ctx,
    );
    const port = ctx.metrics.gauge('listen_port').value;
    const ca = readFileSync(f('ca.pem'));
    const good = await client(port, { ca, cert: readFileSync(f('web1.pem')), key: readFileSync(f('web1.key')), servername: 'localhost' });
    await until(() => ctx.metrics.gauge('clients').value === 1, 'the client with a certificate');
    // without a certificate the handshake is refused (TLS 1.3: after the client's side completes)
    const refused = await client(port, { ca, servername: 'localhost' }).then(
      (c) => new Promise<boolean>((res) => (c.socket.on('error', () => res(true)), c.socket.on('close', () => res(true)))),
      () => true,
    );
    assert.equal(refused, true);
    await ((await o.receive(events(1))) as PendingWrite).written;
    await until(() => good.text() === 'm0000\n', 'the line');
    assert.equal(ctx.metrics.gauge('clients').value, 1);
    await o.close?.();
  });

  it('with no client connected, events go nowhere and receive does not wait', async () => {
    const s = new BroadcastServer({ host: '127.0.0.1', port: 0, logger: makeContext().logger, metrics: makeContext().metrics });
    await s.listen();
    await (await s.send('nobody\n')).written;
    assert.equal(s.clientCount, 0);
    await s.close();
  });
});

describe('tcp output options', () => {
  const { dir, cleanup } = tempDir();
  after(cleanup);
  certs(dir, 'create-ca');
  certs(dir, 'create-server', '--dns', 'localhost');
  const f = (n: string) => join(dir, n);
  const refused = (body: string, re: RegExp) => assert.rejects(() => createPlugin(output, body, lineContext()), re);

  it('defaults as Logstash: client mode, reconnect_interval 10, codec json, TLS off', () => {
    const o = optionsFromConfig(output, 'host => "h" port => 1');
    assert.equal(o.mode, 'client');
    assert.equal(o.reconnect_interval, 10);
    assert.equal(o.ssl_enabled, false);
    assert.equal(output.defaultCodec, 'json');
  });

  it('host and port are required; a client needs a real port', async () => {
    assert.throws(() => optionsFromConfig(output, 'port => 1'), /missing required option 'host'/);
    assert.throws(() => optionsFromConfig(output, 'host => "h"'), /missing required option 'port'/);
    await refused('host => "h" port => 0', /port 0 is only for mode => "server"/);
    assert.throws(() => optionsFromConfig(output, 'host => "h" port => 1 mode => "listener"'), /must be one of 'client', 'server'/);
    assert.throws(() => optionsFromConfig(output, 'host => "h" port => 1 reconnect_interval => 0'), /must be > 0/);
  });

  it('TLS settings are checked at load, as Logstash checks them', async () => {
    await refused(`host => "h" port => 1 ssl_enabled => true ssl_certificate => "${f('server.pem')}"`, /ssl_certificate and ssl_key go together/);
    await refused('host => "h" port => 1 ssl_enabled => true ssl_client_authentication => "required"', /ssl_client_authentication is for mode => "server"/);
    await refused('host => "h" port => 0 mode => "server" ssl_enabled => true ssl_verification_mode => "none"', /ssl_verification_mode is for mode => "client"/);
    await refused('host => "h" port => 0 mode => "server" ssl_enabled => true', /needs ssl_certificate and ssl_key/);
    await refused(
      `host => "h" port => 0 mode => "server" ssl_enabled => true ssl_certificate => "${f('server.pem')}" ssl_key => "${f('server.key')}" ssl_client_authentication => "optional"`,
      /needs ssl_certificate_authorities/,
    );
    await refused(`host => "h" port => 1 ssl_enabled => true ssl_certificate_authorities => ["${f('missing.pem')}"]`, /cannot read ssl_certificate_authorities .*missing\.pem/);
    assert.throws(() => optionsFromConfig(output, 'host => "h" port => 1 ssl_verification_mode => "certificate"'), /expects full or none/);
  });

  it('logs ssl_* options set without ssl_enabled, as Logstash', async () => {
    const { logger, records } = recordingLogger();
    const o = await createPlugin(output, `host => "127.0.0.1" port => 1 ssl_certificate_authorities => ["${f('ca.pem')}"]`, lineContext({ logger }));
    const w = records.find((r) => r.msg === 'ssl_* options are not used without ssl_enabled => true');
    assert.deepEqual(w?.options, ['ssl_certificate_authorities']);
    await o.close?.();
  });
});
