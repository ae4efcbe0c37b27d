/** Loading several rule files and globs in order, and `pipeline sec check`. */
import { expandGlob } from './glob.js';
import { readRuleFile, isWarning, type LoadOptions, type RuleError, type RuleFile } from './rules.js';

export interface Loaded {
  files: RuleFile[];
  errors: RuleError[];
  warnings: RuleError[];
}

/** Expands each pattern (in order, duplicates dropped, like sec's --conf) and compiles every file. */
export function loadRuleFiles(patterns: string[], opts: LoadOptions = {}): Loaded {
  const seen = new Set<string>();
  const paths: string[] = [];
  const all: RuleError[] = [];
  for (const pat of patterns) {
    const found = expandGlob(pat);
    if (!found.length) all.push({ file: pat, line: 0, message: 'warning: pattern matches no rule file' });
    for (const p of found) if (!seen.has(p)) seen.add(p), paths.push(p);
  }
  const files: RuleFile[] = [];
  for (const p of paths) {
    const f = readRuleFile(p, opts, all);
    if (f) files.push(f);
  }
  return { files, errors: all.filter((e) => !isWarning(e)), warnings: all.filter(isWarning) };
}

export function formatRuleError(e: RuleError): string {
  return `${e.file}:${e.line}: ${e.message}`;
}

/**
 * Like `sec --testonly`: parses and validates rule files. Shell actions are errors unless
 * allowShell is set. Returns errors (and warnings) with file and line.
 */
export function checkRuleFiles(paths: string[], opts: LoadOptions = {}): { errors: RuleError[]; warnings: RuleError[] } {
  const { errors, warnings } = loadRuleFiles(paths, opts);
  return { errors, warnings };
}
