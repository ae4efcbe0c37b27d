/**
 * grok: parses unstructured text into fields with named regular expressions, as Logstash's grok
 * filter does with its legacy pattern library (ecs_compatibility => disabled).
 */
import { definePlugin, fieldRef, opt, ConfigError, type Event, type FieldRef, type Fields } from '@pipeline/core';
import { applyCaptures, compileGrok, type CompiledGrok } from './compile.js';
import { buildLibrary } from './library.js';
import { WorkerGuard } from './worker-guard.js';

export { compileGrok, applyCaptures } from './compile.js';
export { builtinPatterns, buildLibrary, BUILTIN_PATTERNS_DIR } from './library.js';
export { translate, UntranslatableError } from './onig/translate.js';
export { expandPattern, GrokPatternError } from './expand.js';
export { rubyToI, rubyToF } from './ruby-numbers.js';

const options = {
  match: opt.hash({ default: {}, description: 'field => pattern, or field => [patterns] tried in order' }),
  break_on_match: opt.bool({ default: true, description: 'stop at the first pattern (and field) that matches' }),
  keep_empty_captures: opt.bool({ default: false, description: 'keep captures that matched the empty string' }),
  named_captures_only: opt.bool({ default: true, description: 'only %{NAME:field} and (?<name>...) capture; false also captures plain %{NAME} as NAME' }),
  overwrite: opt.strings({ default: [], description: 'fields a capture replaces instead of turning into an array' }),
  patterns_dir: opt.strings({ default: [], description: 'extra pattern files or folders, loaded after the built-in library' }),
  patterns_files_glob: opt.string({ default: '*', description: 'which files of each patterns_dir folder to load' }),
  pattern_definitions: opt.hash({ default: {}, description: 'NAME => definition, loaded last (overrides files)' }),
  tag_on_failure: opt.strings({ default: ['_grokparsefailure'], description: 'tags added when no pattern matched' }),
  tag_on_timeout: opt.string({ default: '_groktimeout', description: 'tag added when matching ran out of time' }),
  timeout_millis: opt.number({ default: 30000, description: 'time limit per pattern (or per event, see timeout_scope); 0 disables the limit and matches on the pipeline thread' }),
  timeout_scope: opt.string({ default: 'pattern', values: ['pattern', 'event'], description: 'what timeout_millis bounds' }),
  target: opt.string({ description: 'put captures under this field instead of the event root' }),
  ecs_compatibility: opt.string({ default: 'disabled', values: ['disabled', 'v1', 'v8'], description: 'only the legacy (disabled) pattern set is provided' }),
};

interface MatchEntry {
  readonly field: string;
  readonly ref: FieldRef;
  readonly groks: readonly CompiledGrok[];
}

const TIMEOUT = 2;

/** Ruby's to_s for the non-string values grok is asked to match. */
function toText(v: unknown): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'object' && v !== null && !(v instanceof Date) && typeof (v as { toISOString?: unknown }).toISOString !== 'function') return JSON.stringify(v);
  return String(v);
}

export default definePlugin({
  kind: 'filter',
  name: 'grok',
  description: "Parses text into fields with named regular expressions (Logstash grok, legacy pattern set)",
  options,
  check(o) {
    if (o.ecs_compatibility !== 'disabled') throw new ConfigError(`grok: ecs_compatibility => ${o.ecs_compatibility} is not supported; only the legacy pattern set (disabled) is provided`);
    if (o.timeout_millis < 0) throw new ConfigError('grok: timeout_millis must be >= 0');
  },
  create(o, ctx) {
    const library = buildLibrary(
      o.patterns_dir.map((d) => ctx.resolvePath(d)),
      o.patterns_files_glob,
      o.pattern_definitions as Record<string, unknown>,
    );
    const compileOpts = { namedCapturesOnly: o.named_captures_only, target: o.target, overwrite: new Set(o.overwrite) };
    const entries: MatchEntry[] = Object.entries(o.match).map(([field, pats]) => {
      const list = (Array.isArray(pats) ? pats : [pats]).map(String);
      return { field, ref: fieldRef(field), groks: list.map((p) => compileGrok(p, library, compileOpts)) };
    });
    const breakOnMatch = o.break_on_match;
    const keepEmpty = o.keep_empty_captures;
    const tagOnFailure = o.tag_on_failure;
    const tagOnTimeout = o.tag_on_timeout;
    const timeoutMs = o.timeout_millis;
    const eventScope = o.timeout_scope === 'event';
    const guard =
      timeoutMs > 0
        ? new WorkerGuard(
            entries.map((e) => e.groks.map((g) => ({ source: g.regex.source, flags: g.regex.flags, literal: g.literal }))),
            { timeoutMs, scope: eventScope ? 'event' : 'pattern' },
          )
        : undefined;
    const timeouts = ctx.metrics.counter('timeouts');
    const failures = ctx.metrics.counter('failures');
    const matches = ctx.metrics.counter('matches');

    /** Logstash Matcher#match: returns the last tried pattern's result (true after a break). */
    function matchDirect(groks: readonly CompiledGrok[], input: string, fields: Fields): boolean {
      let matched = false;
      for (let i = 0; i < groks.length; i++) {
        const g = groks[i]!;
        const m = g.literal !== undefined && input.indexOf(g.literal) === -1 ? null : g.regex.exec(input);
        matched = m !== null;
        if (m !== null) {
          applyCaptures(m, g.slots, fields, keepEmpty);
          if (breakOnMatch) break;
        }
      }
      return matched;
    }

    function matchGuarded(entry: number, groks: readonly CompiledGrok[], input: string, fields: Fields, deadline: number): boolean | typeof TIMEOUT {
      const results = guard!.run(entry, input, breakOnMatch, deadline);
      if (results === undefined) return TIMEOUT;
      let matched = false;
      for (let i = 0; i < groks.length; i++) {
        matched = results[i] === 1;
        if (matched) {
          const g = groks[i]!;
          applyCaptures(g.regex.exec(input)!, g.slots, fields, keepEmpty);
          if (breakOnMatch) break;
        }
      }
      return matched;
    }

    function matchValue(e: number, input: string, fields: Fields, deadline: number): boolean | typeof TIMEOUT {
      return guard === undefined ? matchDirect(entries[e]!.groks, input, fields) : matchGuarded(e, entries[e]!.groks, input, fields, deadline);
    }

    return {
      filter(event: Event) {
        const fields = event.fields;
        const deadline = guard !== undefined && eventScope ? performance.now() + timeoutMs : 0;
        let matched = false;
        for (let e = 0; e < entries.length; e++) {
          const value = entries[e]!.ref.get(fields);
          if (value === undefined || value === null) continue;
          let ok: boolean | typeof TIMEOUT = false;
          if (Array.isArray(value)) {
            for (const v of value) {
              const r = matchValue(e, toText(v), fields, deadline);
              if (r === TIMEOUT) {
                ok = TIMEOUT;
                break;
              }
              ok = ok || r;
            }
          } else ok = matchValue(e, toText(value), fields, deadline);
          if (ok === TIMEOUT) {
            timeouts.inc();
            ctx.logger.warn({ field: entries[e]!.field, timeout_millis: timeoutMs }, 'grok: timeout executing the patterns against the field value');
            event.tag(tagOnTimeout);
            return false;
          }
          if (ok) {
            matched = true;
            if (breakOnMatch) break;
          }
        }
        if (matched) {
          matches.inc();
          return true;
        }
        failures.inc();
        for (let i = 0; i < tagOnFailure.length; i++) event.tag(tagOnFailure[i]!);
        return false;
      },
      async close() {
        await guard?.close();
      },
    };
  },
});
