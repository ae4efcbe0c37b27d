import 'reflect-metadata';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import yargs, { type Argv } from 'yargs';
import { hideBin } from 'yargs/helpers';
import { CORE_COMMANDS, CommandLoadError, runCommand, type CommandEntry } from '../registry/commands.js';
import { CORE_VERSION, INSTALL_ROOT } from '../registry/install-root.js';
import { DEFAULT_SETTINGS, IGNORED_SETTINGS, mergeSettings, SETS_SOMETHING, type Settings } from '../runtime/settings.js';
import { readSettingsFile, SettingsError } from '../runtime/settings-file.js';
import { registryFor } from '../runtime/load.js';
import { certsCommands } from './certs.js';
import { dlqCommands } from './dlq.js';
import { pluginCommands } from './plugin.js';
import { replayCommand, replayOptions } from './replay.js';
import { startCommand } from './start.js';
import { statusCommand } from './status.js';
import { testCommand } from './test-cases.js';
import { watchStdout } from './stdout-closed.js';

/**
 * The `pipeline` command. Settings come from built-in defaults, then `config/pipeline.yml`
 * (in the working directory, else the installation's), then the command line, where they use
 * Logstash's dotted names (`--pipeline.batch.size 500`) and short flags (`-f -e -t -r -w -b -u`).
 */
const SETTING_FLAGS: Record<string, { alias?: string; type: 'string' | 'number' | 'boolean' | 'array'; describe: string }> = {
  'path.config': { alias: 'f', type: 'string', describe: 'config file, directory or glob (default: pipelines/default.conf)' },
  'config.string': { alias: 'e', type: 'string', describe: 'config text given on the command line' },
  'config.test_and_exit': { alias: 't', type: 'boolean', describe: 'check the config, print "Configuration OK" or the errors, and exit' },
  'config.reload.automatic': { alias: 'r', type: 'boolean', describe: 'reload the config when its files change' },
  'config.reload.interval': { type: 'number', describe: 'seconds between checks for config changes with -r (3)' },
  'config.support_escapes': { type: 'boolean', describe: 'read \\n, \\t, \\" ... in quoted strings as escapes' },
  'config.debug': { type: 'boolean', describe: 'with --log.level debug, log the whole config as read' },
  'pipeline.workers': { alias: 'w', type: 'number', describe: 'batches that may wait on outputs at once' },
  'pipeline.batch.size': { alias: 'b', type: 'number', describe: 'events per batch (125)' },
  'pipeline.batch.delay': { alias: 'u', type: 'number', describe: 'ms to wait for a batch to fill (50)' },
  'pipeline.id': { type: 'string', describe: 'pipeline id, in logs and metrics' },
  'queue.type': { type: 'string', describe: 'memory or persisted' },
  'queue.max_events': { type: 'number', describe: 'events the queue holds before inputs are paused' },
  'path.data': { type: 'string', describe: 'where state, plugins and files go (./data)' },
  'path.plugins': { type: 'array', describe: 'extra directories holding plugin packages' },
  'path.settings': { type: 'string', describe: 'directory holding logstash.yml (or pipeline.yml) and pipelines.yml' },
  'log.level': { type: 'string', describe: 'fatal, error, warn, info, debug or trace' },
  'path.logs': { alias: 'l', type: 'string', describe: 'also write the program log to DIR/pipeline-plain.log (or -json.log), reopened on SIGUSR2' },
  'log.format': { type: 'string', describe: 'plain or json (json suits journald)' },
  'api.http.host': { type: 'string', describe: 'monitoring API address' },
  'api.http.port': { type: 'string', describe: 'monitoring API port or range, e.g. 9600-9700' },
  'api.enabled': { type: 'boolean', describe: 'serve the monitoring API (true)' },
};

/** A mistake on the command line: one line on stderr, exit 2. */
class UsageError extends Error {}
/** Thrown by the fail handler once it has said what was wrong. */
class Reported extends Error {}

/**
 * Settings as Logstash resolves them: defaults, then the settings file (`--path.settings DIR`:
 * DIR/logstash.yml, or DIR/pipeline.yml; without it config/pipeline.yml of the working directory,
 * else of the installation), then a one-entry DIR/pipelines.yml, then the command line. A missing
 * directory, an unknown key or a bad value throws a SettingsError naming the file and line.
 */
