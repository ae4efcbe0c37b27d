/**
 * The pattern library a grok instance compiles against: the built-in legacy set (this package's
 * `patterns/` folder, read once per process), then `patterns_dir` files matching
 * `patterns_files_glob` (sorted, as Logstash globs them), then `pattern_definitions`. A later
 * definition of a name replaces an earlier one.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import micromatch from 'micromatch';
import { parsePatternText } from './pattern-file.js';

/** This package's `patterns/` folder (dist/src/library.js → ../../patterns). */
export const BUILTIN_PATTERNS_DIR = fileURLToPath(new URL('../../patterns/', import.meta.url));

let builtin: ReadonlyMap<string, string> | undefined;

/** The built-in legacy library, loaded once. */
export function builtinPatterns(): ReadonlyMap<string, string> {
  if (builtin === undefined) {
    const lib = new Map<string, string>();
    for (const f of readdirSync(BUILTIN_PATTERNS_DIR).sort()) parsePatternText(readFileSync(join(BUILTIN_PATTERNS_DIR, f), 'utf8'), lib);
    builtin = lib;
  }
  return builtin;
}

/** Files of one patterns_dir entry that match the glob, sorted (a file path is taken as is). */
export function patternFilesIn(dir: string, glob: string): string[] {
  const st = statSync(dir);
  if (st.isFile()) return [dir];
  const names = readdirSync(dir).filter((n) => statSync(join(dir, n)).isFile());
  return micromatch(names, glob, { dot: false }).sort().map((n) => join(dir, n));
}

export function buildLibrary(dirs: readonly string[], glob: string, definitions: Record<string, unknown>): Map<string, string> {
  const lib = new Map(builtinPatterns());
  for (const d of dirs) for (const f of patternFilesIn(d, glob)) parsePatternText(readFileSync(f, 'utf8'), lib);
  for (const [k, v] of Object.entries(definitions)) lib.set(k, String(v));
  return lib;
}
