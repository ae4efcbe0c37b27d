import { existsSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Argv } from 'yargs';
import { SystemClock } from '../plugin/clock.js';
import type { Settings } from '../runtime/settings.js';
import type { Spool } from '../spool/index.js';

/**
 * `pipeline dlq list | replay`: the dead letters of the outputs that deliver through a spool
 * (alerta, heartbeat, email) — messages the destination refused for good, kept with its answer.
 * Replay puts them back at the end of their output's queue: they are sent again the next time the
 * pipeline starts (fix the cause first: a wrong API key, an unknown environment...).
 */
function spools(settings: Settings): { name: string; path: string }[] {
  const dir = join(resolve(String(settings['path.data'])), 'spool');
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.sqlite'))
    .sort()
    .map((f) => ({ name: f.replace(/\.sqlite$/, ''), path: join(dir, f) }));
}

/** SQLite is loaded by `pipeline dlq` itself, not by every command. */
async function withSpool<T>(path: string, fn: (s: Spool) => T): Promise<T> {
  const { Spool } = await import('../spool/index.js');
  const spool = new Spool({ path, clock: new SystemClock() });
  try {
    return fn(spool);
  } finally {
    spool.close();
  }
}

export function dlqCommands(y: Argv, settingsOf: (argv: Record<string, unknown>) => Settings, setCode: (c: number) => void): Argv {
  return y
    .option('path.data', { type: 'string', describe: 'data directory holding the spools (./data)' })
    .command(
      'list',
      'list dead letters: output, id, when, the destination’s answer, the message',
      () => {},
      async (argv) => {
        let n = 0;
        for (const s of spools(settingsOf(argv as Record<string, unknown>)))
          await withSpool(s.path, (spool) => {
            for (const d of spool.deadLetters()) {
              n++;
              const payload = d.payload.length > 200 ? `${d.payload.slice(0, 200)}...` : d.payload;
              process.stdout.write(`${s.name}\t${d.id}\t${new Date(d.failedMs).toISOString()}\t${d.status}\t${d.message.replace(/\s+/g, ' ')}\t${payload}\n`);
            }
          });
        process.stderr.write(`${n} dead letter${n === 1 ? '' : 's'}\n`);
      },
    )
    .command(
      'replay [ids..]',
      'queue dead letters again (all, or the given ids of one --output); they are sent on the next start',
      (a) =>
        a
          .positional('ids', { type: 'number', array: true, describe: 'dead-letter ids (from dlq list)' })
          .option('output', { type: 'string', describe: 'the spool name from dlq list, e.g. alerta-alerta' }),
      async (argv) => {
        const ids = (argv.ids as number[] | undefined)?.length ? (argv.ids as number[]) : undefined;
        const targets = spools(settingsOf(argv as Record<string, unknown>)).filter((s) => argv.output === undefined || s.name === argv.output);
        if (ids && argv.output === undefined) {
          process.stderr.write('name the output (--output) whose dead letters these ids are\n');
          setCode(2);
          return;
        }
        if (argv.output !== undefined && targets.length === 0) {
          process.stderr.write(`no spool named ${String(argv.output)}; 'pipeline dlq list' shows them\n`);
          setCode(1);
          return;
        }
        let moved = 0;
        for (const s of targets) moved += await withSpool(s.path, (spool) => spool.requeueDead(ids));
        process.stdout.write(`${moved} dead letter${moved === 1 ? '' : 's'} queued again; they are delivered when the pipeline next starts\n`);
      },
    )
    .demandCommand(1, 'name a subcommand: list or replay');
}
