import 'reflect-metadata';
import { container as rootContainer, type DependencyContainer } from 'tsyringe';
import type { Logger } from 'pino';
import type { Clock } from '../plugin/clock.js';
import { SystemClock } from '../plugin/clock.js';
import { MetricsRegistry } from '../plugin/metrics.js';
import { createPipelineBus, type PipelineBus } from './pipeline-bus.js';
import type { Settings } from './settings.js';

/**
 * The services one pipeline shares, held in its own tsyringe child container. Plugins never see
 * the container: the runtime resolves these once and hands them over in each plugin's context,
 * so a plugin carrying its own copy of tsyringe cannot split state, and tests swap any of them.
 */
export const TOKENS = {
  Logger: Symbol.for('pipeline.Logger'),
  Clock: Symbol.for('pipeline.Clock'),
  Settings: Symbol.for('pipeline.Settings'),
  Metrics: Symbol.for('pipeline.Metrics'),
  DataDir: Symbol.for('pipeline.DataDir'),
  WorkingDir: Symbol.for('pipeline.WorkingDir'),
  PipelineBus: Symbol.for('pipeline.PipelineBus'),
} as const;

export interface PipelineServices {
  logger: Logger;
  clock: Clock;
  settings: Settings;
  metrics: MetricsRegistry;
  dataDir: string;
  workingDir: string;
  /** Shared by every pipeline of the process (pipeline-to-pipeline); a fresh one when not given. */
  pipelineBus: PipelineBus;
}

export function createPipelineContainer(services: Omit<PipelineServices, 'clock' | 'metrics' | 'pipelineBus'> & Partial<PipelineServices>): DependencyContainer {
  const c = rootContainer.createChildContainer();
  c.registerInstance(TOKENS.Logger, services.logger);
  c.registerInstance(TOKENS.Clock, services.clock ?? new SystemClock());
  c.registerInstance(TOKENS.Settings, services.settings);
  c.registerInstance(TOKENS.Metrics, services.metrics ?? new MetricsRegistry());
  c.registerInstance(TOKENS.DataDir, services.dataDir);
  c.registerInstance(TOKENS.WorkingDir, services.workingDir);
  c.registerInstance(TOKENS.PipelineBus, services.pipelineBus ?? createPipelineBus());
  return c;
}

export function resolveServices(c: DependencyContainer): PipelineServices {
  return {
    logger: c.resolve<Logger>(TOKENS.Logger),
    clock: c.resolve<Clock>(TOKENS.Clock),
    settings: c.resolve<Settings>(TOKENS.Settings),
    metrics: c.resolve<MetricsRegistry>(TOKENS.Metrics),
    dataDir: c.resolve<string>(TOKENS.DataDir),
    workingDir: c.resolve<string>(TOKENS.WorkingDir),
    pipelineBus: c.resolve<PipelineBus>(TOKENS.PipelineBus),
  };
}
