import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import type { Logger } from 'pino';
import { ConfigErrors } from '../config/errors.js';
import { startMonitoringApi } from '../monitoring/api.js';
import type { ReloadStats } from '../monitoring/stats.js';
import { createLogger, reopenLogFile } from '../runtime/logger.js';
import { checkConfig, configSourcesFor, loadPipeline } from '../runtime/load.js';
import type { Pipeline } from '../runtime/pipeline.js';
import type { PipelinePlan } from '../runtime/plan.js';
import { notifyReady } from '../runtime/sd-notify.js';
import { createPipelineBus } from '../runtime/pipeline-bus.js';
import { IGNORED_SETTINGS, mergeSettings, num, SETS_SOMETHING, type Settings } from '../runtime/settings.js';
import { readPipelinesFile, type PipelineEntry } from '../runtime/settings-file.js';
import { onStdoutError } from './stdout-closed.js';

/**
 * `pipeline start`: check the config, or run it until its inputs finish or a signal stops it.
 * SIGINT/SIGTERM drain and stop; SIGHUP reloads the config (and certificates); SIGUSR1 writes
 * dumps of stateful stages (SEC operations and contexts) under path.data; SIGUSR2 has the outputs
 * reopen their files (after a rotation), as sec does.
 */
export async function startCommand(settings: Settings): Promise<number> {
  const workingDir = process.cwd();
  const json = settings['log.format'] === 'json';
  const logDir = settings['path.logs'] as string | undefined;
  const logger: Logger = createLogger(String(settings['log.level']), json ? 'json' : 'plain', logDir === undefined ? undefined : resolve(workingDir, logDir));
  // in JSON mode a refused config is one JSON object too (journald, log shippers), with every error located
  const refused = (e: unknown, pipelineId?: string, where?: string) => {
    const named = pipelineId === undefined ? '' : `pipeline ${pipelineId}${where ? ` (${where})` : ''}: `;
    if (!json) return void process.stderr.write(named + formatError(e) + '\n');
    const errors = e instanceof ConfigErrors ? e.errors : [];
    logger.error(
      {
        ...(pipelineId === undefined ? {} : { pipeline: pipelineId }),
        errors: errors.map((x) => ({ file: x.loc?.file, line: x.loc?.line, column: x.loc?.column, message: x.reason, hint: x.hint })),
        text: formatError(e),
      },
      named + (errors.length ? `configuration refused: ${errors.length} error${errors.length === 1 ? '' : 's'}` : `cannot start: ${formatError(e)}`),
    );
  };
  const ignored = settings[IGNORED_SETTINGS] as string[] | undefined;
  if (ignored) logger.warn({ settings: ignored }, `Logstash settings that mean nothing here were ignored: ${ignored.join(', ')}`);
  const configPath = settings['path.config'] as string | undefined;
  if (configPath !== undefined && !isAbsolute(configPath)) settings['path.config'] = resolve(workingDir, configPath);

  // pipelines.yml with several pipelines (one entry is merged into the settings by the command line)
  let entries: PipelineEntry[] | undefined;
  try {
    entries = pipelineEntries(settings, workingDir, logger);
  } catch (e) {
    refused(e);
    return 1;
  }
  const multi = entries !== undefined;
  const slots: Slot[] = (entries ?? [{ id: String(settings['pipeline.id'] ?? 'main'), settings, where: '', ignored: [] }]).map((e) => ({
    id: e.id,
    where: e.where,
    settings: multi ? entrySettings(settings, e, workingDir) : settings,
    logger: multi ? logger.child({ pipeline: e.id }) : logger,
    reloads: { successes: 0, failures: 0 },
    current: '',
    lastFailure: '',
    reloading: false,
  }));
  if (multi) for (const e of entries!) if (e.ignored.length) logger.warn({ pipeline: e.id, settings: e.ignored }, `pipeline ${e.id}: Logstash settings that mean nothing here were ignored: ${e.ignored.join(', ')}`);

  if (settings['config.debug'] === true) {
    for (const slot of slots)
      try {
        for (const s of configSourcesFor(slot.settings, workingDir)) slot.logger.debug({ file: s.file, config: s.text }, 'config.debug: the config as read');
      } catch {
        // unreadable: checkConfig below says why
      }
  }

  if (settings['config.test_and_exit']) {
    let failed = false;
    const plans = new Map<Slot, PipelinePlan>();
    for (const slot of slots) {
      try {
        plans.set(slot, await checkConfig(slot.settings, workingDir, slot.logger));
      } catch (e) {
        refused(e, multi ? slot.id : undefined, slot.where);
        failed = true;
      }
    }
    for (const clash of addressClashes(plans)) {
      refused(new Error(clash.message), clash.pipeline, clash.where);
      failed = true;
    }
    if (failed) return 1;
    process.stdout.write('Configuration OK\n');
    return 0;
  }

  const bus = createPipelineBus();
  const running = new Set<Slot>();
  let allDone!: () => void;
  const finished = new Promise<void>((r) => (allDone = r));
  let signals = 0;
  let failedStarts = 0;
  let lastFailedInputs = 0;

  /** Loads a pipeline (its plugins created, not started); a failure is logged (with several pipelines the others go on). */
  const load = async (slot: Slot, why: string): Promise<Pipeline | undefined> => {
    let pipeline: Pipeline;
    try {
      const plan = await checkConfig(slot.settings, workingDir, slot.logger);
      pipeline = await loadPipeline({ settings: slot.settings, workingDir, logger: slot.logger, pipelineBus: bus, plan });
      slot.plan = plan;
    } catch (e) {
      const text = formatError(e);
      slot.reloads.failures++;
      slot.reloads.last_error = text;
      slot.reloads.last_failure_timestamp = new Date().toISOString();
      slot.lastFailure = text;
      if (!multi) refused(e);
      else slot.logger.error({ why }, `pipeline ${slot.id} (${slot.where}) could not start; the other pipelines keep going:\n${text}`);
      return undefined;
    }
    return pipeline;
  };
  /** Starts a loaded pipeline: its inputs, its reload watcher. */
  const begin = async (slot: Slot, pipeline: Pipeline): Promise<void> => {
    slot.pipeline = pipeline;
    slot.current = stateOf(slot.settings, workingDir, slot.plan);
    slot.lastFailure = '';
    running.add(slot);
    if (slot.settings['config.reload.automatic'] === true || slot.settings['config.reload.automatic'] === 'true') {
      slot.watcher ??= setInterval(() => void reload(slot, 'config changed'), Math.max(0.2, num(slot.settings, 'config.reload.interval')) * 1000);
      slot.watcher.unref();
    }
    pipeline.start();
    slot.logger.info({ pipeline: pipeline.id }, 'pipeline started');
    void pipeline.done.then(() => {
      lastFailedInputs += pipeline.failedInputs;
      running.delete(slot);
      if (slot.pipeline === pipeline) slot.pipeline = undefined;
      if (slot.watcher && !slot.restarting) {
        clearInterval(slot.watcher);
        slot.watcher = undefined;
      }
      if (running.size === 0 && !slot.restarting) allDone();
    });
  };
  const launch = async (slot: Slot, why: string): Promise<boolean> => {
    const p = await load(slot, why);
    if (p !== undefined) await begin(slot, p);
    return p !== undefined;
  };

  // every pipeline is built before any starts, so pipeline inputs listen before upstream outputs send
  const loaded = new Map<Slot, Pipeline>();
  for (const slot of slots) {
    const p = await load(slot, 'start');
    if (p === undefined) failedStarts++;
    else loaded.set(slot, p);
  }
  if (loaded.size === 0) return 1;

  const api =
    settings['api.enabled'] === false || settings['api.enabled'] === 'false'
      ? undefined
      : await startMonitoringApi({
          host: String(settings['api.http.host']),
          port: settings['api.http.port'],
          pipelines: () => slots.filter((s) => s.pipeline !== undefined).map((s) => ({ pipeline: s.pipeline!, reloads: s.reloads })),
          logger,
        });
  for (const [slot, p] of loaded) await begin(slot, p);

  const reload = async (slot: Slot, why: string) => {
    if (slot.reloading || signals > 0) return;
    slot.reloading = true;
    try {
      // a pipeline that could not start (a bad config, fixed since) starts now
      if (slot.pipeline === undefined) {
        if (multi && (await launch(slot, why))) {
          slot.reloads.successes++;
          slot.reloads.last_success_timestamp = new Date().toISOString();
          slot.logger.info({ why }, `pipeline ${slot.id} started on reload`);
        }
        return;
      }
      let plan: PipelinePlan;
      try {
        plan = await checkConfig(slot.settings, workingDir, slot.logger);
        const others = new Map<Slot, PipelinePlan>([[slot, plan]]);
        for (const o of slots) if (o !== slot && o.plan) others.set(o, o.plan);
        const clash = addressClashes(others).find((c) => c.pipeline === slot.id);
        if (clash) throw new Error(clash.message);
      } catch (e) {
        const text = formatError(e);
        if (text !== slot.lastFailure || why === 'SIGHUP' || why === 'SIGABRT') {
          slot.lastFailure = text;
          slot.reloads.failures++;
          slot.reloads.last_error = text;
          slot.reloads.last_failure_timestamp = new Date().toISOString();
          slot.logger.error({ why }, `${multi ? `pipeline ${slot.id}: ` : ''}configuration refused, the running pipeline keeps going:\n${text}`);
        }
        return;
      }
      const next = stateOf(slot.settings, workingDir, plan);
      if (next === slot.current && why !== 'SIGHUP' && why !== 'SIGABRT') return;
      try {
        const r = await slot.pipeline.reload(plan);
        slot.plan = plan;
        slot.current = next;
        slot.lastFailure = '';
        slot.reloads.successes++;
        slot.reloads.last_success_timestamp = new Date().toISOString();
        slot.logger.info({ why, ...r }, 'reloaded');
      } catch (e) {
        slot.reloads.failures++;
        slot.reloads.last_error = (e as Error).message;
        slot.reloads.last_failure_timestamp = new Date().toISOString();
        slot.logger.error({ err: e, why }, 'reload failed, the running pipeline keeps going');
      }
    } finally {
      slot.reloading = false;
    }
  };
  const reloadAll = async (why: string) => {
    await Promise.all(slots.map((s) => reload(s, why)));
  };

  const stopAll = () => {
    bus.drain();
    for (const slot of running) void slot.pipeline?.stop();
  };
  const onStop = (signal: NodeJS.Signals) => {
    signals++;
    if (signals > 1) {
      logger.warn({ signal }, 'second signal: exiting without draining');
      process.exit(1);
    }
    logger.info({ signal }, 'signal received, shutting down');
    stopAll();
  };
  // sec's soft restart: rule files that changed are loaded again, the rest keep their state. Here
  // that is a reload of the config (never an abort): a sec block whose rule files did not change
  // keeps its windows and contexts; one whose files changed starts afresh (per block, not per rule yet).
  const onAbrt = () => {
    logger.info('SIGABRT: soft restart (reloading the config and changed rule files)');
    void reloadAll('SIGABRT');
  };
  const onHup = () => {
    logger.info('SIGHUP: reloading configuration and certificates');
    void Promise.all([...running].map((s) => s.pipeline?.reloadInputs())).then(() => reloadAll('SIGHUP'));
  };
  const onUsr1 = () => {
    const dir = join(resolve(workingDir, String(settings['path.data'])), 'dumps');
    mkdirSync(dir, { recursive: true });
    for (const slot of running)
      for (const d of slot.pipeline!.dumps()) {
        const file = join(dir, multi ? `${slot.id}.${d.id}.dump` : `${d.id}.dump`);
        writeFileSync(file, d.text);
        slot.logger.info({ file }, 'state dump written');
      }
  };
  // sec reopens its log files on SIGUSR2 and logrotate postrotate scripts send it: reopen, never die
  const onUsr2 = () => {
    reopenLogFile();
    logger.info('SIGUSR2: reopening output files and the log file');
    for (const slot of running) void slot.pipeline?.reopenOutputs().catch((err: unknown) => slot.logger.warn({ err: (err as Error).message }, 'reopening output files failed'));
  };
  // the reader of stdout went away (`| head -1`): a clean stop, as for SIGTERM, without a stack trace
  let stdoutFailed = false;
  const restoreStdout = onStdoutError((err) => {
    if (stdoutFailed) return;
    stdoutFailed = true;
    if (err.code === 'EPIPE') logger.info('standard output was closed by its reader (EPIPE); stopping');
    else logger.error({ err: err.message }, 'standard output failed; stopping');
    stopAll();
  });
  process.on('SIGINT', onStop);
  process.on('SIGTERM', onStop);
  process.on('SIGHUP', onHup);
  process.on('SIGUSR1', onUsr1);
  process.on('SIGUSR2', onUsr2);
  process.on('SIGABRT', onAbrt);
  void notifyReady(logger, [...running].map((s) => s.id).join(',')); // systemd Type=notify: READY=1 once the inputs listen (no-op without $NOTIFY_SOCKET)
  await finished;
  for (const slot of slots) if (slot.watcher) clearInterval(slot.watcher);
  await api?.close();
  process.off('SIGINT', onStop);
  process.off('SIGTERM', onStop);
  process.off('SIGHUP', onHup);
  process.off('SIGUSR1', onUsr1);
  process.off('SIGUSR2', onUsr2);
  process.off('SIGABRT', onAbrt);
  restoreStdout();
  if (lastFailedInputs > 0 && signals === 0) {
    logger.error({ inputs: lastFailedInputs }, 'stopped because inputs failed');
    return 1;
  }
  if (failedStarts > 0 && signals === 0) return 1;
  return 0;
}