function settingsFrom(argv: Record<string, unknown>): Settings {
  const dir = argv['path.settings'] as string | undefined;
  const cli: Settings = {};
  for (const [key, f] of Object.entries(SETTING_FLAGS)) {
    const v = argv[key];
    if (v === undefined) continue;
    const flag = f.alias ? `-${f.alias}/--${key}` : `--${key}`;
    // a flag given twice arrives as an array: Logstash takes one value, so say so rather than guess
    if (Array.isArray(v) && f.type !== 'array') throw new UsageError(`${flag} was given ${v.length} times; give it once${key === 'path.config' ? ' (a directory or a glob reads several files)' : ''}`);
    if (f.type === 'number' && !Number.isFinite(v)) throw new UsageError(`${flag} takes a number`);
    cli[key] = v;
  }
  const layers: Settings[] = [DEFAULT_SETTINGS];
  const ignored: string[] = [];
  const read = (file: string) => {
    const text = readFileSync(file, 'utf8');
    if (!SETS_SOMETHING.test(text)) return;
    const r = readSettingsFile(file, text);
    layers.push(r.settings);
    ignored.push(...r.ignored);
  };
  if (dir !== undefined) {
    const d = resolve(dir);
    if (!existsSync(d) || !statSync(d).isDirectory()) throw new SettingsError(d, undefined, `--path.settings names no directory`, 'give the directory holding logstash.yml (or pipeline.yml)');
    const file = [join(d, 'logstash.yml'), join(d, 'pipeline.yml')].find((p) => existsSync(p));
    if (file) read(file);
    const multi = join(d, 'pipelines.yml');
    if (existsSync(multi) && cli['path.config'] === undefined && cli['config.string'] === undefined) layers.push(...onePipeline(multi));
  } else {
    const file = [join(process.cwd(), 'config', 'pipeline.yml'), join(INSTALL_ROOT, 'config', 'pipeline.yml')].find((p) => existsSync(p));
    if (file) read(file);
  }
  const merged = mergeSettings(...layers, cli);
  if (ignored.length > 0) merged[IGNORED_SETTINGS] = ignored;
  return merged;
}

/** pipelines.yml with one pipeline: its settings (several: start.ts runs each). */
function onePipeline(file: string): Settings[] {
  const text = readFileSync(file, 'utf8');
  if (!SETS_SOMETHING.test(text)) return [];
  const entries = (createRequire(import.meta.url)('yaml') as typeof import('yaml')).parse(text) as unknown;
  if (!Array.isArray(entries)) throw new SettingsError(file, 1, 'expected a list of pipelines (- pipeline.id: ...)');
  // several pipelines: `pipeline start` reads and checks them itself (runtime/settings-file.ts readPipelinesFile)
  if (entries.length !== 1) return [];
  const yaml = createRequire(import.meta.url)('yaml') as typeof import('yaml');
  return [readSettingsFile(`${file} (its pipeline)`, yaml.stringify(entries[0])).settings];
}

function withSettingFlags(y: Argv): Argv {
  for (const [name, f] of Object.entries(SETTING_FLAGS)) y = y.option(name, { alias: f.alias, type: f.type, describe: f.describe });
  return y;
}

/**
 * The commands packages contribute (their package.json "pipeline.commands"), found by the registry
 * with the settings of the working directory's (or the installation's) config/pipeline.yml:
 * built-in packages, the plugin home under path.data, path.plugins. No package code runs here.
 */
function contributedCommands(): { commands: CommandEntry[]; warnings: string[] } {
  let settings: Settings;
  try {
    settings = settingsFrom({});
  } catch {
    // a broken settings file is reported by the command that reads it; discovery uses the defaults
    settings = mergeSettings(DEFAULT_SETTINGS);
  }
  return registryFor(settings, process.cwd()).commands(CORE_COMMANDS);
}

/** Runs a contributed command with the arguments after its name; returns the exit code. */
async function runContributed(entry: CommandEntry, rest: string[]): Promise<number> {
  let code = 0;
  let settings: Settings;
  try {
    settings = settingsFrom({});
  } catch (e) {
    if (!(e instanceof SettingsError)) throw e;
    process.stderr.write(`${e.message}\n`);
    return 1;
  }
  try {
    await runCommand(entry, rest, {
      name: entry.name,
      stdout: process.stdout,
      stderr: process.stderr,
      settings,
      workingDir: process.cwd(),
      coreVersion: CORE_VERSION,
      setExitCode: (c) => {
        code = c;
      },
    });
  } catch (e) {
    if (!(e instanceof CommandLoadError)) throw e;
    process.stderr.write(`pipeline: ${e.message}\n`);
    return 1;
  }
  return code;
}

