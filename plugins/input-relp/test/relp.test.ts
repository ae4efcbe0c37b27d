import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import jsonCodec from '@pipeline/codec-json';
import { VirtualClock } from '@pipeline/core/testing';
import relp from '../src/index.js';
import { RelpClient, start, waitFor, type Started } from './helpers.js';

const CONFIG = 'port => 0 host => "127.0.0.1"';

/** Makes the test sink's queue "commit" only when the test says so. */
function gateStorage(t: Started) {
  let release: () => void = () => {};
  let gate = new Promise<void>((r) => (release = r));
  let calls = 0;
  (t.sink as { whenStored?: () => Promise<void> }).whenStored = () => {
    calls++;
    return gate;
  };
  return {
    get calls() {
      return calls;
    },
    commit() {
      release();
      gate = new Promise<void>((r) => (release = r));
    },
  };
}

describe('relp input', () => {
  it('a session: open is answered with our offers; syslog frames become events (message, host) acknowledged in order; close ends it', async () => {
    const t = await start(relp, CONFIG);
    try {
      const c = await RelpClient.connect(t.port);
      const open = await c.response(c.open());
      assert.match(open.data, /^200 OK\nrelp_version=0\nrelp_software=pipeline,[^\n]+\ncommands=syslog$/);
      const sent = ['<13>Dec  3 10:00:00 host app: one', '<13>two with\nLF inside', 'three ü \u0000 nul'];
      const txnrs = sent.map((m) => c.send('syslog', m));
      assert.deepEqual(txnrs, [2, 3, 4]);
      for (const n of txnrs) assert.equal((await c.response(n)).data, '200 OK');
      assert.deepEqual(
        c.responses.filter((r) => r.command === 'rsp').map((r) => r.txnr),
        [1, 2, 3, 4],
        'responses in command order',
      );
      assert.deepEqual(t.sink.events.map((e) => e.get('message')), sent);
      const host = t.sink.events[0]!.get('host') as string;
      assert.equal(host, `127.0.0.1:${c.socket.localPort}`, 'host is address:port, as Logstash sets it');
      assert.equal(t.metric('acks'), 3);
      const close = await c.response(c.send('close'));
      assert.equal(close.data, '');
      await c.closed();
      await waitFor(() => t.metric('connections_open') === 0, 'the session to end');
    } finally {
      await t.stop();
    }
  });

  it('acknowledges a frame only once the queue holds its event (whenStored), in order, one write per commit', async () => {
    const t = await start(relp, CONFIG);
    try {
      const store = gateStorage(t);
      const c = await RelpClient.connect(t.port);
      c.open();
      await waitFor(() => store.calls === 1, 'the open response to wait for the queue');
      store.commit();
      await c.response(1);
      c.send('syslog', 'a');
      c.send('syslog', 'b');
      await waitFor(() => t.sink.events.length === 2, 'both events pushed');
      await new Promise((r) => setTimeout(r, 50));
      assert.equal(c.responses.length, 1, 'no acknowledgement before the queue holds the events');
      // the two frames may have come in one chunk (one wait) or two (a wait each, in turn)
      await c.until(() => (store.commit(), c.responses.length === 3), 'both acknowledgements');
      assert.deepEqual(c.responses.map((r) => [r.txnr, r.data]), [[1, c.responses[0]!.data], [2, '200 OK'], [3, '200 OK']]);
      c.destroy();
    } finally {
      await t.stop();
    }
  });

  it('protocol errors: a 500 (or, for broken framing, only a serverclose hint) and the end of the session', async () => {
    const t = await start(relp, CONFIG);
    try {
      const cases: { what: string; send(c: RelpClient): void; rsp?: RegExp }[] = [
        { what: 'syslog before open', send: (c) => c.send('syslog', 'x'), rsp: /^500 protocol error: a session must start with open/ },
        { what: 'open without syslog', send: (c) => c.open('relp_version=0\ncommands=eventlog'), rsp: /^500 required command syslog not offered/ },
        { what: 'open without relp_version', send: (c) => c.open('commands=syslog'), rsp: /^500 no relp_version offered/ },
        { what: 'a second open', send: (c) => (c.open(), c.open()), rsp: /^500 protocol error: open on an open session/ },
        { what: 'an unknown command', send: (c) => (c.open(), c.send('starttls')), rsp: /^500 protocol error: unknown command "starttls"/ },
        { what: 'a transaction number out of sequence', send: (c) => (c.open(), c.raw('7 syslog 1 x\n')) },
        { what: 'garbage', send: (c) => c.raw('GET / HTTP/1.1\r\n\r\n') },
      ];
      for (const k of cases) {
        const c = await RelpClient.connect(t.port);
        k.send(c);
        await c.closed();
        const last = c.responses.at(-1)!;
        assert.deepEqual([last.txnr, last.command], [0, 'serverclose'], `${k.what}: ends with the serverclose hint`);
        if (k.rsp) assert.match(c.responses.filter((r) => r.command === 'rsp').at(-1)!.data, k.rsp, k.what);
      }
      assert.equal(t.sink.events.length, 0);
      assert.equal(t.metric('sessions_refused'), 2);
      assert.ok(t.metric('framing_errors') >= 5);
      assert.ok(t.logs.some((l) => l.msg === 'RELP session refused' && l.reason === 'required command syslog not offered'));
    } finally {
      await t.stop();
    }
  });

  it('with a codec (json) each frame is decoded on its own; host is added', async () => {
    const t = await start(relp, CONFIG, { codecDef: jsonCodec });
    try {
      const c = await RelpClient.connect(t.port);
      c.open();
      c.send('syslog', '{"a":1,"message":"m1"}');
      c.send('syslog', 'not json');
      await c.response(3);
      assert.equal(t.sink.events[0]!.get('a'), 1);
      assert.equal(t.sink.events[0]!.get('message'), 'm1');
      assert.ok(t.sink.events[1]!.hasTag('_jsonparsefailure'));
      assert.match(t.sink.events[1]!.get('host') as string, /^127\.0\.0\.1:\d+$/);
      c.destroy();
    } finally {
      await t.stop();
    }
  });

  it('a full queue pauses reading; the session goes on once there is room', async () => {
    const t = await start(relp, CONFIG);
    try {
      const c = await RelpClient.connect(t.port);
      await c.response(c.open());
      t.sink.setWritable(false);
      c.send('syslog', 'first');
      await waitFor(() => t.metric('backpressure_pauses') === 1, 'a pause');
      c.send('syslog', 'second');
      await new Promise((r) => setTimeout(r, 50));
      assert.deepEqual(t.sink.events.map((e) => e.get('message')), ['first'], 'nothing read while paused');
      t.sink.setWritable(true);
      await c.response(3);
      assert.deepEqual(t.sink.events.map((e) => e.get('message')), ['first', 'second']);
      c.destroy();
    } finally {
      await t.stop();
    }
  });

  it('stop(): answers what is owed once stored, then sends serverclose; a frame cut short is dropped unanswered', async () => {
    const t = await start(relp, CONFIG);
    const c = await RelpClient.connect(t.port);
    await c.response(c.open());
    const store = gateStorage(t);
    c.send('syslog', 'kept');
    c.raw('3 syslog 10 cut');
    await waitFor(() => t.sink.events.length === 1, 'the event');
    const stopping = t.stop();
    store.commit();
    await stopping;
    await c.closed();
    assert.deepEqual(c.responses.slice(1).map((r) => [r.txnr, r.command, r.data]), [
      [2, 'rsp', '200 OK'],
      [0, 'serverclose', ''],
    ]);
    assert.equal(t.sink.events.length, 1);
  });

  it('stop() with a queue that never stores: the session is cut unanswered (the sender keeps its message) and stop completes', async () => {
    const t = await start(relp, CONFIG);
    const c = await RelpClient.connect(t.port);
    await c.response(c.open());
    gateStorage(t); // never committed
    c.send('syslog', 'never stored');
    await waitFor(() => t.sink.events.length === 1, 'the event');
    await t.stop();
    await c.closed();
    assert.equal(c.responses.filter((r) => r.txnr === 2).length, 0, 'no acknowledgement for what the queue does not hold');
  });

  it('idle_timeout: an idle session gets the serverclose hint; one with responses owed is left alone', async () => {
    const t = await start(relp, `${CONFIG} idle_timeout => 10`, { clock: new VirtualClock(Date.now()) });
    try {
      const idle = await RelpClient.connect(t.port);
      await idle.response(idle.open());
      const owing = await RelpClient.connect(t.port);
      await owing.response(owing.open());
      const store = gateStorage(t);
      owing.send('syslog', 'waiting for the queue');
      await waitFor(() => t.sink.events.length === 1, 'the event');
      t.ctx.clock.advance(20_000);
      await idle.closed();
      assert.deepEqual(idle.responses.at(-1), { txnr: 0, command: 'serverclose', data: '' });
      assert.equal(owing.isClosed, false);
      assert.equal(t.metric('connections_idle_closed'), 1);
      store.commit();
      await owing.response(2);
      owing.destroy();
    } finally {
      await t.stop();
    }
  });
});
