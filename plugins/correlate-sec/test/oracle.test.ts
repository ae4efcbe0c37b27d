/**
 * Differential suite: every case in test/oracle/cases (recorded from the real sec 2.9.1) run
 * through the engine on a virtual clock; out.txt and standard output must be identical.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { listCases, runCase, expected } from './harness.js';

const cases = listCases();

test('differential cases are present', () => {
  assert.ok(cases.length >= 40, `expected at least 40 oracle cases, found ${cases.length}`);
});

for (const name of cases) {
  test(`oracle ${name}`, async () => {
    const got = await runCase(name);
    const want = expected(name);
    assert.equal(got.out, want.out, `out.txt differs for ${name}`);
    assert.equal(got.stdout, want.stdout, `standard output differs for ${name}`);
  });
}