/** One pipeline of the process: its settings, the running Pipeline (none while it could not start), its reload state. */
interface Slot {
  id: string;
  /** `pipelines.yml:LINE` of its entry ('' without pipelines.yml). */
  where: string;
  settings: Settings;
  logger: Logger;
  pipeline?: Pipeline;
  plan?: PipelinePlan;
  reloads: ReloadStats;
  current: string;
  lastFailure: string;
  reloading: boolean;
  restarting?: boolean;
  watcher?: NodeJS.Timeout;
}

/**
 * The entries of `--path.settings DIR/pipelines.yml` when it lists several pipelines and neither
 * -f nor -e (nor path.config / config.string in logstash.yml) is given; undefined otherwise (one
 * entry is merged into the settings by the command line). With -f or -e the file is ignored with a
 * warning, as Logstash does.
 */
function pipelineEntries(settings: Settings, workingDir: string, logger: Logger): PipelineEntry[] | undefined {
  const dir = settings['path.settings'] as string | undefined;
  if (dir === undefined) return undefined;
  const file = join(resolve(workingDir, dir), 'pipelines.yml');
  if (!existsSync(file)) return undefined;
  const text = readFileSync(file, 'utf8');
  if (!SETS_SOMETHING.test(text)) return undefined;
  const entries = readPipelinesFile(file, text);
  if (entries.length < 2) return undefined;
  if (settings['path.config'] !== undefined || settings['config.string'] !== undefined) {
    logger.warn({ file }, `pipelines.yml lists ${entries.length} pipelines but -f/-e (path.config/config.string) was given: running that config alone, pipelines.yml ignored`);
    return undefined;
  }
  return entries;
}

