import { statSync } from 'node:fs';
import {
  compileTemplate,
  ConfigError,
  deepCopy,
  definePlugin,
  enableRegexFallback,
  fieldRef,
  needsWatchdog,
  opt,
  RegexWatchdog,
  Timestamp,
  type Event,
  type FieldRef,
  type Fields,
  type Logger,
  type Template,
} from '@pipeline/core';
import { formatOf, loadFile, type Entries, type Format, type LoadOptions } from './load.js';

export { parseText, formatOf } from './load.js';

const DEFAULT_CODE_POINT_LIMIT = 134_217_728;

const options = {
  source: opt.field({ description: 'field whose value is looked up (an array: its first element); required (or its old name field)' }),
  field: opt.field({ deprecated: 'use source', description: 'old name of source' }),
  target: opt.field({ description: 'field the translation is written to; default: translation, or the source itself (in place) with ECS compatibility on' }),
  destination: opt.field({ deprecated: 'use target', description: 'old name of target' }),
  dictionary: opt.hash({ default: {}, description: 'key => translation, inline (instead of dictionary_path)' }),
  dictionary_path: opt.path({ description: 'YAML (.yaml, .yml), JSON (.json) or CSV (.csv, two columns) file of key => translation' }),
  refresh_interval: opt.number({ default: 300, description: 'seconds between checks of dictionary_path; a changed file is read again (0 or less: never)' }),
  refresh_behaviour: opt.string({ default: 'merge', values: ['merge', 'replace'], description: 'merge: entries read again update the dictionary and removed ones stay; replace: the file replaces it' }),
  exact: opt.bool({ default: true, description: 'true: the whole value is looked up; false: every key found inside the value is replaced by its translation' }),
  regex: opt.bool({ default: false, description: 'with exact: the keys are regular expressions, the first (in dictionary order) that matches the value wins' }),
  fallback: opt.string({ description: 'translation when nothing matches (sprintf)' }),
  override: opt.bool({ description: 'translate even when target already exists; default false, true for an in-place translation' }),
  iterate_on: opt.field({ description: 'an array field: translate each element (iterate_on = source), or a field of each object in it (source and target inside the objects)' }),
  yaml_dictionary_code_point_limit: opt.number({ min: 1, description: `YAML files only: refuse a dictionary file of more code points (default ${DEFAULT_CODE_POINT_LIMIT})` }),
  yaml_load_strategy: opt.string({ default: 'one_shot', values: ['one_shot', 'streaming'], description: "one_shot: any YAML; streaming: flat 'key: value' lines only (a file that needs the full YAML parser is refused)" }),
  ecs_compatibility: opt.string({ default: 'disabled', values: ['disabled', 'v1', 'v8'], description: 'v1 or v8: the default target is the source (in-place translation)' }),
};

type Options = {
  source?: string | undefined;
  field?: string | undefined;
  target?: string | undefined;
  destination?: string | undefined;
  dictionary: Record<string, unknown>;
  dictionary_path?: string | undefined;
  refresh_interval: number;
  refresh_behaviour: string;
  exact: boolean;
  regex: boolean;
  fallback?: string | undefined;
  override?: boolean | undefined;
  iterate_on?: string | undefined;
  yaml_dictionary_code_point_limit?: number | undefined;
  yaml_load_strategy: string;
  ecs_compatibility: string;
};

// ---- lookups ----

