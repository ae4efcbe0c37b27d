import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, describe, it } from 'node:test';
import tls from 'node:tls';
import pino from 'pino';
import json from '@pipeline/codec-json';
import plain from '@pipeline/codec-plain';
import { Event, Timestamp, type OutputInstance, type PendingWrite } from '@pipeline/core';
import { createPlugin, makeContext, optionsFromConfig, type TestContext } from '@pipeline/core/testing';
import output, { isPlainWithoutFormat, messageText, rstrip } from '../src/index.js';
import { makeCerts, tempDir } from './util.js';

/** A TCP (or TLS) server that keeps what it reads. */
async function tcpPeer(secure?: tls.TlsOptions): Promise<{ port: number; text: () => string; close(): Promise<void> }> {
  let text = '';
  const sockets: net.Socket[] = [];
  const onSocket = (s: net.Socket) => {
    sockets.push(s);
    s.setEncoding('utf8').on('data', (d: string) => (text += d));
    s.on('end', () => s.end());
    s.on('error', () => {});
  };
  const server = secure ? tls.createServer(secure, onSocket) : net.createServer(onSocket);
  server.on('tlsClientError', () => {});
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    port: (server.address() as net.AddressInfo).port,
    text: () => text,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

const TS = Timestamp.parse('2026-03-04T05:06:07.089Z');
const ev = (fields: Record<string, unknown> = {}) => new Event({ message: 'bar', host: 'baz', ...fields }, TS);
const R3164 = '<PRI>Mar 04 05:06:07';
const R5424 = '<PRI>1 2026-03-04T05:06:07.089+00:00';

function recording(): { ctx: TestContext; records: Record<string, unknown>[] } {
  const records: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk, _e, cb) {
      for (const l of String(chunk).split('\n')) if (l) records.push(JSON.parse(l));
      cb();
    },
  });
  return { ctx: makeContext({ logger: pino({ level: 'debug' }, stream) }), records };
}