/** A pipeline's settings: the process's (logstash.yml, command line), then its pipelines.yml entry. */
function entrySettings(base: Settings, e: PipelineEntry, workingDir: string): Settings {
  const s: Settings = { ...mergeSettings(base, e.settings) };
  if (e.settings['config.string'] !== undefined) delete s['path.config'];
  if (e.settings['path.config'] !== undefined) delete s['config.string'];
  for (const k of ['path.config', 'path.queue']) {
    const v = s[k] as string | undefined;
    if (v !== undefined && !isAbsolute(v)) s[k] = resolve(workingDir, v);
  }
  return s;
}

/**
 * `pipeline` inputs listening on one address: each is a config error, named by the pipeline and
 * the second input (the first one keeps it). `plans` in pipelines.yml order.
 */
function addressClashes(plans: Map<Slot, PipelinePlan>): { pipeline: string; where: string; message: string }[] {
  const seen = new Map<string, { pipeline: string; plugin: string }>();
  const out: { pipeline: string; where: string; message: string }[] = [];
  for (const [slot, plan] of plans)
    for (const p of plan.plugins.values()) {
      if (p.kind !== 'input' || p.def.name !== 'pipeline') continue;
      const address = String(p.options.address);
      const first = seen.get(address);
      const loc = p.node.loc ? `${p.node.loc.file}:${p.node.loc.line}:${p.node.loc.column}` : p.id;
      if (first) out.push({ pipeline: slot.id, where: slot.where, message: `${loc}: pipeline input ${p.id} listens on address "${address}", which ${first.pipeline === slot.id ? 'another input of this pipeline' : `pipeline ${first.pipeline}`} (${first.plugin}) already listens on\n  give each pipeline input its own address; several outputs may send to one` });
      else seen.set(address, { pipeline: slot.id, plugin: p.id });
    }
  return out;
}

/** What decides whether a reload changes anything: config texts and plugins' file fingerprints. */
function stateOf(settings: Settings, workingDir: string, plan: PipelinePlan | undefined): string {
  const h = createHash('sha256');
  for (const s of configSourcesFor(settings, workingDir)) h.update(s.file).update('\0').update(s.text).update('\0');
  if (plan) for (const p of plan.plugins.values()) h.update(p.id).update('\0').update(p.fingerprint ?? '').update('\0');
  return h.digest('hex');
}

export function formatError(e: unknown): string {
  if (e instanceof ConfigErrors) return e.format() + `\n${e.errors.length} error${e.errors.length === 1 ? '' : 's'} in the configuration`;
  if (e && typeof (e as { format?: unknown }).format === 'function') return (e as { format(): string }).format();
  return e instanceof Error ? e.message : String(e);
}
