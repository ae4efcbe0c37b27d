/**
 * Finds the module specifiers a TypeScript file imports (static imports and re-exports, `import
 * type`, dynamic `import('...')`, `require('...')`) and judges whether a plugin may use them: a
 * plugin reaches core only through its public entry points, `@pipeline/core` and
 * `@pipeline/core/testing` — never a deep path into the package, nor a relative path into core/;
 * it reaches a library under libs/ only through the entry points the library's package.json
 * exports; and it does not import another plugin (see `workspaceImports`).
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';

const SPECIFIERS = [
  /\b(?:import|export)\s+(?:type\s+)?[^'"`;]*?\bfrom\s*['"]([^'"]+)['"]/g,
  /\bimport\s*['"]([^'"]+)['"]/g,
  /\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g,
  /\brequire\s*\(\s*['"]([^'"]+)['"]\s*\)/g,
];

/** Comments are dropped first so an example in a doc comment is not mistaken for an import. */
function stripComments(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"\\])\/\/.*$/gm, '$1');
}

export function importSpecifiers(source: string): string[] {
  const text = stripComments(source);
  const out = new Set<string>();
  for (const re of SPECIFIERS) for (const m of text.matchAll(re)) out.add(m[1]!);
  return [...out];
}

const PUBLIC = new Set(['@pipeline/core', '@pipeline/core/testing']);

/** Why `spec`, imported from `file`, breaks the boundary; undefined when it is allowed. */
export function violation(spec: string, file: string, coreDir: string): string | undefined {
  if (spec.startsWith('@pipeline/core/') && !PUBLIC.has(spec)) return `deep import '${spec}' (use '@pipeline/core' or '@pipeline/core/testing')`;
  if (spec.startsWith('.')) {
    const target = resolve(dirname(file), spec);
    if (target === coreDir || target.startsWith(coreDir + sep)) return `relative import '${spec}' reaches into core (${relative(dirname(coreDir), target)})`;
  }
  if (/(^|\/)core\/(src|dist)\//.test(spec) && !spec.startsWith('.')) return `import '${spec}' names core's files`;
  return undefined;
}

/** The .ts files of a plugin package's src/ and test/ (declaration files and builds skipped). */
export function pluginSources(pluginDir: string): string[] {
  const files: string[] = [];
  const walk = (dir: string) => {
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      return;
    }
    for (const name of names) {
      if (name === 'node_modules' || name === 'dist') continue;
      const p = join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (name.endsWith('.ts') && !name.endsWith('.d.ts')) files.push(p);
    }
  };
  walk(join(pluginDir, 'src'));
  walk(join(pluginDir, 'test'));
  return files;
}

export function scanPlugin(pluginDir: string, coreDir: string): string[] {
  const problems: string[] = [];
  for (const file of pluginSources(pluginDir))
    for (const spec of importSpecifiers(readFileSync(file, 'utf8'))) {
      const why = violation(spec, file, coreDir);
      if (why) problems.push(`${relative(dirname(dirname(pluginDir)), file)}: ${why}`);
    }
  return problems;
}

/** A workspace package under plugins/ or libs/, as `@pipeline/<name>` resolves to it. */
export interface Workspace {
  readonly name: string;
  readonly dir: string;
  readonly kind: 'plugin' | 'library';
  /** The subpaths its package.json exports ('.', './testing', ...). */
  readonly exports: ReadonlySet<string>;
}

function exportsOf(dir: string): Set<string> {
  try {
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { exports?: unknown };
    if (pkg.exports && typeof pkg.exports === 'object') return new Set(Object.keys(pkg.exports).filter((k) => k.startsWith('.')));
  } catch {
    /* no package.json: nothing exported */
  }
  return new Set(['.']);
}

/** Every package under plugins/ and libs/ of the repository, by the name after `@pipeline/`. */
export function workspaces(root: string): Map<string, Workspace> {
  const out = new Map<string, Workspace>();
  for (const [top, kind] of [['plugins', 'plugin'], ['libs', 'library']] as const) {
    const base = join(root, top);
    if (!existsSync(base)) continue;
    for (const name of readdirSync(base).sort()) {
      const dir = join(base, name);
      if (statSync(dir).isDirectory()) out.set(name, { name, dir, kind, exports: exportsOf(dir) });
    }
  }
  return out;
}

/** One import of a plugin by another plugin. */
export interface CrossImport {
  /** The importing plugin and the imported one (directory names under plugins/). */
  readonly from: string;
  readonly to: string;
  readonly spec: string;
  /** Repository-relative path of the importing file. */
  readonly file: string;
  /** The importing file is under the package's test/ (not shipped). */
  readonly inTest: boolean;
}

export interface ImportJudgement {
  /** Imports of another plugin's package. */
  readonly crossPlugin: CrossImport[];
  /** Ways into a library that skip its entry points, and `@pipeline/` names that resolve to nothing. */
  readonly problems: string[];
}

function owner(target: string, all: Map<string, Workspace>): Workspace | undefined {
  for (const w of all.values()) if (target === w.dir || target.startsWith(w.dir + sep)) return w;
  return undefined;
}

/**
 * Judges the imports of one package (plugin or library) against the other workspace packages:
 * `@pipeline/<name>` resolves to plugins/<name> or libs/<name>; a relative path is resolved to the
 * package whose directory it lands in. Importing a plugin is reported as a CrossImport; a library
 * reached by a subpath it does not export, or by a relative path, is a problem.
 */
export function workspaceImports(pkgDir: string, root: string, all: Map<string, Workspace> = workspaces(root)): ImportJudgement {
  const self = owner(pkgDir, all);
  const crossPlugin: CrossImport[] = [];
  const problems: string[] = [];
  const testDir = join(pkgDir, 'test') + sep;
  for (const file of pluginSources(pkgDir)) {
    const rel = relative(root, file);
    const inTest = file.startsWith(testDir);
    for (const spec of importSpecifiers(readFileSync(file, 'utf8'))) {
      let target: Workspace | undefined;
      let via: 'name' | 'path';
      let sub = '.';
      if (spec.startsWith('@pipeline/')) {
        const [, name, ...rest] = spec.split('/');
        if (name === 'core') continue; // judged by `violation`
        target = all.get(name!);
        if (!target) {
          problems.push(`${rel}: '${spec}' is neither a plugin under plugins/ nor a library under libs/`);
          continue;
        }
        via = 'name';
        if (rest.length) sub = './' + rest.join('/');
      } else if (spec.startsWith('.')) {
        target = owner(resolve(dirname(file), spec), all);
        via = 'path';
      } else continue;
      if (!target || target === self) continue;
      if (target.kind === 'plugin') {
        if (self?.kind === 'plugin') crossPlugin.push({ from: self.name, to: target.name, spec, file: rel, inTest });
        else problems.push(`${rel}: library imports the plugin ${target.name} ('${spec}')`);
      } else if (via === 'path') problems.push(`${rel}: relative import '${spec}' reaches into the library ${target.name} (import '@pipeline/${target.name}')`);
      else if (!target.exports.has(sub)) problems.push(`${rel}: '${spec}' is not an entry point of @pipeline/${target.name} (it exports ${[...target.exports].join(', ')})`);
    }
  }
  return { crossPlugin, problems };
}
