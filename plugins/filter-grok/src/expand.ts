/**
 * Grok expansion (jls-grok `compile`): `%{NAME}`, `%{NAME:semantic}`, `%{NAME:semantic:type}` and
 * `%{NAME=definition}` references are replaced textually, leftmost first, until none is left.
 * With named_captures_only (the default) `%{NAME}` becomes `(?:DEF)`; a reference with a semantic
 * becomes a named group whose name is the whole reference text (`NAME:semantic[:type]`).
 */
import { closeMatches, ConfigError } from '@pipeline/core';

/**
 * A pattern that cannot be expanded. It is a config error about the pattern text, which is an
 * item of grok's `match`: the runtime puts it at that string in the config.
 */
export class GrokPatternError extends ConfigError {
  constructor(reason: string, pattern: string, hint?: string) {
    super(reason, undefined, hint, undefined, { option: { name: 'match', value: pattern } });
    this.name = 'GrokPatternError';
  }
}

// NAME is [A-z0-9]+ (the ASCII range A..z, so `_ [ \ ] ^ \`` count too), as jls-grok writes it.
const REFERENCE = /%\{([A-z0-9]+)(?::([@\[\]A-z0-9_:.-]+))?(?:=((?:[^{}]+|\{[^{}]*\})+))?[^}]*\}/;
const MAX_ROUNDS = 10_000;

export function expandPattern(pattern: string, library: Map<string, string>, namedCapturesOnly = true): string {
  let text = pattern;
  // inline definitions register into a private copy so they never leak between patterns
  let lib = library;
  for (let round = 0; ; round++) {
    if (round >= MAX_ROUNDS) throw new GrokPatternError(`grok: deep recursion pattern compilation of ${JSON.stringify(pattern)}`, pattern, 'a pattern definition refers to itself, directly or through others');
    const m = REFERENCE.exec(text);
    if (!m) return text;
    const [whole, name, semantic, definition] = m as unknown as [string, string, string | undefined, string | undefined];
    if (definition !== undefined) {
      if (lib === library) lib = new Map(library);
      lib.set(name, definition);
    }
    const def = lib.get(name);
    if (def === undefined) {
      const close = closeMatches(name, lib.keys());
      throw new GrokPatternError(
        `grok: pattern %{${name}} not defined` + (close.length ? ` (did you mean %{${close[0]}}?)` : '') + ` in ${JSON.stringify(pattern)}`,
        pattern,
        close.length ? `replace %{${name}} with %{${close[0]}}` : 'define it with pattern_definitions => { "NAME" => "regex" }, or in a file of patterns_dir',
      );
    }
    let replacement: string;
    if (semantic !== undefined) replacement = `(?<${name}:${semantic}>${def})`;
    else if (namedCapturesOnly) replacement = `(?:${def})`;
    else replacement = `(?<${name}>${def})`;
    // the first literal occurrence of the reference text is the leftmost match itself
    text = text.slice(0, m.index) + replacement + text.slice(m.index + whole.length);
  }
}
