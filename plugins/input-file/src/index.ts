import { createHash } from 'node:crypto';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { definePlugin, Event, opt, Timestamp, type InputSink, type TimerHandle } from '@pipeline/core';
import { excluder, planGlobs } from './discover.js';
import { SinceDb } from './sincedb.js';
import { Tailer } from './tailer.js';

export { SinceDb, SINCEDB_VERSION } from './sincedb.js';

const TWO_WEEKS_MS = 14 * 86_400_000;

export default definePlugin({
  kind: 'input',
  name: 'file',
  description: 'Follows files matched by globs (new files found later are read from their start), through rotation, resuming at saved offsets.',
  defaultCodec: 'plain',
  options: {
    path: opt.strings({ required: true, description: 'Absolute paths or globs (micromatch) of the files to read.' }),
    exclude: opt.strings({ default: [], description: 'Globs of file names (or full paths) to leave out, e.g. "*.gz".' }),
    start_position: opt.string({ default: 'end', values: ['beginning', 'end'], description: 'Where files present at startup and unknown to the sincedb start; files found later always start at the beginning.' }),
    stat_interval: opt.number({ default: 1, description: 'Seconds between checks of followed files for new data.', validate: (n: number) => (n > 0 ? undefined : 'must be > 0') }),
    discover_interval: opt.number({ default: 15, description: 'Globs are expanded every discover_interval × stat_interval seconds (Logstash semantics).', validate: (n: number) => (Number.isInteger(n) && n >= 1 ? undefined : 'must be an integer >= 1') }),
    sincedb_path: opt.path({ description: 'Where read offsets are kept; default under path.data; "/dev/null" keeps none.' }),
    sincedb_write_interval: opt.number({ default: 15, description: 'Seconds between sincedb writes (also written at stop).' }),
    sincedb_clean_after: opt.number({ default: 14, description: 'Days after which an inactive file is forgotten by the sincedb.' }),
    mode: opt.string({ default: 'tail', values: ['tail', 'read'], description: 'tail: follow files as they grow; read: read whole files once, then file_completed_action.' }),
    file_completed_action: opt.string({ default: 'delete', values: ['delete', 'log', 'log_and_delete'], description: 'Read mode: what to do with a file read to its end.' }),
    file_completed_log_path: opt.path({ description: 'Read mode: file that completed paths are appended to (for log actions).' }),
    delimiter: opt.string({ default: '\n', description: 'Line delimiter (a CR before LF is removed).' }),
    max_line_bytes: opt.number({ default: 1048576, description: 'Longest line kept; the rest of a longer line is skipped and counted.' }),
  },
  check(o) {
    if (o.mode === 'read' && o.file_completed_action !== 'delete' && !o.file_completed_log_path) throw new Error(`file: file_completed_action => ${o.file_completed_action} needs file_completed_log_path`);
  },
  create(o, ctx) {
    const clock = ctx.clock;
    const events = ctx.metrics.counter('events');
    const oversize = ctx.metrics.counter('oversize_lines');
    const scans = ctx.metrics.counter('scans');
    const host = hostname();
    const dbPath = o.sincedb_path ? ctx.resolvePath(o.sincedb_path) : join(ctx.dataDir, 'plugins', 'inputs', 'file', `.sincedb_${createHash('md5').update(o.path.join(',')).digest('hex')}`);
    const sincedb = dbPath === '/dev/null' ? undefined : new SinceDb(dbPath);
    sincedb?.load();
    const tailer = new Tailer({
      plans: planGlobs(o.path, (p) => ctx.resolvePath(p)),
      excluded: excluder(o.exclude),
      mode: o.mode as 'tail' | 'read',
      startAtEnd: o.start_position === 'end',
      delimiter: Buffer.from(o.delimiter.replace(/\\n/g, '\n').replace(/\\r/g, '\r')),
      maxLineBytes: o.max_line_bytes,
      completedAction: o.file_completed_action as 'delete',
      completedLog: o.file_completed_log_path ? ctx.resolvePath(o.file_completed_log_path) : undefined,
      sincedb,
      clock,
      logger: ctx.logger,
      metrics: ctx.metrics,
      line(message, path, truncated, sink: InputSink) {
        const e = new Event({ message, path, host }, new Timestamp(clock.now()));
        if (truncated) {
          oversize.inc();
          e.tag('_line_truncated');
        }
        events.inc();
        sink.push(e);
      },
    });
    const saveDb = () => {
      try {
        sincedb?.save(clock.now(), o.sincedb_clean_after * 86_400_000 || TWO_WEEKS_MS);
      } catch (e) {
        ctx.logger.error({ path: dbPath, err: (e as Error).message }, 'cannot write sincedb');
      }
    };

    let stopping = false;
    let stopped: () => void;
    const done = new Promise<void>((r) => (stopped = r));
    const timers: TimerHandle[] = [];
    let busy: Promise<void> | undefined;
    let ticks = 0;
    return {
      async run(sink) {
        const tick = async () => {
          if (ticks++ % o.discover_interval === 0) tailer.discover();
          await tailer.readAll(sink, () => stopping);
          scans.inc();
        };
        const schedule = () => {
          if (busy || stopping) return; // a slow tick is not stacked
          busy = tick()
            .catch((e) => ctx.logger.error({ err: (e as Error).message }, 'file scan failed'))
            .finally(() => (busy = undefined));
        };
        schedule();
        timers.push(clock.setInterval(schedule, o.stat_interval * 1000));
        timers.push(clock.setInterval(saveDb, o.sincedb_write_interval * 1000));
        await done;
        for (const t of timers) t.cancel();
        await busy;
        tailer.closeAll();
        saveDb();
      },
      stop() {
        stopping = true;
        stopped();
      },
    };
  },
});
