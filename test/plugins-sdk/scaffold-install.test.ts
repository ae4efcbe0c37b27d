import assert from 'node:assert/strict';
import { mkdirSync, readdirSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { describe, it } from 'node:test';
import { cli, linkDevDependencies, loadScaffold, outputOf, run, tempDir } from './helpers.js';

// The whole life of a third-party plugin: scaffold -> npm pack -> pipeline plugin install (a
// fresh plugin home) -> a config using it runs with the plugin's fields -> pipeline plugin
// remove -> the config check fails naming the missing plugin.
// `pipeline plugin generate` is the CLI face of generatePlugin; this test calls the function.
describe('third-party plugin: scaffold, pack, install, run, remove', () => {
  it('runs a config with the installed plugin, and refuses it once removed', async () => {
    const { generatePlugin } = await loadScaffold();
    const t = tempDir('pipeline-sdk-e2e-');
    try {
      const { dir: pkgDir, packageName } = generatePlugin({ kind: 'filter', name: 'wordstats', dir: join(t.dir, 'src') });
      linkDevDependencies(pkgDir);
      // npm pack runs the package's prepack script (npm run build -> tsc -p .).
      const env = { PATH: `${join(pkgDir, 'node_modules', '.bin')}${delimiter}${process.env.PATH}`, npm_config_cache: join(t.dir, 'npm-cache') };
      const pack = run('npm', ['pack', '--silent', '--pack-destination', t.dir], pkgDir, env);
      assert.equal(pack.status, 0, outputOf(pack));
      const tgz = readdirSync(t.dir).find((f) => f.endsWith('.tgz'));
      assert.equal(tgz, `${packageName}-0.1.0.tgz`);

      const data = join(t.dir, 'data');
      const work = join(t.dir, 'work');
      const inst = cli(['plugin', 'install', join(t.dir, tgz!), '--path.data', data], t.dir);
      assert.equal(inst.status, 0, outputOf(inst));
      assert.match(inst.stdout, /Installed pipeline-filter-wordstats@0\.1\.0: filter wordstats/);
      const list = cli(['plugin', 'list', '--path.data', data], t.dir);
      assert.match(list.stdout, /^wordstats\s+filter\s+0\.1\.0\s+installed\s+pipeline-filter-wordstats$/m);

      const config =
        'input { generator { lines => ["hello  pipeline world", "one"] count => 1 } } ' +
        'filter { wordstats { add_tag => ["measured"] } } ' +
        'output { stdout { codec => json_lines } }';
      mkdirSync(work);
      const start = cli(['start', '--path.data', data, '--api.enabled', 'false', '-e', config], work);
      assert.equal(start.status, 0, outputOf(start));
      const events = start.stdout
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      assert.deepEqual(
        events.map((e) => [e.message, e.wordstats, e.tags]),
        [
          ['hello  pipeline world', { length: 21, words: 3 }, ['measured']],
          ['one', { length: 3, words: 1 }, ['measured']],
        ],
      );

      const rm = cli(['plugin', 'remove', 'wordstats', '--path.data', data], t.dir);
      assert.equal(rm.status, 0, outputOf(rm));
      assert.match(rm.stdout, /Removed pipeline-filter-wordstats/);
      const check = cli(['start', '--path.data', data, '-t', '-e', config], work);
      assert.notEqual(check.status, 0, outputOf(check));
      assert.match(check.stderr + check.stdout, /unknown filter plugin 'wordstats'/);
    } finally {
      t.cleanup();
    }
  });
});
