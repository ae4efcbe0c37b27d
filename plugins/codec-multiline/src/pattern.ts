/**
 * The multiline `pattern`: grok references (`%{NAME}`) expanded from the grok library (the built-in
 * legacy set, then `patterns_dir` files), the result read as an Oniguruma regex and translated to
 * one JavaScript RegExp, as Logstash's codec compiles it with jls-grok and matches each line with it
 * (unanchored: a search, not a whole-line match). Compiled once per codec configuration.
 */
import { statSync } from 'node:fs';
import { ConfigError } from '@pipeline/core';
import { buildLibrary, builtinPatterns, expandPattern, translate } from '@pipeline/filter-grok';

export interface LineMatcher {
  readonly regex: RegExp;
  /**
   * The same regex for a line without a newline (every line the codec splits itself): Oniguruma's
   * `^`, which the translation writes `(?<![^\n])` and V8 then tries at every position, is plain
   * `^` on such a line, so a leading one is written `^` here and the regex is anchored.
   */
  readonly single: RegExp;
  /** Text every matching line contains: a line without it cannot match (checked first). */
  readonly literal: string | undefined;
}

const LINE_START = '(?<![^\\n])';

function matcherOf(pattern: string, library: Map<string, string>): LineMatcher {
  const t = translate(expandPattern(pattern, library, true), JSON.stringify(pattern));
  // no g or y: test() then keeps no lastIndex between lines
  const flags = t.flags.replace(/[gy]/g, '');
  const regex = new RegExp(t.source, flags);
  const single = t.source.startsWith(LINE_START) ? new RegExp('^' + t.source.slice(LINE_START.length), flags) : regex;
  const literal = t.requiredLiteral !== undefined && t.requiredLiteral.length >= 2 ? t.requiredLiteral : undefined;
  return { regex, single, literal };
}

/** The error text of the grok library's errors, without its `grok:` prefix. */
function reasonOf(e: unknown): string {
  return ((e as Error).message ?? String(e)).replace(/^grok: /, '');
}

/** Loads the library (built-in set, then each patterns_dir entry in order) and compiles `pattern`. */
export function compilePattern(pattern: string, patternsDir: readonly string[], resolvePath: (p: string) => string): LineMatcher {
  const dirs = patternsDir.map((d) => {
    const abs = resolvePath(d);
    try {
      statSync(abs);
    } catch (e) {
      throw ConfigError.forOption('patterns_dir', `codec multiline: patterns_dir '${d}' cannot be read: ${(e as NodeJS.ErrnoException).code ?? reasonOf(e)}`, 'name a folder of pattern files, or a pattern file', d);
    }
    return abs;
  });
  let library: Map<string, string>;
  try {
    library = buildLibrary(dirs, '*', {});
  } catch (e) {
    throw ConfigError.forOption('patterns_dir', `codec multiline: patterns_dir: ${reasonOf(e)}`);
  }
  try {
    return matcherOf(pattern, library);
  } catch (e) {
    throw ConfigError.forOption('pattern', `codec multiline: option 'pattern': ${reasonOf(e)}`, (e as ConfigError).hint, pattern);
  }
}

/**
 * A library that answers every name: names the built-in set lacks stand for an empty group, so the
 * schema can check a pattern's regex syntax before it knows patterns_dir.
 */
class Lenient extends Map<string, string> {
  override get(k: string): string {
    return super.get(k) ?? '';
  }
}
let lenient: Lenient | undefined;

/**
 * The schema's check of `pattern` (it runs where the option's place in the config is known, at
 * -t): the regex must compile; a name neither built in nor inline is left to `compilePattern`,
 * which sees patterns_dir.
 */
export function patternSyntaxError(pattern: string): string | undefined {
  lenient ??= new Lenient(builtinPatterns());
  try {
    matcherOf(pattern, lenient);
    return undefined;
  } catch (e) {
    // an inline %{NAME=...} copies the library into a plain Map, which then refuses unknown names
    if (/ not defined/.test((e as Error).message)) return undefined;
    return reasonOf(e);
  }
}