describe('syslog output: the messages (over TCP to a real socket)', () => {
  const opened: OutputInstance[] = [];
  after(async () => {
    for (const o of opened) await o.close?.();
  });

  /** What the output writes for `events` with the options `body` (protocol tcp added). */
  async function sent(body: string, events: Event[] = [ev()], ctx: TestContext = makeContext()): Promise<string> {
    const p = await tcpPeer();
    const o = await createPlugin(output, `host => "127.0.0.1" port => ${p.port} protocol => "tcp" ${body}`, ctx);
    await ((await o.receive(events)) as PendingWrite).written;
    await o.close?.();
    await p.close();
    return p.text();
  }
  const pri = (head: string, n: number) => head.replace('PRI', String(n));

  it('RFC 3164 by default: <PRI>Mmm dd HH:mm:ss HOST APP[PROCID]: MSG, in UTC, facility user-level and severity notice (13)', async () => {
    assert.equal(await sent(''), `${pri(R3164, 13)} baz LOGSTASH[-]: bar\n`);
  });

  it("Logstash's spec examples: kernel/emergency is 0, mail/critical 18", async () => {
    assert.equal(await sent('facility => "kernel" severity => "emergency"'), `${pri(R3164, 0)} baz LOGSTASH[-]: bar\n`);
    assert.equal(await sent('facility => "mail" severity => "critical"'), `${pri(R3164, 18)} baz LOGSTASH[-]: bar\n`);
    assert.equal(await sent('rfc => "rfc5424" facility => "kernel" severity => "emergency"'), `${pri(R5424, 0)} baz LOGSTASH - - - bar\n`);
  });

  it('RFC 5424: <PRI>1 TIMESTAMP HOST APP PROCID MSGID SD MSG', async () => {
    assert.equal(
      await sent('rfc => "rfc5424" appname => "app" procid => "42" msgid => "ID7" structured_data => \'[ex@32473 iut="3"][p@32473 class="high"]\''),
      `${pri(R5424, 13)} baz app 42 ID7 [ex@32473 iut="3"][p@32473 class="high"] bar\n`,
    );
  });

  it('each event has its own time, across seconds and back in time (UTC, milliseconds in RFC 5424)', async () => {
    const at = (iso: string) => new Event({ message: 'bar', host: 'baz' }, Timestamp.parse(iso));
    const es = [at('2026-03-04T05:06:07.999Z'), at('2026-03-04T05:06:08.000Z'), at('2026-03-04T05:06:07.005Z'), at('2025-12-31T23:59:59.5Z')];
    const lines = (await sent('rfc => "rfc5424"', es)).split('\n').slice(0, -1);
    assert.deepEqual(
      lines.map((l) => l.split(' ')[1]),
      ['2026-03-04T05:06:07.999+00:00', '2026-03-04T05:06:08.000+00:00', '2026-03-04T05:06:07.005+00:00', '2025-12-31T23:59:59.500+00:00'],
    );
    const old = (await sent('', es)).split('\n').slice(0, -1);
    assert.deepEqual(
      old.map((l) => l.slice(4, 19)),
      ['Mar 04 05:06:07', 'Mar 04 05:06:08', 'Mar 04 05:06:07', 'Dec 31 23:59:59'],
    );
  });

  it('facility, severity, appname, procid, msgid, sourcehost and structured_data are sprintf templates', async () => {
    const e = ev({ facility: 'mail', severity: 'critical', appname: 'appname', procid: '1000', msgid: '2000', src: 'web1', pod: 'mypod' });
    const common = 'facility => "%{facility}" severity => "%{severity}" appname => "%{appname}" procid => "%{procid}" sourcehost => "%{src}"';
    assert.equal(await sent(common, [e]), `${pri(R3164, 18)} web1 appname[1000]: bar\n`);
    assert.equal(
      await sent(`${common} rfc => "rfc5424" msgid => "%{msgid}" structured_data => '[ex@32473 pod="%{pod}"]'`, [e]),
      `${pri(R5424, 18)} web1 appname 1000 2000 [ex@32473 pod="mypod"] bar\n`,
    );
  });

  it('labels: case-insensitive, the syslog input\'s labels and the usual short names and codes too; an unknown one gives Logstash\'s fallback', async () => {
    const cases: [Record<string, unknown>, number][] = [
      [{ f: 'local7', s: 'debug' }, 23 * 8 + 7],
      [{ f: 'LOCAL0', s: 'Informational' }, 16 * 8 + 6],
      [{ f: 'system', s: 'Warning' }, 3 * 8 + 4],
      [{ f: 'authpriv', s: 'err' }, 10 * 8 + 3],
      [{ f: 'security/authorization', s: 'alert' }, 4 * 8 + 1],
      [{ f: 'log alert', s: 'crit' }, 14 * 8 + 2],
      [{ f: 20, s: 2 }, 20 * 8 + 2],
      [{ f: 'nonsense', s: 'warning' }, 1 * 8 + 4],
      [{ f: 'mail', s: 'loud' }, 2 * 8 + 5],
      [{}, 13],
    ];
    const text = await sent('facility => "%{f}" severity => "%{s}"', cases.map(([f]) => ev(f)));
    assert.deepEqual(
      text.split('\n').slice(0, -1).map((l) => Number(/^<(\d+)>/.exec(l)![1])),
      cases.map(([, p]) => p),
    );
  });

  it('use_labels => false takes the priority from `priority` (default %{syslog_pri}); not a number 0..191 gives 13', async () => {
    const es = [ev({ syslog_pri: '18' }), ev({ syslog_pri: 191 }), ev({ syslog_pri: 192 }), ev({ syslog_pri: 'x' }), ev()];
    const text = await sent('use_labels => false facility => "kernel"', es);
    assert.deepEqual(text.split('\n').slice(0, -1).map((l) => /^<(\d+)>/.exec(l)![1]), ['18', '191', '13', '13', '13']);
    assert.match(await sent('use_labels => false priority => "%{p}"', [ev({ p: 34 })]), /^<34>/);
  });

  it('the message: `message` (default %{message}), trailing blanks cut, CRLF and LF sent as \\n under LF framing', async () => {
    assert.equal(await sent('message => "%{host} said %{message}"'), `${pri(R3164, 13)} baz LOGSTASH[-]: baz said bar\n`);
    assert.equal(await sent('', [ev({ message: 'foo\r\nbar\nbaz \t\r\n' })]), `${pri(R3164, 13)} baz LOGSTASH[-]: foo\\nbar\\nbaz\n`);
    assert.equal(await sent('', [ev({ message: undefined })]), `${pri(R3164, 13)} baz LOGSTASH[-]: %{message}\n`);
    assert.equal(rstrip('a \u0000\t\n\u000b\f\r '), 'a');
    assert.equal(rstrip(' '.repeat(100_000) + 'x'), ' '.repeat(100_000) + 'x');
    assert.equal(messageText('a\nb', true), 'a\nb');
  });

  it('framing => "octet-counted": LENGTH SP MESSAGE, the length in bytes, line breaks kept', async () => {
    const text = await sent('framing => "octet-counted"', [ev({ message: 'zürich\nline two' }), ev({ message: 'x' })]);
    const first = `${pri(R3164, 13)} baz LOGSTASH[-]: zürich\nline two`;
    const second = `${pri(R3164, 13)} baz LOGSTASH[-]: x`;
    assert.equal(text, `${Buffer.byteLength(first)} ${first}${Buffer.byteLength(second)} ${second}`);
  });

  it('header fields from events cannot break the header: spaces and control characters become _, empty becomes -, RFC 5424 lengths are kept', async () => {
    const e = ev({ app: 'my app\n', pid: '', src: 'web 1' });
    assert.equal(await sent('appname => "%{app}" procid => "%{pid}" sourcehost => "%{src}"', [e]), `${pri(R3164, 13)} web_1 my_app_[-]: bar\n`);
    const long = ev({ app: 'a'.repeat(60), mid: 'm'.repeat(40) });
    assert.equal(await sent('rfc => "rfc5424" appname => "%{app}" msgid => "%{mid}"', [long]), `${pri(R5424, 13)} baz ${'a'.repeat(48)} - ${'m'.repeat(32)} - bar\n`);
    assert.equal(await sent('rfc => "rfc5424" structured_data => "%{sd}"', [ev({ sd: '[a@1 x="1"]\n[b@1]' })]), `${pri(R5424, 13)} baz LOGSTASH - - [a@1 x="1"] [b@1] bar\n`);
  });

  it('a plain codec with a format encodes the message (as Logstash: `message` is then not used); other codecs too', async () => {
    const withFormat = makeContext({ codecDef: plain, codecOptions: optionsFromConfig(plain, 'format => "%{host} %{message}"') });
    assert.equal(await sent('message => "unused"', [ev()], withFormat), `${pri(R3164, 13)} baz LOGSTASH[-]: baz bar\n`);
    const asJson = makeContext({ codecDef: json, codecOptions: optionsFromConfig(json, '') });
    const line = await sent('', [ev()], asJson);
    const doc = JSON.parse(/LOGSTASH\[-\]: (.*)\n$/.exec(line)![1]!);
    assert.equal(doc.message, 'bar');
    assert.equal(doc.host, 'baz');
    assert.equal(doc['@timestamp'], '2026-03-04T05:06:07.089Z');
    const bare = makeContext({ codecDef: plain, codecOptions: optionsFromConfig(plain, '') });
    assert.equal(isPlainWithoutFormat(bare.codec, bare.codec.create()), true);
    assert.equal(isPlainWithoutFormat(withFormat.codec, withFormat.codec.create()), false);
  });

  it('over UDP (the default protocol): one datagram per message, LF-terminated as Logstash sends it', async () => {
    const s = dgram.createSocket('udp4');
    const got: string[] = [];
    s.on('message', (m) => got.push(m.toString()));
    await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
    const ctx = makeContext();
    const o = await createPlugin(output, `host => "127.0.0.1" port => ${s.address().port}`, ctx);
    await o.receive([ev({ message: 'one' }), ev({ message: 'two\nlines' })]);
    assert.equal(ctx.metrics.counter('datagrams_sent').value, 2);
    const t0 = Date.now();
    while (got.length < 2 && Date.now() - t0 < 10_000) await new Promise((r) => setTimeout(r, 5));
    assert.deepEqual(got.sort(), [`${pri(R3164, 13)} baz LOGSTASH[-]: one\n`, `${pri(R3164, 13)} baz LOGSTASH[-]: two\\nlines\n`]);
    await o.close?.();
    s.close();
  });
});

