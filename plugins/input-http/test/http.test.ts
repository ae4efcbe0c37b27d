import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import zlib from 'node:zlib';
import lineCodec from '@pipeline/codec-line';
import { ConfigError } from '@pipeline/core';
import { createPlugin, optionsFromConfig } from '@pipeline/core/testing';
import httpInput, { BLOCKED_MS } from '../src/index.js';
import { recordingSink, request, start, waitFor } from './helpers.js';
import { BIN } from './run.js';

/** `pipeline start -t` on a config: its exit status and what it printed. */
function checkOnly(args: string[], cwd: string): { status: number | null; output: string } {
  const r = spawnSync(process.execPath, [BIN, 'start', '-t', ...args], { cwd, encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

const json = { 'Content-Type': 'application/json' };

describe('http input: defaults and fields', () => {
  it("has Logstash's defaults", () => {
    const o = optionsFromConfig(httpInput, '');
    assert.equal(o.host, '0.0.0.0');
    assert.equal(o.port, 8080);
    assert.deepEqual(o.additional_codecs, { 'application/json': { name: 'json', options: {} } });
    assert.equal(o.response_code, 200);
    assert.deepEqual(o.response_headers, { 'Content-Type': 'text/plain' });
    assert.equal(o.max_content_length, 104857600);
    assert.equal(o.max_pending_requests, 200);
    assert.equal(o.ssl_enabled, false);
    assert.equal(o.ssl_client_authentication, 'none');
    assert.equal(o.ssl_handshake_timeout, 10000);
    assert.deepEqual(o.ssl_supported_protocols, ['TLSv1.2', 'TLSv1.3']);
    assert.equal(o.ecs_compatibility, 'disabled');
    assert.equal(httpInput.defaultCodec, 'plain');
  });

  it('host and port: listens where told (port 0 = a free port), logs and reports it', async () => {
    const t = await start('host => "127.0.0.1" port => 0');
    try {
      assert.ok(t.port > 0);
      assert.equal(t.metric('listen_port'), t.port);
      assert.ok(t.logs.some((l) => l.msg === 'listening' && l.port === t.port && l.host === '127.0.0.1'));
      await assert.rejects(request(t.port, { host: '127.0.0.2', body: 'x' }), /ECONNREFUSED/);
    } finally {
      await t.stop();
    }
  });

  it('a plain body is one event (the plain codec); headers and host as Logstash names them; 200 "ok"', async () => {
    const t = await start('');
    try {
      const r = await request(t.port, { path: '/hook/1?x=y', method: 'PUT', body: 'hello world', headers: { 'User-Agent': 'tester/1', Accept: '*/*', 'X-Custom-Thing': 'a', 'Content-Type': 'text/plain' } });
      assert.equal(r.status, 200);
      assert.equal(r.body, 'ok');
      assert.equal(r.headers['content-type'], 'text/plain');
      assert.equal(t.sink.events.length, 1);
      const e = t.sink.events[0]!;
      assert.equal(e.get('message'), 'hello world');
      assert.equal(e.get('host'), '127.0.0.1');
      assert.deepEqual(e.get('headers'), {
        http_host: `127.0.0.1:${t.port}`,
        http_user_agent: 'tester/1',
        http_accept: '*/*',
        x_custom_thing: 'a',
        content_type: 'text/plain',
        content_length: '11',
        connection: 'keep-alive',
        request_method: 'PUT',
        request_path: '/hook/1?x=y',
        http_version: 'HTTP/1.1',
      });
      assert.equal(t.metric('events'), 1);
    } finally {
      await t.stop();
    }
  });

  it('hostile header names stay plain keys', async () => {
    const t = await start('');
    try {
      const s = net.connect(t.port, '127.0.0.1');
      let text = '';
      s.on('data', (d) => (text += d));
      s.write('POST / HTTP/1.1\r\nHost: x\r\n__proto__: p\r\nconstructor: c\r\nContent-Length: 1\r\nConnection: close\r\n\r\nx');
      await new Promise((r) => s.on('close', r));
      assert.match(text, /^HTTP\/1\.1 200/);
      const h = t.sink.events[0]!.get('headers') as Record<string, unknown>;
      assert.equal(Object.getPrototypeOf(h), Object.prototype);
      assert.equal(Object.getOwnPropertyDescriptor(h, '__proto__')?.value, 'p');
      assert.equal(Object.getOwnPropertyDescriptor(h, 'constructor')?.value, 'c');
    } finally {
      await t.stop();
    }
  });

  it('remote_host_target_field and request_headers_target_field', async () => {
    const t = await start('remote_host_target_field => "[client][ip]" request_headers_target_field => "[@metadata][h]"');
    try {
      await request(t.port, { body: 'x' });
      const e = t.sink.events[0]!;
      assert.equal(e.get('[client][ip]'), '127.0.0.1');
      assert.equal(e.get('host'), undefined);
      assert.equal(e.get('headers'), undefined);
      assert.equal(e.get('[@metadata][h][request_method]'), 'POST');
    } finally {
      await t.stop();
    }
  });

  it('ecs_compatibility => v8: ECS fields, headers under [@metadata][input][http][request][headers], [host][ip]', async () => {
    const t = await start('ecs_compatibility => v8');
    try {
      await request(t.port, { path: '/p', body: 'hello', headers: { 'User-Agent': 'ua/2', 'Content-Type': 'text/plain' } });
      const e = t.sink.events[0]!;
      assert.equal(e.get('[host][ip]'), '127.0.0.1');
      assert.equal(e.get('headers'), undefined);
      assert.equal(e.get('[@metadata][input][http][request][headers][http_user_agent]'), 'ua/2');
      assert.deepEqual(e.get('http'), { version: 'HTTP/1.1', method: 'POST', request: { body: { bytes: '5' }, mime_type: 'text/plain' } });
      assert.deepEqual(e.get('url'), { domain: '127.0.0.1', port: t.port, path: '/p' });
      assert.equal(e.get('[user_agent][original]'), 'ua/2');
    } finally {
      await t.stop();
    }
  });
});

describe('http input: codecs by content type', () => {
  it('application/json (the default additional_codecs): an array body gives one event per element, each with the headers', async () => {
    const t = await start('');
    try {
      const r = await request(t.port, { body: JSON.stringify([{ a: 1 }, { b: 2 }, { c: 3 }]), headers: { 'Content-Type': 'application/json; charset=utf-8' } });
      assert.equal(r.status, 200);
      assert.deepEqual(
        t.sink.events.map((e) => [e.get('a'), e.get('b'), e.get('c')]),
        [
          [1, undefined, undefined],
          [undefined, 2, undefined],
          [undefined, undefined, 3],
        ],
      );
      for (const e of t.sink.events) assert.equal(e.get('[headers][request_method]'), 'POST');
      // each event has its own headers object
      t.sink.events[0]!.set('[headers][request_method]', 'changed');
      assert.equal(t.sink.events[1]!.get('[headers][request_method]'), 'POST');
    } finally {
      await t.stop();
    }
  });

  it('malformed JSON: one event tagged _jsonparsefailure with the text, answered 200', async () => {
    const t = await start('');
    try {
      const r = await request(t.port, { body: '{"a": ', headers: json });
      assert.equal(r.status, 200);
      assert.equal(t.sink.events.length, 1);
      assert.equal(t.sink.events[0]!.get('message'), '{"a": ');
      assert.deepEqual(t.sink.events[0]!.tags, ['_jsonparsefailure']);
    } finally {
      await t.stop();
    }
  });

  it('additional_codecs maps other types (media type matched without case or parameters); the rest goes to codec', async () => {
    const t = await start('additional_codecs => { "text/x-lines" => "line" "application/x-ndjson" => "json_lines" }');
    try {
      await request(t.port, { body: 'one\ntwo\n', headers: { 'Content-Type': 'Text/X-Lines; foo=bar' } });
      await request(t.port, { body: '{"n":1}\n{"n":2}\n', headers: { 'Content-Type': 'application/x-ndjson' } });
      await request(t.port, { body: '{"not":"json here"}', headers: json }); // application/json no longer mapped: plain
      assert.deepEqual(
        t.sink.events.map((e) => e.get('message') ?? e.get('n')),
        ['one', 'two', 1, 2, '{"not":"json here"}'],
      );
    } finally {
      await t.stop();
    }
  });

  it("the input's codec decodes types additional_codecs does not name", async () => {
    const t = await start('', { codecDef: lineCodec, codecOptions: { delimiter: '\n', charset: 'UTF-8' } });
    try {
      await request(t.port, { body: 'a\nb\nc' });
      assert.deepEqual(
        t.sink.events.map((e) => e.get('message')),
        ['a', 'b', 'c'],
      );
    } finally {
      await t.stop();
    }
  });

  it("a charset in Content-Type decodes the body; without one the codec's charset (UTF-8) applies", async () => {
    const t = await start('');
    try {
      await request(t.port, { body: Buffer.from([0x63, 0x61, 0x66, 0xe9]), headers: { 'Content-Type': 'text/plain; charset=ISO-8859-1' } });
      await request(t.port, { body: Buffer.from('café'), headers: { 'Content-Type': 'text/plain' } });
      await request(t.port, { body: Buffer.from(JSON.stringify({ w: 'é' }), 'latin1'), headers: { 'Content-Type': 'application/json; charset="iso-8859-1"' } });
      assert.deepEqual(
        t.sink.events.map((e) => e.get('message') ?? e.get('w')),
        ['café', 'café', 'é'],
      );
    } finally {
      await t.stop();
    }
  });

  it('additional_codecs: an unknown codec is a config error at -t, at its place, with the closest name; a codec block keeps its options', () => {
    const dir = mkdtempSync(join(tmpdir(), 'http-codecs-'));
    try {
      const conf = join(dir, 'c.conf');
      writeFileSync(conf, 'input {\n  http {\n    port => 0\n    additional_codecs => { "text/x-json" => "jsno" }\n  }\n}\noutput { stdout {} }\n');
      const bad = checkOnly(['-f', conf, '--path.data', join(dir, 'data')], dir);
      assert.equal(bad.status, 1, bad.output);
      assert.match(bad.output, /c\.conf:4:\d+: unknown codec plugin 'jsno' \(did you mean 'json'\?\)/);
      writeFileSync(conf, 'input {\n  http {\n    port => 0\n    additional_codecs => { "text/x-lines" => line { delimiter => "|" } }\n  }\n}\noutput { stdout {} }\n');
      const good = checkOnly(['-f', conf, '--path.data', join(dir, 'data')], dir);
      assert.equal(good.status, 0, good.output);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('additional_codecs: a codec block with options decodes with them', async () => {
    const t = await start('additional_codecs => { "text/x-pipes" => line { delimiter => "|" } }');
    try {
      assert.equal((await request(t.port, { body: 'a|b|c', headers: { 'Content-Type': 'text/x-pipes' } })).status, 200);
      await waitFor(() => t.sink.events.length >= 3, 'three events');
      assert.deepEqual(t.sink.events.map((e) => e.get('message')), ['a', 'b', 'c']);
    } finally {
      await t.stop();
    }
  });

  it('gzip and deflate bodies are decoded; a broken one is 400', async () => {
    const t = await start('');
    try {
      assert.equal((await request(t.port, { body: zlib.gzipSync('{"z":1}'), headers: { ...json, 'Content-Encoding': 'gzip' } })).status, 200);
      assert.equal((await request(t.port, { body: zlib.deflateSync('{"z":2}'), headers: { ...json, 'Content-Encoding': 'deflate' } })).status, 200);
      assert.equal((await request(t.port, { body: 'not gzip', headers: { ...json, 'Content-Encoding': 'gzip' } })).status, 400);
      assert.deepEqual(
        t.sink.events.map((e) => e.get('z')),
        [1, 2],
      );
    } finally {
      await t.stop();
    }
  });
});

describe('http input: responses', () => {
  it('response_code => 201 and response_headers', async () => {
    const t = await start('response_code => 201 response_headers => { "X-Ack" => "yes" "Access-Control-Allow-Origin" => "*" }');
    try {
      const r = await request(t.port, { body: 'x' });
      assert.equal(r.status, 201);
      assert.equal(r.body, 'ok');
      assert.equal(r.headers['x-ack'], 'yes');
      assert.equal(r.headers['access-control-allow-origin'], '*');
    } finally {
      await t.stop();
    }
  });

  it('response_code => 204 sends no body', async () => {
    const t = await start('response_code => 204');
    try {
      const r = await request(t.port, { body: 'x' });
      assert.equal(r.status, 204);
      assert.equal(r.body, '');
      assert.equal(t.sink.events.length, 1);
    } finally {
      await t.stop();
    }
  });

  it('response_code other than 200, 201, 202, 204 and a bad header name are refused', () => {
    assert.throws(() => optionsFromConfig(httpInput, 'response_code => 302'), /must be one of 200, 201, 202, 204/);
    assert.throws(() => optionsFromConfig(httpInput, 'response_headers => { "Bad Header" => "x" }'), /not a header name/);
  });

  it('the answer waits until the queue holds the events (whenStored)', async () => {
    let release!: () => void;
    let stored = false;
    const sink = recordingSink({
      whenStored: () =>
        new Promise<void>((r) => {
          release = () => {
            stored = true;
            r();
          };
        }),
    });
    const t = await start('', {}, sink);
    try {
      let answered = false;
      const reply = request(t.port, { body: 'x' }).then((r) => {
        answered = true;
        assert.ok(stored, 'answered only after the queue stored the event');
        return r;
      });
      await waitFor(() => t.sink.events.length === 1 && release !== undefined, 'the event pushed');
      await new Promise((r) => setTimeout(r, 50));
      assert.equal(answered, false);
      release();
      assert.equal((await reply).status, 200);
    } finally {
      await t.stop();
    }
  });
});

describe('http input: basic authentication', () => {
  it('user and password: no credentials 401 with a challenge, wrong ones 401, right ones 200; Authorization is not copied', async () => {
    const t = await start('user => "alice" password => "s3cret"');
    try {
      const none = await request(t.port, { body: 'x' });
      assert.equal(none.status, 401);
      assert.match(String(none.headers['www-authenticate']), /^Basic realm=/);
      const wrong = await request(t.port, { body: 'x', auth: 'alice:nope' });
      assert.equal(wrong.status, 401);
      assert.equal(wrong.headers['www-authenticate'], undefined);
      assert.equal(t.sink.events.length, 0);
      const ok = await request(t.port, { body: 'x', auth: 'alice:s3cret' });
      assert.equal(ok.status, 200);
      assert.equal(t.sink.events.length, 1);
      assert.equal(t.sink.events[0]!.get('[headers][authorization]'), undefined);
    } finally {
      await t.stop();
    }
  });

  it('user without password (or the reverse) is a config error', async () => {
    await assert.rejects(createPlugin(httpInput, 'user => "alice"'), (e: unknown) => e instanceof ConfigError && /needs both user and password/.test(e.message));
    await assert.rejects(createPlugin(httpInput, 'password => "x"'), /needs both user and password/);
  });
});

describe('http input: max_content_length', () => {
  it('a Content-Length over the limit is 413 and nothing is decoded; at the limit it passes', async () => {
    const t = await start('max_content_length => 100');
    try {
      const big = await request(t.port, { body: 'x'.repeat(101) });
      assert.equal(big.status, 413);
      assert.equal(big.headers.connection, 'close');
      assert.equal((await request(t.port, { body: 'y'.repeat(100) })).status, 200);
      assert.deepEqual(
        t.sink.events.map((e) => e.get('message')),
        ['y'.repeat(100)],
      );
    } finally {
      await t.stop();
    }
  });

  it('a chunked body that grows over the limit is 413', async () => {
    const t = await start('max_content_length => 100');
    try {
      const r = await request(t.port, { chunks: ['a'.repeat(60), 'b'.repeat(60)] });
      assert.equal(r.status, 413);
      assert.equal(t.sink.events.length, 0);
    } finally {
      await t.stop();
    }
  });

  it('a gzip body that inflates over the limit is 413', async () => {
    const t = await start('max_content_length => 1000');
    try {
      const r = await request(t.port, { body: zlib.gzipSync('z'.repeat(5000)), headers: { 'Content-Encoding': 'gzip' } });
      assert.equal(r.status, 413);
      assert.equal(t.sink.events.length, 0);
    } finally {
      await t.stop();
    }
  });

  it('Expect: 100-continue with a too large body is refused before the body is sent', async () => {
    const t = await start('max_content_length => 10');
    try {
      const r = await new Promise<number>((resolve, reject) => {
        const req = (net.connect(t.port, '127.0.0.1') as net.Socket).on('error', reject);
        let text = '';
        req.on('data', (d) => {
          text += d;
          const m = /^HTTP\/1\.1 (\d+)/.exec(text);
          if (m) {
            req.destroy();
            resolve(Number(m[1]));
          }
        });
        req.write('POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 50\r\nExpect: 100-continue\r\n\r\n');
      });
      assert.equal(r, 413);
    } finally {
      await t.stop();
    }
  });
});

describe('http input: back-pressure (threads, max_pending_requests)', () => {
  it('with the queue full, threads + max_pending_requests requests wait (answered once there is room, in order); more get 429', async () => {
    const t = await start('threads => 1 max_pending_requests => 2');
    try {
      t.sink.setWritable(false);
      const held = [1, 2, 3].map((i) => request(t.port, { body: `held ${i}` }));
      await waitFor(() => t.metric('requests_waiting') === 3, '3 requests waiting');
      const r = await request(t.port, { body: 'one too many' });
      assert.equal(r.status, 429);
      assert.equal(r.body, '');
      assert.equal(t.metric('requests_rejected'), 1);
      assert.equal(t.sink.events.length, 0);
      t.sink.setWritable(true);
      assert.deepEqual(
        (await Promise.all(held)).map((x) => x.status),
        [200, 200, 200],
      );
      assert.deepEqual(
        t.sink.events.map((e) => e.get('message')).sort(),
        ['held 1', 'held 2', 'held 3'],
      );
      assert.equal(t.metric('requests_waiting'), 0);
    } finally {
      await t.stop();
    }
  });

  it('threads defaults to the number of CPUs', async () => {
    const t = await start('max_pending_requests => 1');
    try {
      t.sink.setWritable(false);
      const n = availableParallelism() + 1;
      const held = Array.from({ length: n }, (_, i) => request(t.port, { body: `h${i}` }));
      await waitFor(() => t.metric('requests_waiting') === n, `${n} requests waiting`);
      assert.equal((await request(t.port, { body: 'x' })).status, 429);
      t.sink.setWritable(true);
      for (const r of await Promise.all(held)) assert.equal(r.status, 200);
    } finally {
      await t.stop();
    }
  });

  it(`once a request has waited ${BLOCKED_MS / 1000} s, new requests get 429 at once (Logstash's blocked rule)`, async () => {
    const t = await start('threads => 4 max_pending_requests => 100');
    try {
      t.sink.setWritable(false);
      const first = request(t.port, { body: 'waiting' });
      await waitFor(() => t.metric('requests_waiting') === 1, 'a request waiting');
      const second = request(t.port, { body: 'also waiting' });
      await waitFor(() => t.metric('requests_waiting') === 2, 'two requests waiting');
      t.ctx.clock.advance(BLOCKED_MS);
      assert.equal((await request(t.port, { body: 'late' })).status, 429);
      t.sink.setWritable(true);
      assert.equal((await first).status, 200);
      assert.equal((await second).status, 200);
      assert.equal((await request(t.port, { body: 'after' })).status, 200);
    } finally {
      await t.stop();
    }
  });

  it('stop hands waiting requests to the queue, answers them, and closes keep-alive connections', async () => {
    const t = await start('');
    t.sink.setWritable(false);
    const held = request(t.port, { body: 'in flight' });
    await waitFor(() => t.metric('requests_waiting') === 1, 'a request waiting');
    await t.stop();
    const r = await held;
    assert.equal(r.status, 200);
    assert.equal(r.headers.connection, 'close');
    assert.deepEqual(
      t.sink.events.map((e) => e.get('message')),
      ['in flight'],
    );
    await assert.rejects(request(t.port, { body: 'x' }), /ECONNREFUSED/);
  });
});
