import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { REPO_ROOT } from './helpers.js';
import { importSpecifiers, scanPlugin, violation } from './import-boundary.js';

const CORE = join(REPO_ROOT, 'core');
const PLUGINS = join(REPO_ROOT, 'plugins');

describe('plugin packages use only the public core API', () => {
  it('no plugin under plugins/ imports core except @pipeline/core and @pipeline/core/testing', () => {
    const dirs = readdirSync(PLUGINS).map((d) => join(PLUGINS, d));
    assert.ok(dirs.length > 0);
    const problems = dirs.flatMap((d) => scanPlugin(d, CORE));
    assert.deepEqual(problems, [], `plugins reaching into core internals:\n${problems.join('\n')}`);
  });

  it('the scan finds every import form and flags the ways into core internals', () => {
    const src = [
      "import { definePlugin } from '@pipeline/core';",
      "import type { Fields } from '@pipeline/core/dist/src/event/field-ref.js';",
      "export { x } from '../../../core/src/plugin/define.js';",
      "import '@pipeline/core/testing';",
      "const m = await import('@pipeline/core/src/config/parser.js');",
      "const r = require('core/dist/src/index.js');",
      "import {\n  a,\n  b,\n} from 'node:fs';",
      "// import { nope } from '@pipeline/core/dist/nope.js';",
    ].join('\n');
    const specs = importSpecifiers(src);
    assert.deepEqual(specs.sort(), [
      '../../../core/src/plugin/define.js',
      '@pipeline/core',
      '@pipeline/core/dist/src/event/field-ref.js',
      '@pipeline/core/src/config/parser.js',
      '@pipeline/core/testing',
      'core/dist/src/index.js',
      'node:fs',
    ]);
    const file = join(PLUGINS, 'filter-x', 'src', 'index.ts');
    const flagged = specs.filter((s) => violation(s, file, CORE) !== undefined).sort();
    assert.deepEqual(flagged, ['../../../core/src/plugin/define.js', '@pipeline/core/dist/src/event/field-ref.js', '@pipeline/core/src/config/parser.js', 'core/dist/src/index.js']);
    // A relative import inside the plugin, or of another plugin's public entry, is fine.
    assert.equal(violation('./parse.js', file, CORE), undefined);
    assert.equal(violation('@pipeline/input-tcp/testing', file, CORE), undefined);
  });
});
