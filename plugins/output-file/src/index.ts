import { compileTemplate, ConfigError, definePlugin, freeBytes, isDiskFullError, type Event, type TimerHandle } from '@pipeline/core';
import { FileMissing, FilePool } from './file-pool.js';
import { parseMode } from './file-mode.js';
import { BatchAck, type OpenFile } from './open-file.js';
import { fileOutputOptions } from './options.js';
import { PathConfinement, printable } from './path-confinement.js';
import { RateLimitedLog } from './rate-limited-log.js';

/** on_write_failure => drop: delays before the retries of a failed write; then its lines are dropped. */
const DROP_RETRY_DELAYS_MS = [100, 500, 1000];
/** on_write_failure => retry: the back-off starts here and doubles up to the cap (so writing resumes within 2 s of space returning). */
const RETRY_FIRST_MS = 100;
const RETRY_MAX_MS = 2000;
/** A stalled file is reported at most this often (with its path and the free space). */
const STALL_LOG_MS = 10_000;
/**
 * Lines held in buffers across all files before every buffer is written. A batch is acknowledged
 * only once all of its files are written, and the pipeline keeps its events until then; with many
 * files filling slowly that pinned seconds of events in memory (RSS 125 -> 232 MB into 200 files).
 * This caps them at a few MB while keeping most of the buffering's gain.
 */
const MAX_HELD_EVENTS = 8192;
/** How often a written file's path is stat'ed to notice a rename or deletion by logrotate. */
const IDENTITY_CHECK_MS = 1000;
/** Errors that mean "no room now": back-pressure (retry), never a reason to send lines elsewhere. */

