import type { Loc, Value } from '../config/ast.js';
import { ConfigError, closeMatches } from '../config/errors.js';
import { parseFieldPath, setField } from '../event/field-ref.js';
import { charsetError } from './charset.js';

/**
 * Option schemas. A plugin declares its options once with these builders; the schema validates a
 * config block (unknown option, wrong type, missing required, value not allowed), fills defaults,
 * and renders the plugin's README options table. Coercions follow Logstash's `:validate` types.
 */
export type OptionType = 'string' | 'number' | 'integer' | 'port' | 'boolean' | 'array' | 'hash' | 'path' | 'password' | 'codec' | 'codecs' | 'any';

export interface OptionSpec<T = unknown> {
  readonly type: OptionType;
  readonly required?: boolean;
  readonly default?: T;
  readonly description?: string;
  /** Allowed values (string options). */
  readonly values?: readonly string[];
  /** Inclusive bounds (number, integer and port options). */
  readonly min?: number;
  readonly max?: number;
  /** Deprecation message; the option still works and a warning is logged. */
  readonly deprecated?: string;
  /** Another name that sets this option (e.g. Logstash's newer `ssl_enabled` for `ssl_enable`). */
  readonly aliases?: readonly string[];
  /**
   * Extra check on the coerced value; return an error message or undefined. Or `{ message, item,
   * hint }`: an array option names the item at fault (the error is then placed at that item).
   */
  readonly validate?: (value: T) => string | { message: string; item?: number; hint?: string } | undefined;
  /** Phantom type marker. */
  readonly __type?: T;
}

export type Schema = Record<string, OptionSpec<any>>;

/** The validated options object a plugin receives. */
export type Resolved<S extends Schema> = {
  [K in keyof S]: S[K] extends OptionSpec<infer T>
    ? S[K] extends { required: true } | { default: unknown }
      ? T
      : T | undefined
    : never;
};

/** A codec option's value: the named codec with its own options, made ready by the runtime. */
export interface CodecRef {
  name: string;
  options: Record<string, unknown>;
  loc?: Loc;
}

type Common<T> = Omit<OptionSpec<T>, 'type' | '__type'>;

const make =
  <T>(type: OptionType) =>
  <O extends Common<T>>(o?: O): OptionSpec<T> & O =>
    ({ ...(o ?? {}), type }) as OptionSpec<T> & O;

const FIELD_HINT = 'a field reference is a name (message) or a path of names in brackets ([a][b])';

/** A field reference's syntax, the same check fieldRef makes when the plugin compiles it. */
function fieldSyntax(v: string, item?: number): { message: string; item?: number; hint: string } | undefined {
  try {
    parseFieldPath(v);
  } catch (e) {
    return { message: (e as Error).message, item, hint: FIELD_HINT };
  }
  return undefined;
}

