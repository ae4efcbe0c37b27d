import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Event } from '@pipeline/core';
import { createPlugin, makeContext } from '@pipeline/core/testing';
import plugin from '../src/index.js';

/** A downstream input as the bus sees one: takes batches, optionally held until `release()`. */
function downstream() {
  const got: Event[] = [];
  let gate: Promise<void> | undefined;
  let open: (() => void) | undefined;
  return {
    got,
    hold() {
      gate = new Promise((r) => (open = r));
    },
    release() {
      open?.();
      gate = undefined;
    },
    receiver: {
      async receive(events: Event[]) {
        if (gate) await gate;
        got.push(...events);
      },
    },
  };
}

const turn = () => new Promise((r) => setImmediate(r));

describe('pipeline output', () => {
  it('sends each address its own copy of every event, @metadata included', async () => {
    const ctx = makeContext({ pipelineId: 'up' });
    const a = downstream();
    const b = downstream();
    ctx.pipelineBus.listen('a', 'down-a', a.receiver);
    ctx.pipelineBus.listen('b', 'down-b', b.receiver);
    const out = await createPlugin(plugin, 'send_to => ["a", "b"]', ctx);
    const e = new Event({ message: 'hello', nested: { x: 1 } });
    e.metadata.route = 'r1';
    e.tag('t');
    await out.receive([e]);
    assert.equal(a.got.length, 1);
    assert.equal(b.got.length, 1);
    for (const c of [a.got[0]!, b.got[0]!]) {
      assert.notEqual(c, e, 'a copy, not the upstream event');
      assert.equal(c.get('message'), 'hello');
      assert.equal(c.get('[@metadata][route]'), 'r1');
      assert.deepEqual(c.get('tags'), ['t']);
      assert.equal(c.get('@timestamp')?.toString(), e.get('@timestamp')?.toString());
    }
    assert.notEqual(a.got[0], b.got[0], 'each address its own');
    a.got[0]!.set('[nested][x]', 2);
    assert.equal(e.get('[nested][x]'), 1, 'a downstream change does not reach upstream');
    assert.equal(b.got[0]!.get('[nested][x]'), 1, 'nor the other downstream');
    assert.equal(ctx.metrics.snapshot().sent, 2);
  });

  it('receive waits while the downstream holds the batch (a full queue), whatever ensure_delivery says', async () => {
    for (const ensure of [true, false]) {
      const ctx = makeContext();
      const d = downstream();
      ctx.pipelineBus.listen('a', 'down', d.receiver);
      const out = await createPlugin(plugin, `send_to => ["a"] ensure_delivery => ${ensure}`, ctx);
      d.hold();
      let done = false;
      const p = Promise.resolve(out.receive([new Event({ message: 'x' })])).then(() => (done = true));
      for (let i = 0; i < 5; i++) await turn();
      assert.equal(done, false, 'held');
      d.release();
      await p;
      assert.equal(d.got.length, 1);
    }
  });

  it('ensure_delivery (default): waits for an address nobody listens on, logs once, delivers when an input appears', async () => {
    const logs: string[] = [];
    const ctx = makeContext();
    const logger = ctx.logger;
    (ctx as { logger: unknown }).logger = Object.assign(Object.create(logger), { warn: (_o: unknown, m: string) => logs.push(m), info: () => {} });
    const out = await createPlugin(plugin, 'send_to => ["later"]', ctx);
    let done = false;
    const p = Promise.resolve(out.receive([new Event({ message: '1' }), new Event({ message: '2' })])).then(() => (done = true));
    for (let i = 0; i < 5; i++) await turn();
    assert.equal(done, false, 'waiting');
    assert.equal(logs.filter((m) => m.includes('no listener')).length, 1);
    const d = downstream();
    ctx.pipelineBus.listen('later', 'down', d.receiver);
    await p;
    assert.deepEqual(d.got.map((e) => e.get('message')), ['1', '2']);
    assert.equal(logs.filter((m) => m.includes('no listener')).length, 1, 'logged once for the wait');
  });

  it('ensure_delivery => false: events to an absent address are dropped and counted; present addresses still get theirs', async () => {
    const ctx = makeContext();
    const d = downstream();
    ctx.pipelineBus.listen('here', 'down', d.receiver);
    const out = await createPlugin(plugin, 'send_to => ["here", "gone"] ensure_delivery => false', ctx);
    await out.receive([new Event({ message: '1' }), new Event({ message: '2' })]);
    await out.receive([new Event({ message: '3' })]);
    assert.equal(d.got.length, 3);
    assert.equal(ctx.metrics.snapshot().dropped, 3);
    assert.equal(ctx.metrics.snapshot().sent, 3);
  });

  it('at shutdown an address nobody listens on gets nothing more: receive ends and counts them as dropped', async () => {
    const ctx = makeContext();
    const out = await createPlugin(plugin, 'send_to => ["absent"]', ctx);
    const p = Promise.resolve(out.receive([new Event({ message: '1' })]));
    await turn();
    ctx.pipelineBus.drain();
    await p;
    assert.equal(ctx.metrics.snapshot().dropped, 1);
  });

  it('at shutdown a downstream input closes only after this output has closed', async () => {
    const ctx = makeContext();
    const d = downstream();
    const listener = ctx.pipelineBus.listen('a', 'down', d.receiver);
    const out = await createPlugin(plugin, 'send_to => ["a"]', ctx);
    ctx.pipelineBus.drain();
    let closed = false;
    const c = listener.close().then(() => (closed = true));
    for (let i = 0; i < 5; i++) await turn();
    assert.equal(closed, false, 'the input waits for its sender');
    await out.receive([new Event({ message: 'last' })]);
    assert.equal(d.got.length, 1, 'the sender still delivers while the input waits');
    await out.close?.();
    await c;
  });
});