describe('syslog output: TLS', () => {
  const { dir, cleanup } = tempDir();
  after(cleanup);
  const c = makeCerts(dir);
  const serverTls = { cert: readFileSync(c.cert), key: readFileSync(c.key) };

  it('ssl-tcp with ssl_verify => true checks the server against ssl_cacert', async () => {
    const p = await tcpPeer(serverTls);
    const o = await createPlugin(output, `host => "127.0.0.1" port => ${p.port} protocol => "ssl-tcp" ssl_verify => true ssl_cacert => "${c.ca}"`, makeContext());
    await ((await o.receive([ev()])) as PendingWrite).written;
    await o.close?.();
    await p.close();
    assert.equal(p.text(), `<13>Mar 04 05:06:07 baz LOGSTASH[-]: bar\n`);
  });

  it('ssl_verify => true refuses a server no CA vouches for; false (the default, as Logstash) accepts it, with a warning', async () => {
    const p = await tcpPeer(serverTls);
    const { ctx } = recording();
    const strict = await createPlugin(output, `host => "127.0.0.1" port => ${p.port} protocol => "ssl-tcp" ssl_verify => true`, ctx);
    void strict.receive([ev({ message: 'never' })]);
    const t0 = Date.now();
    while (ctx.metrics.counter('connect_failures').value === 0 && Date.now() - t0 < 10_000) await new Promise((r) => setTimeout(r, 5));
    assert.equal(ctx.metrics.counter('connect_failures').value, 1);
    const lax = recording();
    const o = await createPlugin(output, `host => "127.0.0.1" port => ${p.port} protocol => "ssl-tcp"`, lax.ctx);
    assert.ok(lax.records.some((r) => String(r.msg).includes('ssl_verify is false')));
    await ((await o.receive([ev()])) as PendingWrite).written;
    await o.close?.();
    await p.close();
    assert.equal(p.text(), `<13>Mar 04 05:06:07 baz LOGSTASH[-]: bar\n`);
  });
});