export async function main(args: string[] = hideBin(process.argv)): Promise<number> {
  watchStdout();
  const contributed = contributedCommands();
  for (const w of contributed.warnings) process.stderr.write(`pipeline: warning: ${w}\n`);
  // a contributed command gets every argument after its name as typed: it parses them itself
  const direct = contributed.commands.find((c) => c.name === args[0]);
  if (direct) return runContributed(direct, args.slice(1));
  let code = 0;
  const names = contributed.commands.map((c) => c.name).sort();
  try {
    let y = yargs(args)
    .scriptName('pipeline')
    .parserConfiguration({ 'dot-notation': false })
    .usage('$0 <command>\n\nA log pipeline that reads Logstash configs and SEC rules, in one Node.js process.')
    .command(
      'start',
      'run a pipeline (pipelines/default.conf unless -f or -e is given)',
      (y) => withSettingFlags(y).example('$0 start -e \'input { stdin {} } output { stdout {} }\'', 'read lines, print events').example('$0 start -f pipeline.conf -t', 'check a config'),
      async (argv) => {
        let settings: Settings;
        try {
          settings = settingsFrom(argv as Record<string, unknown>);
        } catch (e) {
          if (e instanceof UsageError) {
            process.stderr.write(`pipeline: ${e.message} (pipeline start --help lists the flags)\n`);
            code = 2;
            return;
          }
          if (!(e instanceof SettingsError)) throw e;
          process.stderr.write(`${e.message}\n`);
          code = 1;
          return;
        }
        code = await startCommand(settings);
      },
    )
    .command(
      'status',
      'summarise a running pipeline (events, queue, plugins, memory) from its monitoring API',
      (y) => y.option('api.http.host', { type: 'string', describe: 'API address' }).option('api.http.port', { type: 'string', describe: 'API port' }),
      async (argv) => {
        const s = settingsFrom(argv as Record<string, unknown>);
        code = await statusCommand(String(s['api.http.host']), Number(String(s['api.http.port']).split('-')[0]));
      },
    )
    .command(
      'test <files..>',
      "run test-case files (YAML) against their config's filter and correlate sections, on event time",
      (y) =>
        y
          .positional('files', { type: 'string', array: true, demandOption: true, describe: 'test-case files, or directories of them' })
          .option('json', { type: 'boolean', default: false, describe: 'print the results as one JSON object' })
          .option('path.plugins', { type: 'string', describe: `${SETTING_FLAGS['path.plugins']!.describe} (repeat the flag for several)` })
          .option('log.level', { type: 'string', describe: "plugins' log level on stderr (error)" })
          .example('$0 test pipelines/tests/', 'run the example cases of the shipped pipelines'),
      async (argv) => {
        code = await testCommand(argv.files as string[], settingsFrom(argv as Record<string, unknown>), argv.json === true);
      },
    )
    .command(
      'replay <files..>',
      "feed archived logs through the config's filter and correlate sections on event time; outputs only with --outputs",
      (y) => replayOptions(y, (k) => SETTING_FLAGS[k]!.describe),
      async (argv) => {
        code = await replayCommand(argv as Record<string, unknown>, settingsFrom(argv as Record<string, unknown>));
      },
    )
    .command('certs', 'create a CA, server and client certificates for TLS inputs (node-forge)', (y) => certsCommands(y, (c) => (code = c)));
    // listed from their package.json (nothing imported); reached here only after flags before the name
    for (const c of [...contributed.commands].sort((a, b) => a.name.localeCompare(b.name))) {
      y = y.command(
        c.name,
        c.describe,
        (a) => a.strict(false).help(false).version(false),
        async () => {
          code = await runContributed(c, args.slice(args.indexOf(c.name) + 1));
        },
      );
    }
    await y
    .command('dlq', 'list or replay the dead letters of the alerta, heartbeat and email outputs', (y) => dlqCommands(y, (argv) => settingsFrom(argv), (c) => (code = c)))
    .command('plugin', 'list, install, remove or generate plugins', (y) => pluginCommands(y, (argv) => settingsFrom(argv), (c) => (code = c)))
    .demandCommand(1, `name a command: ${['start', 'test', 'replay', 'status', 'plugin', 'certs', ...names].join(', ')} or dlq`)
    .strict()
    .help()
    .alias('h', 'help')
    // core's own package.json: yargs would look next to the working directory's main module
    .version(CORE_VERSION)
    .alias('V', 'version')
    .fail((msg, err) => {
      if (err instanceof SettingsError) {
        process.stderr.write(`${err.message}\n`);
        code = 1;
        throw new Reported();
      }
      // a bad flag or value: one line and exit 2, as a command line tool does (never the whole help)
      if (err instanceof UsageError || !err) {
        process.stderr.write(`pipeline: ${err ? err.message : msg} (pipeline --help lists the commands, pipeline start --help the flags)\n`);
        code = 2;
        // thrown, so that yargs runs no command after a failed parse
        throw new Reported();
      }
      throw err;
    })
    .parseAsync();
  } catch (e) {
    if (!(e instanceof Reported)) throw e;
  }
  return code;
}
