import type { Attribute, ConfigAst, Loc, PluginNode, SectionKind, Statement, Value } from '../config/ast.js';
import { compileCondition } from '../config/conditions.js';
import { ConfigError, ConfigErrors } from '../config/errors.js';
import { setField } from '../event/field-ref.js';
import type { ConfigSource } from '../config/load.js';
import type { PluginDefinition, PluginKind } from '../plugin/define.js';
import { resolveOptions, type CodecRef, type Schema } from '../plugin/options.js';
import type { PluginRegistry } from '../registry/registry.js';
import { COMMON_OPTIONS, compileDecorator } from './common-options.js';

/**
 * The checked form of a config: every plugin node resolved to its definition, its options
 * validated by its schema (common options apart), its codec resolved. Building a plan is
 * `--config.test_and_exit`; running it is the executor's job. Whatever the executor compiles from
 * the config without I/O (conditions, common options' templates and field names) is compiled here
 * too and thrown away, so `-t` refuses what `start` would refuse, with the same errors.
 */
export interface CodecPlan {
  def: PluginDefinition<'codec'>;
  options: Record<string, unknown>;
}

export interface PluginPlan {
  node: PluginNode;
  kind: PluginKind;
  def: PluginDefinition;
  id: string;
  options: Record<string, unknown>;
  common: Record<string, unknown>;
  codec?: CodecPlan;
  /** The codecs of its `opt.codecs()` options: option name → key → codec. */
  codecSets?: Record<string, Record<string, CodecPlan>>;
  /** The plugin's fingerprint of the files it reads, when it declares one. */
  fingerprint?: string;
}

export interface PipelinePlan {
  ast: ConfigAst;
  plugins: Map<PluginNode, PluginPlan>;
  /** The config texts the plan was parsed from: filter worker threads parse their own copy. */
  sources?: ConfigSource[];
}

const SECTION_KIND: Record<SectionKind, PluginKind> = { input: 'input', filter: 'filter', correlate: 'correlate', output: 'output' };

/** Every plugin node of a section body, branches included, in config order. */
export function pluginsIn(stmts: Statement[]): PluginNode[] {
  const out: PluginNode[] = [];
  const walk = (ss: Statement[]) => {
    for (const s of ss) {
      if (s.type === 'plugin') out.push(s);
      else {
        for (const arm of s.arms) walk(arm.body);
        if (s.otherwise) walk(s.otherwise);
      }
    }
  };
  walk(stmts);
  return out;
}

async function resolveDefinition(registry: PluginRegistry, kind: PluginKind, name: string, node: { loc: PluginNode['loc'] }): Promise<PluginDefinition> {
  // A correlate section may also hold ordinary filters (they run in order, after the filter section).
  let entry = registry.find(kind, name);
  if (!entry && kind === 'correlate') entry = registry.find('filter', name);
  if (!entry) {
    const close = registry.suggest(kind, name);
    const installed = registry.names(kind);
    throw new ConfigError(
      `unknown ${kind} plugin '${name}'` + (close.length ? ` (did you mean '${close[0]}'?)` : ''),
      node.loc,
      (installed.length ? `installed ${kind} plugins: ${installed.join(', ')}` : `no ${kind} plugins are installed`) + `; a third-party plugin installs with 'pipeline plugin install <package or .tgz>' (such packages are named pipeline-${kind}-<name>)`,
    );
  }
  try {
    return await registry.load(entry.kind, name);
  } catch (e) {
    throw new ConfigError(`cannot load ${kind} plugin '${name}' from ${entry.packageName}: ${(e as Error).message}`, node.loc);
  }
}

/** Every condition of a section body, compiled as the executor will; errors are collected. */
function checkConditions(stmts: Statement[], errors: ConfigError[]): void {
  for (const s of stmts) {
    if (s.type === 'plugin') continue;
    for (const arm of s.arms) {
      try {
        compileCondition(arm.condition);
      } catch (e) {
        errors.push(e instanceof ConfigError ? (e.loc ? e : e.at(arm.condition.loc)) : new ConfigError((e as Error).message, arm.condition.loc));
      }
      checkConditions(arm.body, errors);
    }
    if (s.otherwise) checkConditions(s.otherwise, errors);
  }
}

