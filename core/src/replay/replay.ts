/**
 * `pipeline replay`: archived logs through a config's filter and correlate sections on event time.
 * Each line is an event (a raw line its `message`, stamped with the clock as an input would; a
 * JSON line decoded as the json_lines codec does, keeping its `@timestamp`), decorated as the
 * config's first input (or `--input ID`) decorates what it reads (type, tags, add_field). The
 * event clock (clock.ts) follows each event's `@timestamp` as the filters leave it, never going
 * back; the config's inputs are never started and its outputs are created and called only with
 * `outputs: true`. Files are read one after the other, oldest rotation first.
 */
import { basename, isAbsolute, resolve } from 'node:path';
import pino, { type Logger } from 'pino';
import { Event } from '../event/event.js';
import { Timestamp } from '../event/timestamp.js';
import { completeCodec, type CodecImplementation, type CodecInstance, type PluginContext, type PluginDefinition } from '../plugin/define.js';
import { MetricsRegistry } from '../plugin/metrics.js';
import { resolveOptions } from '../plugin/options.js';
import { resolveConfigPath } from '../registry/install-root.js';
import { compileDecorator } from '../runtime/common-options.js';
import { checkConfig, registryFor } from '../runtime/load.js';
import { pluginsIn, type PipelinePlan } from '../runtime/plan.js';
import { createPipelineBus } from '../runtime/pipeline-bus.js';
import { noCodecs } from '../runtime/plugin-context.js';
import { num, type Settings } from '../runtime/settings.js';
import { Attribution } from './attribution.js';
import { EventClock } from './clock.js';
import { readLines, rotationOrder, totalBytes } from './read.js';
import { Sections } from './sections.js';
import { SummaryCollector, type ReplaySummary } from './summary.js';

export type ReplayFormat = 'auto' | 'raw' | 'json';

export interface ReplayOptions {
  settings: Settings;
  workingDir: string;
  files: string[];
  format?: ReplayFormat;
  /** Event time bounds (ms): events before `from` or at/after `to` are not correlated. */
  from?: number;
  to?: number;
  /** Call the config's outputs (otherwise a dry run: they are not even created). */
  outputs?: boolean;
  /** The id of the input whose type/tags/add_field decorate the events; 'none' for none; default the first input. */
  input?: string;
  logger?: Logger;
  /** Told after each chunk read: bytes read so far, of `total`, and lines so far. */
  progress?(bytes: number, total: number, lines: number): void;
}

export class ReplayError extends Error {}

/** rule label (basename:line, as correlate-sec labels its rule_matches counters) -> desc, for every sec block. */
async function ruleDescriptions(plan: PipelinePlan, settings: Settings, workingDir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const secs = [...plan.plugins.values()].filter((p) => p.kind === 'correlate' && p.def.name === 'sec');
  if (secs.length === 0) return out;
  try {
    const mod = (await registryFor(settings, workingDir).importModule('correlate', 'sec')) as {
      loadRuleFiles?: (paths: string[], o: { allowShell: boolean }) => { files: { rules: { file: string; line: number; desc: string }[] }[] };
    };
    if (typeof mod.loadRuleFiles !== 'function') return out;
    for (const p of secs) {
      const paths = (p.options.rules as string[]).map((r) => (isAbsolute(r) ? r : resolveConfigPath(r, workingDir)));
      for (const f of mod.loadRuleFiles(paths, { allowShell: true }).files) for (const r of f.rules) out.set(`${basename(r.file)}:${r.line}`, r.desc);
    }
  } catch {
    // without descriptions the summary names rules by file:line
  }
  return out;
}

function inputDecorator(plan: PipelinePlan, id: string | undefined): ((e: Event) => void) | undefined {
  if (id === 'none') return undefined;
  const inputs = pluginsIn(plan.ast.sections.filter((s) => s.kind === 'input').flatMap((s) => s.body)).map((n) => plan.plugins.get(n)!);
  const chosen = id === undefined ? inputs[0] : inputs.find((p) => p.id === id);
  if (id !== undefined && chosen === undefined) throw new ReplayError(`--input ${id}: the config has no input with that id (its inputs: ${inputs.map((p) => p.id).join(', ') || 'none'})`);
  return chosen ? compileDecorator(chosen.common, 'input') : undefined;
}

