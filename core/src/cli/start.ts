import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
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
import { IGNORED_SETTINGS, num, type Settings } from '../runtime/settings.js';
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
  const refused = (e: unknown) => {
    if (!json) return void process.stderr.write(formatError(e) + '\n');
    const errors = e instanceof ConfigErrors ? e.errors : [];
    logger.error(
      { errors: errors.map((x) => ({ file: x.loc?.file, line: x.loc?.line, column: x.loc?.column, message: x.reason, hint: x.hint })), text: formatError(e) },
      errors.length ? `configuration refused: ${errors.length} error${errors.length === 1 ? '' : 's'}` : `cannot start: ${formatError(e)}`,
    );
  };
  const ignored = settings[IGNORED_SETTINGS] as string[] | undefined;
  if (ignored) logger.warn({ settings: ignored }, `Logstash settings that mean nothing here were ignored: ${ignored.join(', ')}`);
  const configPath = settings['path.config'] as string | undefined;
  if (configPath !== undefined && !isAbsolute(configPath)) settings['path.config'] = resolve(workingDir, configPath);
  if (settings['config.debug'] === true) {
    try {
      for (const s of configSourcesFor(settings, workingDir)) logger.debug({ file: s.file, config: s.text }, 'config.debug: the config as read');
    } catch {
      // unreadable: checkConfig below says why
    }
  }

  if (settings['config.test_and_exit']) {
    try {
      await checkConfig(settings, workingDir, logger);
      process.stdout.write('Configuration OK\n');
      return 0;
    } catch (e) {
      refused(e);
      return 1;
    }
  }

  let pipeline: Pipeline;
  try {
    pipeline = await loadPipeline({ settings, workingDir, logger });
  } catch (e) {
    refused(e);
    return 1;
  }
  const reloads: ReloadStats = { successes: 0, failures: 0 };
  const api =
    settings['api.enabled'] === false || settings['api.enabled'] === 'false'
      ? undefined
      : await startMonitoringApi({ host: String(settings['api.http.host']), port: settings['api.http.port'], pipeline: () => pipeline, reloads, logger });

  let current = stateOf(settings, workingDir, undefined);
  let lastFailure = '';
  let reloading = false;
  const reload = async (why: string) => {
    if (reloading) return;
    reloading = true;
    try {
      let plan: PipelinePlan;
      try {
        plan = await checkConfig(settings, workingDir, logger);
      } catch (e) {
        const text = formatError(e);
        if (text !== lastFailure || why === 'SIGHUP' || why === 'SIGABRT') {
          lastFailure = text;
          reloads.failures++;
          reloads.last_error = text;
          reloads.last_failure_timestamp = new Date().toISOString();
          logger.error({ why }, `configuration refused, the running pipeline keeps going:\n${text}`);
        }
        return;
      }
      const next = stateOf(settings, workingDir, plan);
      if (next === current && why !== 'SIGHUP' && why !== 'SIGABRT') return;
      try {
        const r = await pipeline.reload(plan);
        current = next;
        lastFailure = '';
        reloads.successes++;
        reloads.last_success_timestamp = new Date().toISOString();
        logger.info({ why, ...r }, 'reloaded');
      } catch (e) {
        reloads.failures++;
        reloads.last_error = (e as Error).message;
        reloads.last_failure_timestamp = new Date().toISOString();
        logger.error({ err: e, why }, 'reload failed, the running pipeline keeps going');
      }
    } finally {
      reloading = false;
    }
  };

  let signals = 0;
  const onStop = (signal: NodeJS.Signals) => {
    signals++;
    if (signals > 1) {
      logger.warn({ signal }, 'second signal: exiting without draining');
      process.exit(1);
    }
    logger.info({ signal }, 'signal received, shutting down');
    void pipeline.stop();
  };
  // sec's soft restart: rule files that changed are loaded again, the rest keep their state. Here
  // that is a reload of the config (never an abort): a sec block whose rule files did not change
  // keeps its windows and contexts; one whose files changed starts afresh (per block, not per rule yet).
  const onAbrt = () => {
    logger.info('SIGABRT: soft restart (reloading the config and changed rule files)');
    void reload('SIGABRT');
  };
  const onHup = () => {
    logger.info('SIGHUP: reloading configuration and certificates');
    void pipeline.reloadInputs().then(() => reload('SIGHUP'));
  };
  const onUsr1 = () => {
    const dir = join(resolve(workingDir, String(settings['path.data'])), 'dumps');
    mkdirSync(dir, { recursive: true });
    for (const d of pipeline.dumps()) {
      const file = join(dir, `${d.id}.dump`);
      writeFileSync(file, d.text);
      logger.info({ file }, 'state dump written');
    }
  };
  // sec reopens its log files on SIGUSR2 and logrotate postrotate scripts send it: reopen, never die
  const onUsr2 = () => {
    reopenLogFile();
    logger.info('SIGUSR2: reopening output files and the log file');
    void pipeline.reopenOutputs().catch((err: unknown) => logger.warn({ err: (err as Error).message }, 'reopening output files failed'));
  };
  // the reader of stdout went away (`| head -1`): a clean stop, as for SIGTERM, without a stack trace
  let stdoutFailed = false;
  const restoreStdout = onStdoutError((err) => {
    if (stdoutFailed) return;
    stdoutFailed = true;
    if (err.code === 'EPIPE') logger.info('standard output was closed by its reader (EPIPE); stopping');
    else logger.error({ err: err.message }, 'standard output failed; stopping');
    void pipeline.stop();
  });
  process.on('SIGINT', onStop);
  process.on('SIGTERM', onStop);
  process.on('SIGHUP', onHup);
  process.on('SIGUSR1', onUsr1);
  process.on('SIGUSR2', onUsr2);
  process.on('SIGABRT', onAbrt);
  let watcher: NodeJS.Timeout | undefined;
  if (settings['config.reload.automatic'] === true || settings['config.reload.automatic'] === 'true') {
    current = stateOf(settings, workingDir, await checkConfig(settings, workingDir));
    watcher = setInterval(() => void reload('config changed'), Math.max(0.2, num(settings, 'config.reload.interval')) * 1000);
    watcher.unref();
  }
  pipeline.start();
  logger.info({ pipeline: pipeline.id }, 'pipeline started');
  void notifyReady(logger, pipeline.id); // systemd Type=notify: READY=1 once the inputs listen (no-op without $NOTIFY_SOCKET)
  await pipeline.done;
  if (watcher) clearInterval(watcher);
  await api?.close();
  process.off('SIGINT', onStop);
  process.off('SIGTERM', onStop);
  process.off('SIGHUP', onHup);
  process.off('SIGUSR1', onUsr1);
  process.off('SIGUSR2', onUsr2);
  process.off('SIGABRT', onAbrt);
  restoreStdout();
  if (pipeline.failedInputs > 0 && signals === 0) {
    logger.error({ inputs: pipeline.failedInputs }, 'stopped because inputs failed');
    return 1;
  }
  return 0;
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
