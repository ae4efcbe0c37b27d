/**
 * grok: parses unstructured text into fields with named regular expressions, as Logstash's grok
 * filter does with its legacy pattern library (ecs_compatibility => disabled).
 */
import { definePlugin, fieldRef, opt, ConfigError, type Event, type FieldRef, type Fields, type Resolved } from '@pipeline/core';
import { applyCaptureOffsets, applyCaptures, captureGroups, compileGrok, type CompiledGrok } from './compile.js';
import { buildLibrary } from './library.js';
import { WorkerGuard } from './worker-guard.js';
import { MAX_ITEMS } from './worker-protocol.js';

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
    const guard =
      timeoutMs > 0
        ? new WorkerGuard(
            entries.map((e) => e.groks.map((g) => ({ source: g.regex.source, flags: g.regex.flags, literal: g.literal, groups: captureGroups(g.slots) }))),
            { timeoutMs, scope: eventScope ? 'event' : 'pattern', breakOnMatch },
          )
        : undefined;
    const timeouts = ctx.metrics.counter('timeouts');
    const failures = ctx.metrics.counter('failures');
    const matches = ctx.metrics.counter('matches');
    const entryCount = entries.length;

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

    /** Applies the worker's result for item `item` (entry e, text `input`): the same as matchDirect. */
    function applyItem(item: number, e: number, input: string, fields: Fields): boolean | typeof TIMEOUT {
      if (!guard!.wait(item)) return TIMEOUT;
      const groks = entries[e]!.groks;
      const results = guard!.results;
      const base = item * guard!.stride;
      let at = base + groks.length;
      let matched = false;
      for (let i = 0; i < groks.length; i++) {
        const g = groks[i]!;
        matched = results[base + i] === 1;
        if (matched) {
          applyCaptureOffsets(input, results, at, g.slots, fields, keepEmpty);
          if (breakOnMatch) break;
        }
        at += 2 * g.groupCount;
      }
      return matched;
    }

    // ---- the batch path (timeout guard only): what prepare queued for the worker ----
    /** The prepared batch; events are looked up from `cursor` on (the executor keeps batch order). */
    let prepared: readonly Event[] | undefined;
    let preparedCount = 0;
    let cursor = 0;
    /** Per prepared event and entry: the item index, or -1 (no string value: per-event path). */
    let preparedItems = new Int32Array(0);
    /** Per item: the exact string handed to the worker; filter() uses the result only for this value. */
    let itemValues: string[] = [];
    let nextEventId = 0;
    /** Most of a generation prepare may use, leaving room for per-event items appended after it. */
    const PREPARE_LIMIT = MAX_ITEMS >>> 1;

    function prepare(batch: readonly Event[]): void {
      const g = guard!;
      const n = Math.min(batch.length, Math.floor(PREPARE_LIMIT / entryCount));
      if (preparedItems.length < n * entryCount) preparedItems = new Int32Array(n * entryCount * 2);
      let items = 0;
      let chars = 0;
      for (let i = 0; i < n; i++) {
        const fields = batch[i]!.fields;
        for (let e = 0; e < entryCount; e++) {
          const v = entries[e]!.ref.get(fields);
          if (typeof v === 'string') {
            items++;
            chars += v.length;
          }
        }
      }
      g.begin(items, chars);
      if (itemValues.length < items) itemValues = new Array<string>(items * 2);
      for (let i = 0; i < n; i++) {
        const fields = batch[i]!.fields;
        const eventId = nextEventId++ & 0x3fffffff;
        for (let e = 0; e < entryCount; e++) {
          const v = entries[e]!.ref.get(fields);
          if (typeof v === 'string') {
            const item = g.put(e, v, eventId);
            itemValues[item] = v;
            preparedItems[i * entryCount + e] = item;
          } else preparedItems[i * entryCount + e] = -1;
        }
      }
      g.publish();
      prepared = batch;
      preparedCount = n;
      cursor = 0;
    }

    /** The event's index in the prepared batch, or -1 (new event, or the batch is gone). */
    function findPrepared(event: Event): number {
      const batch = prepared;
      if (batch === undefined) return -1;
      for (let k = cursor; k < preparedCount; k++) {
        if (batch[k] === event) {
          cursor = k + 1;
          return k;
        }
      }
      return -1;
    }

    /** The per-event path: queues the value after the prepared ones (or in a new generation) and waits. */
    function matchGuarded(e: number, input: string, fields: Fields, eventId: number, inPrepared: boolean): boolean | typeof TIMEOUT {
      const g = guard!;
      if (prepared === undefined || (!inPrepared && cursor >= preparedCount)) {
        // nothing prepared is still to be read: start afresh rather than grow the generation
        prepared = undefined;
        g.begin(0, 0);
      }
      let item = g.append(e, input, eventId);
      if (item < 0) {
        prepared = undefined;
        g.begin(1, input.length);
        item = g.append(e, input, eventId);
      }
      itemValues[item] = input;
      return applyItem(item, e, input, fields);
    }

    function matchValue(e: number, input: string, fields: Fields, eventId: number, inPrepared: boolean): boolean | typeof TIMEOUT {
      return guard === undefined ? matchDirect(entries[e]!.groks, input, fields) : matchGuarded(e, input, fields, eventId, inPrepared);
    }

    return {
      prepare: guard === undefined ? undefined : prepare,
      filter(event: Event) {
        const fields = event.fields;
        const p = guard === undefined ? -1 : findPrepared(event);
        const eventId = guard === undefined ? 0 : nextEventId++ & 0x3fffffff;
        let matched = false;
        for (let e = 0; e < entryCount; e++) {
          const value = entries[e]!.ref.get(fields);
          if (value === undefined || value === null) continue;
          let ok: boolean | typeof TIMEOUT = false;
          // (a new generation begun meanwhile, when the prepared one filled up, clears `prepared`)
          const item = p >= 0 && prepared !== undefined ? preparedItems[p * entryCount + e]! : -1;
          if (item >= 0 && itemValues[item] === value) ok = applyItem(item, e, value as string, fields);
          else if (Array.isArray(value)) {
            for (const v of value) {
              const r = matchValue(e, toText(v), fields, eventId, p >= 0);
              if (r === TIMEOUT) {
                ok = TIMEOUT;
                break;
              }
              ok = ok || r;
            }
          } else ok = matchValue(e, toText(value), fields, eventId, p >= 0);
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

/** The match option compiled against the library (built-in, patterns_dir, pattern_definitions). */
function compileEntries(o: Resolved<typeof options>, resolvePath: (p: string) => string): MatchEntry[] {
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
