import type { Attribute, ConfigAst, PluginNode, SectionKind, Statement } from '../config/ast.js';
import { ConfigError, ConfigErrors } from '../config/errors.js';
import type { PluginDefinition, PluginKind } from '../plugin/define.js';
import { resolveOptions, type CodecRef } from '../plugin/options.js';
import type { PluginRegistry } from '../registry/registry.js';
import { COMMON_OPTIONS } from './common-options.js';

/**
 * The checked form of a config: every plugin node resolved to its definition, its options
 * validated by its schema (common options apart), its codec resolved. Building a plan is
 * `--config.test_and_exit`; running it is the executor's job.
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
  /** The plugin's fingerprint of the files it reads, when it declares one. */
  fingerprint?: string;
}

export interface PipelinePlan {
  ast: ConfigAst;
  plugins: Map<PluginNode, PluginPlan>;
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
      (installed.length ? `installed ${kind} plugins: ${installed.join(', ')}` : `no ${kind} plugins are installed`) + `; add one with 'pipeline plugin install pipeline-${kind}-${name}'`,
    );
  }
  try {
    return await registry.load(entry.kind, name);
  } catch (e) {
    throw new ConfigError(`cannot load ${kind} plugin '${name}' from ${entry.packageName}: ${(e as Error).message}`, node.loc);
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
    for (const node of pluginsIn(section.body)) {
      try {
        const def = await resolveDefinition(registry, kind, node.name, node);
        // One schema for the block, so unknown-option suggestions see common and own names alike.
        const commonSchema = COMMON_OPTIONS[kind];
        const schema = { ...commonSchema, ...def.options };
        const all = resolveOptions(schema, node.attributes, node.name, node.loc, warn);
        const options: Record<string, unknown> = {};
        const commonOptions: Record<string, unknown> = {};
        for (const [k, v] of Object.entries(all)) (k in def.options ? options : commonOptions)[k] = v;
        def.check?.(options as never, { resolvePath });
        const n = (counters.get(`${kind}:${node.name}`) ?? 0) + 1;
        counters.set(`${kind}:${node.name}`, n);
        const id = (commonOptions.id as string | undefined) ?? `${kind}-${node.name}-${n}`;
        if (ids.has(id)) throw new ConfigError(`duplicate plugin id '${id}'`, node.loc, 'give each plugin a unique id');
        ids.add(id);
        let codec: CodecPlan | undefined;
        if (kind === 'input' || kind === 'output') {
          const ref = (commonOptions.codec as CodecRef | undefined) ?? (def.defaultCodec ? { name: def.defaultCodec, options: {} } : undefined);
          if (ref) codec = await resolveCodec(registry, ref, node);
        }
        const fingerprint = def.fingerprint?.(options as never, resolvePath);
        plugins.set(node, { node, kind, def, id, options, common: commonOptions, codec, fingerprint });
      } catch (e) {
        if (e instanceof ConfigError) errors.push(e.loc ? e : new ConfigError(e.reason, node.loc, e.hint));
        else errors.push(new ConfigError(`${node.name}: ${(e as Error).message}`, node.loc));
      }
    }
  }
  if (errors.length) throw new ConfigErrors(errors);
  return { ast, plugins };
}

async function resolveCodec(registry: PluginRegistry, ref: CodecRef, node: PluginNode): Promise<CodecPlan> {
  const def = (await resolveDefinition(registry, 'codec', ref.name, { loc: ref.loc ?? node.loc })) as PluginDefinition<'codec'>;
  const attrs: Attribute[] = Object.entries(ref.options).map(([name, value]) => ({ name, loc: (value as { loc?: PluginNode['loc'] }).loc ?? ref.loc ?? node.loc, value: value as Attribute['value'] }));
  const options = resolveOptions(def.options, attrs, `codec ${ref.name}`, ref.loc ?? node.loc);
  return { def, options };
}
