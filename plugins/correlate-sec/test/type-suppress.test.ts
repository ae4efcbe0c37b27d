/** correlation/suppress.ts */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { suppress } from '../src/correlation/suppress.js';
import { testRuntime } from './rt.js';

test('Suppress: a match is counted and ends the search in this file; no match goes on to the next rule', () => {
  const t = testRuntime(`type=Suppress\nptype=RegExp\npattern=noise (\\d+)\n\ntype=Single\nptype=SubStr\npattern=noise\ndesc=d\naction=write - after\n`);
  const r = t.rules[0]!;
  t.event('noise 1');
  assert.equal(suppress.match(t.engine, r, 0), 2);
  assert.equal(r.matchCount, 1);
  t.event('signal');
  assert.equal(suppress.match(t.engine, r, 0), 1);
  assert.deepEqual(t.out, []);
  assert.equal(t.engine.ops.size, 0);
  assert.equal(suppress.expire, undefined);
});