export const opt = {
  string: make<string>('string'),
  /** A number; `min`/`max` bound it. */
  number: make<number>('number'),
  /** A whole number; `min`/`max` bound it. */
  integer: make<number>('integer'),
  /**
   * A TCP/UDP port: a whole number from 1 to 65535. A listening input that takes 0 for "any free
   * port" says `min: 0`.
   */
  port: <O extends Common<number>>(o?: O): OptionSpec<number> & O => ({ min: 1, max: 65535, ...(o ?? {}), type: 'port' }) as OptionSpec<number> & O,
  bool: make<boolean>('boolean'),
  /** An array of values; a single value becomes a one-element array, as in Logstash. */
  array: make<unknown[]>('array'),
  /** An array of strings. */
  strings: make<string[]>('array'),
  /** A hash; an array of key, value, key, value... is accepted too, as Logstash accepts it. */
  hash: make<Record<string, unknown>>('hash'),
  path: make<string>('path'),
  /** A secret: never logged. */
  password: make<string>('password'),
  codec: make<CodecRef>('codec'),
  /**
   * A hash of codecs by key (Logstash's `additional_codecs => { "application/json" => "json" }`):
   * each value a codec name or block. The runtime resolves and checks them at load (an unknown
   * name gets a did-you-mean at -t) and the plugin builds them with `ctx.codecsOf(option)`.
   */
  codecs: make<Record<string, CodecRef>>('codecs'),
  any: make<unknown>('any'),
  /**
   * A codec's `charset`: the encoding of the bytes an input hands over (default UTF-8), a name
   * checked at load; the codec decodes with `charset(name)`.
   */
  charset: <O extends Common<string>>(o?: O): OptionSpec<string> & O & { default: string } =>
    ({
      default: 'UTF-8',
      description: 'Encoding of the bytes an input hands over (UTF-8, ISO-8859-1, ASCII-8BIT, Windows-1252, Shift_JIS, ...); text an input already decoded is taken as is.',
      ...(o ?? {}),
      type: 'string',
      validate: (v: string) => charsetError(v) ?? o?.validate?.(v),
    }) as OptionSpec<string> & O & { default: string },
  /** A field reference (`message`, `[a][b]`), checked at load so a malformed one is a config error. */
  field: <O extends Common<string>>(o?: O): OptionSpec<string> & O =>
    ({
      ...(o ?? {}),
      type: 'string',
      validate: (v: string) => fieldSyntax(v) ?? o?.validate?.(v),
    }) as OptionSpec<string> & O,
  /** Field references (an array of them, a single one accepted as in Logstash), each checked at load. */
  fields: <O extends Common<string[]>>(o?: O): OptionSpec<string[]> & O =>
    ({
      ...(o ?? {}),
      type: 'array',
      validate: (v: string[]) => {
        for (const [item, f] of v.entries()) {
          const bad = fieldSyntax(String(f), item);
          if (bad) return bad;
        }
        return o?.validate?.(v);
      },
    }) as OptionSpec<string[]> & O,
};

function describe(v: Value): string {
  switch (v.kind) {
    case 'string':
      return 'a string';
    case 'number':
      return 'a number';
    case 'bareword':
      return `the bareword '${v.value}'`;
    case 'array':
      return 'an array';
    case 'hash':
      return 'a hash';
    case 'plugin':
      return `a plugin block '${v.plugin.name}'`;
  }
}

/** Converts a config value to plain JS without a schema (arrays, hashes, scalars). */
export function plainValue(v: Value): unknown {
  switch (v.kind) {
    case 'string':
    case 'bareword':
    case 'number':
      return v.value;
    case 'array':
      return v.items.map(plainValue);
    case 'hash': {
      const out: Record<string, unknown> = {};
      for (const e of v.entries) setField(out, e.key, plainValue(e.value)); // a `__proto__` key stays a key
      return out;
    }
    case 'plugin':
      return { name: v.plugin.name, options: Object.fromEntries(v.plugin.attributes.map((a) => [a.name, plainValue(a.value)])) };
  }
}

function scalar(v: Value): string | number | undefined {
  return v.kind === 'string' || v.kind === 'bareword' || v.kind === 'number' ? v.value : undefined;
}

