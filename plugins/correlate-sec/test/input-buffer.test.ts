/** input-buffer.ts */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InputBuffers } from '../src/input-buffer.js';

test('one line: input and synthetic events share the buffer', () => {
  const b = new InputBuffers(1);
  b.push('line', false);
  assert.equal(b.text(1), 'line');
  b.push('synthetic', true);
  assert.equal(b.synthetic, true);
  assert.equal(b.text(1), 'synthetic');
});

test('N lines: the newest n, oldest first; synthetic events have their own buffer', () => {
  const b = new InputBuffers(3);
  for (const l of ['a', 'b', 'c', 'd']) b.push(l, false);
  assert.equal(b.text(1), 'd');
  assert.equal(b.text(2), 'c\nd');
  assert.equal(b.text(3), 'b\nc\nd');
  b.push('s1', true);
  assert.equal(b.text(2), '\ns1', 'the synthetic buffer starts empty');
  b.push('e', false);
  assert.equal(b.text(3), 'c\nd\ne', 'input lines are not mixed with synthetic ones');
});

test('rewrite: the newest lines of the current buffer; 0 means as many as given; at most the buffer; missing ones empty', () => {
  const b = new InputBuffers(3);
  for (const l of ['a', 'b', 'c']) b.push(l, false);
  b.rewrite(0, ['X', 'Y']);
  assert.equal(b.text(3), 'a\nX\nY');
  b.rewrite(2, ['only']);
  assert.equal(b.text(3), 'a\n\nonly');
  b.rewrite(9, ['1', '2', '3', '4']);
  assert.equal(b.text(3), '1\n2\n3');
  b.rewrite(0, []);
  assert.equal(b.text(3), '1\n2\n3', 'nothing given, nothing changes');
  const one = new InputBuffers(1);
  one.push('x', false);
  one.rewrite(3, ['p', 'q']);
  assert.equal(one.text(1), 'p');
});
