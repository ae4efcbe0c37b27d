/** correlation/single-with-script.ts */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { singleWithScript } from '../src/correlation/single-with-script.js';
import { testRuntime } from './rt.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Runs the work that the scripts' exits left, until `n` lines are out (or five seconds). */
async function settle(t: ReturnType<typeof testRuntime>, n: number): Promise<void> {
  for (let i = 0; i < 250 && t.out.length < n; i++) {
    await sleep(20);
    t.engine.runDeferred();
  }
}

const RULES = `type=SingleWithScript\nptype=RegExp\npattern=check (\\S+)\nscript=grep -qx '$1'\ndesc=check $1\naction=write - %s: exists\naction2=write - %s: missing\n`;

test('SingleWithScript: the script gets the context names on its standard input; exit 0 runs action, another code action2, at the next timer pass', async () => {
  const t = testRuntime(RULES, { allowShell: true });
  t.engine.contexts.create('HOST_a', 0, [], '');
  t.event('check HOST_a');
  assert.equal(singleWithScript.match(t.engine, t.rules[0]!, 0), 1);
  assert.deepEqual(t.out, [], 'nothing before the script has exited');
  await settle(t, 1);
  t.event('check HOST_b');
  singleWithScript.match(t.engine, t.rules[0]!, 0);
  await settle(t, 2);
  assert.deepEqual(t.out, ['check HOST_a: exists', 'check HOST_b: missing']);
  assert.equal(t.engine.ops.size, 0);
  assert.equal(singleWithScript.expire, undefined, 'it keeps no operations');
  t.engine.shutdown();
});
