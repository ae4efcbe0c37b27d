import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { REPO_ROOT, tempDir } from './helpers.js';
import { importSpecifiers, scanPlugin, violation, workspaceImports, workspaces, type CrossImport } from './import-boundary.js';

const CORE = join(REPO_ROOT, 'core');
const PLUGINS = join(REPO_ROOT, 'plugins');
const LIBS = join(REPO_ROOT, 'libs');

/**
 * Plugins that still import another plugin, each with its reason. The list only shrinks: a new
 * import of one plugin by another fails the test below, and so does an entry here whose import has
 * gone (delete the entry). Code that two plugins need belongs in a library under libs/, as the
 * network plugins' shared code went into @pipeline/net. `where`: the importing file is under the
 * package's src/ (shipped) or test/.
 */
const KNOWN_CROSS_PLUGIN_IMPORTS: readonly { from: string; to: string; where: 'src' | 'test'; why: string }[] = [
  { from: 'codec-multiline', to: 'filter-grok', where: 'src', why: "grok patterns: the multiline codec's `pattern` expands %{NAME} with the grok filter's pattern library and translator" },
  { from: 'input-redis', to: 'output-redis', where: 'test', why: 'tests write the lists and streams they read through the redis output, and run the redis server double of @pipeline/output-redis/testing' },
];

/**
 * Not a debt: a plugin's tests may drive it with a real codec (a devDependency, through the codec's
 * main entry). That runs the codec as a codec through the plugin; no code is borrowed.
 */
const testDrivesWithCodec = (c: CrossImport) => c.inTest && c.to.startsWith('codec-') && c.spec === `@pipeline/${c.to}`;

const key = (e: { from: string; to: string; where: string }) => `${e.from} -> ${e.to} (${e.where})`;

describe('plugin packages use only the public core API', () => {
  it('no plugin under plugins/ imports core except @pipeline/core and @pipeline/core/testing', () => {
    const dirs = readdirSync(PLUGINS).map((d) => join(PLUGINS, d));
    assert.ok(dirs.length > 0);
    const problems = dirs.flatMap((d) => scanPlugin(d, CORE));
    assert.deepEqual(problems, [], `plugins reaching into core internals:\n${problems.join('\n')}`);
  });

  it('no library under libs/ imports core except @pipeline/core and @pipeline/core/testing', () => {
    const problems = readdirSync(LIBS).flatMap((d) => scanPlugin(join(LIBS, d), CORE));
    assert.deepEqual(problems, [], `libraries reaching into core internals:\n${problems.join('\n')}`);
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
    // A relative import inside the plugin, or a library's entry point, is no way into core (imports of
    // other workspace packages are judged by workspaceImports, below).
    assert.equal(violation('./parse.js', file, CORE), undefined);
    assert.equal(violation('@pipeline/net/testing', file, CORE), undefined);
  });
});

