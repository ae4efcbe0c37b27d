/**
 * The files of a scaffolded third-party plugin package. Each template is a function of the
 * package's identity; the generated code imports only `@pipeline/core` (and
 * `@pipeline/core/testing` in its test), as any plugin outside this repository must.
 */
import { optionsTable, opt, type Schema } from '../plugin/options.js';

export type ScaffoldKind = 'filter' | 'output';
export const SCAFFOLD_KINDS: readonly ScaffoldKind[] = ['filter', 'output'];

export interface Identity {
  kind: ScaffoldKind;
  /** Plugin name as a config names it (`wordcount`). */
  name: string;
  /** npm package name (`pipeline-filter-wordcount`). */
  packageName: string;
  /** Semver range of @pipeline/core the plugin is written for (`^0.1.0`). */
  coreRange: string;
  /**
   * The directory of the @pipeline/core the package is developed against (the Pipeline that
   * generated it, installed or a checkout): a `file:` devDependency, so `npm install` links it
   * instead of asking a registry that has no @pipeline/core.
   */
  coreDir: string;
}

/**
 * The option schemas the templates declare, built with the same `opt` builders, so the README's
 * options table is rendered by `optionsTable` exactly as the plugin's own schema would render it
 * (the scaffold test checks that the built plugin's table matches).
 */
export function templateSchema(id: Identity): Schema {
  if (id.kind === 'filter')
    return {
      source: opt.string({ default: 'message', description: 'field holding the text to measure' }),
      target: opt.string({ default: id.name, description: 'field that receives { length, words }' }),
    };
  return {
    path: opt.path({ required: true, description: 'file the encoded events are appended to' }),
  };
}

export function packageJson(id: Identity): string {
  const pkg = {
    name: id.packageName,
    version: '0.1.0',
    description: `Pipeline ${id.kind} plugin ${id.name}`,
    type: 'module',
    main: 'dist/src/index.js',
    types: 'dist/src/index.d.ts',
    exports: { '.': { types: './dist/src/index.d.ts', default: './dist/src/index.js' } },
    files: ['dist/src', 'README.md'],
    keywords: ['pipeline-plugin', `pipeline-${id.kind}`],
    engines: { node: '>=20.19' },
    // Read by `pipeline plugin install` and the registry without running the package's code.
    pipeline: { plugins: { [id.kind]: [id.name] } },
    scripts: { build: 'tsc -p .', test: 'node --test dist/test/', prepack: 'npm run build' },
    // Core is provided by the Pipeline that installs the plugin; never bundle a copy of it.
    peerDependencies: { '@pipeline/core': id.coreRange },
    // For building and testing: the Pipeline that generated the package, linked (not copied)
    devDependencies: { '@pipeline/core': `file:${id.coreDir}`, typescript: '^5.9.3', '@types/node': '^20.19.0' },
  };
  return JSON.stringify(pkg, null, 2) + '\n';
}

/** Standalone: the package must build outside the Pipeline repository, so nothing is extended. */
export function tsconfigJson(): string {
  const config = {
    compilerOptions: {
      target: 'ES2022',
      module: 'NodeNext',
      moduleResolution: 'NodeNext',
      lib: ['ES2023'],
      types: ['node'],
      strict: true,
      noImplicitOverride: true,
      declaration: true,
      sourceMap: true,
      skipLibCheck: true,
      esModuleInterop: true,
      forceConsistentCasingInFileNames: true,
      rootDir: '.',
      outDir: 'dist',
    },
    include: ['src/**/*.ts', 'test/**/*.ts'],
  };
  return JSON.stringify(config, null, 2) + '\n';
}

export function gitignore(): string {
  return 'node_modules/\ndist/\n*.tgz\n';
}

export function indexTs(id: Identity): string {
  if (id.kind === 'filter')
    return `import { definePlugin, fieldRef, opt } from '@pipeline/core';

// The option schema validates the config block, fills defaults and renders the README table.
const options = {
  source: opt.string({ default: 'message', description: 'field holding the text to measure' }),
  target: opt.string({ default: '${id.name}', description: 'field that receives { length, words }' }),
};

const WHITESPACE = /\\s+/;

export default definePlugin({
  kind: 'filter',
  name: '${id.name}',
  description: 'Counts the characters and words of a text field.',
  options,
  create(o, ctx) {
    // Compile field references once here, never per event.
    const source = fieldRef(o.source);
    const target = fieldRef(o.target);
    ctx.logger.debug({ source: o.source, target: o.target }, '${id.name} ready');
    return {
      filter(event) {
        const text = event.get(source);
        // Returning false means "did not match": the runtime then skips add_field/add_tag.
        if (typeof text !== 'string') return false;
        const words = text.split(WHITESPACE).filter((w) => w.length > 0).length;
        event.set(target, { length: text.length, words });
        return true;
      },
    };
  },
});
`;
  return `import { appendFile } from 'node:fs/promises';
import { definePlugin, opt } from '@pipeline/core';

const options = {
  path: opt.path({ required: true, description: 'file the encoded events are appended to' }),
};

export default definePlugin({
  kind: 'output',
  name: '${id.name}',
  description: 'Appends every event, encoded by its codec, to a file.',
  options,
  defaultCodec: 'json_lines',
  create(o, ctx) {
    // Relative paths resolve as the rest of the config's paths do.
    const path = ctx.resolvePath(o.path);
    const encoder = ctx.codec.create();
    return {
      async receive(events) {
        let text = '';
        for (const e of events) text += encoder.encode(e);
        await appendFile(path, text);
      },
    };
  },
});
`;
}

