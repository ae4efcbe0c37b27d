/**
 * Finds the module specifiers a TypeScript file imports (static imports and re-exports, `import
 * type`, dynamic `import('...')`, `require('...')`) and judges whether a plugin may use them: a
 * plugin reaches core only through its public entry points, `@pipeline/core` and
 * `@pipeline/core/testing` — never a deep path into the package, nor a relative path into core/.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
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
