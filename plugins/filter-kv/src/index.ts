import { compileTemplate, ConfigError, definePlugin, fieldRef, opt, type Resolved } from '@pipeline/core';
import { charClassSplitters, makeScanner, patternSplitters, ScanTimeout } from './scanner.js';
import { transformer, type Transform } from './transform.js';

const TRANSFORMS = ['lowercase', 'uppercase', 'capitalize'];

const options = {
  source: opt.field({ default: 'message', description: 'field to read key=value pairs from (a string or an array of strings)' }),
  target: opt.field({ description: 'field to put the pairs in (overwritten); default: the event root' }),
  field_split: opt.string({ default: ' ', description: 'characters separating pairs (a regex character class)' }),
  field_split_pattern: opt.string({ description: 'regex separating pairs; takes precedence over field_split' }),
  value_split: opt.string({ default: '=', description: 'characters separating a key from its value (a regex character class)' }),
  value_split_pattern: opt.string({ description: 'regex separating a key from its value; takes precedence over value_split' }),
  prefix: opt.string({ default: '', description: 'prepended to every key (sprintf)' }),
  include_keys: opt.strings({ default: [], description: 'only these keys (sprintf); empty means all' }),
  exclude_keys: opt.strings({ default: [], description: 'keys to leave out (sprintf)' }),
  default_keys: opt.hash({ default: {}, description: 'key => value added when the text does not have the key' }),
  allow_empty_values: opt.bool({ default: false, description: 'keep keys whose value is empty, with the value ""' }),
  allow_duplicate_values: opt.bool({ default: true, description: 'keep repeated identical key=value pairs (as an array)' }),
  include_brackets: opt.bool({ default: true, description: 'treat (…), […] and <…> as value wrappers, like quotes' }),
  recursive: opt.bool({ default: false, description: 'parse values for nested key=value pairs' }),
  trim_key: opt.string({ description: 'characters to trim from both ends of keys (a regex character class)' }),
  trim_value: opt.string({ description: 'characters to trim from both ends of values (a regex character class)' }),
  remove_char_key: opt.string({ description: 'characters to remove from keys (a regex character class)' }),
  remove_char_value: opt.string({ description: 'characters to remove from values (a regex character class)' }),
  transform_key: opt.string({ values: TRANSFORMS, description: 'change the case of keys' }),
  transform_value: opt.string({ values: TRANSFORMS, description: 'change the case of values' }),
  whitespace: opt.string({ default: 'lenient', values: ['lenient', 'strict'], description: 'lenient allows spaces around the value separator' }),
  tag_on_failure: opt.strings({ default: ['_kv_filter_error'], description: 'tags added when the pairs cannot be set on the event' }),
  tag_on_timeout: opt.string({ default: '_kv_filter_timeout', description: 'tag added when a scan with a backtracking split pattern runs out of time' }),
  timeout_millis: opt.number({ default: 30000, description: 'time limit for one scan with a backtracking split pattern; 0 disables it (see README)' }),
  ecs_compatibility: opt.string({ default: 'disabled', values: ['disabled', 'v1', 'v8'], description: 'accepted for compatibility; no effect on this filter' }),
};

type KV = Map<string, unknown>;

function classRegex(name: string, chars: string, trim: boolean): RegExp {
  try {
    return trim ? new RegExp(`^[${chars}]+|[${chars}]+$`, 'gm') : new RegExp(`[${chars}]`, 'g');
  } catch (e) {
    throw ConfigError.forOption(name, `kv: option '${name}' is not a valid character class: ${(e as Error).message}`);
  }
}

/**
 * What create compiles that can be wrong in a config: the split patterns, the character classes
 * and the field references. The config check runs it too, so -t refuses what start would.
 */
function compileKv(o: Resolved<typeof options>) {
  const lenient = o.whitespace === 'lenient';
  let scan;
  let linear = true;
  try {
    if (o.field_split_pattern !== undefined || o.value_split_pattern !== undefined) {
      // Linear-time patterns cannot run away; a backtracking one is checked against timeout_millis.
      const splitters = patternSplitters(o.field_split_pattern ?? `[${o.field_split}]`, o.value_split_pattern ?? `[${o.value_split}]`, lenient, o.timeout_millis);
      linear = splitters.linear;
      scan = makeScanner(splitters, o.include_brackets);
    } else scan = makeScanner(charClassSplitters(o.field_split, o.value_split, lenient), o.include_brackets);
  } catch (e) {
    if (e instanceof SyntaxError) {
      const option = o.field_split_pattern !== undefined || o.value_split_pattern !== undefined ? (o.field_split_pattern !== undefined ? 'field_split_pattern' : 'value_split_pattern') : 'field_split';
      throw ConfigError.forOption(option, `kv: invalid split character class or pattern: ${e.message}`);
    }
    throw e;
  }
  // source and target are checked by the schema (opt.field)
  const source = fieldRef(o.source);
  const target = o.target === undefined ? undefined : fieldRef(o.target);
  return {
    scan,
    linear,
    trimKey: o.trim_key === undefined ? undefined : classRegex('trim_key', o.trim_key, true),
    trimValue: o.trim_value === undefined ? undefined : classRegex('trim_value', o.trim_value, true),
    removeKey: o.remove_char_key === undefined ? undefined : classRegex('remove_char_key', o.remove_char_key, false),
    removeValue: o.remove_char_value === undefined ? undefined : classRegex('remove_char_value', o.remove_char_value, false),
    source,
    target,
  };
}

