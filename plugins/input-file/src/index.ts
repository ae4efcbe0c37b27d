import { createHash } from 'node:crypto';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { ConfigError, definePlugin, fieldRef, opt, type Event, type InputSink, type TimerHandle } from '@pipeline/core';
import { excluder, planGlobs } from './discover.js';
import { JoinedStreams } from './joined.js';
import { SinceDb } from './sincedb.js';
import { Tailer } from './tailer.js';
import { ReadProgress } from './progress.js';

export { SinceDb, SINCEDB_VERSION } from './sincedb.js';

const TWO_WEEKS_MS = 14 * 86_400_000;
/** At stop, how long to wait for the next delivery before giving up on the rest. */
const DRAIN_STALL_MS = 5000;

export default definePlugin({
  kind: 'input',
  name: 'file',
  description: 'Follows files matched by globs (new files found later are read from their start), through rotation, resuming at saved offsets.',
  defaultCodec: 'plain',
  // the input frames lines itself (offsets are kept per line); each line is decoded whole, as in Logstash
  codecInput: 'message',
  options: {
    path: opt.strings({ required: true, description: 'Absolute paths or globs (micromatch) of the files to read.' }),
    exclude: opt.strings({ default: [], description: 'Globs of file names (or full paths) to leave out, e.g. "*.gz".' }),
    start_position: opt.string({ default: 'end', values: ['beginning', 'end'], description: 'Where files present at startup and unknown to the sincedb start; files found later always start at the beginning.' }),
    stat_interval: opt.number({ default: 1, description: 'Seconds between checks of followed files for new data.', validate: (n: number) => (n > 0 ? undefined : 'must be > 0') }),
    discover_interval: opt.number({ default: 15, description: 'Globs are expanded every discover_interval × stat_interval seconds (Logstash semantics).', validate: (n: number) => (Number.isInteger(n) && n >= 1 ? undefined : 'must be an integer >= 1') }),
    sincedb_path: opt.path({ description: 'Where delivered offsets are kept; default under path.data; "/dev/null" keeps none.' }),
    sincedb_write_interval: opt.number({ default: 15, description: 'Seconds between sincedb writes of delivered offsets (also written at stop).', validate: (n: number) => (n > 0 ? undefined : 'must be > 0') }),
    sincedb_write_lines: opt.number({ default: 10000, description: 'Also write the sincedb once this many lines were delivered since the last write (0: by time only); bounds the lines delivered again after a crash.', validate: (n: number) => (Number.isInteger(n) && n >= 0 ? undefined : 'must be an integer >= 0') }),
    sincedb_clean_after: opt.number({ default: 14, description: 'Days after which an inactive file is forgotten by the sincedb.' }),
    mode: opt.string({ default: 'tail', values: ['tail', 'read'], description: 'tail: follow files as they grow; read: read whole files once, then file_completed_action.' }),
    file_completed_action: opt.string({ default: 'delete', values: ['delete', 'log', 'log_and_delete'], description: 'Read mode: what to do with a file read to its end.' }),
    file_completed_log_path: opt.path({ description: 'Read mode: file that completed paths are appended to (for log actions).' }),
    exit_after_read: opt.bool({ default: false, description: 'Read mode: the input ends once every file found is read and delivered (the pipeline stops when its inputs have).' }),
    delimiter: opt.string({ default: '\n', description: 'Line delimiter (a CR before LF is removed).' }),
    max_line_bytes: opt.number({ default: 1048576, description: 'Longest line kept; the rest of a longer line is skipped and counted.' }),
    ecs_compatibility: opt.string({ default: 'disabled', values: ['disabled', 'v1', 'v8'], description: 'disabled: path and host; v1, v8: [log][file][path] and [host][name], as Logstash.' }),
    file_chunk_size: opt.number({ default: 65536, description: 'Bytes per read (Logstash: 32768).', validate: (n: number) => (Number.isInteger(n) && n >= 1 ? undefined : 'must be an integer >= 1') }),
    file_chunk_count: opt.number({ description: 'Reads of one file before moving on to the next (the others get their turn, then it goes on); default: the whole file.', validate: (n: number) => (Number.isInteger(n) && n >= 1 ? undefined : 'must be an integer >= 1') }),
    file_sort_by: opt.string({ default: 'last_modified', values: ['last_modified', 'path'], description: 'The order files are read in each turn.' }),
    file_sort_direction: opt.string({ default: 'asc', values: ['asc', 'desc'], description: 'asc: oldest (or lowest path) first.' }),
    ignore_older: opt.number({ description: 'Seconds: a file found not modified for this long is left alone; once it changes, what was added since is read.', validate: (n: number) => (n >= 0 ? undefined : 'must be >= 0') }),
    close_older: opt.number({ deprecated: 'has no effect: a followed file stays open while the globs match it (a file rotated away is closed once read and delivered)', description: 'Logstash: close files idle this long; accepted and ignored with a warning.' }),
    max_open_files: opt.number({ deprecated: 'has no effect: every matching file is open at once (no cap)', description: 'Logstash: the most files open at once; accepted and ignored with a warning.' }),
    check_archive_validity: opt.bool({ deprecated: 'has no effect: gzip files are not decompressed here (exclude them, e.g. exclude => "*.gz")', description: 'Logstash read mode: check a gzip file before reading it; accepted and ignored with a warning.' }),
  },
  check(o) {
    if (o.exit_after_read && o.mode !== 'read') throw ConfigError.forOption('exit_after_read', 'exit_after_read works in read mode only', 'add mode => "read", or remove exit_after_read');
    if (o.mode === 'read' && o.file_completed_action !== 'delete' && !o.file_completed_log_path) throw new Error(`file: file_completed_action => ${o.file_completed_action} needs file_completed_log_path`);
  },
  create(o, ctx) {
    const clock = ctx.clock;
    const events = ctx.metrics.counter('events');
    const oversize = ctx.metrics.counter('oversize_lines');
    const scans = ctx.metrics.counter('scans');
    const saves = ctx.metrics.counter('sincedb_writes');
    const host = hostname();
    const ecs = o.ecs_compatibility !== 'disabled';
    const pathF = fieldRef(ecs ? '[log][file][path]' : 'path');
    const hostF = fieldRef(ecs ? '[host][name]' : 'host');
    const dbPath = o.sincedb_path ? ctx.resolvePath(o.sincedb_path) : join(ctx.dataDir, 'plugins', 'inputs', 'file', `.sincedb_${createHash('md5').update(o.path.join(',')).digest('hex')}`);
    // "/dev/null": nothing kept across runs, but within a run a completed file is not read again (read mode)
    const sincedb = new SinceDb(dbPath === '/dev/null' ? undefined : dbPath);
    const decoder = ctx.codec.create();
    // the events of the line being decoded, in an array reused from line to line
    const decoded: Event[] = [];
    const collect = (e: Event) => void decoded.push(e);
    // a codec that joins lines (multiline) keeps state per file: an instance for each
    const joined =
      decoder.heldLines === undefined
        ? undefined
        : new JoinedStreams(ctx.codec, (e, path, cut, sink, onDelivered) => {
            const f = e.fields;
            if (pathF.get(f) === undefined) pathF.set(f, path);
            if (hostF.get(f) === undefined) hostF.set(f, host);
            if (cut) e.tag('_line_truncated');
            events.inc();
            sink.push(e, onDelivered);
          });
    // read mode on a terminal: a progress line over the bytes of the files being read
    const progress = o.mode === 'read' ? new ReadProgress(process.stderr) : undefined;
    const bytesRead = ctx.metrics.counter('bytes');
    let readFrom = 0;
    let readTotal = 0;
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
      chunkBytes: o.file_chunk_size,
      chunkCount: o.file_chunk_count,
      sortBy: o.file_sort_by as 'last_modified' | 'path',
      sortDescending: o.file_sort_direction === 'desc',
      ignoreOlderMs: o.ignore_older === undefined ? undefined : o.ignore_older * 1000,
      opened(size, offset) {
        readTotal += size - offset;
      },
      clock,
      logger: ctx.logger,
      metrics: ctx.metrics,
      line(message, path, truncated, sink: InputSink, onDelivered, key) {
        if (joined) {
          if (truncated) oversize.inc();
          joined.line(key, message, path, truncated, sink, onDelivered);
          return;
        }
        decoder.decodeMessage(message, collect);
        const n = decoded.length;
        if (truncated) oversize.inc();
        if (n === 0) {
          // nothing to deliver (a blank line with json): the line is done, its offset may move
          onDelivered?.();
          return;
        }
        for (let i = 0; i < n; i++) {
          const e = decoded[i]!;
          const f = e.fields;
          if (pathF.get(f) === undefined) pathF.set(f, path);
          if (hostF.get(f) === undefined) hostF.set(f, host);
          if (truncated) e.tag('_line_truncated');
        }
        events.inc(n);
        if (n === 1) sink.push(decoded[0]!, onDelivered);
        else {
          // several events from one line (line codec with its delimiter): delivered once all are
          let left = n;
          const each = onDelivered && (() => --left === 0 && onDelivered());
          for (let i = 0; i < n; i++) sink.push(decoded[i]!, each);
        }
        decoded.length = 0;
      },
      ended: joined && ((key) => joined.end(key)),
      progress(lines) {
        dirty = true;
        linesSinceSave += lines;
        // at once, in the delivery callback: what the entries say was delivered is (persisted queue: is committed)
        if (o.sincedb_write_lines > 0 && linesSinceSave >= o.sincedb_write_lines) saveDb();
      },
    });
    let dirty = false;
    let linesSinceSave = 0;
    let lastError = -Infinity;
    const saveDb = () => {
      if (!sincedb || !dirty) return;
      dirty = false;
      linesSinceSave = 0;
      try {
        sincedb.save(clock.now(), o.sincedb_clean_after * 86_400_000 || TWO_WEEKS_MS);
        saves.inc();
      } catch (e) {
        dirty = true;
        // a full disk fails every write: one line per write interval, not one per checkpoint
        if (clock.now() - lastError >= o.sincedb_write_interval * 1000) {
          lastError = clock.now();
          ctx.logger.error({ path: dbPath, err: (e as Error).message }, 'cannot write sincedb; will retry');
        }
      }
    };

    /**
     * The queue drains after the inputs stop: waits for the lines read to be delivered, so that a
     * clean restart repeats nothing, for as long as deliveries keep coming (an output that cannot
     * write leaves its batches unconfirmed; those lines are then read again at the next start).
     */
    const drain = async () => {
      const out = tailer.outstanding;
      while (out.count > 0) {
        const before = out.count;
        let timer: TimerHandle | undefined;
        const stalled = await Promise.race([out.idle().then(() => false), new Promise<boolean>((r) => (timer = clock.setTimeout(() => r(true), DRAIN_STALL_MS)))]);
        timer?.cancel();
        if (stalled && out.count === before) {
          ctx.logger.warn({ lines: out.count }, 'stopping before the outputs confirmed every line read; those lines will be read again at the next start');
          return;
        }
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
        // A reload starts the new instance before the old one stops and saves its offsets: with the
        // same sincedb, wait for the old one to finish, then read what it saved (else every line it
        // had read would be read again).
        const before = sincedbUsers.get(dbPath);
        let release!: () => void;
        const mine = new Promise<void>((r) => (release = r));
        sincedbUsers.set(dbPath, mine);
        try {
          await before;
          sincedb.load();
          await runTailer(sink);
        } finally {
          if (sincedbUsers.get(dbPath) === mine) sincedbUsers.delete(dbPath);
          release();
        }
      },
      stop() {
        stopping = true;
        stopped();
      },
    };

    async function runTailer(sink: InputSink): Promise<void> {
      const tick = async () => {
        const discovering = ticks++ % o.discover_interval === 0;
        if (discovering) tailer.discover();
        await tailer.readAll(sink, () => stopping);
        scans.inc();
        // every file found is read, delivered and completed: nothing is open any more
        if (o.exit_after_read && discovering && tailer.openFiles === 0 && !stopping) {
          ctx.logger.info('read mode: every file has been read (exit_after_read)');
          stopping = true;
          stopped();
        }
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
      if (progress?.enabled) {
        readFrom = bytesRead.value;
        timers.push(clock.setInterval(() => progress.update(bytesRead.value - readFrom, readTotal, events.value, clock.now()), 250));
      }
      await done;
      for (const t of timers) t.cancel();
      progress?.clear();
      await busy;
      joined?.endAll(); // the events the codec still builds, before waiting for their delivery
      await drain();
      tailer.closeAll();
      saveDb();
    }
  },
});

/** The running instance of each sincedb path (see run): a reload's new instance waits for the old. */
const sincedbUsers = new Map<string, Promise<void>>();
