import { compileTemplate, ConfigError, definePlugin, type Event, type TimerHandle } from '@pipeline/core';
import { FileMissing, FilePool } from './file-pool.js';
import { parseMode } from './file-mode.js';
import type { OpenFile } from './open-file.js';
import { fileOutputOptions } from './options.js';
import { PathConfinement } from './path-confinement.js';
import { RateLimitedLog } from './rate-limited-log.js';

/** Delays before the retries of a write that failed inside `receive` (disk full, I/O error). */
const RETRY_DELAYS_MS = [100, 500, 1000];
/** Timer flushes in a row that may fail for one file before its buffered lines are dropped. */
const MAX_FAILED_TIMER_FLUSHES = 3;
/** How often a written file's path is stat'ed to notice a rename or deletion by logrotate. */
const IDENTITY_CHECK_MS = 1000;

/**
 * Logstash's `file` output: events encoded by the codec (json_lines by default) appended to files
 * named by a sprintf template, confined to the template's static directory, buffered per file and
 * written with one write() per file per flush, with a bounded set of open files.
 */
export default definePlugin({
  kind: 'output',
  name: 'file',
  description: 'Writes events to files named by a sprintf template (Logstash file output).',
  defaultCodec: 'json_lines',
  options: fileOutputOptions,
  check(o) {
    parseMode('dir_mode', o.dir_mode);
    parseMode('file_mode', o.file_mode);
    if (!(o.max_open_files >= 1)) throw new ConfigError(`file: max_open_files must be at least 1, got ${o.max_open_files}`);
    if (!(o.flush_interval >= 0)) throw new ConfigError(`file: flush_interval must be 0 or more seconds, got ${o.flush_interval}`);
    if (o.path.endsWith('/')) throw new ConfigError(`file: path '${o.path}' names a directory; it must name a file`);
    if (o.filename_failure.includes('/') || o.filename_failure === '' || o.filename_failure === '..')
      throw new ConfigError(`file: filename_failure must be a plain file name, got '${o.filename_failure}'`);
  },
  create(o, ctx) {
    const { clock, metrics, logger } = ctx;
    const confinement = new PathConfinement(compileTemplate(o.path), ctx.workingDir, o.filename_failure);
    const encoder = ctx.codec.create();
    const overwrite = o.write_behavior === 'overwrite';
    const counters = {
      events: metrics.counter('events'),
      filesOpen: metrics.gauge('files_open'),
      writeErrors: metrics.counter('write_errors'),
      reopens: metrics.counter('reopens'),
      eventsDropped: metrics.counter('events_dropped'),
    };
    const pathFailures = metrics.counter('path_failures');
    const pathLog = new RateLimitedLog(logger, clock, 'warn');
    const errorLog = new RateLimitedLog(logger, clock, 'error');
    const dropLog = new RateLimitedLog(logger, clock, 'error', 1000);
    const pool = new FilePool(
      {
        maxOpen: o.max_open_files,
        gzip: o.gzip,
        overwrite,
        createIfDeleted: o.create_if_deleted,
        dirMode: parseMode('dir_mode', o.dir_mode),
        fileMode: parseMode('file_mode', o.file_mode),
        identityCheckMs: IDENTITY_CHECK_MS,
      },
      clock,
      counters,
      (file, events, err) =>
        events > 0
          ? dropLog.log({ file, events, err }, 'file output: dropped buffered events that could not be written')
          : errorLog.log({ file, err }, 'file output: cannot reopen a rotated file; still writing to the old one'),
    );
    const sleep = (ms: number) => new Promise<void>((resolve) => void clock.setTimeout(resolve, ms));

    /** A file whose path vanished while create_if_deleted is false: its lines go to the failure file. */
    const reroute = (f: OpenFile): void => {
      const { text, events: n } = f.takeText();
      if (f.unwritten !== undefined) pool.dropAll(f, new Error('file vanished after a partial write'));
      pool.forget(f);
      pathFailures.inc(n);
      pathLog.log({ file: f.path, failureFile: confinement.failureFile }, 'file output: file was deleted and create_if_deleted is false; writing to the failure file');
      if (n > 0) pool.acquire(confinement.failureFile, true).add(text, n, overwrite, clock.now());
    };

    /** Writes `f` now, retrying a failed write a few times; after that its lines are dropped and the error returned. */
    const flushNow = async (f: OpenFile): Promise<unknown> => {
      for (let attempt = 0; ; attempt++) {
        try {
          if (!pool.flush(f)) reroute(f);
          return undefined;
        } catch (err) {
          counters.writeErrors.inc();
          errorLog.log({ file: f.path, err, attempt }, 'file output: write failed');
          if (attempt >= RETRY_DELAYS_MS.length) {
            pool.dropAll(f, err);
            return err;
          }
          await sleep(RETRY_DELAYS_MS[attempt]!);
        }
      }
    };

    const timerFlush = (): void => {
      for (const f of pool.all()) {
        if (!f.dirty) continue;
        try {
          if (!pool.flush(f)) reroute(f);
        } catch (err) {
          counters.writeErrors.inc();
          errorLog.log({ file: f.path, err }, 'file output: write failed; will retry at the next flush');
          if (++f.failedFlushes >= MAX_FAILED_TIMER_FLUSHES) pool.dropAll(f, err);
        }
      }
    };

    /** The open file for a target, falling back to the failure file when it cannot be used. */
    const fileFor = (path: string, events: number): OpenFile | undefined => {
      try {
        return pool.acquire(path);
      } catch (err) {
        if (err instanceof FileMissing) {
          if (err.vanished) reroute(err.vanished);
          pathFailures.inc(events);
          pathLog.log({ file: path }, 'file output: file does not exist and create_if_deleted is false; writing to the failure file');
        } else {
          counters.writeErrors.inc();
          errorLog.log({ file: path, err }, 'file output: cannot open file; writing to the failure file');
        }
      }
      try {
        return pool.acquire(confinement.failureFile, true);
      } catch (err) {
        counters.writeErrors.inc();
        counters.eventsDropped.inc(events);
        dropLog.log({ file: confinement.failureFile, err, events }, 'file output: cannot open the failure file either; events dropped');
        return undefined;
      }
    };

    const timers: TimerHandle[] = [];
    if (o.flush_interval > 0) timers.push(clock.setInterval(timerFlush, o.flush_interval * 1000));
    let lastCleanup = clock.now();
    if (o.stale_cleanup_interval > 0)
      timers.push(
        clock.setInterval(() => {
          pool.closeUnusedSince(lastCleanup);
          lastCleanup = clock.now();
        }, o.stale_cleanup_interval * 1000),
      );

    return {
      async receive(events: readonly Event[]) {
        // group the batch's lines per target file: one buffer append per file per batch
        const groups = new Map<string, { text: string; n: number }>();
        for (let i = 0; i < events.length; i++) {
          const e = events[i]!;
          const rendered = confinement.render(e.fields);
          const target = confinement.targetOf(rendered);
          if (target.failure !== undefined) {
            pathFailures.inc();
            pathLog.log({ path: rendered.replace(/\0/g, '\\0'), reason: target.failure, failureFile: target.file }, 'file output: event path is invalid; writing to the failure file');
          }
          const line = encoder.encode(e);
          const g = groups.get(target.file);
          if (g === undefined) groups.set(target.file, { text: line, n: 1 });
          else {
            g.text = overwrite ? line : g.text + line;
            g.n++;
          }
        }
        const now = clock.now();
        const due: OpenFile[] = [];
        for (const [path, g] of groups) {
          const f = fileFor(path, g.n);
          if (f === undefined) continue;
          f.add(g.text, g.n, overwrite, now);
          if (o.flush_interval === 0 || f.full) due.push(f);
        }
        let failure: unknown;
        for (const f of due) {
          const err = await flushNow(f);
          if (err !== undefined) failure ??= err;
        }
        if (failure !== undefined) throw new Error(`file output: lines dropped after ${RETRY_DELAYS_MS.length + 1} failed writes: ${(failure as Error).message ?? String(failure)}`);
      },
      close() {
        for (const t of timers) t.cancel();
        pool.closeAll();
      },
    };
  },
});
