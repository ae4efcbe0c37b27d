import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { describe, it } from 'node:test';
import { runCommand, start, waitFor } from '@pipeline/net/testing';
import jsonLines from '@pipeline/codec-json_lines';
import udp from '../src/index.js';

function sendDatagrams(port: number, msgs: (string | Buffer)[]): Promise<void> {
  const s = dgram.createSocket('udp4');
  return new Promise((resolve) => {
    let left = msgs.length;
    for (const m of msgs) s.send(m, port, '127.0.0.1', () => --left === 0 && (s.close(), resolve()));
  });
}

describe('udp input', () => {
  it('receives logger datagrams (RFC 5424 and 3164) as one event each, with host (no port field, as Logstash)', async () => {
    const t = await start(udp, 'port => 0 host => "127.0.0.1"');
    try {
      const P = String(t.port);
      for (const args of [['-d', '-t', 'benchtest', 'hello udp'], ['-d', '--rfc3164', '-t', 'benchtest', 'hello udp 3164']]) {
        const r = await runCommand('logger', ['-n', '127.0.0.1', '-P', P, ...args]);
        assert.equal(r.code, 0, r.stderr);
      }
      await waitFor(() => t.sink.events.length === 2, '2 events');
      const [a, b] = t.sink.events;
      assert.match(a!.get('message') as string, /^<13>1 \S+ \S+ benchtest - - \[timeQuality[^\]]*\] hello udp$/);
      assert.match(b!.get('message') as string, /^<13>[A-Z][a-z]{2} [ \d]\d [\d:]{8} \S+ benchtest: hello udp 3164$/);
      assert.equal(a!.get('host'), '127.0.0.1');
      assert.equal(a!.get('port'), undefined);
      assert.deepEqual(Object.keys(a!.fields).sort(), ['@timestamp', '@version', 'host', 'message']);
      assert.equal(t.metric('events'), 2);
    } finally {
      await t.stop();
    }
  });

  it('strips one trailing newline, keeps NULs, replaces invalid UTF-8, honours source_ip_fieldname', async () => {
    const t = await start(udp, 'port => 0 host => "127.0.0.1" source_ip_fieldname => "src"');
    try {
      await sendDatagrams(t.port, ['with newline\n', Buffer.from([0x61, 0x00, 0xff, 0x0d, 0x0a])]);
      await waitFor(() => t.sink.events.length === 2, '2 events');
      const msgs = t.sink.events.map((e) => e.get('message')).sort();
      assert.deepEqual(msgs, ['a\u0000\ufffd', 'with newline']);
      assert.equal(t.sink.events[0]!.get('src'), '127.0.0.1');
      assert.equal(t.sink.events[0]!.get('host'), undefined);
    } finally {
      await t.stop();
    }
  });

  it('decodes each datagram with the configured codec, one decoder for the socket, nothing carried between datagrams', async () => {
    const t = await start(udp, 'port => 0 host => "127.0.0.1" source_ip_fieldname => "[src][ip]"', { codecDef: jsonLines, codecOptions: { delimiter: '\n', charset: 'UTF-8' } });
    try {
      // the first datagram ends in the middle of a line: flush makes it an event of its own
      await sendDatagrams(t.port, ['{"a":1}\n{"b":2}\n', '{"c":', '{"d":4}\n', '{"src":{"ip":"sender-said"}}\n']);
      await waitFor(() => t.sink.events.length === 5, '5 events');
      const own = t.sink.events.find((e) => e.get('[src][ip]') === 'sender-said');
      assert.ok(own, 'a decoded event that has the field keeps it (Logstash sets it only when missing)');
      t.sink.events.splice(t.sink.events.indexOf(own), 1);
      const byKey = (k: string) => t.sink.events.find((e) => e.get(k) !== undefined);
      assert.equal(byKey('a')!.get('a'), 1);
      assert.equal(byKey('b')!.get('b'), 2);
      assert.equal(byKey('d')!.get('d'), 4, 'the cut datagram did not swallow the next one');
      const broken = t.sink.events.find((e) => e.hasTag('_jsonparsefailure'));
      assert.equal(broken?.get('message'), '{"c":');
      for (const e of t.sink.events) {
        assert.equal(e.get('[src][ip]'), '127.0.0.1');
        assert.equal(e.get('port'), undefined);
      }
    } finally {
      await t.stop();
    }
  });

  it('counts datagrams dropped while the queue is full, and reads the kernel drop counter', async () => {
    const t = await start(udp, 'port => 0 host => "127.0.0.1" receive_buffer_bytes => 1048576');
    try {
      t.sink.setWritable(false);
      await sendDatagrams(t.port, Array.from({ length: 50 }, (_, i) => `dropped ${i}`));
      await waitFor(() => t.metric('drops') === 50, '50 drops');
      t.sink.setWritable(true);
      await sendDatagrams(t.port, ['kept']);
      await waitFor(() => t.sink.events.length === 1, 'the kept datagram');
      const server = (t.input as unknown as { server: { readKernelDrops(): number } }).server;
      assert.equal(server.readKernelDrops(), 0);
      assert.ok(!t.logs.some((l) => /receive buffer smaller/.test(String(l.msg))), 'a 1 MiB buffer is granted here');
    } finally {
      await t.stop();
    }
  });

  it('cuts a datagram longer than buffer_size and counts it', async () => {
    const t = await start(udp, 'port => 0 host => "127.0.0.1" buffer_size => 10');
    try {
      await sendDatagrams(t.port, ['0123456789abcdef']);
      await waitFor(() => t.sink.events.length === 1, 'an event');
      assert.equal(t.sink.events[0]!.get('message'), '0123456789');
      assert.equal(t.metric('oversize_lines'), 1);
    } finally {
      await t.stop();
    }
  });
});