describe('syslog output: options', () => {
  const create = (body: string, ctx = makeContext()) => createPlugin(output, `host => "h" port => 514 ${body}`, ctx);

  it("Logstash's defaults", () => {
    const o = optionsFromConfig(output, 'host => "h" port => 514');
    assert.deepEqual(
      [o.protocol, o.rfc, o.facility, o.severity, o.use_labels, o.priority, o.sourcehost, o.appname, o.procid, o.msgid, o.message, o.reconnect_interval, o.ssl_verify],
      ['udp', 'rfc3164', 'user-level', 'notice', true, '%{syslog_pri}', '%{host}', 'LOGSTASH', '-', '-', '%{message}', 1, false],
    );
    assert.equal(output.defaultCodec, 'plain');
    assert.throws(() => optionsFromConfig(output, 'port => 514'), /missing required option 'host'/);
    assert.throws(() => optionsFromConfig(output, 'host => "h"'), /missing required option 'port'/);
    assert.throws(() => optionsFromConfig(output, 'host => "h" port => 514 protocol => "tls"'), /must be one of 'udp', 'tcp', 'ssl-tcp'/);
    assert.throws(() => optionsFromConfig(output, 'host => "h" port => 514 rfc => "rfc5425"'), /must be one of 'rfc3164', 'rfc5424'/);
  });

  it('refuses at load what cannot work: structured data in RFC 3164, framing over UDP, a fixed label that is not one', async () => {
    await assert.rejects(() => create('structured_data => "[a@1]"'), /structured_data needs rfc => "rfc5424"/);
    await assert.rejects(() => create('framing => "octet-counted"'), /framing is for TCP and TLS/);
    await assert.rejects(() => create('facility => "locl0"'), /facility 'locl0' is not a facility label \(did you mean 'local0'\?\)/);
    await assert.rejects(() => create('severity => "warnig"'), /severity 'warnig' is not a severity label \(did you mean 'warning'\?\)/);
    // not checked when the priority comes from `priority`
    await (await create('use_labels => false facility => "whatever"')).close?.();
    await assert.rejects(() => create(`protocol => "ssl-tcp" ssl_cacert => "/nonexistent/ca.pem"`), /cannot read ssl_certificate_authorities \/nonexistent\/ca\.pem/);
  });

  it('logs ssl_* options that protocol does not use, as Logstash', async () => {
    const { ctx, records } = recording();
    const o = await create('protocol => "tcp" ssl_verify => true ssl_cacert => "/etc/ssl/certs/ca-certificates.crt"', ctx);
    const w = records.find((r) => String(r.msg).startsWith('ssl_* options are not used'));
    assert.deepEqual(w?.options, ['ssl_certificate_authorities', 'ssl_verify']);
    await o.close?.();
  });
});
