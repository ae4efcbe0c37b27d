/**
 * Every option of the http output, each against a real node:http(s) server on loopback.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { advance, ctxFor, deliver, ev, make, metric } from './helpers.js';
import { TestServer } from './server.js';
import { encodeForm, formEscape, headerValue } from '../src/index.js';

const REPO = join(dirname(fileURLToPath(import.meta.url)), '../../../..');
const BIN = join(REPO, 'core/bin/pipeline.js');

let server: TestServer;
before(async () => {
  server = await TestServer.start();
});
after(() => server.stop());
const last = () => server.received.at(-1)!;

describe('http output: the body (format, mapping, message)', () => {
  test('format json (default): the whole event as JSON, without @metadata; Content-Type application/json', async () => {
    const out = await make(`url => "${server.url}/in" http_method => "post"`);
    const e = ev({ message: 'hello', host: 'web1', n: 3, nested: { a: [1, 2] } });
    e.metadata.secret = 'not sent';
    await deliver(out, [e]);
    const r = last();
    assert.equal(r.method, 'POST');
    assert.equal(r.path, '/in');
    assert.equal(r.headers['content-type'], 'application/json');
    assert.deepEqual(JSON.parse(r.body), { message: 'hello', host: 'web1', n: 3, nested: { a: [1, 2] }, '@timestamp': '2026-12-04T10:00:00.123Z', '@version': '1' });
    await out.close();
  });

  test('mapping: nested hashes and arrays of templates; numbers stay numbers; a missing field keeps its %{...}', async () => {
    const out = await make(`url => "${server.url}" http_method => "post" mapping => { "title" => "%{host}: %{[alert][event]}" "priority" => 8 "extras" => { "tags" => ["%{host}", "static"] "missing" => "%{nope}" } }`);
    await deliver(out, [ev({ host: 'web1', alert: { event: 'NodeDown' } })]);
    assert.deepEqual(JSON.parse(last().body), { title: 'web1: NodeDown', priority: 8, extras: { tags: ['web1', 'static'], missing: '%{nope}' } });
    await out.close();
  });

  test('a mapping key from the config named __proto__ stays a plain key', async () => {
    const out = await make(`url => "${server.url}" http_method => "post" mapping => { "__proto__" => "%{host}" }`);
    await deliver(out, [ev({ host: 'h' })]);
    assert.equal(last().body, '{"__proto__":"h"}');
    await out.close();
  });

  test('format json_batch: one request per batch, a JSON array in order; url and headers not rendered per event', async () => {
    const out = await make(`url => "${server.url}/batch" http_method => "post" format => "json_batch" mapping => { "m" => "%{message}" } headers => { "X-Host" => "%{host}" }`);
    const before = server.received.length;
    await deliver(out, [ev({ message: 'a', host: 'h1' }), ev({ message: 'b', host: 'h2' }), ev({ message: 'c' })]);
    assert.equal(server.received.length, before + 1);
    assert.deepEqual(JSON.parse(last().body), [{ m: 'a' }, { m: 'b' }, { m: 'c' }]);
    assert.equal(last().headers['x-host'], '%{host}');
    assert.equal(last().headers['content-type'], 'application/json');
    await out.close();
  });

  test('json_batch without mapping sends the events themselves', async () => {
    const out = await make(`url => "${server.url}" http_method => "put" format => "json_batch"`);
    await deliver(out, [ev({ message: 'x' }), ev({ message: 'y' })]);
    assert.deepEqual(
      (JSON.parse(last().body) as { message: string }[]).map((e) => e.message),
      ['x', 'y'],
    );
    assert.equal(last().method, 'PUT');
    await out.close();
  });

  test('format form: key=value&... escaped as CGI.escape; mapping or the whole event', async () => {
    const out = await make(`url => "${server.url}" http_method => "post" format => "form" mapping => { "text" => "%{message}" "who" => "a&b=c" }`);
    await deliver(out, [ev({ message: "50% off! (today) ~ok* it's" })]);
    assert.equal(last().headers['content-type'], 'application/x-www-form-urlencoded');
    assert.equal(last().body, "text=50%25+off%21+%28today%29+~ok%2A+it%27s&who=a%26b%3Dc");
    assert.equal(new URLSearchParams(last().body).get('text'), "50% off! (today) ~ok* it's");
    await out.close();
    const whole = await make(`url => "${server.url}" http_method => "post" format => "form"`);
    await deliver(whole, [ev({ message: 'm', list: ['a', 'b'], obj: { k: 1 } })]);
    const p = new URLSearchParams(last().body);
    assert.deepEqual([p.get('message'), p.get('list'), p.get('obj'), p.get('@timestamp')], ['m', 'a,b', '{"k":1}', '2026-12-04T10:00:00.123Z']);
    await whole.close();
    assert.equal(formEscape('a b~c.d-e_f'), 'a+b~c.d-e_f');
    assert.equal(encodeForm({ '@metadata': { x: 1 }, a: null }), 'a=');
  });

  test('format message: the message template is the body, text/plain', async () => {
    const out = await make(`url => "${server.url}" http_method => "post" format => "message" message => "%{host} says %{message}"`);
    await deliver(out, [ev({ host: 'web1', message: 'héllo ✓' })]);
    assert.equal(last().body, 'web1 says héllo ✓');
    assert.equal(last().headers['content-type'], 'text/plain');
    await out.close();
  });

  test('content_type overrides the default and a Content-Type among headers', async () => {
    const out = await make(`url => "${server.url}" http_method => "post" format => "message" message => "x" content_type => "text/markdown" headers => { "Content-Type" => "application/bogus" }`);
    await deliver(out, [ev({})]);
    assert.equal(last().headers['content-type'], 'text/markdown');
    await out.close();
    const dflt = await make(`url => "${server.url}" http_method => "post" headers => { "Content-Type" => "application/bogus" }`);
    await deliver(dflt, [ev({})]);
    assert.equal(last().headers['content-type'], 'application/json', 'as Logstash: the format default wins over headers');
    await dflt.close();
  });

  test('the refused combinations: message without format message, mapping with it, a missing message', async () => {
    await assert.rejects(make(`url => "${server.url}" http_method => "post" message => "x"`), /message is the body of format => message only/);
    await assert.rejects(make(`url => "${server.url}" http_method => "post" format => "message"`), /needs the 'message' option/);
    await assert.rejects(make(`url => "${server.url}" http_method => "post" format => "message" message => "x" mapping => { "a" => "b" }`), /mapping is not used with format => message/);
    await assert.rejects(make(`url => "${server.url}" http_method => "post" format => "xml"`), /must be one of 'json', 'json_batch', 'form', 'message'/);
  });
});

describe('http output: url, http_method, headers, credentials', () => {
  test('url is a template rendered per event (path and query)', async () => {
    const out = await make(`url => "${server.url}/topic/%{[alert][resource]}?sev=%{[alert][severity]}" http_method => "post"`);
    await deliver(out, [ev({ alert: { resource: 'web1', severity: 'critical' } }), ev({ alert: { resource: 'nas', severity: 'minor' } })]);
    assert.deepEqual(
      server.received.slice(-2).map((r) => r.path),
      ['/topic/web1?sev=critical', '/topic/nas?sev=minor'],
    );
    await out.close();
  });

  test('url: a static one must be http(s); a template must start like one; a rendered non-URL is dead-lettered', async () => {
    await assert.rejects(make(`url => "ftp://x/" http_method => "post"`), /must be an http:\/\/ or https:\/\/ URL/);
    await assert.rejects(make(`url => "not a url" http_method => "post"`), /is not a URL/);
    await assert.rejects(make(`url => "gopher://%{host}/" http_method => "post"`), /must start with http:\/\/ or https:\/\//);
    const ctx = ctxFor();
    const out = await make(`url => "%{[@metadata][target]}" http_method => "post"`, ctx);
    const good = ev({ n: 1 });
    good.metadata.target = `${server.url}/meta`;
    const bad = ev({ n: 2 });
    bad.metadata.target = 'mailto:root@localhost';
    await deliver(out, [bad, good]);
    assert.equal(last().path, '/meta');
    const dead = out.spool.deadLetters();
    assert.equal(dead.length, 1);
    assert.equal(dead[0]!.status, 'invalid_url');
    await out.close();
  });

  test('http_method: each of put, post, patch, delete, get, head reaches the server as that verb; others are refused', async () => {
    for (const m of ['put', 'post', 'patch', 'delete', 'get', 'head']) {
      const out = await make(`url => "${server.url}/m" http_method => "${m}"`);
      await deliver(out, [ev({ message: m })]);
      assert.equal(last().method, m.toUpperCase());
      if (m !== 'head') assert.equal(JSON.parse(last().body).message, m, 'the body goes with every verb, as in Logstash');
      await out.close();
    }
    await assert.rejects(make(`url => "${server.url}" http_method => "options"`), /must be one of 'put', 'post'/);
    await assert.rejects(make(`url => "${server.url}"`), /http_method/);
  });

  test('headers: templates per event; line breaks from data become spaces; UTF-8 goes out as UTF-8 bytes', async () => {
    const out = await make(`url => "${server.url}" http_method => "post" headers => { "Title" => "%{title}" "X-Static" => "one" "Tags" => ["a", "b"] }`);
    await deliver(out, [ev({ title: 'line1\r\nInjected: yes' }), ev({ title: 'Überwachung ⚠' })]);
    const [a, b] = server.received.slice(-2);
    assert.equal(a!.headers.title, 'line1  Injected: yes');
    assert.equal(a!.headers.injected, undefined);
    assert.equal(a!.headers['x-static'], 'one');
    assert.equal(a!.headers.tags, 'a,b');
    assert.equal(Buffer.from(b!.headers.title as string, 'latin1').toString('utf8'), 'Überwachung ⚠');
    assert.equal(headerValue('plain'), 'plain');
    await out.close();
    await assert.rejects(make(`url => "${server.url}" http_method => "post" headers => { "Bad Name" => "x" }`), /not a valid header name/);
    await assert.rejects(make(`url => "${server.url}" http_method => "post" headers => { "Content-Length" => "3" }`), /set by the output itself/);
  });

  test('user and password: Basic authentication on the first request; the password is redacted from dead letters', async () => {
    const echo = await TestServer.start({ handler: (r) => ({ status: 401, body: `bad credentials: ${String(r.headers.authorization)}` }) });
    const out = await make(`url => "${echo.url}" http_method => "post" user => "alerts" password => "s3cret pass"`);
    await deliver(out, [ev({})]);
    const auth = echo.attempts[0]!.headers.authorization!;
    assert.equal(auth, `Basic ${Buffer.from('alerts:s3cret pass').toString('base64')}`);
    const dead = out.spool.deadLetters();
    assert.equal(dead[0]!.status, '401');
    assert.equal(dead[0]!.message, 'bad credentials: Basic <redacted>');
    await out.close();
    await echo.stop();
    await assert.rejects(make(`url => "${server.url}" http_method => "post" user => "u"`), /without a password/);
    await assert.rejects(make(`url => "${server.url}" http_method => "post" password => "p"`), /password given without a user/);
  });

  test('secret header values (Authorization, *token*, *key*) are redacted from dead letters', async () => {
    const echo = await TestServer.start({ handler: (r) => ({ status: 403, body: `token ${String(r.headers['x-gotify-key'])} / ${String(r.headers.authorization)} refused` }) });
    const out = await make(`url => "${echo.url}" http_method => "post" headers => { "X-Gotify-Key" => "AbCdEf123456" "Authorization" => "Bearer syt_verysecret_token" }`);
    await deliver(out, [ev({})]);
    assert.equal(out.spool.deadLetters()[0]!.message, 'token <redacted> / <redacted> refused');
    await out.close();
    await echo.stop();
  });
});

describe('http output: answers and retries', () => {
  test('retryable_codes (default 429, 500, 502, 503, 504) are retried; other codes are dead-lettered with the answer', async () => {
    const s = await TestServer.start();
    const ctx = ctxFor();
    const out = await make(`url => "${s.url}" http_method => "post" format => "message" message => "%{message}"`, ctx);
    s.next({ status: 500 }, { status: 502 }, { status: 503 }, { status: 504 }, { status: 429 }, { status: 404, body: 'no such topic' });
    await out.receive([ev({ message: 'one' }), ev({ message: 'two' })]);
    await advance(ctx, out, 600_000, 5_000);
    // one: 500, 502, 503, 504, 429, then 404 dead-lettered; two: delivered
    assert.equal(s.attempts.length, 7);
    assert.deepEqual(
      s.attempts.map((r) => r.body),
      ['one', 'one', 'one', 'one', 'one', 'one', 'two'],
    );
    const dead = out.spool.deadLetters();
    assert.equal(dead.length, 1);
    assert.deepEqual([dead[0]!.status, dead[0]!.message, dead[0]!.payload], ['404', 'no such topic', '=one']);
    assert.equal(metric(ctx, 'retried'), 5);
    assert.equal(metric(ctx, 'delivered'), 1);
    await out.close();
    await s.stop();
  });

  test('retryable_codes set: 409 is retried, 500 no longer is', async () => {
    const s = await TestServer.start();
    const ctx = ctxFor();
    const out = await make(`url => "${s.url}" http_method => "post" retryable_codes => [409]`, ctx);
    s.next({ status: 409 }, { status: 200 }, { status: 500, body: 'boom' });
    await out.receive([ev({ n: 1 }), ev({ n: 2 })]);
    await advance(ctx, out, 60_000);
    assert.equal(s.attempts.length, 3);
    assert.equal(metric(ctx, 'delivered'), 1);
    assert.deepEqual(
      out.spool.deadLetters().map((d) => [d.status, d.message]),
      [['500', 'boom']],
    );
    await out.close();
    await s.stop();
    await assert.rejects(make(`url => "${s.url}" http_method => "post" retryable_codes => [99]`), /not an HTTP status code/);
  });

  test('ignorable_codes count as delivered', async () => {
    const s = await TestServer.start();
    const ctx = ctxFor();
    const out = await make(`url => "${s.url}" http_method => "post" ignorable_codes => [404, 409]`, ctx);
    s.next({ status: 404 }, { status: 409 }, { status: 410 });
    await out.receive([ev({ n: 1 }), ev({ n: 2 }), ev({ n: 3 })]);
    await advance(ctx, out, 10_000);
    assert.equal(metric(ctx, 'delivered'), 2);
    assert.equal(out.spool.deadLetters()[0]!.status, '410');
    await out.close();
    await s.stop();
  });

  test('retry_failed => false: a retryable answer or a refused connection is dead-lettered at once', async () => {
    const s = await TestServer.start();
    const ctx = ctxFor();
    const out = await make(`url => "${s.url}" http_method => "post" retry_failed => false`, ctx);
    s.next({ status: 503, body: 'maintenance' });
    await out.receive([ev({ n: 1 })]);
    await advance(ctx, out, 10_000);
    await s.down();
    await out.receive([ev({ n: 2 })]);
    await advance(ctx, out, 10_000);
    const dead = out.spool.deadLetters();
    assert.equal(dead[0]!.status, '503');
    assert.match(dead[1]!.status, /^ECONN(REFUSED|RESET)$/);
    assert.equal(dead[0]!.message, 'maintenance');
    assert.equal(metric(ctx, 'retried'), 0);
    assert.equal(s.attempts.length, 1);
    await out.close();
  });

  test('retry_max_attempts bounds a repeated 500; 429, 502-504 and a refused connection are retried without that bound', async () => {
    const s = await TestServer.start();
    const ctx = ctxFor();
    const out = await make(`url => "${s.url}" http_method => "post" retry_max_attempts => 3 retry_initial_interval => 1 retry_max_interval => 2`, ctx);
    s.next({ status: 500, body: 'e1' }, { status: 500, body: 'e2' }, { status: 500, body: 'e3' });
    s.next(...Array.from({ length: 6 }, () => ({ status: 503 })));
    await out.receive([ev({ n: 1 }), ev({ n: 2 })]);
    await advance(ctx, out, 120_000);
    const dead = out.spool.deadLetters();
    assert.deepEqual(
      dead.map((d) => [d.status, d.message]),
      [['500', 'e3']],
    );
    assert.equal(s.attempts.length, 3 + 6 + 1);
    assert.equal(metric(ctx, 'delivered'), 1);
    await out.close();
    await s.stop();
  });

  test('retry_initial_interval and retry_max_interval: the first retry comes after half to all of the initial interval, later ones at most the cap', async () => {
    const s = await TestServer.start();
    const ctx = ctxFor();
    const out = await make(`url => "${s.url}" http_method => "post" retry_initial_interval => 10 retry_max_interval => 20`, ctx);
    const at: number[] = [];
    s.handler = () => (at.push(ctx.clock.now()), { status: 503 });
    await out.receive([ev({})]);
    await advance(ctx, out, 90_000, 100);
    const gaps = at.slice(1).map((t, i) => t - at[i]!);
    assert.ok(gaps.length >= 4, `${gaps.length + 1} attempts`);
    assert.ok(gaps[0]! >= 5_000 && gaps[0]! <= 10_100, `first retry after ${gaps[0]} ms: half to all of retry_initial_interval`);
    for (const g of gaps.slice(1)) assert.ok(g >= 10_000 && g <= 20_100, `later retries after ${g} ms: half to all of retry_max_interval`);
    await out.close();
    await s.stop();
  });

  test('Retry-After on a 429 or a 503 is honoured (seconds or an HTTP date), within retry_max_interval', async () => {
    const s = await TestServer.start();
    const ctx = ctxFor();
    const out = await make(`url => "${s.url}" http_method => "post" retry_max_interval => 120`, ctx);
    s.next({ status: 429, headers: { 'Retry-After': '30' } });
    let answers = 0;
    // the second answer's date is made when it is sent: 90 s after that moment, on the output's clock
    s.handler = () => (answers++ === 0 ? { status: 503, headers: { 'Retry-After': new Date(ctx.clock.now() + 90_000).toUTCString() } } : undefined);
    await out.receive([ev({})]);
    await out.whenIdle();
    await advance(ctx, out, 29_000);
    assert.equal(s.attempts.length, 1, 'Retry-After 30: not yet');
    await advance(ctx, out, 2_000);
    assert.equal(s.attempts.length, 2);
    await advance(ctx, out, 85_000);
    assert.equal(s.attempts.length, 2, 'Retry-After as a date 90 s ahead: not yet');
    await advance(ctx, out, 10_000);
    assert.equal(s.attempts.length, 3);
    assert.equal(metric(ctx, 'delivered'), 1);
    await out.close();
    await s.stop();
  });
});

describe('http output: connections (automatic_retries, timeouts, keepalive, pool_max, compression)', () => {
  test('automatic_retries: a connection cut before the answer is resent at once for PUT; POST only with retry_non_idempotent', async () => {
    const s = await TestServer.start();
    const cases: [string, string, number][] = [
      ['put', '', 0],
      ['post', '', 1],
      ['post', 'retry_non_idempotent => true', 0],
      ['put', 'automatic_retries => 0', 1],
    ];
    for (const [method, extra, retried] of cases) {
      const ctx = ctxFor();
      const out = await make(`url => "${s.url}" http_method => "${method}" ${extra}`, ctx);
      s.next({ destroy: true });
      const before = s.attempts.length;
      await deliver(out, [ev({ method })]);
      assert.equal(metric(ctx, 'retried'), retried, `${method} ${extra}`);
      if (retried === 0) assert.equal(s.attempts.length, before + 2, 'resent at once, within one delivery attempt');
      await advance(ctx, out, 5_000);
      assert.equal(metric(ctx, 'delivered'), 1);
      await out.close();
    }
    await s.stop();
  });

  test('socket_timeout: a server that stays silent is given up on, and the request retried', async () => {
    const s = await TestServer.start();
    const ctx = ctxFor();
    const out = await make(`url => "${s.url}" http_method => "post" socket_timeout => 0.3`, ctx);
    s.next({ hang: true });
    await deliver(out, [ev({})]);
    assert.equal(metric(ctx, 'retried'), 1);
    await advance(ctx, out, 5_000);
    assert.equal(metric(ctx, 'delivered'), 1);
    await out.close();
    await s.stop();
  });

  test('request_timeout: an answer that trickles (never silent for socket_timeout) is cut at request_timeout', async () => {
    const trickle = net.createServer((sock) => {
      sock.once('data', () => {
        sock.write('HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n');
        const t = setInterval(() => sock.write('x'), 20);
        sock.on('close', () => clearInterval(t));
        sock.on('error', () => clearInterval(t));
      });
    });
    await new Promise<void>((r) => trickle.listen(0, '127.0.0.1', () => r()));
    const port = (trickle.address() as net.AddressInfo).port;
    const ctx = ctxFor();
    const out = await make(`url => "http://127.0.0.1:${port}" http_method => "post" request_timeout => 5 retry_initial_interval => 1000`, ctx);
    const p = out.receive([ev({})]);
    await p;
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(metric(ctx, 'retried'), 0, 'still receiving');
    ctx.clock.advance(5_000);
    await out.whenIdle();
    assert.equal(metric(ctx, 'retried'), 1);
    await out.close();
    await new Promise<void>((r) => trickle.close(() => r()));
  });

  test('connect_timeout: a TLS handshake that never completes is given up on at connect_timeout', async () => {
    const conns = new Set<net.Socket>();
    const silent = net.createServer((c) => void conns.add(c)); // accepts TCP, never speaks TLS
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()));
    const port = (silent.address() as net.AddressInfo).port;
    const ctx = ctxFor();
    const out = await make(`url => "https://127.0.0.1:${port}" http_method => "post" connect_timeout => 2 socket_timeout => 600 retry_initial_interval => 1000`, ctx);
    await out.receive([ev({})]);
    await new Promise((r) => setTimeout(r, 200));
    ctx.clock.advance(1_500);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(metric(ctx, 'retried'), 0);
    ctx.clock.advance(600);
    await out.whenIdle();
    assert.equal(metric(ctx, 'retried'), 1);
    await out.close();
    for (const c of conns) c.destroy();
    await new Promise<void>((r) => silent.close(() => r()));
  });

  test('keepalive: one connection for many requests; keepalive => false opens one per request', async () => {
    const s = await TestServer.start();
    const kept = await make(`url => "${s.url}" http_method => "post"`);
    const c0 = s.connections;
    for (let i = 0; i < 5; i++) await deliver(kept, [ev({ i })]);
    assert.equal(s.connections - c0, 1);
    await kept.close();
    const fresh = await make(`url => "${s.url}" http_method => "post" keepalive => false`);
    const c1 = s.connections;
    for (let i = 0; i < 5; i++) await deliver(fresh, [ev({ i })]);
    assert.equal(s.connections - c1, 5);
    await fresh.close();
    await s.stop();
  });

  test('pool_max: requests go one at a time, in order, so only 1 is accepted', async () => {
    await assert.rejects(make(`url => "${server.url}" http_method => "post" pool_max => 50`), /pool_max' must be from 1 to 1/);
    const out = await make(`url => "${server.url}" http_method => "post" pool_max => 1`);
    await out.close();
  });

  test('http_compression: the body is gzipped with Content-Encoding: gzip', async () => {
    const out = await make(`url => "${server.url}" http_method => "post" http_compression => true format => "message" message => "%{message}"`);
    await deliver(out, [ev({ message: 'z'.repeat(1000) })]);
    assert.equal(last().headers['content-encoding'], 'gzip');
    assert.ok(last().raw.length < 100, `sent ${last().raw.length} bytes`);
    assert.equal(last().body, 'z'.repeat(1000));
    await out.close();
  });
});

describe('http output: TLS', () => {
  let certs: string;
  before(() => {
    certs = mkdtempSync(join(tmpdir(), 'http-out-tls-'));
    for (const args of [['create-ca'], ['create-server', '--dns', 'localhost', '--ip', '127.0.0.1'], ['create-client', 'pipeline']])
      execFileSync(process.execPath, [BIN, 'certs', ...args, '--dir', certs], { stdio: 'pipe' });
  });
  after(() => rmSync(certs, { recursive: true, force: true }));
  const f = (n: string) => join(certs, n);
  const tls = (extra: object = {}) => ({ key: readFileSync(f('server.key')), cert: readFileSync(f('server.pem')), ...extra });

  test('ssl_certificate_authorities: the server is trusted through the CA; without it the request fails and stays spooled', async () => {
    const s = await TestServer.start({ tls: tls() });
    const ok = await make(`url => "${s.url}" http_method => "post" ssl_certificate_authorities => ["${f('ca.pem')}"]`);
    await deliver(ok, [ev({ m: 1 })]);
    assert.equal(s.received.length, 1);
    await ok.close();
    const ctx = ctxFor();
    const untrusted = await make(`url => "${s.url}" http_method => "post"`, ctx);
    await deliver(untrusted, [ev({ m: 2 })]);
    assert.equal(s.received.length, 1);
    assert.equal(untrusted.spool.depth, 1);
    assert.equal(metric(ctx, 'retried'), 1);
    await untrusted.close();
    await s.stop();
  });

  test('ssl_verification_mode => none accepts a certificate nobody vouches for', async () => {
    const s = await TestServer.start({ tls: tls() });
    const out = await make(`url => "${s.url}" http_method => "post" ssl_verification_mode => "none"`);
    await deliver(out, [ev({})]);
    assert.equal(s.received.length, 1);
    await out.close();
    await s.stop();
  });

  test('ssl_certificate and ssl_key: the client certificate a server requires', async () => {
    const s = await TestServer.start({ tls: tls({ ca: readFileSync(f('ca.pem')), requestCert: true, rejectUnauthorized: true }) });
    const ctx = ctxFor();
    const without = await make(`url => "${s.url}" http_method => "post" ssl_certificate_authorities => ["${f('ca.pem')}"]`, ctx);
    await deliver(without, [ev({})]);
    assert.equal(s.received.length, 0);
    assert.equal(metric(ctx, 'retried'), 1);
    await without.close();
    const out = await make(`url => "${s.url}" http_method => "post" ssl_certificate_authorities => ["${f('ca.pem')}"] ssl_certificate => "${f('pipeline.pem')}" ssl_key => "${f('pipeline.key')}"`);
    await deliver(out, [ev({})]);
    assert.equal(s.received.length, 1);
    await out.close();
    await s.stop();
    await assert.rejects(make(`url => "${s.url}" http_method => "post" ssl_certificate => "${f('pipeline.pem')}"`), /both ssl_certificate and ssl_key/);
  });

  test('ssl_supported_protocols limits the TLS versions offered', async () => {
    const s = await TestServer.start({ tls: tls({ maxVersion: 'TLSv1.2' }) });
    const ctx = ctxFor();
    const only13 = await make(`url => "${s.url}" http_method => "post" ssl_verification_mode => "none" ssl_supported_protocols => ["TLSv1.3"]`, ctx);
    await deliver(only13, [ev({})]);
    assert.equal(s.received.length, 0);
    assert.equal(metric(ctx, 'retried'), 1);
    await only13.close();
    const with12 = await make(`url => "${s.url}" http_method => "post" ssl_verification_mode => "none" ssl_supported_protocols => ["TLSv1.2", "TLSv1.3"]`);
    await deliver(with12, [ev({})]);
    assert.equal(s.received.length, 1);
    await with12.close();
    await s.stop();
    await assert.rejects(make(`url => "${s.url}" http_method => "post" ssl_supported_protocols => ["SSLv3"]`), /'SSLv3' is not one of/);
  });
});

describe('http output: the spool options', () => {
  test('spool_path names the spool file; a restart delivers what it holds', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'http-out-spool-'));
    const path = join(dir, 'my.sqlite');
    const s = await TestServer.start();
    await s.down();
    const ctx = ctxFor();
    let out = await make(`url => "${s.url}" http_method => "post" spool_path => "${path}"`, ctx);
    await deliver(out, [ev({ n: 1 }), ev({ n: 2 })]);
    assert.ok(existsSync(path));
    await out.close();
    await s.up();
    out = await make(`url => "${s.url}" http_method => "post" spool_path => "${path}"`, ctxFor());
    await s.waitFor(2);
    assert.deepEqual(
      s.bodies().map((b) => JSON.parse(b).n),
      [1, 2],
    );
    await out.close();
    await s.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('spool_max_age drops requests that waited too long; spool_max_bytes the oldest beyond the cap (counted as dropped)', async () => {
    const s = await TestServer.start();
    await s.down();
    const ctx = ctxFor();
    const out = await make(`url => "${s.url}" http_method => "post" format => "message" message => "%{n}" spool_max_age => 3600`, ctx);
    await out.receive([ev({ n: 'old1' }), ev({ n: 'old2' })]);
    await advance(ctx, out, 2 * 3_600_000, 60_000);
    await out.receive([ev({ n: 'new' })]);
    await s.up();
    await advance(ctx, out, 120_000);
    assert.deepEqual(s.bodies(), ['new']);
    assert.equal(metric(ctx, 'dropped'), 2);
    await out.close();
    await s.down();
    const ctx2 = ctxFor();
    const capped = await make(`url => "${s.url}" http_method => "post" format => "message" message => "%{n}" spool_max_bytes => 100`, ctx2);
    await capped.receive(Array.from({ length: 20 }, (_, i) => ev({ n: `message-${String(i).padStart(2, '0')}` })));
    await advance(ctx2, capped, 5_000);
    await s.up();
    await advance(ctx2, capped, 120_000);
    const got = s.bodies().slice(1);
    assert.ok(got.length > 0 && got.length < 20, `${got.length} delivered`);
    assert.equal(got.at(-1), 'message-19', 'the newest are kept');
    assert.equal(metric(ctx2, 'dropped') + got.length, 20);
    await capped.close();
    await s.stop();
  });
});
