import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Argv } from 'yargs';
import { ConfigErrors } from '../config/errors.js';
import { createLogger } from '../runtime/logger.js';
import type { Settings } from '../runtime/settings.js';
import { replay, ReplayError, type ReplayFormat } from '../replay/replay.js';
import { reportHtml } from '../replay/report-html.js';
import { formatSummary } from '../replay/summary.js';

/**
 * `pipeline replay [-f CONFIG | -e CONFIG] FILE...`: archived logs through the config's filter and
 * correlate sections on event time (replay/replay.ts), a progress bar on a terminal's stderr, a
 * summary at the end (text, or `--summary json` on stdout), `--report FILE.html` a page with the
 * summary and a timeline of alerts per rule per hour.
 */
export function replayOptions(y: Argv, describe: (k: string) => string): Argv {
  return y
    .positional('files', { type: 'string', array: true, demandOption: true, describe: 'log files: plain or gzip, raw syslog lines or JSON lines' })
    .option('path.config', { alias: 'f', type: 'string', describe: describe('path.config') })
    .option('config.string', { alias: 'e', type: 'string', describe: describe('config.string') })
    .option('outputs', { type: 'boolean', default: false, describe: "call the config's outputs (without it, a dry run: no output is created or called)" })
    .option('from', { type: 'string', describe: 'correlate only events at or after this time (ISO-8601)' })
    .option('to', { type: 'string', describe: 'correlate only events before this time (ISO-8601)' })
    .option('format', { type: 'string', choices: ['auto', 'raw', 'json'], default: 'auto', describe: 'raw: a line is a message; json: JSON lines as file outputs write them; auto: told by the first line' })
    .option('input', { type: 'string', describe: "id of the config's input whose type, tags and add_field the events get (default the first input; none for none)" })
    .option('summary', { type: 'string', choices: ['text', 'json'], default: 'text', describe: 'the summary on stdout: text, or one JSON object' })
    .option('report', { type: 'string', describe: 'write an HTML report (summary table and timeline of alerts per rule per hour) to this file' })
    .option('path.data', { type: 'string', describe: describe('path.data') })
    .option('path.plugins', { type: 'string', describe: `${describe('path.plugins')} (repeat the flag for several)` })
    .option('pipeline.batch.size', { alias: 'b', type: 'number', describe: describe('pipeline.batch.size') })
    .option('log.level', { type: 'string', describe: "plugins' log level on stderr (warn)" })
    .example('$0 replay -f pipelines/homelab.conf /var/log/syslog*', 'would the rules have fired on the archived syslog?')
    .example('$0 replay --summary json --from 2024-03-01 --to 2024-03-02 messages.1.gz', 'one day of it, summary as JSON');
}

const instant = (name: string, v: unknown): number | undefined => {
  if (v === undefined) return undefined;
  const ms = Date.parse(String(v));
  if (Number.isNaN(ms)) throw new ReplayError(`--${name} ${String(v)}: not a time (ISO-8601, e.g. 2024-03-01 or 2024-03-01T12:00:00Z)`);
  return ms;
};

function progressBar(): { update(bytes: number, total: number, lines: number): void; done(): void } {
  const t0 = performance.now();
  let last = 0;
  const mib = (b: number) => (b / 1048576).toFixed(1);
  const clock = (s: number) => (Number.isFinite(s) ? `${Math.floor(s / 60)}:${String(Math.floor(s % 60)).padStart(2, '0')}` : '--:--');
  return {
    update(bytes, total, lines) {
      const now = performance.now();
      if (now - last < 200) return;
      last = now;
      const secs = (now - t0) / 1000;
      const share = total > 0 ? Math.min(1, bytes / total) : 1;
      const width = 30;
      const full = Math.round(share * width);
      const eta = share > 0 ? (secs / share) * (1 - share) : Infinity;
      process.stderr.write(`\r[${'#'.repeat(full)}${'.'.repeat(width - full)}] ${(share * 100).toFixed(0).padStart(3)}%  ${mib(bytes)}/${mib(total)} MiB  ${Math.round(lines / Math.max(secs, 0.001)).toLocaleString('en-US')} lines/s  ETA ${clock(eta)}\u001b[K`);
    },
    done() {
      if (last > 0) process.stderr.write('\r\u001b[K');
    },
  };
}

export async function replayCommand(argv: Record<string, unknown>, settings: Settings): Promise<number> {
  const logger = createLogger(String(argv['log.level'] ?? 'warn'), 'plain');
  const bar = process.stderr.isTTY ? progressBar() : undefined;
  try {
    const summary = await replay({
      settings,
      workingDir: process.cwd(),
      files: argv.files as string[],
      format: argv.format as ReplayFormat,
      from: instant('from', argv.from),
      to: instant('to', argv.to),
      outputs: argv.outputs === true,
      input: argv.input as string | undefined,
      logger,
      progress: bar?.update,
    });
    bar?.done();
    if (argv.report !== undefined) writeFileSync(resolve(String(argv.report)), reportHtml(summary));
    if (argv.summary === 'json') process.stdout.write(JSON.stringify(summary) + '\n');
    else process.stdout.write(formatSummary(summary));
    return 0;
  } catch (e) {
    bar?.done();
    if (e instanceof ConfigErrors) process.stderr.write(`${e.format()}\n`);
    else if (e instanceof ReplayError || (e as NodeJS.ErrnoException).code !== undefined) process.stderr.write(`pipeline replay: ${(e as Error).message}\n`);
    else throw e;
    return 1;
  }
}
