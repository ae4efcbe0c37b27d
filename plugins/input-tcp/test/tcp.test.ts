import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { completeCodec, Event, type CodecFactory } from '@pipeline/core';
import tcp from '../src/index.js';
import { runCommand } from '@pipeline/net/testing';
import { connect, sendAndClose, start, waitFor } from './helpers.js';

const HOST = /^127\.0\.0\.1$/;
/** What the system resolver names 127.0.0.1 (/etc/hosts on Debian, CI included). */
const LOCALHOST = 'localhost';

describe('tcp input with util-linux logger', () => {
  it('receives RFC 3164, RFC 5424 and octet-counted messages with host (the sender named, as by default) and port', async () => {
    const t = await start(tcp, 'port => 0 host => "127.0.0.1"');
    try {
      const P = String(t.port);
      for (const args of [
        ['--tcp', '--rfc3164', '-t', 'benchtest', 'hello 3164'],
        ['--tcp', '-t', 'benchtest', 'hello 5424'],
        ['--tcp', '--octet-count', '-t', 'benchtest', 'hello octet'],
        ['--tcp', '--octet-count', '-t', 'benchtest', 'multi\nline'],
      ]) {
        const r = await runCommand('logger', ['-n', '127.0.0.1', '-P', P, ...args]);
        assert.equal(r.code, 0, r.stderr);
      }
      await waitFor(() => t.sink.events.length >= 4, '4 events');
      const msgs = t.sink.events.map((e) => e.get('message') as string);
      assert.match(msgs[0]!, /^<13>[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d \S+ benchtest: hello 3164$/);
      assert.match(msgs[1]!, /^<13>1 \S+ \S+ benchtest - - \[timeQuality[^\]]*\] hello 5424$/);
      assert.match(msgs[2]!, /^<13>1 \S+ \S+ benchtest - - \[timeQuality[^\]]*\] hello octet$/);
      assert.match(msgs[3]!, /benchtest - - \[timeQuality[^\]]*\] multi\nline$/, 'an LF inside an octet-counted frame stays in the message');
      for (const e of t.sink.events) {
        assert.equal(e.get('host'), LOCALHOST);
        assert.match(e.get('[@metadata][ip_address]') as string, HOST);
        assert.equal(typeof e.get('port'), 'number');
      }
      assert.equal(t.metric('events'), 4);
      assert.equal(t.metric('connections_total'), 4);
      await waitFor(() => t.metric('connections_open') === 0, 'connections to close');
      assert.ok(t.metric('bytes') > 100);
      assert.equal(t.sink.events.length, 4, 'every line arrives once');
    } finally {
      await t.stop();
    }
  });

  it('logger -f sends a file line by line; a last line without LF arrives at disconnect', async () => {
    const t = await start(tcp, 'port => 0 host => "127.0.0.1"');
    try {
      await sendAndClose(t.port, 'one\r\ntwo\nthree');
      await waitFor(() => t.sink.events.length === 3, '3 events');
      assert.deepEqual(t.sink.events.map((e) => e.get('message')), ['one', 'two', 'three']);
    } finally {
      await t.stop();
    }
  });
});

describe('tcp input limits and back-pressure', () => {
  it('pauses the socket while the queue is full and loses nothing when it drains', async () => {
    const t = await start(tcp, 'port => 0 host => "127.0.0.1"');
    try {
      t.sink.setWritable(false);
      const lines = Array.from({ length: 200_000 }, (_, i) => `line ${i}`).join('\n') + '\n';
      const s = await connect(t.port);
      s.end(lines);
      await waitFor(() => t.metric('backpressure_pauses') >= 1, 'a pause');
      const seen = t.sink.events.length;
      await new Promise((r) => setTimeout(r, 100));
      assert.equal(t.sink.events.length, seen, 'nothing is read while paused');
      assert.ok(seen < 200_000);
      t.sink.setWritable(true);
      await waitFor(() => t.sink.events.length === 200_000, 'all lines after resuming');
      assert.equal(t.sink.events[199_999]!.get('message'), 'line 199999');
    } finally {
      await t.stop();
    }
  });

  it('closes idle connections after idle_timeout (virtual clock) and keeps the active ones', async () => {
    const t = await start(tcp, 'port => 0 host => "127.0.0.1" idle_timeout => 60');
    try {
      const idle = await connect(t.port);
      const active = await connect(t.port);
      const closed = new Promise<void>((r) => idle.once('close', () => r()));
      idle.write('partial without newline');
      await waitFor(() => t.metric('bytes') >= 23, 'bytes of the idle client');
      t.ctx.clock.advance(40_000);
      active.write('still here\n');
      await waitFor(() => t.sink.events.length === 1, 'the active line');
      t.ctx.clock.advance(30_000);
      await closed;
      assert.equal(t.metric('connections_idle_closed'), 1);
      await waitFor(() => t.sink.events.length === 2, 'the idle partial line');
      assert.deepEqual(t.sink.events.map((e) => e.get('message')).sort(), ['partial without newline', 'still here']);
      assert.equal(active.destroyed, false);
      active.destroy();
    } finally {
      await t.stop();
    }
  });

  it('refuses connections beyond max_connections and counts them', async () => {
    const t = await start(tcp, 'port => 0 host => "127.0.0.1" max_connections => 3');
    try {
      const socks = await Promise.all(Array.from({ length: 5 }, () => connect(t.port)));
      await waitFor(() => t.metric('connections_refused') === 2, '2 refusals');
      assert.equal(t.metric('connections_open'), 3);
      for (const s of socks) s.destroy();
      await waitFor(() => t.metric('connections_open') === 0, 'all closed');
      await sendAndClose(t.port, 'after\n');
      await waitFor(() => t.sink.events.length === 1, 'a new connection to be served');
    } finally {
      await t.stop();
    }
  });

  it('hands the bytes to a configured codec other than line/plain, still adding host and port', async () => {
    // a stand-in codec (the codec packages are tested on their own): one event per chunk
    const codec: CodecFactory = {
      name: 'upper',
      create: () =>
        completeCodec({
          decode: (d, emit) => emit(new Event({ message: String(d).toUpperCase() })),
          flush: () => {},
          encode: () => '',
        }),
    };
    const t = await start(tcp, 'port => 0 host => "127.0.0.1" dns_reverse_lookup_enabled => false', { codec });
    try {
      await sendAndClose(t.port, 'abc');
      await waitFor(() => t.sink.events.length === 1, 'an event');
      assert.equal(t.sink.events[0]!.get('message'), 'ABC');
      assert.match(t.sink.events[0]!.get('host') as string, HOST);
    } finally {
      await t.stop();
    }
  });

  it('refuses an option set Logstash would refuse', async () => {
    await assert.rejects(() => start(tcp, 'port => 0 ssl_enable => true'), /ssl_cert/);
    await assert.rejects(() => start(tcp, 'port => 0 ssl_verify => "sometimes"'), /ssl_verify|none, optional or required/);
  });
});
