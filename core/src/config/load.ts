import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import micromatch from 'micromatch';
import type { ConfigAst } from './ast.js';
import { ConfigError } from './errors.js';
import { parseConfig, type ParseOptions } from './parser.js';

/**
 * Reads `-f` targets: a file, a directory (every file in it), or a glob; several files are read
 * in name order and their sections concatenated, as Logstash does with a config directory.
 */
export interface ConfigSource {
  file: string;
  text: string;
}

export function configFiles(pathOrGlob: string, workingDir = process.cwd()): string[] {
  const abs = resolve(workingDir, pathOrGlob);
  if (existsSync(abs)) {
    if (statSync(abs).isDirectory())
      return readdirSync(abs)
        .filter((f) => !f.startsWith('.') && statSync(join(abs, f)).isFile())
        .sort()
        .map((f) => join(abs, f));
    return [abs];
  }
  if (micromatch.scan(pathOrGlob).isGlob) {
    const { base } = micromatch.scan(abs);
    const root = existsSync(base) ? base : dirname(base);
    const found: string[] = [];
    const walk = (dir: string) => {
      for (const name of readdirSync(dir).sort()) {
        const p = join(dir, name);
        if (statSync(p).isDirectory()) walk(p);
        else if (micromatch.isMatch(p, abs)) found.push(p);
      }
    };
    if (existsSync(root)) walk(root);
    return found.sort((a, b) => basename(a).localeCompare(basename(b)) || a.localeCompare(b));
  }
  throw new ConfigError(`no config file at ${pathOrGlob}`, undefined, 'pass -f with a file, a directory or a glob, or -e with the config text');
}

export function readConfigSources(pathOrGlob: string, workingDir?: string): ConfigSource[] {
  const files = configFiles(pathOrGlob, workingDir);
  if (files.length === 0) throw new ConfigError(`no config files match ${pathOrGlob}`);
  return files.map((file) => ({ file, text: readFileSync(file, 'utf8') }));
}

export function parseSources(sources: ConfigSource[], options: ParseOptions): { ast: ConfigAst; texts: Map<string, string> } {
  const ast: ConfigAst = { sections: [] };
  const texts = new Map<string, string>();
  for (const s of sources) {
    texts.set(s.file, s.text);
    ast.sections.push(...parseConfig(s.text, s.file, options).sections);
  }
  return { ast, texts };
}
