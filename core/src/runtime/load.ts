import { mkdirSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import type { Logger } from 'pino';
import { ConfigError, ConfigErrors } from '../config/errors.js';
import { parseSources, readConfigSources, type ConfigSource } from '../config/load.js';
import type { Clock } from '../plugin/clock.js';
import { MetricsRegistry } from '../plugin/metrics.js';
import { INSTALL_ROOT, resolveConfigPath } from '../registry/install-root.js';
import { PluginRegistry } from '../registry/registry.js';
import { Pipeline } from './pipeline.js';
import type { PipelineBus } from './pipeline-bus.js';
import { buildPlan, type PipelinePlan } from './plan.js';
import { createPipelineContainer } from './services.js';
import type { Settings } from './settings.js';

/**
 * From settings and a config to a ready pipeline: read the config (`-e` text, `-f` path, or the
 * default pipeline), parse, check every plugin against the registry, create the instances.
 */
export const DEFAULT_CONFIG = 'pipelines/default.conf';

/** What an empty `-e` runs (Logstash's default for it). */
export const EMPTY_CONFIG_STRING = 'input { stdin { type => "stdin" } }\noutput { stdout { codec => rubydebug } }\n';

export function configSourcesFor(settings: Settings, workingDir: string): ConfigSource[] {
  const inline = settings['config.string'] as string | undefined;
  // `-e ''`, as Logstash: read stdin, print each event with rubydebug
  if (inline !== undefined) return [{ file: '<config.string>', text: inline.trim() === '' ? EMPTY_CONFIG_STRING : inline }];
  const path = (settings['path.config'] as string | undefined) ?? resolveConfigPath(DEFAULT_CONFIG, workingDir);
  return readConfigSources(path, workingDir);
}

export function pluginHome(settings: Settings, workingDir: string): string {
  return join(resolve(workingDir, String(settings['path.data'])), 'plugins');
}

export function registryFor(settings: Settings, workingDir: string): PluginRegistry {
  const extra = ([] as string[]).concat((settings['path.plugins'] as string[] | string | undefined) ?? []).map((p) => resolve(workingDir, p));
  return new PluginRegistry({ installRoot: INSTALL_ROOT, pluginHome: pluginHome(settings, workingDir), pluginPaths: extra });
}

/** Parses and checks; throws ConfigErrors with source excerpts attached. */
export async function checkConfig(settings: Settings, workingDir: string, logger?: Logger): Promise<PipelinePlan> {
  const sources = configSourcesFor(settings, workingDir);
  const texts = new Map(sources.map((s) => [s.file, s.text]));
  const attach = (e: ConfigError) => (e.loc && texts.has(e.loc.file) ? e.withSource(texts.get(e.loc.file)!) : e);
  try {
    const { ast } = parseSources(sources, { supportEscapes: settings['config.support_escapes'] === true });
    const plan = await buildPlan(ast, registryFor(settings, workingDir), (msg) => logger?.warn(msg), (p) => (isAbsolute(p) ? p : resolveConfigPath(p, workingDir)));
    plan.sources = sources;
    return plan;
  } catch (e) {
    if (e instanceof ConfigErrors) throw new ConfigErrors(e.errors.map(attach));
    if (e instanceof ConfigError) throw new ConfigErrors([attach(e)]);
    throw e;
  }
}

export interface LoadOptions {
  settings: Settings;
  workingDir: string;
  logger: Logger;
  clock?: Clock;
  metrics?: MetricsRegistry;
  /** The process's pipeline-to-pipeline bus, shared by the pipelines of one process. */
  pipelineBus?: PipelineBus;
  /** The plan, when the caller has checked the config already (checkConfig). */
  plan?: PipelinePlan;
}

export async function loadPipeline(o: LoadOptions): Promise<Pipeline> {
  const plan = o.plan ?? (await checkConfig(o.settings, o.workingDir, o.logger));
  const dataDir = resolve(o.workingDir, String(o.settings['path.data']));
  mkdirSync(dataDir, { recursive: true });
  const container = createPipelineContainer({ logger: o.logger, settings: o.settings, dataDir, workingDir: o.workingDir, clock: o.clock, metrics: o.metrics ?? new MetricsRegistry(), pipelineBus: o.pipelineBus });
  const pipeline = container.resolve(Pipeline);
  await pipeline.build(plan);
  return pipeline;
}
