import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { isPluginDefinition, optionsTable, type PluginDefinition } from '@pipeline/core';
import { TSC, linkDevDependencies, loadScaffold, outputOf, run, tempDir } from './helpers.js';

// The scaffold's output must be a package an outside author can build and test as is: its own
// tsconfig (nothing extended from this repository), its own passing test, a README whose
// options table is what the plugin's schema renders.
describe('plugin scaffold: the generated package builds and passes its own test', () => {
  for (const kind of ['filter', 'output'] as const) {
    it(`${kind}: tsc -p builds it, node --test passes, README table matches the schema`, async () => {
      const { generatePlugin } = await loadScaffold();
      const t = tempDir('pipeline-scaffold-');
      try {
        const res = generatePlugin({ kind, name: 'sample', dir: t.dir, coreVersion: '0.1.3' });
        assert.equal(res.packageName, `pipeline-${kind}-sample`);
        assert.equal(res.dir, join(t.dir, `pipeline-${kind}-sample`));
        const pkg = JSON.parse(readFileSync(join(res.dir, 'package.json'), 'utf8'));
        assert.deepEqual(pkg.pipeline, { plugins: { [kind]: ['sample'] } });
        assert.deepEqual(pkg.peerDependencies, { '@pipeline/core': '^0.1.0' });
        assert.equal(pkg.type, 'module');
        assert.equal(pkg.main, 'dist/src/index.js');
        assert.equal(pkg.scripts.build, 'tsc -p .');
        assert.equal(pkg.scripts.test, 'node --test dist/test/');
        const tsconfig = JSON.parse(readFileSync(join(res.dir, 'tsconfig.json'), 'utf8'));
        assert.equal(tsconfig.extends, undefined, 'a standalone package cannot extend a file of this repository');

        linkDevDependencies(res.dir);
        const build = run(process.execPath, [TSC, '-p', '.'], res.dir);
        assert.equal(build.status, 0, outputOf(build));
        const test = run(process.execPath, ['--test', 'dist/test/'], res.dir);
        assert.equal(test.status, 0, outputOf(test));
        assert.match(test.stdout, /# fail 0/);
        assert.doesNotMatch(test.stdout, /# pass 0\b/);

        const mod = (await import(pathToFileURL(join(res.dir, 'dist', 'src', 'index.js')).href)) as { default: PluginDefinition };
        assert.ok(isPluginDefinition(mod.default));
        assert.equal(mod.default.kind, kind);
        assert.equal(mod.default.name, 'sample');
        const readme = readFileSync(join(res.dir, 'README.md'), 'utf8');
        assert.ok(readme.includes(optionsTable(mod.default.options)), 'README options table is the schema’s');
      } finally {
        t.cleanup();
      }
    });
  }

  it('refuses a bad name, an unsupported kind and a non-empty target directory', async () => {
    const { generatePlugin, ScaffoldError } = await loadScaffold();
    const t = tempDir('pipeline-scaffold-');
    try {
      assert.throws(() => generatePlugin({ kind: 'filter', name: 'Bad-Name', dir: t.dir }), ScaffoldError);
      assert.throws(() => generatePlugin({ kind: 'codec', name: 'x', dir: t.dir }), /filter or output/);
      generatePlugin({ kind: 'filter', name: 'twice', dir: t.dir });
      assert.throws(() => generatePlugin({ kind: 'filter', name: 'twice', dir: t.dir }), /exists and is not empty/);
    } finally {
      t.cleanup();
    }
  });
});