/** The place of a value inside an option's value whose text is `text` (an array item, a hash key or value). */
function findValue(v: Value, text: string): Loc | undefined {
  switch (v.kind) {
    case 'string':
    case 'bareword':
    case 'number':
      return String(v.value) === text ? v.loc : undefined;
    case 'array':
      for (const i of v.items) {
        const l = findValue(i, text);
        if (l) return l;
      }
      return undefined;
    case 'hash':
      for (const e of v.entries) {
        if (e.key === text) return e.keyLoc;
        const l = findValue(e.value, text);
        if (l) return l;
      }
      return undefined;
    case 'plugin':
      return undefined;
  }
}

/**
 * Puts an error a plugin raised without a location (from `check`, or from a compiler it calls) at
 * the option it names, or the item of that option it names; otherwise at the plugin block. An
 * option left to its default is not in the block: the block is the place then too.
 */
function locate(e: unknown, node: PluginNode, schema: Schema): ConfigError {
  if (!(e instanceof ConfigError)) return new ConfigError(`${node.name}: ${(e as Error).message}`, node.loc);
  if (e.loc) return e;
  const target = e.option;
  if (target) {
    const names = new Set([target.name, ...(schema[target.name]?.aliases ?? [])]);
    const attrs = node.attributes.filter((a) => names.has(a.name));
    if (target.value !== undefined)
      for (const a of attrs) {
        const at = findValue(a.value, target.value);
        if (at) return e.at(at);
      }
    if (attrs.length) return e.at(attrs[0]!.value.loc);
  }
  return e.at(node.loc);
}

/**
 * Compiles the common options the executor compiles for each plugin (add_field, remove_field ...
 * templates and field names). One option at a time, so an error is placed at the option.
 */
function checkCommon(common: Record<string, unknown>, kind: PluginKind, pluginName: string): void {
  for (const [name, value] of Object.entries(common)) {
    // a hash entry or array item at a time, so the error names the item at fault
    const parts: [unknown, string | undefined][] = Array.isArray(value)
      ? value.map((v) => [[v], String(v)])
      : value !== null && typeof value === 'object'
        ? Object.entries(value).map(([k, v]) => [{ [k]: v }, k])
        : [[value, undefined]];
    for (const [part, text] of parts) {
      try {
        compileDecorator({ [name]: part }, kind);
      } catch (e) {
        throw ConfigError.forOption(name, `${pluginName}: option '${name}': ${(e as Error).message}`, undefined, text);
      }
    }
  }
}

