import { isAbsolute } from 'node:path';
import type { Logger } from 'pino';
import type { Clock } from '../plugin/clock.js';
import { completeCodec, type CodecFactory, type CodecImplementation, type PluginContext } from '../plugin/define.js';
import type { MetricsRegistry } from '../plugin/metrics.js';
import { resolveConfigPath } from '../registry/install-root.js';
import { createPipelineBus, type PipelineBus } from './pipeline-bus.js';
import type { CodecPlan, PluginPlan } from './plan.js';
import type { Settings } from './settings.js';

/** The pipeline's services a plugin's context is made from. */
export interface ContextServices {
  logger: Logger;
  clock: Clock;
  metrics: MetricsRegistry;
  dataDir: string;
  workingDir: string;
  signal: AbortSignal;
  pipelineId: string;
  settings: Settings;
  /** The process's pipeline-to-pipeline addresses (absent: a bus no pipeline shares, e.g. replay's). */
  pipelineBus?: PipelineBus;
}

/** The bus of contexts made without one (replay's sections): no pipeline listens on it. */
let unshared: PipelineBus | undefined;

/** What a plugin is handed at create(): its logger, metrics scope, paths, codec, settings. */
export function pluginContext(s: ContextServices, plan: PluginPlan): PluginContext {
  const scope = s.metrics.scope('plugins').scope(plan.kind + 's').scope(plan.id);
  return {
    logger: s.logger.child({ plugin: plan.id }),
    clock: s.clock,
    metrics: scope,
    dataDir: s.dataDir,
    workingDir: s.workingDir,
    resolvePath: (p: string) => (isAbsolute(p) ? p : resolveConfigPath(p, s.workingDir)),
    signal: s.signal,
    pipelineId: s.pipelineId,
    id: plan.id,
    codec: codecFactory(s, plan, plan.codec, `${plan.id}.codec`),
    codecsOf(option: string) {
      const set = plan.codecSets?.[option];
      if (set === undefined) throw new Error(`${plan.id}: '${option}' is not a codecs option that is set`);
      return new Map(Object.entries(set).map(([key, c]) => [key, codecFactory(s, plan, c, `${plan.id}.${option}.${key}`)]));
    },
    settings: s.settings,
    pipelineBus: s.pipelineBus ?? (unshared ??= createPipelineBus()),
  };
}

/** The codec parts of a context that has none (a filter's, a codec's own). */
export function noCodecs(id: string): Pick<PluginContext, 'codec' | 'codecsOf'> {
  return {
    codec: { name: 'none', create: () => { throw new Error(`${id} has no codec`); } },
    codecsOf: (option: string) => {
      throw new Error(`${id} has no codecs ('${option}')`);
    },
  };
}

/**
 * The plugin's codec, built from the codec's own options; each `create` is a fresh instance
 * with `decodeMessage` always present (decode + flush for codecs that define none).
 */
function codecFactory(s: ContextServices, plan: PluginPlan, codec: CodecPlan | undefined, id: string): CodecFactory {
  if (!codec) return noCodecs(plan.id).codec;
  let ctx: PluginContext | undefined;
  return {
    name: codec.def.name,
    create: () => completeCodec(codec.def.create(codec.options as never, (ctx ??= { ...pluginContext(s, { ...plan, codec: undefined, codecSets: undefined }), id })) as CodecImplementation),
  };
}
