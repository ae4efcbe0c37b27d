import type { Loc } from './ast.js';

/**
 * Which option of a plugin block an error is about, for errors raised where the option's place in
 * the config is not known (a plugin's `check`, a compiler the plugin calls): the runtime puts the
 * error at that option's value, or at the item of it (array element, hash key or value) whose text
 * is `value`, so a plugin names the option and never computes a location.
 */
export interface OptionTarget {
  name: string;
  value?: string;
}

/** Another place the error involves (the first of two duplicates), shown with its own excerpt. */
export interface RelatedLoc {
  loc: Loc;
  note: string;
}

export interface ConfigErrorDetails {
  option?: OptionTarget;
  related?: readonly RelatedLoc[];
}

/**
 * A mistake in a config, with where it is and how to fix it. `format` renders the file:line:col
 * header, the offending line with a caret under the column, and the hint.
 */
/** How much of a source line an error shows around its column. */
const EXCERPT_WIDTH = 120;

export class ConfigError extends Error {
  readonly code = 'PIPELINE_CONFIG_ERROR';
  constructor(
    readonly reason: string,
    readonly loc?: Loc,
    readonly hint?: string,
    /** The text of the file, for the excerpt. */
    readonly sourceText?: string,
    readonly details: ConfigErrorDetails = {},
  ) {
    super(loc ? `${loc.file}:${loc.line}:${loc.column}: ${reason}` : reason);
    this.name = 'ConfigError';
  }

  /** An error about one option, to be located by the runtime (see OptionTarget). */
  static forOption(option: string, reason: string, hint?: string, value?: string): ConfigError {
    return new ConfigError(reason, undefined, hint, undefined, { option: { name: option, value } });
  }

  get option(): OptionTarget | undefined {
    return this.details.option;
  }

  /** The same error at a place (its option target is then resolved). */
  at(loc: Loc): ConfigError {
    return new ConfigError(this.reason, loc, this.hint, undefined, { related: this.details.related });
  }

  withSource(text: string): ConfigError {
    return this.sourceText ? this : new ConfigError(this.reason, this.loc, this.hint, text, this.details);
  }

  format(): string {
    const lines = [this.message];
    const excerpt = (loc: Loc) => {
      if (this.sourceText === undefined || !this.loc || loc.file !== this.loc.file) return;
      const src = this.sourceText.split('\n')[loc.line - 1];
      if (src === undefined) return;
      const gutter = `${loc.line} | `;
      // a long line (a generated or minified config) is shown as a window around the column
      const col = Math.max(0, loc.column - 1);
      const from = src.length > EXCERPT_WIDTH && col > EXCERPT_WIDTH / 2 ? col - EXCERPT_WIDTH / 2 : 0;
      const to = Math.min(src.length, from + EXCERPT_WIDTH);
      const shown = (from > 0 ? '...' : '') + src.slice(from, to).replace(/\t/g, ' ') + (to < src.length ? '...' : '');
      lines.push(`  ${gutter}${shown}`);
      lines.push(`  ${' '.repeat(gutter.length + col - from + (from > 0 ? 3 : 0))}^`);
    };
    if (this.loc) excerpt(this.loc);
    for (const r of this.details.related ?? []) {
      lines.push(`  ${r.loc.file}:${r.loc.line}:${r.loc.column}: ${r.note}`);
      excerpt(r.loc);
    }
    if (this.hint) lines.push(`  hint: ${this.hint}`);
    return lines.join('\n');
  }
}

/** Several config errors found in one check; each is reported. */
export class ConfigErrors extends Error {
  readonly code = 'PIPELINE_CONFIG_ERRORS';
  constructor(readonly errors: ConfigError[]) {
    super(errors.map((e) => e.message).join('\n'));
    this.name = 'ConfigErrors';
  }
  format(): string {
    return this.errors.map((e) => e.format()).join('\n\n');
  }
}

/** Damerau-free edit distance, for "did you mean" suggestions. */
export function editDistance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0]!;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = prev[j]!;
      prev[j] = Math.min(prev[j]! + 1, prev[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = tmp;
    }
  }
  return prev[b.length]!;
}

/** Candidates close to `name`, nearest first. */
export function closeMatches(name: string, candidates: Iterable<string>, max = 3): string[] {
  const scored: [string, number][] = [];
  for (const c of candidates) {
    const d = editDistance(name.toLowerCase(), c.toLowerCase());
    if (d <= Math.max(2, Math.floor(c.length / 3)) || c.startsWith(name) || name.startsWith(c)) scored.push([c, d]);
  }
  return scored.sort((x, y) => x[1] - y[1]).slice(0, max).map(([c]) => c);
}
