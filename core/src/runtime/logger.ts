import { Writable } from 'node:stream';
import pino, { type Logger } from 'pino';

/**
 * The program's own log, always on stderr (stdout belongs to the stdout output). `json` writes
 * pino's lines as they are (for journald); `plain` renders `[time][LEVEL][logger] message key=value`.
 */
const LEVEL_NAMES: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };
const SKIP = new Set(['level', 'time', 'pid', 'hostname', 'msg', 'name', 'plugin']);

function plainStream(): Writable {
  return new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (!line) continue;
        let rec: Record<string, unknown>;
        try {
          rec = JSON.parse(line) as Record<string, unknown>;
        } catch {
          process.stderr.write(line + '\n');
          continue;
        }
        const who = [rec.name, rec.plugin].filter(Boolean).join('.');
        const extra = Object.entries(rec)
          .filter(([k]) => !SKIP.has(k))
          .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
          .join(' ');
        const time = new Date(Number(rec.time)).toISOString();
        process.stderr.write(`[${time}][${(LEVEL_NAMES[Number(rec.level)] ?? 'INFO').padEnd(5)}][${who || 'pipeline'}] ${String(rec.msg ?? '')}${extra ? ' ' + extra : ''}\n`);
      }
      cb();
    },
  });
}

export function createLogger(level: string, format: 'plain' | 'json'): Logger {
  const dest = format === 'json' ? pino.destination({ fd: 2, sync: true }) : plainStream();
  return pino({ level, name: 'pipeline', base: undefined, redact: { paths: ['password', '*.password', 'api_key', '*.api_key'], censor: '[redacted]' } }, dest);
}