/** A value read from an event as the text looked up: Ruby's to_s (nil is "", 200 is "200"). */
function asKey(v: unknown): string {
  if (typeof v === 'string') return v;
  if (v === null || v === undefined) return '';
  if (v instanceof Timestamp) return v.toISOString();
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

/** A translation handed to an event: its own copy when it is a hash or an array. */
function copyOf(v: unknown): unknown {
  return typeof v === 'object' && v !== null && !(v instanceof Timestamp) ? deepCopy(v) : v;
}

const MISS = Symbol('miss');
const watchdog = new RegexWatchdog('the translate dictionary regex');

interface Lookup {
  fetch(key: string): unknown; // MISS when nothing matches
}

/** exact: one Map probe. */
function exactLookup(dict: Map<string, unknown>): Lookup {
  return {
    fetch(key) {
      const v = dict.get(key);
      return v === undefined && !dict.has(key) ? MISS : copyOf(v);
    },
  };
}

/** exact + regex: each key a regex, compiled once per load, tried in dictionary order; user regexes run bounded. */
function regexLookup(dict: Map<string, unknown>, logger?: Logger): Lookup {
  enableRegexFallback();
  const tests: { test: (s: string) => boolean; value: unknown }[] = [];
  for (const [k, value] of dict) {
    let re: RegExp;
    try {
      re = new RegExp(k);
    } catch (e) {
      logger?.warn({ key: k, err: (e as Error).message }, 'translate: a dictionary key is not a valid regex; skipped');
      continue;
    }
    const test = needsWatchdog(k) ? (s: string) => watchdog.exec(re, k, s) !== null : (s: string) => re.test(s);
    tests.push({ test, value });
  }
  return {
    fetch(key) {
      for (const t of tests) if (t.test(key)) return copyOf(t.value);
      return MISS;
    },
  };
}

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');

/**
 * exact => false: Ruby's Regexp.union of the keys taken literally (leftmost match, earlier keys first
 * at one position) and gsub with the dictionary: every key found in the value is replaced. Literal
 * alternatives: no backtracking blow-up.
 */
function unionLookup(dict: Map<string, unknown>): Lookup {
  const keys = [...dict.keys()].filter((k) => k !== '');
  if (keys.length === 0) return { fetch: () => MISS };
  const re = new RegExp(keys.map(escapeRe).join('|'), 'g');
  return {
    fetch(key) {
      const out = key.replace(re, (m) => asKey(dict.get(m)));
      return out === key ? MISS : out;
    },
  };
}

function lookupFor(dict: Map<string, unknown>, o: Options, logger?: Logger): Lookup {
  if (o.exact && o.regex) return regexLookup(dict, logger);
  if (o.exact) return exactLookup(dict);
  return unionLookup(dict);
}

// ---- configuration ----

function resolveNames(o: Options) {
  if (o.field !== undefined && o.source !== undefined) throw ConfigError.forOption('field', `translate: remove 'field => "${o.field}"' and set only 'source'`);
  if (o.destination !== undefined && o.target !== undefined) throw ConfigError.forOption('destination', `translate: remove 'destination => "${o.destination}"' and set only 'target'`);
  const source = o.source ?? o.field;
  if (source === undefined) throw new ConfigError("translate: no source field: set 'source => ...'");
  const target = o.target ?? o.destination ?? (o.ecs_compatibility === 'disabled' ? 'translation' : source);
  const inPlace = fieldRef(source).path.join('\u0000') === fieldRef(target).path.join('\u0000');
  if (inPlace && o.override === false) throw ConfigError.forOption('override', "translate: 'override => false' has no effect with an in-place translation (target is the source): remove it");
  const override = o.override ?? inPlace;
  return { source, target, inPlace, override };
}

function fileOptions(o: Options, path: string | undefined): { format?: Format; load: LoadOptions } {
  if (o.dictionary_path !== undefined && Object.keys(o.dictionary).length > 0) throw ConfigError.forOption('dictionary_path', "translate: the options 'dictionary' and 'dictionary_path' are mutually exclusive");
  if (path === undefined) {
    if (o.yaml_dictionary_code_point_limit !== undefined) throw ConfigError.forOption('yaml_dictionary_code_point_limit', 'translate: yaml_dictionary_code_point_limit applies to a YAML dictionary_path only');
    return { load: {} };
  }
  const format = formatOf(path);
  if (format === undefined) throw ConfigError.forOption('dictionary_path', `translate: dictionary ${o.dictionary_path} has a non valid format: name it .yaml, .yml, .json or .csv`);
  if (format !== 'yaml' && o.yaml_dictionary_code_point_limit !== undefined) throw ConfigError.forOption('yaml_dictionary_code_point_limit', 'translate: remove yaml_dictionary_code_point_limit for a dictionary file in JSON or CSV format');
  return { format, load: { codePointLimit: o.yaml_dictionary_code_point_limit ?? DEFAULT_CODE_POINT_LIMIT, strategy: o.yaml_load_strategy as 'one_shot' | 'streaming' } };
}

function compile(o: Options, resolvePath: (p: string) => string) {
  const names = resolveNames(o);
  const path = o.dictionary_path === undefined ? undefined : resolvePath(o.dictionary_path);
  const { format, load } = fileOptions(o, path);
  let entries: Entries;
  if (path !== undefined) {
    try {
      entries = loadOnce(path, format!, load);
    } catch (e) {
      throw ConfigError.forOption('dictionary_path', `translate: ${(e as Error).message} when loading dictionary file at ${path}`);
    }
  } else entries = Object.keys(o.dictionary).map((k) => [k, o.dictionary[k]]);
  const dict = new Map<string, unknown>(entries);
  // a regex key that does not compile is refused at load when the dictionary is inline
  if (o.exact && o.regex && path === undefined) {
    for (const k of dict.keys()) {
      try {
        new RegExp(k);
      } catch (e) {
        throw ConfigError.forOption('dictionary', `translate: the key '${k}' is not a valid regex: ${(e as Error).message}`);
      }
    }
  }
  const fallback = o.fallback === undefined ? undefined : compileTemplate(o.fallback);
  return { ...names, path, format, load, dict, fallback };
}

/**
 * check (at -t and at start) and create both compile: the file read by the first is handed to the
 * second when it has not changed, so a large dictionary is parsed once per start.
 */
let lastLoad: { key: string; entries: Entries } | undefined;
function loadOnce(path: string, format: Format, load: LoadOptions): Entries {
  const st = statSync(path);
  const key = JSON.stringify([path, st.mtimeMs, st.size, st.ino, format, load]);
  if (lastLoad?.key === key) return lastLoad.entries;
  const entries = loadFile(path, format, load);
  lastLoad = { key, entries };
  return entries;
}

// ---- updates (Logstash's SingleValueUpdate, ArrayOfValuesUpdate, ArrayOfMapsValueUpdate) ----

type Updater = (event: Event, lookup: Lookup) => boolean | undefined; // undefined: not applicable (no filter_matched)

function isObject(v: unknown): v is Fields {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Timestamp);
}

