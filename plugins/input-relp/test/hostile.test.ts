import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import relp, { MAX_OWED } from '../src/index.js';
import { connect, RelpClient, start, waitFor } from './helpers.js';

const MB = 1024 * 1024;
const CONFIG = 'port => 0 host => "127.0.0.1"';

async function openSession(port: number): Promise<RelpClient> {
  const c = await RelpClient.connect(port);
  await c.response(c.open());
  return c;
}

describe('relp input under hostile clients', () => {
  it('survives huge and lying data lengths, garbage, 2000 idle connections, TLS on the plain port and a trickling client, under 300 MB, while serving a good session', async () => {
    const t = await start(relp, CONFIG);
    let peakRss = process.memoryUsage().rss;
    const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 5);
    const idle: Awaited<ReturnType<typeof connect>>[] = [];
    try {
      const good = await openSession(t.port);
      let goodSent = 0;
      const goodFrame = () => good.send('syslog', `good ${goodSent++}`);
      const messages = () => t.sink.events.map((e) => String(e.get('message')));

      for (let i = 0; i < 2000; i += 100) idle.push(...(await Promise.all(Array.from({ length: 100 }, () => connect(t.port)))));
      await waitFor(() => t.metric('connections_open') >= 2001, '2001 open connections');
      goodFrame();

      // a complete 10 MB frame: its first max_line_bytes kept, acknowledged, the session goes on
      const big = await openSession(t.port);
      const bigTxnr = big.send('syslog', Buffer.alloc(10 * MB, 0x41));
      const afterTxnr = big.send('syslog', 'after big');
      assert.equal((await big.response(bigTxnr, 30_000)).data, '200 OK');
      await big.response(afterTxnr);
      big.destroy();
      goodFrame();

      // a data length of 999,999,999 followed by 10 MB and a disconnect: nothing kept, no event
      const huge = await openSession(t.port);
      huge.raw('2 syslog 999999999 ');
      huge.raw(Buffer.alloc(10 * MB, 0x42));
      await new Promise<void>((r) => huge.socket.end(() => r()));
      await huge.closed();
      goodFrame();

      // a data length that lies (shorter than the data): the frame before it is acknowledged,
      // then the session ends with a serverclose hint
      const liar = await openSession(t.port);
      liar.send('syslog', 'honest');
      liar.raw('3 syslog 5 abcdefghij\n');
      await liar.closed();
      assert.deepEqual(liar.responses.slice(1).map((r) => [r.txnr, r.command]), [[2, 'rsp'], [0, 'serverclose']]);
      goodFrame();

      // invalid UTF-8 and NUL bytes inside the data are kept (U+FFFD), garbage headers end the session
      const odd = await openSession(t.port);
      await odd.response(odd.send('syslog', Buffer.from([0x6e, 0x75, 0x6c, 0x00, 0xc3, 0x28, 0xff])));
      odd.raw(Buffer.from([0x00, 0xff, 0x0a, 0x0a]));
      await odd.closed();
      goodFrame();

      // a TLS ClientHello on the plain port
      const hello = await connect(t.port);
      hello.on('error', () => {});
      hello.write(Buffer.from([0x16, 0x03, 0x01, 0x00, 0xa5, 0x01, 0x00, 0x00, 0xa1, 0x03, 0x03]));
      await new Promise((r) => hello.once('close', r));
      goodFrame();

      // a client sending one byte every 5 ms (every second in real life): still one correct frame
      const slow = await openSession(t.port);
      const frame = '2 syslog 17 slow but complete\n';
      for (const ch of frame) {
        slow.raw(ch);
        if (ch === ' ') goodFrame();
        await new Promise((r) => setTimeout(r, 5));
      }
      await slow.response(2);
      slow.destroy();

      await good.until(() => good.responses.filter((r) => r.data === '200 OK').length === goodSent, 'every good frame acknowledged');
      const m = messages();
      assert.deepEqual(m.filter((x) => x.startsWith('good ')), Array.from({ length: goodSent }, (_, i) => `good ${i}`));
      const bigEvent = t.sink.events.find((e) => String(e.get('message')).startsWith('AAAA'))!;
      assert.equal((bigEvent.get('message') as string).length, 65536, 'the 10 MB frame is cut at max_line_bytes');
      assert.ok(bigEvent.hasTag('_line_truncated'));
      assert.ok(m.includes('after big'));
      assert.ok(!m.some((x) => x.startsWith('BBBB')), 'an incomplete frame is not an event (the sender sends it again)');
      assert.ok(m.includes('honest') && !m.some((x) => x.startsWith('abcde')));
      assert.ok(m.includes('nul\u0000\ufffd(\ufffd'));
      assert.ok(m.includes('slow but complete'));
      assert.equal(t.metric('oversize_lines'), 1);
      assert.equal(t.metric('tls_on_plain_port'), 1);
      assert.ok(t.metric('framing_errors') >= 2);
      assert.ok(peakRss < 300 * MB, `peak RSS ${Math.round(peakRss / MB)} MB`);
      good.destroy();
    } finally {
      clearInterval(sampler);
      for (const s of idle) s.destroy();
      await t.stop();
    }
  });

  it('a client that floods frames while its messages cannot be stored is stopped at the unanswered-frame bound', async () => {
    const t = await start(relp, CONFIG);
    try {
      let release!: () => void;
      const stored = new Promise<void>((r) => (release = r));
      (t.sink as { whenStored?: () => Promise<void> }).whenStored = () => stored;
      const c = await RelpClient.connect(t.port);
      c.open();
      const total = 100_000;
      let text = '';
      for (let i = 0; i < total; i++) text += `${i + 2} syslog 1 x\n`;
      c.raw(text);
      await waitFor(() => t.sink.events.length >= MAX_OWED, 'the first frames');
      await new Promise((r) => setTimeout(r, 200));
      const read = t.sink.events.length;
      assert.ok(read < 10 * MAX_OWED, `reading paused after ${read} frames (bound ${MAX_OWED} + one chunk)`);
      release();
      await c.until(() => c.responses.length === total + 1, 'every frame answered', 60_000);
      assert.equal(t.sink.events.length, total);
      c.destroy();
    } finally {
      await t.stop();
    }
  });

  it('a client that never reads its acknowledgements is paused once they fill the socket', async () => {
    const t = await start(relp, CONFIG);
    try {
      const c = await RelpClient.connect(t.port);
      await c.response(c.open());
      c.socket.pause(); // reads nothing from now on
      const total = 400_000;
      const chunk = 10_000;
      for (let n = 0; n < total; n += chunk) {
        let text = '';
        for (let i = n; i < n + chunk; i++) text += `${i + 2} syslog 1 x\n`;
        c.raw(text);
      }
      await waitFor(() => t.sink.events.length > 0, 'the first frames');
      let last = -1;
      // wait until reading has stopped (the count holds still), bounded
      await waitFor(() => {
        const n = t.sink.events.length;
        const still = n === last;
        last = n;
        return still || n === total;
      }, 'reading to stop', 30_000);
      process.stderr.write(`# paused at ${t.sink.events.length}\n`);
      assert.ok(t.sink.events.length < total, `reading paused at ${t.sink.events.length} of ${total} frames`);
      c.socket.resume();
      await c.until(() => c.responses.length === total + 1, 'every frame answered once the client reads', 60_000);
      c.destroy();
    } finally {
      await t.stop();
    }
  });
});
