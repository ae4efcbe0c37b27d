/**
 * grok: parses unstructured text into fields with named regular expressions, as Logstash's grok
 * filter does with its legacy pattern library (ecs_compatibility => disabled).
 */
import { definePlugin, fieldRef, opt, ConfigError, type Event, type FieldRef, type Fields, type Resolved } from '@pipeline/core';
import { applyCaptureOffsets, applyCaptures, captureGroups, compileGrok, execGrok, type CompiledGrok } from './compile.js';
import { buildLibrary } from './library.js';
import { provenSafe } from './onig/backtrack.js';
import { sharedGuard } from './worker-guard.js';

export { compileGrok, applyCaptures, execGrok } from './compile.js';
export { builtinPatterns, buildLibrary, BUILTIN_PATTERNS_DIR } from './library.js';
export { translate, UntranslatableError } from './onig/translate.js';
export { expandPattern, GrokPatternError } from './expand.js';
export { rubyToI, rubyToF } from './ruby-numbers.js';
export { provenSafe } from './onig/backtrack.js';

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

/**
 * How long a value a pattern proven free of exponential backtracking may be matched on the pipeline
 * thread, by its number of ambiguous loops (onig/backtrack.ts): a hostile line costs about the
 * length to that power. Longer values, and patterns with more loops, go to the guard. Measured
 * worst cases on crafted lines (BENCHMARKS.md, grok runaway guard): one loop (`%{DATA}: %{GREEDYDATA}`)
 * 10-30 ms at 16 KiB; two loops 11 ms at 1 KiB, 331 ms at 4 KiB, 23 s at 16 KiB.
 */
const INLINE_LIMITS = [65536, 16384, 1024];

interface PatternPlan {
  readonly g: CompiledGrok;
  /**
   * Longest value matched on the pipeline thread (Infinity without a guard; 0: always guarded);
   * -1 until the pattern is first used: the backtracking analysis takes a few ms per pattern, so it
   * runs at the first match, not before the inputs listen.
   */
  inlineMax: number;
  /** Its entry number in the shared guard, -1 without a guard. */
  readonly entry: number;
}

/** Ruby's to_s for the non-string values grok is asked to match. */
function toText(v: unknown): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'object' && v !== null && !(v instanceof Date) && typeof (v as { toISOString?: unknown }).toISOString !== 'function') return JSON.stringify(v);
  return String(v);
}

