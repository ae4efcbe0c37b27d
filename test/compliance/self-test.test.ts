import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';

/**
 * The compliance suite finds what it says it checks: run on two plugins that break the rules on
 * purpose (fixtures/pipeline-input-sloppy, fixtures/pipeline-output-sloppy: codec ignored, a port
 * or a message in a metric name, a timer left running, a fingerprint that changes at every check),
 * exactly those checks fail and the others pass.
 */
const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..'); // test/dist/compliance -> repo
const FIXTURES = join(REPO, 'test', 'compliance', 'fixtures');

/** Runs one fixture's compliance test; its tests' names with true (passed) or false (failed). */
function results(fixture: string): Map<string, boolean> {
  // the events these plugins lose never come: no need to wait the suite's 20 s for each
  const env: NodeJS.ProcessEnv = { ...process.env, PIPELINE_COMPLIANCE_WAIT_MS: '3000' };
  delete env.NODE_TEST_CONTEXT; // else the nested run reports to this runner instead of printing
  const r = spawnSync(process.execPath, ['--test', '--test-reporter=tap', join(FIXTURES, fixture, 'compliance.test.js')], { encoding: 'utf8', env, timeout: 240_000 });
  const out = new Map<string, boolean>();
  for (const m of r.stdout.matchAll(/^ {4,}(ok|not ok) \d+ - (.+?)(?: # (?:SKIP|TODO).*)?$/gm)) out.set(m[2]!, m[1] === 'ok');
  assert.ok(out.size > 0, `no results from ${fixture}:\n${r.stdout}\n${r.stderr}`);
  return out;
}

function assertOutcomes(got: Map<string, boolean>, failing: string[]): void {
  const wrong: string[] = [];
  for (const [name, passed] of got) {
    if (name.startsWith('a run:')) continue; // the suite of the four checks below it
    const shouldFail = failing.some((f) => name.startsWith(f));
    if (passed === shouldFail) wrong.push(`${name}: ${passed ? 'passed' : 'failed'}, expected to ${shouldFail ? 'fail' : 'pass'}`);
  }
  for (const f of failing) if (![...got.keys()].some((n) => n.startsWith(f))) wrong.push(`no check named "${f}..."`);
  assert.deepEqual(wrong, []);
}

describe('compliance suite self-test', () => {
  it('an input that ignores its codec, names a metric after its port, leaks a timer and changes its fingerprint fails exactly those checks', () => {
    assertOutcomes(results('pipeline-input-sloppy'), ['codec: plain', 'codec: line', 'codec: json', 'metrics:', 'close:', 'reload:']);
  });

  it('an output that ignores its codec, names a metric after the events, leaks a timer and changes its fingerprint fails exactly those checks', () => {
    // it writes JSON lines whatever the codec: json and json_lines cannot tell
    assertOutcomes(results('pipeline-output-sloppy'), ['codec: plain', 'codec: line', 'metrics:', 'close:', 'reload:']);
  });
});