/** Coerces one config value to an option's type, or throws a located ConfigError. */
export function coerce(name: string, spec: OptionSpec, v: Value, pluginName: string): unknown {
  const wrong = (expected: string) =>
    new ConfigError(`${pluginName}: option '${name}' expects ${expected}, got ${describe(v)}`, v.loc, spec.description ? `'${name}': ${spec.description}` : undefined);
  switch (spec.type) {
    case 'string':
    case 'path':
    case 'password': {
      let s = scalar(v);
      if (v.kind === 'array' && v.items.length === 1) s = scalar(v.items[0]!);
      if (s === undefined) throw wrong('a string');
      const str = String(s);
      if (spec.values && !spec.values.includes(str))
        throw new ConfigError(`${pluginName}: option '${name}' must be one of ${spec.values.map((x) => `'${x}'`).join(', ')}, got '${str}'`, v.loc, closeMatches(str, spec.values).length ? `did you mean '${closeMatches(str, spec.values)[0]}'?` : undefined);
      return str;
    }
    case 'number':
    case 'integer':
    case 'port': {
      const s = scalar(v);
      const n = typeof s === 'number' ? s : typeof s === 'string' && s.trim() !== '' ? Number(s) : NaN;
      if (Number.isNaN(n)) throw wrong(spec.type === 'port' ? 'a port number' : 'a number');
      if (spec.type !== 'number' && !Number.isInteger(n)) throw new ConfigError(`${pluginName}: option '${name}' expects a whole number, got ${n}`, v.loc, spec.description ? `'${name}': ${spec.description}` : undefined);
      if ((spec.min !== undefined && n < spec.min) || (spec.max !== undefined && n > spec.max))
        throw new ConfigError(`${pluginName}: option '${name}' must be ${range(spec)}, got ${n}`, v.loc, spec.description ? `'${name}': ${spec.description}` : undefined);
      return n;
    }
    case 'boolean': {
      const s = scalar(v);
      if (s === 'true') return true;
      if (s === 'false') return false;
      throw wrong('a boolean (true or false)');
    }
    case 'array':
      if (v.kind === 'array') return v.items.map(plainValue);
      if (v.kind === 'hash' || v.kind === 'plugin') throw wrong('an array');
      return [v.value];
    case 'hash': {
      if (v.kind === 'hash') return plainValue(v);
      if (v.kind === 'array') {
        if (v.items.length % 2 !== 0) throw new ConfigError(`${pluginName}: option '${name}' expects a hash; an array form needs key, value pairs`, v.loc);
        const out: Record<string, unknown> = {};
        for (let i = 0; i < v.items.length; i += 2) setField(out, String(plainValue(v.items[i]!)), plainValue(v.items[i + 1]!));
        return out;
      }
      throw wrong('a hash');
    }
    case 'codec': {
      if (v.kind === 'plugin') return { name: v.plugin.name, options: Object.fromEntries(v.plugin.attributes.map((a) => [a.name, a.value])), loc: v.loc } satisfies CodecRef;
      if (v.kind === 'string' || v.kind === 'bareword') return { name: v.value, options: {}, loc: v.loc } satisfies CodecRef;
      throw wrong('a codec name or block');
    }
    case 'codecs': {
      if (v.kind !== 'hash') throw wrong('a hash of codec names');
      const out: Record<string, CodecRef> = {};
      for (const e of v.entries) {
        const c = e.value;
        if (c.kind === 'plugin') setField(out, e.key, { name: c.plugin.name, options: Object.fromEntries(c.plugin.attributes.map((a) => [a.name, a.value])), loc: c.loc });
        else if (c.kind === 'string' || c.kind === 'bareword') setField(out, e.key, { name: c.value, options: {}, loc: c.loc });
        else throw new ConfigError(`${pluginName}: option '${name}': the codec for '${e.key}' must be a codec name or block, got ${describe(c)}`, c.loc);
      }
      return out;
    }
    case 'any':
      return plainValue(v);
  }
}

/** `from 1 to 65535`, `at least 0`, ... for messages and the README table. */
function range(spec: OptionSpec): string {
  if (spec.min !== undefined && spec.max !== undefined) return `from ${spec.min} to ${spec.max}`;
  if (spec.min !== undefined) return `at least ${spec.min}`;
  return `at most ${spec.max}`;
}

/** Merges a repeated option as Logstash does: arrays concatenate, hashes merge. */
function mergeRepeated(a: unknown, b: unknown): unknown {
  if (Array.isArray(a) && Array.isArray(b)) return [...a, ...b];
  if (a && b && typeof a === 'object' && typeof b === 'object') return { ...(a as object), ...(b as object) };
  return b;
}


export interface OptionInput {
  name: string;
  loc: Loc;
  value: Value;
}

/**
 * Validates a plugin block against a schema. Returns the options with defaults applied, or throws
 * the first located ConfigError.
 */
