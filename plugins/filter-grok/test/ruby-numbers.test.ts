import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rubyToF, rubyToI } from '../src/index.js';

test('Ruby String#to_i', () => {
  for (const [s, v] of [['3.99', 3], ['0x1F', 0], ['512KB', 512], ['', 0], ['  -42', -42], ['1_000', 1000], ['1__0', 1], ['abc', 0], ['+7', 7]] as const) assert.equal(rubyToI(s), v, s);
});

test('Ruby String#to_f', () => {
  for (const [s, v] of [['NaN', 0], ['21', 21], ['3.5e2', 350], ['.5', 0.5], ['1.e5', 1], ['12abc', 12], ['', 0], [' -0.25x', -0.25], ['1_0.5', 10.5]] as const) assert.equal(rubyToF(s), v, s);
});
