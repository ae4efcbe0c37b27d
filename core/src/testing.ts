/**
 * Test helpers for plugin authors: a context on a virtual clock, and runners that push events
 * through one filter or output without a pipeline.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import pino from 'pino';
import { Event } from './event/event.js';
import type { Fields } from './event/field-ref.js';
import { completeCodec, type CodecFactory, type CodecImplementation, type InstanceOf, type PluginContext, type PluginDefinition, type PluginKind } from './plugin/define.js';
import { VirtualClock } from './plugin/clock.js';
import { MetricsRegistry } from './plugin/metrics.js';
import { resolveOptions, type CodecRef, type Schema } from './plugin/options.js';
import { PluginRegistry } from './registry/registry.js';
import { createPipelineBus } from './runtime/pipeline-bus.js';
import { parseConfig } from './config/parser.js';
import type { Attribute, PluginNode } from './config/ast.js';

export { VirtualClock } from './plugin/clock.js';
export { MetricsRegistry } from './plugin/metrics.js';
export { mountTmpfs, type Tmpfs } from './tmpfs.js';
/** The PKI behind `pipeline certs`: a CA, server and client certificates in a folder, for TLS tests. */
export { certsCreateCA, certsCreateServer, certsCreateClient } from './certs/index.js';

export interface TestContext extends PluginContext {
  readonly clock: VirtualClock;
  readonly metrics: MetricsRegistry;
  readonly abort: AbortController;
}

const noCodec: CodecFactory = {
  name: 'none',
  create() {
    throw new Error('no codec configured for this test context: pass { codec } to makeContext');
  },
};

export interface ContextOverrides extends Partial<Omit<TestContext, 'abort'>> {
  /** A real codec for the context (its `create` gets this very context, clock included). */
  codecDef?: PluginDefinition<'codec'>;
  codecOptions?: Record<string, unknown>;
}

export function makeContext(over: ContextOverrides = {}): TestContext {
  const { codecDef, codecOptions, ...rest } = over;
  const ctx = makeBareContext(rest);
  if (codecDef) (ctx as { codec: CodecFactory }).codec = { name: codecDef.name, create: () => completeCodec(codecDef.create((codecOptions ?? {}) as never, ctx) as CodecImplementation) };
  return ctx;
}

function makeBareContext(over: Partial<Omit<TestContext, 'abort'>>): TestContext {
  const abort = new AbortController();
  const dataDir = over.dataDir ?? mkdtempSync(join(tmpdir(), 'pipeline-test-'));
  const workingDir = over.workingDir ?? process.cwd();
  return {
    logger: pino({ level: process.env.PIPELINE_TEST_LOG ?? 'silent' }),
    clock: new VirtualClock(),
    metrics: new MetricsRegistry(),
    dataDir,
    workingDir,
    resolvePath: (p: string) => resolve(workingDir, p),
    signal: abort.signal,
    abort,
    pipelineId: 'test',
    id: 'test-plugin',
    codec: noCodec,
    codecsOf(option: string) {
      throw new Error(`no codecs for '${option}' in this test context: create the plugin with createPlugin, which builds them`);
    },
    settings: {},
    // a bus of its own: pass { pipelineBus: other.pipelineBus } to connect two contexts
    pipelineBus: createPipelineBus(),
    ...over,
  } as TestContext;
}

/**
 * Options for a plugin written as the body of a config block, e.g. `match => { "message" => "%{WORD:w}" }`,
 * validated by the plugin's own schema, exactly as a pipeline.conf would be.
 */
export function optionsFromConfig<S extends Schema>(def: PluginDefinition<PluginKind, S>, body: string): Record<string, unknown> {
  const ast = parseConfig(`filter { ${def.name} { ${body} } }`, '<test>');
  const node = ast.sections[0]!.body[0] as PluginNode;
  return resolveOptions(def.options, node.attributes, def.name, node.loc);
}

let builtins: PluginRegistry | undefined;

export async function createPlugin<K extends PluginKind, S extends Schema>(
  def: PluginDefinition<K, S>,
  options: string | Record<string, unknown>,
  ctx: PluginContext = makeContext(),
): Promise<InstanceOf[K]> {
  const opts = typeof options === 'string' ? optionsFromConfig(def, options) : options;
  def.check?.(opts as never, { resolvePath: (p: string) => ctx.resolvePath(p) });
  if (ctx.codec === noCodec && def.defaultCodec !== undefined) {
    // as the runtime does: a plugin that takes a codec gets its default one, built-in and real
    const codecDef = (await (builtins ??= new PluginRegistry()).load('codec', def.defaultCodec)) as PluginDefinition<'codec'>;
    const codecOptions = resolveOptions(codecDef.options, [], `codec ${codecDef.name}`, { file: 'test', line: 1, column: 1 });
    (ctx as { codec: CodecFactory }).codec = { name: codecDef.name, create: () => completeCodec(codecDef.create(codecOptions as never, ctx) as CodecImplementation) };
  }
  const sets = new Map<string, Map<string, CodecFactory>>();
  for (const [name, spec] of Object.entries(def.options)) {
    const refs = opts[name] as Record<string, CodecRef> | undefined;
    if (spec.type !== 'codecs' || refs === undefined) continue;
    // as the runtime does: each codec built-in and real, from its own options
    const set = new Map<string, CodecFactory>();
    for (const [key, ref] of Object.entries(refs)) {
      const codecDef = (await (builtins ??= new PluginRegistry()).load('codec', ref.name)) as PluginDefinition<'codec'>;
      const attrs = Object.entries(ref.options).map(([n, value]) => ({ name: n, loc: { file: 'test', line: 1, column: 1 }, value: value as Attribute['value'] }));
      const codecOptions = resolveOptions(codecDef.options, attrs, `codec ${codecDef.name}`, { file: 'test', line: 1, column: 1 });
      set.set(key, { name: codecDef.name, create: () => completeCodec(codecDef.create(codecOptions as never, ctx) as CodecImplementation) });
    }
    sets.set(name, set);
  }
  if (sets.size > 0)
    (ctx as { codecsOf: PluginContext['codecsOf'] }).codecsOf = (option) => {
      const set = sets.get(option);
      if (set === undefined) throw new Error(`'${option}' is not a codecs option that is set`);
      return set;
    };
  return def.create(opts as never, ctx);
}

export function event(fields: Fields): Event {
  return new Event(fields);
}

/** Runs events through one filter; returns what comes out (survivors and emitted, in order). */
export function runFilter(filter: InstanceOf['filter'], events: (Event | Fields)[]): Event[] {
  const out: Event[] = [];
  const emit = (e: Event) => void out.push(e);
  for (const e of events) {
    const ev = e instanceof Event ? e : new Event(e);
    filter.filter(ev, emit);
    if (!ev.cancelled) out.push(ev);
  }
  return out;
}

export {
  inputCompliance,
  outputCompliance,
  splitJsonDocuments,
  sendTcp,
  sendUdp,
  freePort,
  until,
  COMPLIANCE_IDS,
  PipelineProcess,
  type ComplianceRun,
  type InputDriver,
  type OutputDriver,
  type LogRecord,
} from './testing/compliance.js';