export default definePlugin({
  kind: 'filter',
  name: 'kv',
  parallel: true,
  description: 'Parses key=value pairs (query strings, firewall and postfix logs) into fields.',
  options,
  check(o) {
    if (o.value_split === '') throw new ConfigError("kv: option 'value_split' must be a non-empty string");
    if (o.field_split_pattern === '') throw new ConfigError("kv: option 'field_split_pattern' must be a non-empty string");
    if (o.value_split_pattern === '') throw new ConfigError("kv: option 'value_split_pattern' must be a non-empty string");
    compileKv(o);
  },
  create(o, ctx) {
    const { scan, linear, trimKey, trimValue, removeKey, removeValue, source, target } = compileKv(o);
    if (!linear) ctx.logger.warn('kv: the split pattern needs backtracking (lookaround or backreference); a hostile line is stopped by timeout_millis between regex tries');
    const transformKey: Transform | undefined = o.transform_key ? transformer(o.transform_key) : undefined;
    const transformValue: Transform | undefined = o.transform_value ? transformer(o.transform_value) : undefined;
    const prefix = compileTemplate(o.prefix);
    const includeT = o.include_keys.map((k) => compileTemplate(String(k)));
    const excludeT = o.exclude_keys.map((k) => compileTemplate(String(k)));
    const staticInclude = includeT.every((t) => !t.dynamic) ? new Set(o.include_keys.map(String)) : undefined;
    const staticExclude = excludeT.every((t) => !t.dynamic) ? new Set(o.exclude_keys.map(String)) : undefined;
    const defaults = Object.entries(o.default_keys);
    const { allow_duplicate_values: allowDuplicates, allow_empty_values: allowEmpty, recursive } = o;
    const tags = o.tag_on_failure;

    /** One text's pairs into `kv`, with the key and value rules applied in Logstash's order. */
    const parse = (text: string, fields: Record<string, unknown>, kv: KV): KV => {
      const include = staticInclude ?? new Set(includeT.map((t) => t.render(fields)));
      const exclude = staticExclude ?? new Set(excludeT.map((t) => t.render(fields)));
      const pre = prefix.dynamic ? prefix.render(fields) : prefix.source;
      scan(text, (rawKey, rawValue) => {
        if ((rawValue === undefined || rawValue === '') && !allowEmpty) return;
        let key = rawKey;
        if (trimKey) key = key.replace(trimKey, '');
        if (removeKey) key = key.replace(removeKey, '');
        if (transformKey) key = transformKey(key);
        if (include.size > 0 && !include.has(key)) return;
        if (exclude.has(key)) return;
        key = pre + key;
        let value: unknown;
        let s = rawValue ?? '';
        if (trimValue) s = s.replace(trimValue, '');
        if (removeValue) s = s.replace(removeValue, '');
        if (transformValue) s = transformValue(s);
        value = s;
        const existing = kv.get(key);
        if (!allowDuplicates && existing !== undefined && (Array.isArray(existing) ? existing.includes(s) : existing === s)) return;
        if (recursive) {
          const inner = parse(s, fields, new Map());
          if (inner.size > 0) value = Object.fromEntries(inner);
        }
        if (existing === undefined) kv.set(key, value);
        else if (Array.isArray(existing)) existing.push(value);
        else kv.set(key, [existing, value]);
      });
      return kv;
    };

    return {
      filter(event) {
        const src = source.get(event.fields);
        let kv: KV = new Map();
        try {
          if (typeof src === 'string') kv = parse(src, event.fields, kv);
          else if (Array.isArray(src)) {
            for (const v of src) if (typeof v === 'string') kv = parse(v, event.fields, kv);
          } else if (src !== undefined && src !== null) ctx.logger.warn({ type: typeof src }, 'kv filter has no support for this type of data');
        } catch (e) {
          if (!(e instanceof ScanTimeout)) throw e;
          ctx.logger.warn({ timeout_millis: o.timeout_millis }, 'timeout reached in KV filter');
          event.tag(o.tag_on_timeout);
          return false;
        }
        // default_keys first, then the parsed pairs over them
        if (defaults.length > 0) {
          const merged: KV = new Map();
          for (const [k, v] of defaults) merged.set(k, v);
          for (const [k, v] of kv) merged.set(k, v);
          kv = merged;
        }
        if (kv.size === 0) return false;
        try {
          if (target) target.set(event.fields, Object.fromEntries(kv));
          else for (const [k, v] of kv) event.set(k, v);
          return true;
        } catch (e) {
          ctx.logger.warn({ err: (e as Error).message }, 'exception while setting kv pairs');
          for (const t of tags) event.tag(t);
          return false;
        }
      },
    };
  },
});