describe('plugins do not import other plugins', () => {
  const all = workspaces(REPO_ROOT);
  const judged = [...all.values()].map((w) => ({ w, j: workspaceImports(w.dir, REPO_ROOT, all) }));

  it('a plugin imports another plugin only where listed in KNOWN_CROSS_PLUGIN_IMPORTS, and each listed import still exists', () => {
    assert.ok([...all.values()].some((w) => w.kind === 'library'), 'libs/ has libraries');
    const found = new Map<string, string[]>();
    for (const { j } of judged)
      for (const c of j.crossPlugin) {
        if (testDrivesWithCodec(c)) continue;
        const k = key({ ...c, where: c.inTest ? 'test' : 'src' });
        found.set(k, [...(found.get(k) ?? []), `${c.file}: '${c.spec}'`]);
      }
    const known = new Set(KNOWN_CROSS_PLUGIN_IMPORTS.map(key));
    const unlisted = [...found].filter(([k]) => !known.has(k)).map(([k, where]) => `${k}\n    ${where.join('\n    ')}`);
    assert.deepEqual(unlisted, [], `plugins importing other plugins (move the shared code into a library under libs/):\n${unlisted.join('\n')}`);
    const gone = [...known].filter((k) => !found.has(k));
    assert.deepEqual(gone, [], `listed in KNOWN_CROSS_PLUGIN_IMPORTS but no longer imported: delete these entries\n${gone.join('\n')}`);
  });

  it('libraries are reached only through the entry points they export, and import no plugin', () => {
    const problems = judged.flatMap(({ j }) => j.problems);
    assert.deepEqual(problems, [], problems.join('\n'));
  });

  it('the network plugins import @pipeline/net, not each other', () => {
    const net = ['input-tcp', 'input-udp', 'input-syslog', 'input-relp', 'output-tcp', 'output-udp', 'output-syslog'];
    for (const { w, j } of judged) {
      if (!net.includes(w.name)) continue;
      assert.deepEqual(j.crossPlugin.filter((c) => !testDrivesWithCodec(c)), [], w.name);
    }
  });

  it('resolves @pipeline/<name> to plugins/<name> or libs/<name>, and relative paths to the package they land in', () => {
    const t = tempDir('import-boundary-');
    try {
      const put = (path: string, text: string) => {
        mkdirSync(dirname(join(t.dir, path)), { recursive: true });
        writeFileSync(join(t.dir, path), text);
      };
      const pkg = (name: string, exports: string[]) =>
        JSON.stringify({ name: `@pipeline/${name}`, exports: Object.fromEntries(exports.map((e) => [e, { default: `./dist/${e}.js` }])) });
      put('plugins/input-a/package.json', pkg('input-a', ['.']));
      put('plugins/output-b/package.json', pkg('output-b', ['.', './testing']));
      put('plugins/codec-c/package.json', pkg('codec-c', ['.']));
      put('libs/net/package.json', pkg('net', ['.', './testing']));
      put('plugins/output-b/src/index.ts', 'export const b = 1;');
      put('libs/net/src/framing.ts', 'export class Framer {}');
      put(
        'plugins/input-a/src/index.ts',
        [
          "import { definePlugin } from '@pipeline/core';",
          "import { Framer } from '@pipeline/net';",
          "import { b } from '@pipeline/output-b';",
          "import { own } from './own.js';",
          "import { x } from '../../output-b/src/index.js';",
          "import { y } from '../../../libs/net/src/framing.js';",
          "import { z } from '@pipeline/net/dist/src/framing.js';",
          "import { n } from '@pipeline/nope';",
          "export * from '@pipeline/input-a';",
        ].join('\n'),
      );
      put(
        'plugins/input-a/test/a.test.ts',
        ["import { start } from '@pipeline/net/testing';", "import codec from '@pipeline/codec-c';", "import { double } from '@pipeline/output-b/testing';"].join('\n'),
      );
      put('libs/net/src/index.ts', "import { b } from '@pipeline/output-b';\nexport { Framer } from './framing.js';");

      const all = workspaces(t.dir);
      assert.deepEqual([...all.values()].map((w) => `${w.kind}:${w.name}`), ['plugin:codec-c', 'plugin:input-a', 'plugin:output-b', 'library:net']);
      const a = workspaceImports(join(t.dir, 'plugins', 'input-a'), t.dir, all);
      assert.deepEqual(
        a.crossPlugin.map((c) => `${c.to} ${c.spec} ${c.inTest ? 'test' : 'src'}`),
        ['output-b @pipeline/output-b src', 'output-b ../../output-b/src/index.js src', 'codec-c @pipeline/codec-c test', 'output-b @pipeline/output-b/testing test'],
      );
      assert.deepEqual(a.crossPlugin.map(testDrivesWithCodec), [false, false, true, false]);
      assert.deepEqual(a.problems, [
        "plugins/input-a/src/index.ts: relative import '../../../libs/net/src/framing.js' reaches into the library net (import '@pipeline/net')",
        "plugins/input-a/src/index.ts: '@pipeline/net/dist/src/framing.js' is not an entry point of @pipeline/net (it exports ., ./testing)",
        "plugins/input-a/src/index.ts: '@pipeline/nope' is neither a plugin under plugins/ nor a library under libs/",
      ]);
      const lib = workspaceImports(join(t.dir, 'libs', 'net'), t.dir, all);
      assert.deepEqual(lib.crossPlugin, []);
      assert.deepEqual(lib.problems, ["libs/net/src/index.ts: library imports the plugin output-b ('@pipeline/output-b')"]);
    } finally {
      t.cleanup();
    }
  });
});