function updater(o: Options, c: { source: string; target: string; override: boolean; fallback?: Template | undefined }): Updater {
  const source = fieldRef(c.source);
  const target = fieldRef(c.target);
  const { override, fallback } = c;
  if (o.iterate_on === undefined) {
    return (event, lookup) => {
      const f = event.fields;
      if (!override && target.get(f) !== undefined) return undefined;
      const v = source.get(f);
      if (v === undefined) return undefined;
      const found = lookup.fetch(asKey(Array.isArray(v) ? v[0] : v));
      if (found !== MISS) {
        event.set(target, found);
        return true;
      }
      if (fallback) {
        event.set(target, fallback.render(f));
        return true;
      }
      return false;
    };
  }
  const iterate = fieldRef(o.iterate_on);
  if (iterate.path.join('\u0000') === source.path.join('\u0000')) {
    // an array of values: target gets an array of translations (fallback or null where none)
    return (event, lookup) => {
      const f = event.fields;
      if (!override && target.get(f) !== undefined) return undefined;
      const v = iterate.get(f);
      if (v === undefined) return undefined;
      const values = Array.isArray(v) ? v : v === null ? [] : [v];
      const fb = fallback ? fallback.render(f) : null;
      const out = values.map((x) => {
        const found = lookup.fetch(asKey(x));
        return found === MISS ? fb : found;
      });
      event.set(target, out);
      // Ruby's any?: some element other than nil and false
      return out.some((x) => x !== null && x !== undefined && x !== false);
    };
  }
  // an array of objects: source and target name fields inside each object
  return (event, lookup) => {
    const f = event.fields;
    const v = iterate.get(f);
    if (v === undefined) return undefined;
    const items = Array.isArray(v) ? v : [v];
    let any = false;
    for (const item of items) {
      if (!isObject(item)) continue;
      const inner = source.get(item);
      if (inner === undefined || inner === null) continue;
      const found = lookup.fetch(asKey(inner));
      if (found !== MISS) target.set(item, found);
      else if (fallback) target.set(item, fallback.render(f));
      else continue;
      any = true;
    }
    // the objects were changed in place: set the array again so the event's cached JSON goes
    if (any) event.set(iterate, v);
    return any;
  };
}

export default definePlugin({
  kind: 'filter',
  name: 'translate',
  description: 'Replaces or adds fields from a dictionary.',
  options,
  parallel: true,
  check(o, env) {
    compile(o, env.resolvePath);
  },
  create(o, ctx) {
    const c = compile(o, (p) => ctx.resolvePath(p));
    lastLoad = undefined; // the entries live in this instance's Map from here on
    let dict = c.dict;
    let lookup = lookupFor(dict, o, ctx.logger);
    const update = updater(o, c);
    const reloads = ctx.metrics.counter('dictionary_reloads');
    const size = ctx.metrics.gauge('dictionary_entries');
    size.set(dict.size);
    let timer: { cancel(): void } | undefined;
    const { path, format, load } = c;
    if (path !== undefined && o.refresh_interval > 0) {
      let seen = statSync(path, { throwIfNoEntry: false });
      timer = ctx.clock.setInterval(() => {
        const st = statSync(path, { throwIfNoEntry: false });
        if (st === undefined) {
          if (seen !== undefined) ctx.logger.warn({ path }, 'translate: dictionary file read failure, continuing with old dictionary');
          seen = st;
          return;
        }
        if (seen !== undefined && st.mtimeMs === seen.mtimeMs && st.size === seen.size && st.ino === seen.ino) return;
        seen = st;
        let entries: Entries;
        try {
          entries = loadFile(path, format!, load);
        } catch (e) {
          ctx.logger.warn({ path, err: (e as Error).message }, 'translate: the dictionary file could not be read again, continuing with old dictionary');
          return;
        }
        // merge: into a copy, so a lookup never sees a half-merged dictionary
        const next = o.refresh_behaviour === 'replace' ? new Map<string, unknown>() : new Map(dict);
        for (const [k, v] of entries) next.set(k, v);
        dict = next;
        lookup = lookupFor(dict, o, ctx.logger);
        size.set(dict.size);
        reloads.inc();
        ctx.logger.info({ path, entries: dict.size }, 'translate: dictionary read again');
      }, o.refresh_interval * 1000);
    }
    const inPlace = c.inPlace;
    return {
      filter(event) {
        const r = update(event, lookup);
        if (r === undefined) return false;
        // Logstash: an in-place translation counts as matched even when nothing matched
        return r || inPlace;
      },
      close() {
        timer?.cancel();
      },
    };
  },
});
