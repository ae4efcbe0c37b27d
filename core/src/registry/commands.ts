import { isAbsolute, join, normalize, relative, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { PluginSource } from './registry.js';

/**
 * Commands a package contributes to the `pipeline` CLI. A package declares them in its
 * package.json, beside its plugins:
 *
 *   "pipeline": { "commands": { "sec": { "module": "dist/src/cli.js", "describe": "check SEC rule files ..." } } }
 *
 * The registry reads the declaration without running the package's code (so `pipeline --help`
 * lists the command from `describe`); the module is imported only when the command runs, and its
 * `run(args, ctx)` export (or a default-exported function) gets the arguments after the command
 * name, unparsed, and a CommandContext.
 */

/** Where a command writes: `process.stdout`/`process.stderr` in the CLI, anything with `write` in a test. */
export interface CommandWriter {
  write(text: string): unknown;
}

export interface CommandContext {
  /** The command's name as the user typed it (`sec`), for usage lines. */
  readonly name: string;
  readonly stdout: CommandWriter;
  readonly stderr: CommandWriter;
  /** Resolved settings: defaults, then config/pipeline.yml (path.data, path.plugins, ...). */
  readonly settings: Readonly<Record<string, unknown>>;
  /** The directory the command was started in (relative paths in arguments are from here). */
  readonly workingDir: string;
  /** The running core's version. */
  readonly coreVersion: string;
  /** The process exits with this code once `run` settles (0 unless set): 1 for a failure, 2 for a usage mistake. */
  setExitCode(code: number): void;
}

/** What a command module exports. */
export type CommandRun = (args: string[], ctx: CommandContext) => void | Promise<void>;

export interface CommandEntry {
  name: string;
  describe: string;
  /** Absolute path of the module, inside the package directory. */
  module: string;
  packageName: string;
  version: string;
  dir: string;
  source: PluginSource;
}

/** Core's own commands (and names yargs gives a meaning): a package cannot contribute these. */
export const CORE_COMMANDS = ['start', 'status', 'test', 'replay', 'certs', 'dlq', 'plugin', 'help', 'version', 'completion'] as const;

/** Lowercase letters, digits and `-`, starting with a letter: a word a shell passes unquoted. */
export const COMMAND_NAME = /^[a-z][a-z0-9-]*$/;

/** The commands a package.json declares; declarations that cannot work are reported, not used. */
export function commandsOf(
  pkg: { name?: string; version?: string; pipeline?: { commands?: unknown } },
  dir: string,
  source: PluginSource,
): { commands: CommandEntry[]; problems: string[] } {
  const declared = pkg.pipeline?.commands;
  const commands: CommandEntry[] = [];
  const problems: string[] = [];
  if (declared === undefined) return { commands, problems };
  const packageName = pkg.name ?? dir;
  const bad = (what: string) => problems.push(`package ${packageName} (${source}, ${dir}): ${what}; ignored`);
  if (declared === null || typeof declared !== 'object' || Array.isArray(declared)) {
    bad(`"pipeline.commands" must be an object of command name -> { "module": ..., "describe": ... }`);
    return { commands, problems };
  }
  for (const [name, spec] of Object.entries(declared as Record<string, unknown>)) {
    if (!COMMAND_NAME.test(name)) {
      bad(`command name '${name}' is not lowercase letters, digits and '-' starting with a letter`);
      continue;
    }
    const s = spec as { module?: unknown; describe?: unknown } | null;
    if (s === null || typeof s !== 'object' || typeof s.module !== 'string' || s.module === '') {
      bad(`command '${name}' names no "module" (the built file exporting run(args, ctx))`);
      continue;
    }
    const rel = normalize(s.module);
    if (isAbsolute(s.module) || rel === '..' || rel.startsWith(`..${sep}`)) {
      bad(`command '${name}': module '${s.module}' is outside the package`);
      continue;
    }
    commands.push({
      name,
      describe: typeof s.describe === 'string' && s.describe.trim() !== '' ? s.describe : `(a command of ${packageName})`,
      module: join(dir, rel),
      packageName,
      version: pkg.version ?? '0.0.0',
      dir,
      source,
    });
  }
  return { commands, problems };
}

/**
 * Decides which declared commands the CLI offers. `declared` is in scan order (built-in packages,
 * then installed ones, then --path.plugins directories). A name that is a core command is refused;
 * a name two packages declare goes to the first one found (a built-in keeps its command), the other
 * is refused; the same package found again later (an installed copy of a built-in) replaces its
 * earlier declaration, as its plugins do.
 */
export function resolveCommands(declared: CommandEntry[], reserved: readonly string[], problems: readonly string[] = []): { commands: CommandEntry[]; warnings: string[] } {
  const chosen = new Map<string, CommandEntry>();
  const warnings = [...problems];
  for (const c of declared) {
    if (reserved.includes(c.name)) {
      warnings.push(`command '${c.name}' of package ${c.packageName} (${c.source}, ${c.dir}) is refused: '${c.name}' is a core command`);
      continue;
    }
    const had = chosen.get(c.name);
    if (had && had.packageName !== c.packageName) {
      warnings.push(`command '${c.name}' of package ${c.packageName} (${c.source}, ${c.dir}) is refused: package ${had.packageName} (${had.source}) already provides '${c.name}'; remove one of them`);
      continue;
    }
    chosen.set(c.name, c);
  }
  return { commands: [...chosen.values()], warnings };
}

/** Imports the command's module and runs it; a module that cannot be used is an Error naming it. */
export async function runCommand(entry: CommandEntry, args: string[], ctx: CommandContext): Promise<void> {
  let mod: Record<string, unknown>;
  try {
    mod = (await import(pathToFileURL(entry.module).href)) as Record<string, unknown>;
  } catch (e) {
    throw new CommandLoadError(`command '${entry.name}' of package ${entry.packageName} could not be loaded from ${relativeTo(entry)}: ${e instanceof Error ? e.message : String(e)}`);
  }
  const run = typeof mod.run === 'function' ? mod.run : typeof mod.default === 'function' ? mod.default : undefined;
  if (!run) throw new CommandLoadError(`command '${entry.name}' of package ${entry.packageName}: ${relativeTo(entry)} exports no run(args, ctx) function`);
  await (run as CommandRun)(args, ctx);
}

export class CommandLoadError extends Error {}

function relativeTo(entry: CommandEntry): string {
  return `${entry.dir}${sep}${relative(entry.dir, entry.module)}`;
}