/** Checks every plugin of a config; returns the plan or throws all errors found (one per plugin). */
export async function buildPlan(ast: ConfigAst, registry: PluginRegistry, warn: (msg: string) => void = () => {}, resolvePath: (p: string) => string = (p) => p): Promise<PipelinePlan> {
  const plugins = new Map<PluginNode, PluginPlan>();
  const errors: ConfigError[] = [];
  const counters = new Map<string, number>();
  const ids = new Set<string>();
  for (const section of ast.sections) {
    const kind = SECTION_KIND[section.kind];
    checkConditions(section.body, errors);
    for (const node of pluginsIn(section.body)) {
      let schema: Schema = {};
      try {
        const def = await resolveDefinition(registry, kind, node.name, node);
        // One schema for the block, so unknown-option suggestions see common and own names alike.
        // An input or output without a default codec takes none: `codec` is not one of its options.
        const { codec: codecSpec, ...commonSchema } = COMMON_OPTIONS[kind];
        const takesCodec = codecSpec !== undefined && def.defaultCodec !== undefined;
        const codecAttr = codecSpec !== undefined && !takesCodec && !('codec' in def.options) ? node.attributes.find((a) => a.name === 'codec') : undefined;
        if (codecAttr)
          throw new ConfigError(`${node.name} takes no codec`, codecAttr.loc, `remove codec => ...: ${node.name} ${kind === 'input' ? 'builds its events itself' : 'does not encode events with a codec'}`);
        schema = { ...commonSchema, ...(takesCodec ? { codec: codecSpec } : {}), ...def.options };
        const all = resolveOptions(schema, node.attributes, node.name, node.loc, warn);
        const options: Record<string, unknown> = {};
        const commonOptions: Record<string, unknown> = {};
        for (const [k, v] of Object.entries(all)) (k in def.options ? options : commonOptions)[k] = v;
        checkCommon(commonOptions, kind, node.name);
        def.check?.(options as never, { resolvePath });
        const n = (counters.get(`${kind}:${node.name}`) ?? 0) + 1;
        counters.set(`${kind}:${node.name}`, n);
        const id = (commonOptions.id as string | undefined) ?? `${kind}-${node.name}-${n}`;
        if (ids.has(id)) throw new ConfigError(`duplicate plugin id '${id}'`, node.loc, 'give each plugin a unique id');
        ids.add(id);
        let codec: CodecPlan | undefined;
        if (kind === 'input' || kind === 'output') {
          const ref = (commonOptions.codec as CodecRef | undefined) ?? (def.defaultCodec ? { name: def.defaultCodec, options: {} } : undefined);
          if (ref) codec = await resolveCodec(registry, ref, node, kind, resolvePath);
        }
        const codecSets = await resolveCodecSets(registry, def, options, node, kind, resolvePath);
        const fingerprint = def.fingerprint?.(options as never, resolvePath);
        plugins.set(node, { node, kind, def, id, options, common: commonOptions, codec, codecSets, fingerprint });
      } catch (e) {
        errors.push(locate(e, node, schema));
      }
    }
  }
  if (errors.length) {
    // in config order (conditions are checked per section, before its plugins)
    const files = [...new Set(ast.sections.map((s) => s.loc.file))];
    const key = (e: ConfigError) => [e.loc ? files.indexOf(e.loc.file) : -1, e.loc?.line ?? 0, e.loc?.column ?? 0];
    errors.sort((x, y) => {
      const [a, b] = [key(x), key(y)];
      return a[0]! - b[0]! || a[1]! - b[1]! || a[2]! - b[2]!;
    });
    throw new ConfigErrors(errors);
  }
  return { ast, plugins };
}

/** The codecs named in the plugin's `opt.codecs()` options, each resolved as a `codec` option is. */
async function resolveCodecSets(registry: PluginRegistry, def: PluginDefinition, options: Record<string, unknown>, node: PluginNode, kind: string, resolvePath: (p: string) => string): Promise<PluginPlan['codecSets']> {
  let sets: PluginPlan['codecSets'];
  for (const [name, spec] of Object.entries(def.options)) {
    const refs = options[name] as Record<string, CodecRef> | undefined;
    if (spec.type !== 'codecs' || refs === undefined) continue;
    const set: Record<string, CodecPlan> = {};
    for (const [key, ref] of Object.entries(refs)) setField(set, key, await resolveCodec(registry, ref, node, kind, resolvePath));
    (sets ??= {})[name] = set;
  }
  return sets;
}

async function resolveCodec(registry: PluginRegistry, ref: CodecRef, node: PluginNode, kind: string, resolvePath: (p: string) => string): Promise<CodecPlan> {
  const def = (await resolveDefinition(registry, 'codec', ref.name, { loc: ref.loc ?? node.loc })) as PluginDefinition<'codec'>;
  // refused here rather than at the first decode, where it would fail per event at run time
  if (kind === 'input' && def.encodeOnly)
    throw new ConfigError(`the ${ref.name} codec only encodes; ${node.name} needs a codec that decodes`, ref.loc ?? node.loc, 'use plain, line, json or json_lines (rubydebug is for outputs, as in Logstash)');
  const attrs: Attribute[] = Object.entries(ref.options).map(([name, value]) => ({ name, loc: (value as { loc?: PluginNode['loc'] }).loc ?? ref.loc ?? node.loc, value: value as Attribute['value'] }));
  const options = resolveOptions(def.options, attrs, `codec ${ref.name}`, ref.loc ?? node.loc);
  // what the codec checks beyond its schema (multiline: grok names, patterns_dir) fails at -t too
  def.check?.(options as never, { resolvePath });
  return { def, options };
}
