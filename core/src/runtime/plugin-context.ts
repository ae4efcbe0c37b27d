import { isAbsolute } from 'node:path';
import type { Logger } from 'pino';
import type { Clock } from '../plugin/clock.js';
import { completeCodec, type CodecFactory, type CodecImplementation, type PluginContext } from '../plugin/define.js';
import type { MetricsRegistry } from '../plugin/metrics.js';
import { resolveConfigPath } from '../registry/install-root.js';
import type { PluginPlan } from './plan.js';
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
}

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
    codec: codecFactory(s, plan),
    settings: s.settings,
  };
}

/**
 * The plugin's codec, built from the codec's own options; each `create` is a fresh instance
 * with `decodeMessage` always present (decode + flush for codecs that define none).
 */
function codecFactory(s: ContextServices, plan: PluginPlan): CodecFactory {
  const codec = plan.codec;
  if (!codec) return { name: 'none', create: () => { throw new Error(`${plan.id} has no codec`); } };
  let ctx: PluginContext | undefined;
  return {
    name: codec.def.name,
    create: () => completeCodec(codec.def.create(codec.options as never, (ctx ??= { ...pluginContext(s, { ...plan, codec: undefined }), id: `${plan.id}.codec` })) as CodecImplementation),
  };
}