export function testTs(id: Identity): string {
  if (id.kind === 'filter')
    return `import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createPlugin, runFilter } from '@pipeline/core/testing';
import plugin from '../src/index.js';

describe('${id.name}', () => {
  it('counts characters and words of the message', async () => {
    // The config body is validated by the plugin's own schema, as in pipeline.conf.
    const filter = await createPlugin(plugin, '');
    const [out] = runFilter(filter, [{ message: 'hello  pipeline world' }]);
    assert.deepEqual(out!.get('[${id.name}]'), { length: 21, words: 3 });
  });

  it('reads and writes the fields the options name', async () => {
    const filter = await createPlugin(plugin, 'source => "[log][text]" target => "[stats]"');
    const [out] = runFilter(filter, [{ log: { text: 'one two' } }]);
    assert.deepEqual(out!.get('stats'), { length: 7, words: 2 });
  });

  it('does not match an event without the source field', async () => {
    const filter = await createPlugin(plugin, '');
    const [out] = runFilter(filter, [{ other: 1 }]);
    assert.equal(out!.includes('[${id.name}]'), false);
  });

  it('refuses an unknown option', async () => {
    await assert.rejects(createPlugin(plugin, 'sorce => "x"'), /unknown option 'sorce'/);
  });
});
`;
  return `import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Event, type CodecFactory } from '@pipeline/core';
import { createPlugin, makeContext, outputCompliance } from '@pipeline/core/testing';
import plugin from '../src/index.js';

// A minimal codec for the test: one JSON document per line.
const jsonLines: CodecFactory = {
  name: 'json_lines',
  create: () => ({
    encode: (e: Event) => JSON.stringify(e) + '\\n',
    decode() {},
    decodeMessage() {},
    flush() {},
  }),
};

describe('${id.name}', () => {
  it('appends each event, encoded, to the file', async () => {
    const dir = mkdtempSync(join(tmpdir(), '${id.packageName}-'));
    try {
      const ctx = makeContext({ codec: jsonLines, workingDir: dir });
      const output = await createPlugin(plugin, 'path => "out.log"', ctx);
      await output.receive([new Event({ message: 'a', '@timestamp': '2024-01-01T00:00:00.000Z' }), new Event({ message: 'b', '@timestamp': '2024-01-01T00:00:01.000Z' })]);
      const lines = readFileSync(join(dir, 'out.log'), 'utf8').trimEnd().split('\\n').map((l) => JSON.parse(l));
      assert.deepEqual(lines.map((l) => l.message), ['a', 'b']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('requires path', async () => {
    await assert.rejects(createPlugin(plugin, ''), /missing required option 'path'/);
  });
});

// The compliance suite every input and output plugin runs (Pipeline's docs/plugins.md,
// "Compliance"), against the real pipeline command with this package as a plugin: each codec
// encodes byte for byte, the id option, metrics by the naming rule (needs Prometheus' promtool),
// every event written at SIGTERM, nothing left open after stop, reload keeps or replaces.
// The driver tells it how to configure the output and how to read what it wrote.
const files = (dir: string) => [join(dir, 'out.log'), join(dir, 'out-2.log')].filter((p) => existsSync(p));
outputCompliance(plugin, {
  package: import.meta.url,
  options: (run) => \`path => "\${join(run.dir, 'out.log')}"\`,
  // one option changed: the reload check expects the instance to be replaced
  changed: (run) => \`path => "\${join(run.dir, 'out-2.log')}"\`,
  written: (run) => files(run.dir).map((p) => readFileSync(p, 'utf8')).join(''),
});
`;
}

export function readme(id: Identity): string {
  const usage =
    id.kind === 'filter'
      ? `filter {\n  ${id.name} { }            # writes [${id.name}][length] and [${id.name}][words]\n}`
      : `output {\n  ${id.name} { path => "events.log" }\n}`;
  return `# ${id.packageName}

A Pipeline ${id.kind} plugin: \`${id.name}\`. Made with \`pipeline plugin generate\`; replace this
text and the code in \`src/index.ts\` with your own.

\`\`\`
${usage}
\`\`\`

## Develop

\`\`\`
npm install                                   # typescript, @types/node; @pipeline/core is linked (file:)
npm run build && npm test
\`\`\`

\`@pipeline/core\` comes from the Pipeline that generated this package
(\`${id.coreDir}\`), linked by its \`file:\` entry in \`devDependencies\`; point it at another
installation or checkout (its \`core/\` folder, or \`.../node_modules/@pipeline/core\`) if that one moves.

## Install into Pipeline

\`\`\`
npm pack                                      # builds (prepack) and writes ${id.packageName}-0.1.0.tgz
pipeline plugin install ./${id.packageName}-0.1.0.tgz
pipeline plugin list
\`\`\`

Needs \`@pipeline/core\` ${id.coreRange} (the running Pipeline provides it).

## Options

<!-- options:start -->
${optionsTable(templateSchema(id))}

Common options of every ${id.kind} plugin (id, add_field, ...) apply too.
<!-- options:end -->
`;
}
