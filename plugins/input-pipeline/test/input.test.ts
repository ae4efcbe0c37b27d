import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Event, type InputSink } from '@pipeline/core';
import { createPlugin, makeContext } from '@pipeline/core/testing';
import plugin from '../src/index.js';

/** A sink with room for `capacity` events until `take()` empties it, as the pipeline's queue. */
function boundedSink(capacity: number) {
  const held: Event[] = [];
  const taken: Event[] = [];
  let waiters: (() => void)[] = [];
  const sink: InputSink & { held: Event[]; taken: Event[]; take(): void } = {
    held,
    taken,
    push: (e) => void held.push(e),
    get writable() {
      return held.length < capacity;
    },
    whenWritable: () => new Promise<void>((r) => waiters.push(r)),
    take() {
      taken.push(...held.splice(0));
      const w = waiters;
      waiters = [];
      for (const f of w) f();
    },
  };
  return sink;
}

const turn = () => new Promise((r) => setImmediate(r));
const until = async (cond: () => boolean) => {
  for (let i = 0; i < 1000 && !cond(); i++) await turn();
  assert.ok(cond());
};

describe('pipeline input', () => {
  it('listens on its address; a sender\'s batch goes into the queue, and its receive waits while the queue is full', async () => {
    const ctx = makeContext({ pipelineId: 'down' });
    const input = await createPlugin(plugin, 'address => "a"', ctx);
    const sink = boundedSink(3);
    const running = input.run(sink);
    const sender = ctx.pipelineBus.sender(['a']);
    await until(() => sender.listener('a') !== undefined);
    let done = false;
    const p = sender.listener('a')!.receive([1, 2, 3, 4, 5].map((i) => new Event({ message: String(i) }))).then(() => (done = true));
    await until(() => sink.held.length === 3);
    for (let i = 0; i < 5; i++) await turn();
    assert.equal(done, false, 'held while the queue is full');
    assert.equal(sink.held.length, 3, 'nothing pushed past the bound');
    sink.take();
    await p;
    sink.take();
    assert.deepEqual(sink.taken.map((e) => e.get('message')), ['1', '2', '3', '4', '5']);
    await input.stop();
    await running;
    assert.equal(sender.listener('a'), undefined, 'stop unregisters the address');
  });

  it('an address an input of another pipeline holds is refused; one of the same pipeline (a reload) takes it over', async () => {
    const ctx1 = makeContext({ pipelineId: 'one' });
    const first = await createPlugin(plugin, 'address => "x"', ctx1);
    const r1 = first.run(boundedSink(10));
    await turn();
    const ctx2 = makeContext({ pipelineId: 'two', pipelineBus: ctx1.pipelineBus });
    const second = await createPlugin(plugin, 'address => "x"', ctx2);
    await assert.rejects(second.run(boundedSink(10)), /pipeline address "x" is already used by an input of pipeline one/);
    const ctx3 = makeContext({ pipelineId: 'one', pipelineBus: ctx1.pipelineBus });
    const replacement = await createPlugin(plugin, 'address => "x"', ctx3);
    const sink = boundedSink(10);
    const r3 = replacement.run(sink);
    await turn();
    await first.stop(); // the old instance of a reload stops after the new one started
    await r1;
    const sender = ctx1.pipelineBus.sender(['x']);
    await sender.listener('x')!.receive([new Event({ message: 'after' })]);
    assert.equal(sink.held.length, 1, 'the replacement keeps the address');
    await replacement.stop();
    await r3;
  });

  it('at shutdown the input stops only once no output sends to its address', async () => {
    const ctx = makeContext({ pipelineId: 'down' });
    const input = await createPlugin(plugin, 'address => "a"', ctx);
    const sink = boundedSink(100);
    const running = input.run(sink);
    await turn();
    const sender = ctx.pipelineBus.sender(['a']);
    ctx.pipelineBus.drain();
    let stopped = false;
    const s = Promise.resolve(input.stop()).then(() => (stopped = true));
    for (let i = 0; i < 5; i++) await turn();
    assert.equal(stopped, false);
    await sender.listener('a')!.receive([new Event({ message: 'drained' })]);
    sender.close();
    await s;
    await running;
    assert.equal(sink.held.length, 1, 'what the upstream drained arrived');
  });
});
