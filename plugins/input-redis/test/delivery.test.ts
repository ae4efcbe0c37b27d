import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Event } from '@pipeline/core';
import { EntryBatch, tracksDelivery } from '../src/index.js';
import { RecordingSink, TrackingSink } from './helpers.js';

describe('delivery hook', () => {
  it('recognises a sink that tracks delivery', () => {
    assert.equal(tracksDelivery(new TrackingSink()), true);
    assert.equal(tracksDelivery(new RecordingSink()), false);
  });

  it('settles a batch after every event is delivered, even when the sink calls back synchronously', () => {
    const settled: EntryBatch[] = [];
    const sink = new TrackingSink();
    sink.autoDeliver = true;
    const b = new EntryBatch((x) => settled.push(x));
    b.add('s', '1-0');
    b.push(sink, new Event({ n: 1 }));
    b.push(sink, new Event({ n: 2 }));
    assert.equal(settled.length, 0, 'not while the batch is being filled');
    b.close();
    assert.deepEqual(settled, [b]);
  });

  it('waits for the last delivery, in any order', () => {
    const settled: EntryBatch[] = [];
    const sink = new TrackingSink();
    const b = new EntryBatch((x) => settled.push(x));
    for (let i = 0; i < 3; i++) b.push(sink, new Event({ n: i }));
    b.close();
    sink.callbacks[2]!();
    sink.callbacks[0]!();
    assert.equal(settled.length, 0);
    sink.callbacks[1]!();
    assert.equal(settled.length, 1);
  });

  it('falls back to settling right after the push when the sink cannot track delivery', () => {
    const settled: EntryBatch[] = [];
    const sink = new RecordingSink();
    const b = new EntryBatch((x) => settled.push(x));
    b.push(sink, new Event({ n: 1 }));
    b.close();
    assert.equal(settled.length, 1);
    assert.equal(sink.events.length, 1);
  });

  it('settles an empty batch (entries that decoded to nothing) at once', () => {
    const settled: EntryBatch[] = [];
    const b = new EntryBatch((x) => settled.push(x));
    b.add('s', '1-0');
    b.close();
    assert.equal(settled.length, 1);
  });
});

describe('owned_partitions', () => {
  it('takes numbers, ranges and comma lists, so one environment variable can carry them', async () => {
    const { expandOwned, checkOwned } = await import('../src/partitions.js');
    assert.deepEqual(expandOwned([0, '2-4', '7,9']), [0, 2, 3, 4, 7, 9]);
    assert.deepEqual(expandOwned(['0-11']), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    assert.equal(checkOwned(['0-3'], 12), undefined);
    assert.match(checkOwned(['0-12'], 12)!, /not a partition number from 0 to 11/);
    assert.match(checkOwned(['a'], 12)!, /not a partition number/);
    assert.match(checkOwned(['1', 1], 12)!, /listed twice/);
  });
});