/**
 * Logstash's `file` output: events encoded by the codec (json_lines by default) appended to files
 * named by a sprintf template, confined to the template's static directory, buffered per file and
 * written with one write() per file per flush, with a bounded set of open files.
 *
 * A batch is acknowledged (returned as a pending write) only once every line of it has been
 * handed to the OS with write(), so a crash of the process loses nothing the queue let go of. A
 * write that fails (disk full) keeps its lines and is retried with back-off while `receive`
 * waits: the pipeline stalls instead of dropping, and resumes by itself when space returns.
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
    const dropOnFailure = o.on_write_failure === 'drop';
    const fsync = o.fsync as 'none' | 'batch' | 'interval';
    const counters = {
      events: metrics.counter('events'),
      filesOpen: metrics.gauge('files_open'),
      writeErrors: metrics.counter('write_errors'),
      reopens: metrics.counter('reopens'),
      eventsDropped: metrics.counter('events_dropped'),
    };
    const pathFailures = metrics.counter('path_failures');
    const filesStalled = metrics.gauge('files_stalled');
    const pathLog = new RateLimitedLog(logger, clock, 'warn');
    const errorLog = new RateLimitedLog(logger, clock, 'error');
    const dropLog = new RateLimitedLog(logger, clock, 'error', 1000);
    const stallLog = new RateLimitedLog(logger, clock, 'error', STALL_LOG_MS);
    /** Files whose write failed, each with the loop that retries it until it succeeds (or drops). */
    const retrying = new Map<OpenFile, Promise<void>>();
    let closed = false;
    /** Lines buffered across files since the last recount (see MAX_HELD_EVENTS). */
    let held = 0;
    const pool = new FilePool(
      {
        maxOpen: o.max_open_files,
        gzip: o.gzip,
        overwrite,
        createIfDeleted: o.create_if_deleted,
        dirMode: parseMode('dir_mode', o.dir_mode),
        fileMode: parseMode('file_mode', o.file_mode),
        identityCheckMs: IDENTITY_CHECK_MS,
        fsync,
        dropOnFailure,
      },
      clock,
      counters,
      (file, events, err) =>
        events === 0
          ? errorLog.log({ file, err }, 'file output: cannot reopen a rotated file; still writing to the old one')
          : dropOnFailure
            ? dropLog.log({ file, events, err }, 'file output: dropped buffered events that could not be written (on_write_failure => drop)')
            : dropLog.log({ file, events, err }, 'file output: could not write buffered events before closing; they stay unacknowledged (the persisted queue delivers them again at the next start)'),
      (f, err) => void retry(f, err),
    );

    /** Sleeps on the plugin clock; close() ends every sleep at once. */
    const sleepers = new Set<{ t: TimerHandle; wake: () => void }>();
    const sleep = (ms: number) =>
      new Promise<void>((resolve) => {
        const s = { t: undefined as unknown as TimerHandle, wake: resolve };
        s.t = clock.setTimeout(() => {
          sleepers.delete(s);
          resolve();
        }, ms);
        sleepers.add(s);
      });

    const errCode = (err: unknown) => (err as NodeJS.ErrnoException)?.code ?? (err as Error)?.message ?? String(err);
    const backoff = (attempt: number) => Math.min(RETRY_MAX_MS, RETRY_FIRST_MS * 2 ** Math.min(attempt, 10));

    /** A file whose path vanished while create_if_deleted is false: its lines go to the failure file. */
    const reroute = (f: OpenFile): void => {
      const { text, events: n, acks } = f.takeText();
      if (f.unwritten !== undefined) pool.dropAll(f, new Error('file vanished after a partial write'));
      pool.forget(f);
      pathFailures.inc(n);
      pathLog.log({ file: f.path, failureFile: confinement.failureFile }, 'file output: file was deleted and create_if_deleted is false; writing to the failure file');
      if (n === 0) {
        for (const a of acks) a.release();
        return;
      }
      let failure: OpenFile;
      try {
        failure = pool.acquire(confinement.failureFile, true);
      } catch (err) {
        // nowhere to put them: settle their batches, never leave them waiting forever
        counters.writeErrors.inc();
        if (dropOnFailure) counters.eventsDropped.inc(n);
        for (const a of acks) {
          if (dropOnFailure) a.release();
          else a.fail(err);
        }
        dropLog.log({ file: confinement.failureFile, err, events: n }, 'file output: cannot open the failure file; lines not written');
        return;
      }
      failure.add(text, n, overwrite, clock.now());
      failure.acks.push(...acks); // already held: they move with their lines
    };

    /**
     * Retries writing `f` with back-off until it succeeds; with on_write_failure => drop, gives up
     * after a few tries and drops its lines. One loop per file; every caller waits on the same one.
     */
    const retry = (f: OpenFile, first: unknown): Promise<void> => {
      let loop = retrying.get(f);
      if (loop !== undefined) return loop;
      loop = (async () => {
        const since = clock.now();
        let err = first;
        for (let attempt = 0; ; attempt++) {
          if (dropOnFailure && attempt >= DROP_RETRY_DELAYS_MS.length) {
            pool.dropAll(f, err);
            return;
          }
          stallLog.log(
            { file: f.path, err: errCode(err), free_bytes: freeBytes(f.path), events_waiting: f.waitingEvents, stalled_s: Math.round((clock.now() - since) / 1000) },
            dropOnFailure ? 'file output: write failed; retrying, then dropping (on_write_failure => drop)' : 'file output: write failed; holding the lines and retrying (the pipeline waits)',
          );
          await sleep(dropOnFailure ? DROP_RETRY_DELAYS_MS[attempt]! : backoff(attempt));
          if (closed) return; // close() makes the last attempt
          try {
            if (!pool.flush(f)) reroute(f);
            logger.info({ file: f.path, stalled_s: Math.round((clock.now() - since) / 1000), attempts: attempt + 2 }, 'file output: writing again');
            return;
          } catch (e) {
            counters.writeErrors.inc();
            err = e;
          }
        }
      })().finally(() => {
        retrying.delete(f);
        filesStalled.set(retrying.size);
      });
      retrying.set(f, loop);
      filesStalled.set(retrying.size);
      return loop;
    };

    /** Writes `f` now; on failure returns the retry loop to wait on. */
    const write = (f: OpenFile): Promise<void> | undefined => {
      const loop = retrying.get(f);
      if (loop !== undefined) return loop;
      try {
        if (!pool.flush(f)) reroute(f);
        return undefined;
      } catch (err) {
        counters.writeErrors.inc();
        return retry(f, err);
      }
    };

    const timerFlush = (): void => {
      for (const f of pool.all()) if (f.dirty && !retrying.has(f)) void write(f);
      if (fsync === 'interval') pool.syncAll((f, err) => errorLog.log({ file: f.path, err }, 'file output: fsync failed'));
    };

    /** Opening failed for lack of space: wait (back-pressure) instead of sending the lines elsewhere. */
    const NO_ROOM = Symbol('no room');

    /** The open file for a target, falling back to the failure file when it cannot be used. */
    const fileFor = (path: string, events: number): OpenFile | undefined | typeof NO_ROOM => {
      try {
        return pool.acquire(path);
      } catch (err) {
        if (err instanceof FileMissing) {
          if (err.vanished) reroute(err.vanished);
          pathFailures.inc(events);
          pathLog.log({ file: path }, 'file output: file does not exist and create_if_deleted is false; writing to the failure file');
        } else {
          counters.writeErrors.inc();
          if (!dropOnFailure && isDiskFullError(err)) {
            stallLog.log({ file: path, err: errCode(err), free_bytes: freeBytes(path) }, 'file output: cannot create the file (no space); waiting for room');
            return NO_ROOM;
          }
          errorLog.log({ file: path, err }, 'file output: cannot open file; writing to the failure file');
        }
      }
      try {
        return pool.acquire(confinement.failureFile, true);
      } catch (err) {
        counters.writeErrors.inc();
        if (!dropOnFailure && isDiskFullError(err)) return NO_ROOM;
        counters.eventsDropped.inc(events);
        dropLog.log({ file: confinement.failureFile, err, events }, 'file output: cannot open the failure file either; events dropped');
        return undefined;
      }
    };

    const timers: TimerHandle[] = [];
    if (o.flush_interval > 0) timers.push(clock.setInterval(timerFlush, o.flush_interval * 1000));
    else if (fsync === 'interval') timers.push(clock.setInterval(timerFlush, 1000));
    let lastCleanup = clock.now();
    if (o.stale_cleanup_interval > 0)
      timers.push(
        clock.setInterval(() => {
          pool.closeUnusedSince(lastCleanup, (f) => retrying.has(f));
          lastCleanup = clock.now();
        }, o.stale_cleanup_interval * 1000),
      );

    return {
      async receive(events: readonly Event[]) {
        // group the batch's lines per target file: one buffer append per file per batch
        const groups = new Map<string, { text: string; n: number }>();
        for (let i = 0; i < events.length; i++) {
          const e = events[i]!;
          const rendered = confinement.render(e);
          const target = confinement.targetOf(rendered);
          if (target.failure !== undefined) {
            pathFailures.inc();
            pathLog.log({ path: printable(rendered), reason: target.failure, failureFile: target.file }, 'file output: event path is invalid; writing to the failure file');
          }
          const line = encoder.encode(e);
          const g = groups.get(target.file);
          if (g === undefined) groups.set(target.file, { text: line, n: 1 });
          else {
            g.text = overwrite ? line : g.text + line;
            g.n++;
          }
        }
        const ack = new BatchAck();
        const due = new Set<OpenFile>();
        for (const [path, g] of groups) {
          let f = fileFor(path, g.n);
          for (let attempt = 0; f === NO_ROOM && !closed; attempt++) {
            await sleep(backoff(attempt));
            f = fileFor(path, g.n);
          }
          if (f === NO_ROOM) {
            // closed while waiting for room: these lines were never buffered, so the batch must
            // not be acknowledged (the persisted queue delivers it again at the next start)
            ack.fail(new Error(`file output: closed while waiting for room to create ${path}`));
            continue;
          }
          if (f === undefined) continue;
          f.add(g.text, g.n, overwrite, clock.now(), ack);
          if (o.flush_interval === 0 || f.full || retrying.has(f)) due.add(f);
        }
        held += events.length; // an estimate (overwrite supersedes lines); recounted when it passes the cap
        if (held > MAX_HELD_EVENTS) {
          held = 0;
          for (const f of pool.all()) held += f.waitingEvents;
          if (held > MAX_HELD_EVENTS) {
            for (const f of pool.all()) if (f.dirty) due.add(f);
            held = 0;
          }
        }
        for (const f of due) {
          const wait = write(f);
          if (wait !== undefined) await wait;
        }
        // lines still buffered: the pipeline acknowledges the batch when they are written
        return ack.done ? undefined : ack;
      },
      reopen() {
        pool.reopenAll();
      },
      close() {
        closed = true;
        for (const t of timers) t.cancel();
        for (const s of sleepers) {
          s.t.cancel();
          s.wake();
        }
        sleepers.clear();
        pool.closeAll();
      },
    };
  },
});
