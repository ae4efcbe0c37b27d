import { fstatSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino, { type Logger } from 'pino';

type SonicBoom = ReturnType<typeof pino.destination>;

/**
 * The program's own log, on stderr (stdout belongs to the stdout output), and with `--path.logs`
 * in a file too. `json` writes one JSON object per line (journald-aware, see createLogger); `plain`
 * renders `[time][LEVEL][logger] message key=value`.
 */
const LEVEL_NAMES: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };
const SKIP = new Set(['level', 'priority', 'time', 'pid', 'hostname', 'msg', 'name', 'plugin']);

/** Renders JSON lines as `[time][LEVEL][logger] message key=value` on stderr, or on `to`. */
function plainStream(to?: { write(s: string): unknown }): Writable {
  const out = to ?? process.stderr;
  return new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (!line) continue;
        let rec: Record<string, unknown>;
        try {
          rec = JSON.parse(line) as Record<string, unknown>;
        } catch {
          out.write(line + '\n');
          continue;
        }
        const who = [rec.name, rec.plugin].filter(Boolean).join('.');
        const extra = Object.entries(rec)
          .filter(([k]) => !SKIP.has(k))
          .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
          .join(' ');
        const time = new Date(Number(rec.time)).toISOString();
        out.write(`[${time}][${(LEVEL_NAMES[Number(rec.level)] ?? 'INFO').padEnd(5)}][${who || 'pipeline'}] ${String(rec.msg ?? '')}${extra ? ' ' + extra : ''}\n`);
      }
      cb();
    },
  });
}

/** Syslog severities of pino's levels: journald's PRIORITY, and the `priority` field of JSON lines. */
export const SYSLOG_PRIORITY: Readonly<Record<string, number>> = { trace: 7, debug: 7, info: 6, warn: 4, error: 3, fatal: 2 };

/**
 * True when stderr is a journald stream: systemd sets JOURNAL_STREAM to the stream's
 * "device:inode", which is then stderr's (not inherited by something else's stderr).
 */
export function stderrIsJournal(env: NodeJS.ProcessEnv = process.env): boolean {
  const js = env.JOURNAL_STREAM;
  if (!js) return false;
  try {
    const st = fstatSync(2);
    return js === `${st.dev}:${st.ino}`;
  } catch {
    return false;
  }
}

/**
 * JSON lines on fd 2. With `journal`, each line starts with `<N>`, the syslog priority, which
 * journald's stream reader takes as the entry's PRIORITY and strips (SyslogLevelPrefix, on by
 * default), so `journalctl -p err` finds errors; the rest of the line is the JSON object.
 */
function jsonStream(journal: boolean): { write(line: string): void } {
  return {
    write(line: string) {
      if (!journal) return void writeSync(2, line);
      const m = /"priority":(\d)/.exec(line);
      writeSync(2, `<${m ? m[1] : 6}>${line}`);
    },
  };
}

/** Where `--path.logs` (`-l`) writes the log besides stderr; reopened on SIGUSR2. */
let logFile: SonicBoom | undefined;

export function reopenLogFile(): void {
  logFile?.reopen();
}

/** Where the process's log lines go (stderr, and the `-l` file): what `writeLogLine` writes to. */
let sinks: { write(line: string): unknown }[] = [];

/**
 * Writes one finished log line (pino's JSON, newline-terminated) to the process's log, as the
 * logger made by createLogger would: the filter worker threads send their lines here, so they reach
 * stderr and the `-l` file, and follow that file when SIGUSR2 reopens it.
 */
export function writeLogLine(line: string): void {
  for (const s of sinks) s.write(line);
}

/**
 * The program's logger. `json`: one JSON object per line with the level's name (`"level":"error"`)
 * and its syslog `priority`; on a journald stream, prefixed for journald (see jsonStream).
 * `logDir`: the same lines also go to `<logDir>/pipeline-plain.log` or `pipeline-json.log`
 * (Logstash's `logstash-plain.log` / `logstash-json.log`).
 * `to`: instead of both, every line goes there (a worker thread's logger, whose lines the pipeline
 * thread writes with writeLogLine).
 */
export function createLogger(level: string, format: 'plain' | 'json', logDir?: string, to?: { write(line: string): void }): Logger {
  const json = format === 'json';
  const options: pino.LoggerOptions = { level, name: 'pipeline', base: undefined, redact: { paths: ['password', '*.password', 'api_key', '*.api_key'], censor: '[redacted]' } };
  if (json) options.formatters = { level: (label) => ({ level: label, priority: SYSLOG_PRIORITY[label] ?? 6 }) };
  if (to) return pino(options, to);
  const console = json ? jsonStream(stderrIsJournal()) : plainStream();
  if (logDir === undefined) {
    sinks = [console];
    return pino(options, console);
  }
  logFile = pino.destination({ dest: join(logDir, json ? 'pipeline-json.log' : 'pipeline-plain.log'), mkdir: true, sync: true });
  const file = json ? logFile : plainStream(logFile);
  sinks = [console, file];
  return pino(options, pino.multistream([{ stream: console as never, level: 'trace' }, { stream: file as never, level: 'trace' }]));
}
