/**
 * `pipeline sec check FILE...` (like `sec --testonly`) and `pipeline sec migrate FILE`: the command
 * this package contributes to the CLI (package.json "pipeline.commands.sec"). Core imports this
 * module only when `pipeline sec ...` runs and calls `run` with the arguments after `sec`.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { CommandContext } from '@pipeline/core';
import { checkRuleFiles } from './loader.js';
import { formatMigrateSummary, migrateRuleFile } from './migrate.js';

const HELP = {
  top: `pipeline sec <command>

check SEC rule files, or migrate shell alerta calls to native actions

Commands:
  pipeline sec check <files..>  parse and validate SEC rule files, like sec --testonly
  pipeline sec migrate <file>   rewrite shell actions (alerta send/heartbeat, send_email.py mail,
                                the logtracker) into native actions (prints the result)

Options:
  -h, --help  Show help
`,
  check: `pipeline sec check <files..>

parse and validate SEC rule files, like sec --testonly

Positionals:
  files  rule files or globs                                [array] [required]

Options:
      --allow-shell  accept shellcmd, spawn, cspawn and pipe  [boolean] [default: false]
  -h, --help         Show help
`,
  migrate: `pipeline sec migrate <file>

rewrite shell actions into native ones: alerta send/heartbeat become alert/heartbeat, a
send_email.py mail becomes mail attributes of the rule's alert, the logtracker cspawn/addinput pair
is removed; what cannot be translated is commented out with the reason. The rules go to stdout
(or --write FILE), a summary of what was translated, removed and left to stderr.

Positionals:
  file  the rule file                                       [string] [required]

Options:
      --write  write the result to this file instead of stdout            [string]
  -h, --help   Show help
`,
};

class Usage extends Error {}

function parse(args: string[], options: Record<string, { type: 'boolean' | 'string' }>): { values: Record<string, unknown>; positionals: string[] } {
  try {
    return parseArgs({ args, options: { help: { type: 'boolean', short: 'h' }, ...options }, allowPositionals: true, strict: true });
  } catch (e) {
    const m = /Unknown option '-{1,2}([^']+)'/.exec(String((e as Error).message));
    throw new Usage(m ? `Unknown argument: ${m[1]}` : (e as Error).message);
  }
}

export async function run(args: string[], ctx: CommandContext): Promise<void> {
  try {
    const sub = args[0];
    if (sub === undefined) throw new Usage('name a subcommand: check or migrate');
    if (sub === '-h' || sub === '--help') {
      ctx.stdout.write(HELP.top);
      return;
    }
    const rest = args.slice(1);
    if (sub === 'check') {
      const a = parse(rest, { 'allow-shell': { type: 'boolean' } });
      if (a.values.help) return void ctx.stdout.write(HELP.check);
      if (a.positionals.length === 0) throw new Usage('Not enough non-option arguments: got 0, need at least 1');
      check(a.positionals, a.values['allow-shell'] === true, ctx);
    } else if (sub === 'migrate') {
      const a = parse(rest, { write: { type: 'string' } });
      if (a.values.help) return void ctx.stdout.write(HELP.migrate);
      if (a.positionals.length === 0) throw new Usage('Not enough non-option arguments: got 0, need at least 1');
      if (a.positionals.length > 1) throw new Usage(`Unknown argument: ${a.positionals[1]}`);
      migrate(a.positionals[0]!, a.values.write as string | undefined, ctx);
    } else throw new Usage(sub.startsWith('-') ? `Unknown argument: ${sub.replace(/^-+/, '')}` : `Unknown argument: ${sub}`);
  } catch (e) {
    if (!(e instanceof Usage)) throw e;
    ctx.stderr.write(`pipeline: ${e.message} (pipeline ${ctx.name} --help lists its commands and flags)\n`);
    ctx.setExitCode(2);
  }
}

function check(files: string[], allowShell: boolean, ctx: CommandContext): void {
  const r = checkRuleFiles(files, { allowShell });
  for (const w of r.warnings) ctx.stderr.write(`${w.file}:${w.line}: ${w.message}\n`);
  for (const e of r.errors) ctx.stderr.write(`${e.file}:${e.line}: ${e.message}\n`);
  if (r.errors.length) {
    ctx.stderr.write(`${r.errors.length} error(s)\n`);
    ctx.setExitCode(1);
  } else ctx.stdout.write('Rules OK\n');
}

function migrate(file: string, write: string | undefined, ctx: CommandContext): void {
  let text: string;
  try {
    text = readFileSync(resolve(ctx.workingDir, file), 'utf8');
  } catch (e) {
    ctx.stderr.write(`pipeline sec migrate: cannot read ${file}: ${(e as Error).message}\n`);
    ctx.setExitCode(1);
    return;
  }
  const r = migrateRuleFile(text, file);
  for (const w of r.warnings) ctx.stderr.write(`warning: ${w}\n`);
  ctx.stderr.write(formatMigrateSummary(file, r.summary));
  if (write) writeFileSync(resolve(ctx.workingDir, write), r.text);
  else ctx.stdout.write(r.text);
}