export default definePlugin({
  kind: 'filter',
  name: 'grok',
  parallel: true,
  description: "Parses text into fields with named regular expressions (Logstash grok, legacy pattern set)",
  options,
  check(o, env) {
    if (o.ecs_compatibility !== 'disabled') throw new ConfigError(`grok: ecs_compatibility => ${o.ecs_compatibility} is not supported; only the legacy pattern set (disabled) is provided`);
    if (o.timeout_millis < 0) throw new ConfigError('grok: timeout_millis must be >= 0');
    // compiling every pattern here makes -t report unknown %{NAME}s and untranslatable constructs
    compileEntries(o, env.resolvePath);
  },
  create(o, ctx) {
    const entries = compileEntries(o, (p) => ctx.resolvePath(p));
    const breakOnMatch = o.break_on_match;
    const keepEmpty = o.keep_empty_captures;
    const tagOnFailure = o.tag_on_failure;
    const tagOnTimeout = o.tag_on_timeout;
    const timeoutMs = o.timeout_millis;
    const eventScope = o.timeout_scope === 'event';
    const timeouts = ctx.metrics.counter('timeouts');
    const failures = ctx.metrics.counter('failures');
    const matches = ctx.metrics.counter('matches');
    const guardedItems = ctx.metrics.counter('guarded');
    const entryCount = entries.length;

    // Which values need the guard: those longer than their pattern's inline limit (0 for patterns
    // the static check could not prove safe). Every pattern is registered so either can be handed over.
    const guard = timeoutMs > 0 ? sharedGuard() : undefined;
    let maxPatterns = 1;
    const plans: PatternPlan[][] = entries.map((e) => {
      maxPatterns = Math.max(maxPatterns, e.groks.length);
      return e.groks.map((g) => {
        return {
          g,
          inlineMax: guard === undefined ? Infinity : -1,
          entry: guard === undefined ? -1 : guard.register({ source: g.regex.source, flags: g.regex.flags, literal: g.literal, groups: captureGroups(g.slots), repeats: g.repeats.length > 0 ? [...g.repeats] : undefined }),
        };
      });
    });
    const registered = guard === undefined ? 0 : plans.reduce((n, l) => n + l.length, 0);

    /** The pattern's inline limit, from the backtracking analysis the first time it is asked. */
    function inlineLimit(p: PatternPlan): number {
      if (p.inlineMax >= 0) return p.inlineMax;
      const v = provenSafe(p.g.regex.source);
      p.inlineMax = v.safe ? (INLINE_LIMITS[v.loops] ?? 0) : 0;
      if (p.inlineMax === 0) ctx.logger.debug({ pattern: p.g.pattern, reason: v.reason ?? `${v.loops} ambiguous loops` }, 'grok: pattern runs under the timeout guard');
      return p.inlineMax;
    }

    /** Whether this value against this pattern goes to the guard. */
    function guarded(p: PatternPlan, input: string): boolean {
      return input.length > inlineLimit(p);
    }

    // ---- what prepare queued on the guard for the batch ----
    let prepared: readonly Event[] | undefined;
    let preparedGen = -1;
    let preparedCount = 0;
    let cursor = 0;
    /** Per prepared event, entry and pattern: the item index, or -1 (not queued). */
    let preparedItems = new Int32Array(0);
    /** Per prepared event: the id its items carry (timeout_scope => event). */
    let preparedEvent = new Int32Array(0);
    /** Per item: the exact string handed over; filter() uses the result only for this value. */
    let itemValues: string[] = [];

    function prepare(batch: readonly Event[]): void {
      const g = guard!;
      g.startBatch(batch);
      const n = batch.length;
      const need = n * entryCount * maxPatterns;
      if (preparedItems.length < need) preparedItems = new Int32Array(need * 2);
      if (preparedEvent.length < n) preparedEvent = new Int32Array(n * 2);
      let any = false;
      for (let i = 0; i < n; i++) {
        const fields = batch[i]!.fields;
        const ev = g.eventId();
        preparedEvent[i] = ev;
        // (this loop stays cheap when nothing is guarded: a field read and a length per entry)
        for (let e = 0; e < entryCount; e++) {
          const base = (i * entryCount + e) * maxPatterns;
          const v = entries[e]!.ref.get(fields);
          const list = plans[e]!;
          for (let k = 0; k < list.length; k++) {
            const p = list[k]!;
            let item = -1;
            if (typeof v === 'string' && guarded(p, v) && (p.g.literal === undefined || v.indexOf(p.g.literal) !== -1)) {
              item = g.append(p.entry, v, ev, timeoutMs, eventScope);
              if (itemValues.length <= item) itemValues.length = Math.max(item + 1, itemValues.length * 2);
              itemValues[item] = v;
              any = true;
            }
            preparedItems[base + k] = item;
          }
        }
      }
      prepared = any ? batch : undefined;
      preparedGen = g.gen;
      preparedCount = n;
      cursor = 0;
    }

    /** The event's index in the prepared batch, or -1 (new event, or the batch is gone). */
    function findPrepared(event: Event): number {
      const batch = prepared;
      if (batch === undefined || preparedGen !== guard!.gen) return -1;
      for (let k = cursor; k < preparedCount; k++) {
        if (batch[k] === event) {
          cursor = k + 1;
          return k;
        }
      }
      return -1;
    }

    /** One guarded match: the prepared item when it is still this value, otherwise a new one. */
    function runGuarded(p: PatternPlan, input: string, fields: Fields, slot: number, eventId: number): boolean | typeof TIMEOUT {
      const g = guard!;
      let item = slot >= 0 && preparedGen === g.gen ? preparedItems[slot]! : -1;
      if (item < 0 || itemValues[item] !== input) {
        item = g.append(p.entry, input, eventId, timeoutMs, eventScope);
        if (itemValues.length <= item) itemValues.length = Math.max(item + 1, itemValues.length * 2);
        itemValues[item] = input;
      }
      guardedItems.inc();
      if (!g.wait(item)) return TIMEOUT;
      const results = g.results;
      const base = item * g.stride;
      if (results[base] !== 1) return false;
      applyCaptureOffsets(input, results, base + 1, p.g.slots, fields, keepEmpty);
      return true;
    }

    /** Logstash Matcher#match: returns the last tried pattern's result (true after a break). */
    function matchValue(e: number, input: string, fields: Fields, slotBase: number, eventId: number): boolean | typeof TIMEOUT {
      const list = plans[e]!;
      let matched = false;
      for (let i = 0; i < list.length; i++) {
        const p = list[i]!;
        const g = p.g;
        if (g.literal !== undefined && input.indexOf(g.literal) === -1) {
          matched = false;
          continue;
        }
        if (input.length > inlineLimit(p)) {
          const r = runGuarded(p, input, fields, slotBase < 0 ? -1 : slotBase + i, eventId);
          if (r === TIMEOUT) return TIMEOUT;
          matched = r;
        } else {
          const m = execGrok(g, input);
          matched = m !== null;
          if (m !== null) applyCaptures(m, g.slots, fields, keepEmpty);
        }
        if (matched && breakOnMatch) break;
      }
      return matched;
    }

    return {
      // also without guarded patterns: a long value goes to the guard, and it is queued in one go
      prepare: guard === undefined ? undefined : prepare,
      filter(event: Event) {
        const fields = event.fields;
        const p = prepared === undefined ? -1 : findPrepared(event);
        const eventId = guard === undefined ? 0 : p >= 0 ? preparedEvent[p]! : guard.eventId();
        let matched = false;
        for (let e = 0; e < entryCount; e++) {
          const value = entries[e]!.ref.get(fields);
          if (value === undefined || value === null) continue;
          let ok: boolean | typeof TIMEOUT = false;
          if (Array.isArray(value)) {
            for (const v of value) {
              const r = matchValue(e, toText(v), fields, -1, eventId);
              if (r === TIMEOUT) {
                ok = TIMEOUT;
                break;
              }
              ok = ok || r;
            }
          } else ok = matchValue(e, toText(value), fields, p >= 0 ? (p * entryCount + e) * maxPatterns : -1, eventId);
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
        if (guard !== undefined) await guard.release(registered);
      },
    };
  },
});

/**
 * Compiled match options against the built-in library alone, by options: the config check and the
 * start (and a reload keeping the same filters) compile each block once. Compiled entries hold no
 * per-event state (the regexes are neither global nor sticky), so filters can share them.
 */
const compiledCache = new Map<string, MatchEntry[]>();

/** The match option compiled against the library (built-in, patterns_dir, pattern_definitions). */
function compileEntries(o: Resolved<typeof options>, resolvePath: (p: string) => string): MatchEntry[] {
  const builtinOnly = o.patterns_dir.length === 0 && Object.keys(o.pattern_definitions).length === 0;
  if (!builtinOnly) return compileUncached(o, resolvePath);
  const key = JSON.stringify([o.match, o.named_captures_only, o.target ?? null, o.overwrite]);
  let hit = compiledCache.get(key);
  if (hit === undefined) {
    hit = compileUncached(o, resolvePath);
    if (compiledCache.size >= 4096) compiledCache.clear();
    compiledCache.set(key, hit);
  }
  return hit;
}

function compileUncached(o: Resolved<typeof options>, resolvePath: (p: string) => string): MatchEntry[] {
  const library = buildLibrary(
    o.patterns_dir.map((d) => resolvePath(d)),
    o.patterns_files_glob,
    o.pattern_definitions as Record<string, unknown>,
  );
  const compileOpts = { namedCapturesOnly: o.named_captures_only, target: o.target, overwrite: new Set(o.overwrite) };
  return Object.entries(o.match).map(([field, pats]) => {
    const list = (Array.isArray(pats) ? pats : [pats]).map(String);
    return { field, ref: fieldRef(field), groks: list.map((p) => compileGrok(p, library, compileOpts)) };
  });
}
