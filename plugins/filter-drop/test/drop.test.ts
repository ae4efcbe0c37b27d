import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Event } from '@pipeline/core';
import { createPlugin, runFilter } from '@pipeline/core/testing';
import drop from '../src/index.js';

describe('drop', () => {
  it('drops every event by default', async () => {
    const f = await createPlugin(drop, '');
    const e = new Event({ message: 'x' });
    assert.equal(f.filter(e, () => {}), false);
    assert.equal(e.cancelled, true);
    assert.deepEqual(runFilter(f, [{ a: 1 }, { a: 2 }]), []);
  });
  it('drops about the given percentage', async () => {
    const f = await createPlugin(drop, 'percentage => 40');
    const n = 100_000;
    const kept = runFilter(
      f,
      Array.from({ length: n }, (_, i) => ({ i })),
    ).length;
    // 40% dropped: 60,000 kept; the tolerance is over ten standard deviations
    assert.ok(Math.abs(kept - 60_000) < 2_000, `kept ${kept}`);
  });
  it('drops nothing at 0 and everything above 100', async () => {
    assert.equal(runFilter(await createPlugin(drop, 'percentage => 0'), [{}, {}, {}]).length, 3);
    assert.equal(runFilter(await createPlugin(drop, 'percentage => 150'), [{}, {}, {}]).length, 0);
  });
  it('refuses a percentage that is not a number', async () => {
    await assert.rejects(createPlugin(drop, 'percentage => "lots"'), /expects a number/);
  });
});