export function resolveOptions(schema: Schema, inputs: OptionInput[], pluginName: string, blockLoc: Loc, warn?: (msg: string) => void): Record<string, unknown> {
  const byAlias = new Map<string, string>();
  for (const [k, spec] of Object.entries(schema)) {
    byAlias.set(k, k);
    for (const a of spec.aliases ?? []) byAlias.set(a, k);
  }
  const out: Record<string, unknown> = {};
  const firstAt = new Map<string, OptionInput>();
  for (const input of inputs) {
    const key = byAlias.get(input.name);
    if (key === undefined) {
      const close = closeMatches(input.name, byAlias.keys());
      throw new ConfigError(
        `unknown option '${input.name}' for ${pluginName}` + (close.length ? ` (did you mean '${close[0]}'?)` : ''),
        input.loc,
        close.length ? `replace '${input.name}' with '${close[0]}'` : `${pluginName} accepts: ${[...Object.keys(schema)].sort().join(', ')}`,
      );
    }
    const spec = schema[key]!;
    const value = coerce(input.name, spec, input.value, pluginName);
    if (spec.validate) {
      const msg = spec.validate(value);
      if (msg) {
        const m = typeof msg === 'string' ? { message: msg } : msg;
        const item = m.item === undefined || input.value.kind !== 'array' ? undefined : input.value.items[m.item];
        const hint = m.hint ?? (spec.description ? `'${input.name}': ${spec.description}` : undefined);
        throw new ConfigError(`${pluginName}: option '${input.name}': ${m.message}`, (item ?? input.value).loc, hint);
      }
    }
    if (spec.deprecated) warn?.(`${input.loc.file}:${input.loc.line}:${input.loc.column}: ${pluginName}: option '${input.name}' is deprecated: ${spec.deprecated}`);
    const first = firstAt.get(key);
    if (first === undefined) {
      firstAt.set(key, input);
      out[key] = value;
    } else if (spec.type === 'codec') {
      // Logstash refuses two codecs on one plugin; last-wins would hide one of them
      throw new ConfigError(`${pluginName}: option '${input.name}' is set twice`, input.loc, `keep one ${input.name} => ...`, undefined, {
        related: [{ loc: first.loc, note: `'${first.name}' is first set here` }],
      });
    } else out[key] = mergeRepeated(out[key], value);
  }
  for (const [k, spec] of Object.entries(schema)) {
    if (k in out) continue;
    if (spec.required) throw new ConfigError(`${pluginName}: missing required option '${k}'`, blockLoc, `add ${k} => ...${spec.description ? ` (${spec.description})` : ''} inside the ${pluginName} block`);
    if (spec.default !== undefined) out[k] = structuredClone(spec.default);
  }
  return out;
}

/** A codecs hash as the config writes it: key → codec name. */
function codecNames(h: Record<string, CodecRef>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h)) setField(out, k, v.name);
  return out;
}

/** Renders a schema as a Markdown options table (plugin READMEs are generated from it). */
export function optionsTable(schema: Schema): string {
  const rows = ['| option | type | default | required | description |', '| --- | --- | --- | --- | --- |'];
  for (const [k, s] of Object.entries(schema)) {
    const def = s.default === undefined ? '' : '`' + JSON.stringify(s.type === 'codecs' ? codecNames(s.default as Record<string, CodecRef>) : s.default) + '`';
    // a port's usual bounds go without saying; other bounds are part of the option's contract
    const bounds = (s.min !== undefined || s.max !== undefined) && !(s.type === 'port' && s.min === 1 && s.max === 65535) ? range(s) : '';
    const desc = [s.description ?? '', bounds, s.values ? `one of ${s.values.join(', ')}` : '', s.deprecated ? `deprecated: ${s.deprecated}` : '', s.aliases?.length ? `alias: ${s.aliases.join(', ')}` : '']
      .filter(Boolean)
      .join('; ');
    rows.push(`| \`${k}\` | ${s.type} | ${def} | ${s.required ? 'yes' : ''} | ${desc.replace(/\|/g, '\\|')} |`);
  }
  return rows.join('\n');
}
