import { isAbsolute, resolve } from 'node:path';
import type { Logger } from 'pino';
import { ConfigErrors } from '../config/errors.js';
import { createLogger } from '../runtime/logger.js';
import { checkConfig, loadPipeline } from '../runtime/load.js';
import type { Settings } from '../runtime/settings.js';

/** `pipeline start`: check the config, or run it until its inputs finish or a signal stops it. */
export async function startCommand(settings: Settings): Promise<number> {
  const workingDir = process.cwd();
  const logger: Logger = createLogger(String(settings['log.level']), settings['log.format'] === 'json' ? 'json' : 'plain');
  const configPath = settings['path.config'] as string | undefined;
  if (configPath !== undefined && !isAbsolute(configPath)) settings['path.config'] = resolve(workingDir, configPath);

  if (settings['config.test_and_exit']) {
    try {
      await checkConfig(settings, workingDir, logger);
      process.stdout.write('Configuration OK\n');
      return 0;
    } catch (e) {
      process.stderr.write(formatError(e) + '\n');
      return 1;
    }
  }

  let pipeline;
  try {
    pipeline = await loadPipeline({ settings, workingDir, logger });
  } catch (e) {
    process.stderr.write(formatError(e) + '\n');
    return 1;
  }
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
  process.on('SIGINT', onStop);
  process.on('SIGTERM', onStop);
  process.on('SIGHUP', () => {
    logger.info('SIGHUP: reloading certificates');
    void pipeline.reloadInputs();
  });
  pipeline.start();
  logger.info({ pipeline: pipeline.id }, 'pipeline started');
  await pipeline.done;
  process.off('SIGINT', onStop);
  process.off('SIGTERM', onStop);
  return 0;
}

export function formatError(e: unknown): string {
  if (e instanceof ConfigErrors) return e.format() + `\n${e.errors.length} error${e.errors.length === 1 ? '' : 's'} in the configuration`;
  if (e && typeof (e as { format?: unknown }).format === 'function') return (e as { format(): string }).format();
  return e instanceof Error ? e.message : String(e);
}
