import { readFileSync, writeFileSync } from 'node:fs';
import type { Argv } from 'yargs';
import type { PluginRegistry } from '../registry/registry.js';

/**
 * `pipeline sec check FILE...` (like `sec --testonly`) and `pipeline sec migrate FILE`, served by
 * the correlate-sec plugin package, found through the registry like any plugin.
 */
interface RuleError {
  file: string;
  line: number;
  message: string;
}
interface SecTools {
  checkRuleFiles(paths: string[], opts?: { allowShell?: boolean }): { errors: RuleError[]; warnings: RuleError[] };
  migrateRuleFile(text: string, file: string): { text: string; warnings: string[] };
}

export function secCommands(y: Argv, registry: () => PluginRegistry, setCode: (c: number) => void): Argv {
  const tools = async () => (await registry().importModule('correlate', 'sec')) as unknown as SecTools;
  return y
    .command(
      'check <files..>',
      'parse and validate SEC rule files, like sec --testonly',
      (a) => a.positional('files', { type: 'string', array: true, demandOption: true }).option('allow-shell', { type: 'boolean', default: false, describe: 'accept shellcmd, spawn, cspawn and pipe' }),
      async (argv) => {
        const { checkRuleFiles } = await tools();
        const r = checkRuleFiles(argv.files as string[], { allowShell: Boolean(argv['allow-shell']) });
        for (const w of r.warnings) process.stderr.write(`${w.file}:${w.line}: ${w.message}\n`);
        for (const e of r.errors) process.stderr.write(`${e.file}:${e.line}: ${e.message}\n`);
        if (r.errors.length) {
          process.stderr.write(`${r.errors.length} error(s)\n`);
          setCode(1);
        } else process.stdout.write('Rules OK\n');
      },
    )
    .command(
      'migrate <file>',
      'rewrite shellcmd alerta send/heartbeat calls into native alert/heartbeat actions (prints the result)',
      (a) => a.positional('file', { type: 'string', demandOption: true }).option('write', { type: 'string', describe: 'write the result to this file instead of stdout' }),
      async (argv) => {
        const { migrateRuleFile } = await tools();
        const file = String(argv.file);
        const r = migrateRuleFile(readFileSync(file, 'utf8'), file);
        for (const w of r.warnings) process.stderr.write(`warning: ${w}\n`);
        if (argv.write) writeFileSync(String(argv.write), r.text);
        else process.stdout.write(r.text);
      },
    )
    .demandCommand(1, 'name a subcommand: check or migrate');
}