async function jsonCodec(settings: Settings, workingDir: string, ctx: PluginContext): Promise<CodecInstance> {
  const def = (await registryFor(settings, workingDir).load('codec', 'json_lines')) as PluginDefinition<'codec'>;
  const options = resolveOptions(def.options, [], 'codec json_lines', { file: 'replay', line: 1, column: 1 });
  return completeCodec(def.create(options as never, ctx) as CodecImplementation);
}

const looksJson = (line: string) => {
  if (!line.startsWith('{')) return false;
  try {
    const v = JSON.parse(line) as unknown;
    return typeof v === 'object' && v !== null && !Array.isArray(v);
  } catch {
    return false;
  }
};

export async function replay(o: ReplayOptions): Promise<ReplaySummary> {
  const t0 = performance.now();
  const logger = o.logger ?? pino({ level: 'silent' });
  const settings = o.settings;
  const plan = await checkConfig(settings, o.workingDir, logger);
  const files = rotationOrder(o.files.map((f) => resolve(o.workingDir, f)));
  const total = totalBytes(files);
  const dataDir = resolve(o.workingDir, String(settings['path.data'] ?? 'data'));
  const metrics = new MetricsRegistry();
  // before the first event the clock reads the wall clock: a date filter guesses missing years from it
  const clock = new EventClock(Date.now());
  const summary = new SummaryCollector(o.from, o.to);
  const attribution = new Attribution(await ruleDescriptions(plan, settings, o.workingDir), (e, who) => summary.alert(e, who));
  const decorate = inputDecorator(plan, o.input);
  const sections = await Sections.build({
    plan,
    settings,
    workingDir: o.workingDir,
    dataDir,
    logger,
    metrics,
    clock,
    outputs: o.outputs === true,
    filtered: (e) => summary.filtered(e),
    collected: (e) => {
      const tags = e.fields.tags;
      if (Array.isArray(tags) && (tags.includes('alert') || tags.includes('heartbeat'))) attribution.alert(e);
    },
    context: (ctx, p) => (p.kind === 'correlate' ? attribution.watch(ctx) : ctx),
    step: attribution.step,
  });
  try {
    const abort = new AbortController();
    const codecCtx: PluginContext = {
      logger,
      clock,
      metrics,
      dataDir,
      workingDir: o.workingDir,
      resolvePath: (p) => (isAbsolute(p) ? p : resolveConfigPath(p, o.workingDir)),
      signal: abort.signal,
      pipelineId: 'replay',
      id: 'replay.codec',
      ...noCodecs('replay.codec'),
      settings,
      pipelineBus: createPipelineBus(),
    };
    let json: CodecInstance | undefined;
    const batchSize = Math.max(1, num(settings, 'pipeline.batch.size'));
    let batch: Event[] = [];
    const push = (e: Event) => {
      decorate?.(e);
      batch.push(e);
    };
    let bytes = 0;
    for (const file of files) {
      let format = o.format ?? 'auto';
      for await (const lines of readLines(file, (n) => (bytes += n))) {
        if (format === 'auto') format = looksJson(lines.find((l) => l.trim() !== '') ?? '') ? 'json' : lines.some((l) => l.trim() !== '') ? 'raw' : 'auto';
        if (format === 'json') json ??= await jsonCodec(settings, o.workingDir, codecCtx);
        for (let i = 0; i < lines.length; i++) {
          summary.lines++;
          const line = lines[i]!;
          if (format === 'json') json!.decodeLine!(line, push);
          else push(new Event({ message: line }, new Timestamp(clock.now())));
          if (batch.length >= batchSize) {
            sections.run(batch);
            batch = [];
            await sections.deliver();
          }
        }
        o.progress?.(bytes, total, summary.lines);
      }
    }
    if (batch.length > 0) sections.run(batch);
    sections.finish();
    await sections.deliver();
  } finally {
    await sections.close();
  }
  return summary.summary(files, sections.late, (performance.now() - t0) / 1000);
}
