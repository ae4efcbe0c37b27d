import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';

/**
 * Every input and output plugin package runs the compliance suite of `@pipeline/core/testing`
 * (docs/plugins.md, "Compliance"): a test/compliance.test.ts that calls inputCompliance or
 * outputCompliance for each input or output its package.json declares.
 */
const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..'); // test/dist/compliance -> repo
const PLUGINS = join(REPO, 'plugins');

/**
 * Packages whose compliance test is still to come, each with why. A pending package that has
 * the test is checked as any other, and the last check asks for its entry to go.
 */
const PENDING: Record<string, string> = {
  // the suite feeds bytes through the plugin's codec; these carry events between pipelines in one
  // process (no bytes, no codec), so they need an in-process variant of the suite, still to come.
  // Their own tests (test/input.test.ts, test/output.test.ts) cover delivery, back-pressure and shutdown.
  'input-pipeline': 'events from the in-process pipeline bus: no bytes, no codec for the suite to drive',
  'output-pipeline': 'events to the in-process pipeline bus: no bytes, no codec for the suite to check',
};

interface Declared {
  dir: string;
  input: string[];
  output: string[];
}

function declaredPackages(): Declared[] {
  const out: Declared[] = [];
  for (const dir of readdirSync(PLUGINS).sort()) {
    const pj = join(PLUGINS, dir, 'package.json');
    if (!existsSync(pj)) continue;
    const plugins = (JSON.parse(readFileSync(pj, 'utf8')) as { pipeline?: { plugins?: Record<string, string[]> } }).pipeline?.plugins ?? {};
    const input = plugins.input ?? [];
    const output = plugins.output ?? [];
    if (input.length || output.length) out.push({ dir, input, output });
  }
  return out;
}

describe('compliance coverage', () => {
  const packages = declaredPackages();

  it('finds the input and output packages', () => {
    const dirs = packages.map((p) => p.dir);
    for (const d of ['input-tcp', 'input-file', 'output-file', 'output-stdout']) assert.ok(dirs.includes(d), `${d} among ${dirs.join(', ')}`);
  });

  it('every input and output plugin package has a compliance test that runs the suite for each of its plugins', () => {
    const missing: string[] = [];
    for (const p of packages) {
      const file = join(PLUGINS, p.dir, 'test', 'compliance.test.ts');
      if (p.dir in PENDING && !existsSync(file)) continue;
      if (!existsSync(file)) {
        missing.push(`plugins/${p.dir}: no test/compliance.test.ts`);
        continue;
      }
      const text = readFileSync(file, 'utf8');
      if (!/from '@pipeline\/core\/testing'/.test(text)) missing.push(`plugins/${p.dir}/test/compliance.test.ts does not import @pipeline/core/testing`);
      const calls = (kind: 'input' | 'output') => (text.match(new RegExp(`\\b${kind}Compliance\\(`, 'g')) ?? []).length;
      for (const kind of ['input', 'output'] as const)
        if (calls(kind) < p[kind].length) missing.push(`plugins/${p.dir}/test/compliance.test.ts: ${p[kind].length} ${kind} plugin(s) declared (${p[kind].join(', ')}), ${calls(kind)} ${kind}Compliance call(s)`);
    }
    assert.deepEqual(missing, [], `input and output plugins without the compliance suite (see docs/plugins.md, "Compliance"):\n${missing.join('\n')}`);
  });

  it('the pending list names only packages that exist', (t) => {
    for (const dir of Object.keys(PENDING)) {
      assert.ok(existsSync(join(PLUGINS, dir)), `PENDING names plugins/${dir}, which does not exist: remove it`);
      if (existsSync(join(PLUGINS, dir, 'test', 'compliance.test.ts'))) t.diagnostic(`plugins/${dir} has its compliance test now: remove it from PENDING in test/compliance/coverage.test.ts`);
    }
  });
});
