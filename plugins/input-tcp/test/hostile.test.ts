import assert from 'node:assert/strict';
import type net from 'node:net';
import { describe, it } from 'node:test';
import tcp from '../src/index.js';
import { connect, sendAndClose, start, waitFor } from './helpers.js';

const MB = 1024 * 1024;

describe('tcp input under hostile clients', () => {
  it('survives a 10 MB line, NULs, invalid UTF-8, 2000 idle connections, a trickling client, TLS on the plain port and lying counts, under 300 MB, while serving others', async () => {
    const t = await start(tcp, 'port => 0 host => "127.0.0.1"');
    let peakRss = process.memoryUsage().rss;
    const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 5);
    const idle: net.Socket[] = [];
    try {
      const good = await connect(t.port);
      let goodSent = 0;
      const goodLine = () => good.write(`good ${goodSent++}\n`);

      // 2000 connections opened and left idle
      for (let i = 0; i < 2000; i += 100) idle.push(...(await Promise.all(Array.from({ length: 100 }, () => connect(t.port)))));
      await waitFor(() => t.metric('connections_open') >= 2001, '2001 open connections');
      goodLine();

      // a 10 MB line, followed by a normal one on the same connection
      await sendAndClose(t.port, Buffer.concat([Buffer.alloc(10 * MB, 0x41), Buffer.from('\nafter big\n')]));
      goodLine();

      // NUL bytes and invalid UTF-8
      await sendAndClose(t.port, Buffer.from([0x6e, 0x75, 0x6c, 0x00, 0x21, 0x0a, 0xc3, 0x28, 0xff, 0xfe, 0x0a]));
      goodLine();

      // TLS ClientHello on the plain port
      const hello = await connect(t.port);
      hello.on('error', () => {});
      hello.write(Buffer.from([0x16, 0x03, 0x01, 0x00, 0xa5, 0x01, 0x00, 0x00, 0xa1, 0x03, 0x03]));
      await new Promise((r) => hello.once('close', r));
      goodLine();

      // lying octet counts: far too large (swallows the rest, kept at disconnect), and absurdly long
      await sendAndClose(t.port, '60000 <13>lie one');
      await sendAndClose(t.port, '6 <13>ab3 <13>abc\n99999999999 <13>lie two\n');
      goodLine();

      // a client sending one byte at a time (every 5 ms here instead of every second)
      const slow = await connect(t.port);
      const slowText = 'slow but complete\n';
      for (const ch of slowText) {
        slow.write(ch);
        if (ch === ' ') goodLine();
        await new Promise((r) => setTimeout(r, 5));
      }
      slow.end();

      await waitFor(() => t.sink.events.filter((e) => String(e.get('message')).startsWith('good ')).length === goodSent, 'every good line');
      const msgs = t.sink.events.map((e) => e.get('message') as string);
      const big = t.sink.events.find((e) => String(e.get('message')).startsWith('AAAA'))!;
      assert.equal((big.get('message') as string).length, 65536, 'the 10 MB line is cut at max_line_bytes');
      assert.ok(big.hasTag('_line_truncated'));
      assert.equal(t.metric('oversize_lines'), 1);
      assert.ok(msgs.includes('after big'), 'the connection survives its oversized line');
      assert.ok(msgs.includes('nul\u0000!'));
      assert.ok(msgs.includes('\ufffd(\ufffd\ufffd'));
      assert.equal(t.metric('tls_on_plain_port'), 1);
      assert.ok(t.logs.some((l) => /TLS handshake on a plain TCP port/.test(String(l.msg))));
      await waitFor(() => msgs.length < t.sink.events.length || t.sink.events.some((e) => e.get('message') === 'slow but complete'), 'the slow line');
      assert.ok(t.sink.events.some((e) => e.get('message') === 'slow but complete'));
      assert.ok(msgs.includes('<13>lie one'), 'a frame cut short by disconnect is kept');
      assert.ok(msgs.includes('<13>ab') && msgs.includes('<13'), 'frames before and at the short count');
      assert.ok(msgs.includes('>abc'), 'the rest after a short count is a line');
      assert.ok(msgs.includes('99999999999 <13>lie two'), 'a count too long to be one is a line');
      assert.equal(t.metric('framing_errors'), 2);
      assert.deepEqual(
        t.sink.events.filter((e) => String(e.get('message')).startsWith('good ')).map((e) => e.get('message')),
        Array.from({ length: goodSent }, (_, i) => `good ${i}`),
      );
      assert.ok(peakRss < 300 * MB, `peak RSS ${Math.round(peakRss / MB)} MB`);
      good.destroy();
    } finally {
      clearInterval(sampler);
      for (const s of idle) s.destroy();
      await t.stop();
    }
  });
});
