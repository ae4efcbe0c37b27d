import { existsSync, readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { closeMatches } from '../config/errors.js';
import { isPluginDefinition, type PluginDefinition, type PluginKind } from '../plugin/define.js';
import { commandsOf, resolveCommands, type CommandEntry } from './commands.js';
import { INSTALL_ROOT } from './install-root.js';

/**
 * Which plugins exist and where. Discovery reads package.json files only — a package declares
 * `"pipeline": { "plugins": { "filter": ["snort"] } }` — and never runs plugin code; a plugin's
 * module is imported the first time a config names it.
 */
export type PluginSource = 'builtin' | 'installed' | 'path';

export interface PluginEntry {
  kind: PluginKind;
  name: string;
  packageName: string;
  version: string;
  dir: string;
  source: PluginSource;
  /** The package's declared range for @pipeline/core, if any. */
  coreRange?: string;
}

interface PackageJson {
  name?: string;
  version?: string;
  main?: string;
  exports?: unknown;
  pipeline?: { plugins?: Partial<Record<PluginKind, string[]>>; commands?: unknown };
  peerDependencies?: Record<string, string>;
}

const KINDS: PluginKind[] = ['input', 'filter', 'correlate', 'output', 'codec'];

export function readPackageJson(dir: string): PackageJson | undefined {
  try {
    return JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as PackageJson;
  } catch {
    return undefined;
  }
}

/** Entries a package directory declares, if it declares any. */
export function entriesOf(dir: string, source: PluginSource, pkg: PackageJson | undefined = readPackageJson(dir)): PluginEntry[] {
  const declared = pkg?.pipeline?.plugins;
  if (!pkg || !declared) return [];
  const out: PluginEntry[] = [];
  for (const kind of KINDS) {
    for (const name of declared[kind] ?? []) {
      out.push({ kind, name, packageName: pkg.name ?? dir, version: pkg.version ?? '0.0.0', dir, source, coreRange: pkg.peerDependencies?.['@pipeline/core'] });
    }
  }
  return out;
}

/** Package directories inside a node_modules folder (scoped ones included). */
function packagesIn(nodeModules: string): string[] {
  if (!existsSync(nodeModules)) return [];
  const dirs: string[] = [];
  for (const name of readdirSync(nodeModules)) {
    if (name.startsWith('.')) continue;
    const p = join(nodeModules, name);
    if (name.startsWith('@')) {
      for (const sub of safeReaddir(p)) dirs.push(join(p, sub));
    } else dirs.push(p);
  }
  return dirs;
}

function safeReaddir(p: string): string[] {
  try {
    return readdirSync(p);
  } catch {
    return [];
  }
}

export class PluginRegistry {
  private readonly entries = new Map<string, PluginEntry>();
  private readonly loaded = new Map<string, PluginDefinition>();
  /** Commands packages declare, in scan order, and declarations that were unusable. */
  private declaredCommands: CommandEntry[] = [];
  private commandProblems: string[] = [];

  constructor(
    readonly options: { installRoot?: string; pluginHome?: string; pluginPaths?: string[] } = {},
  ) {
    this.scan();
  }

  private key(kind: PluginKind, name: string): string {
    return `${kind}:${name}`;
  }

  private add(entry: PluginEntry): void {
    const k = this.key(entry.kind, entry.name);
    // later sources (installed, --path.plugins) override built-ins of the same name
    this.entries.set(k, entry);
  }

  /** Reads every package.json that may declare plugins. Cheap: no plugin code runs. */
  scan(): void {
    this.entries.clear();
    this.declaredCommands = [];
    this.commandProblems = [];
    const root = this.options.installRoot ?? INSTALL_ROOT;
    const seen = new Set<string>();
    const visit = (dir: string, source: PluginSource) => {
      let real: string;
      try {
        real = realpathSync(dir);
      } catch {
        return;
      }
      if (seen.has(real + source)) return;
      seen.add(real + source);
      const pkg = readPackageJson(dir);
      for (const e of entriesOf(dir, source, pkg)) this.add(e);
      if (pkg?.pipeline?.commands !== undefined) {
        const c = commandsOf(pkg, dir, source);
        this.declaredCommands.push(...c.commands);
        this.commandProblems.push(...c.problems);
      }
    };
    for (const dir of packagesIn(join(root, 'node_modules'))) visit(dir, 'builtin');
    if (this.options.pluginHome) for (const dir of packagesIn(join(this.options.pluginHome, 'node_modules'))) visit(dir, 'installed');
    for (const p of this.options.pluginPaths ?? []) {
      if (!existsSync(p)) continue;
      if (existsSync(join(p, 'package.json'))) visit(p, 'path');
      else for (const sub of safeReaddir(p)) if (statSync(join(p, sub)).isDirectory()) visit(join(p, sub), 'path');
    }
  }

  /**
   * The CLI commands packages contribute, with `reserved` (core's own command names) refused, and
   * a warning for each declaration that was refused or unusable (see resolveCommands).
   */
  commands(reserved: readonly string[]): { commands: CommandEntry[]; warnings: string[] } {
    return resolveCommands(this.declaredCommands, reserved, this.commandProblems);
  }

  list(): PluginEntry[] {
    return [...this.entries.values()].sort((a, b) => a.kind.localeCompare(b.kind) || a.name.localeCompare(b.name));
  }

  find(kind: PluginKind, name: string): PluginEntry | undefined {
    return this.entries.get(this.key(kind, name));
  }

  names(kind: PluginKind): string[] {
    return this.list()
      .filter((e) => e.kind === kind)
      .map((e) => e.name);
  }

  /** Close matches among installed plugins of a kind, for "did you mean". */
  suggest(kind: PluginKind, name: string): string[] {
    return closeMatches(name, this.names(kind));
  }

  /** The module of the package that provides a plugin (for tools a plugin package exports). */
  async importModule(kind: PluginKind, name: string): Promise<Record<string, unknown>> {
    const entry = this.entries.get(this.key(kind, name));
    if (!entry) throw new Error(`no ${kind} plugin named '${name}' is installed`);
    const pkg = readPackageJson(entry.dir)!;
    return (await import(pathToFileURL(join(entry.dir, pkg.main ?? 'index.js')).href)) as Record<string, unknown>;
  }

  /** Imports a plugin's module (once) and returns its definition. */
  async load(kind: PluginKind, name: string): Promise<PluginDefinition> {
    const k = this.key(kind, name);
    const cached = this.loaded.get(k);
    if (cached) return cached;
    const entry = this.entries.get(k);
    if (!entry) throw new Error(`no ${kind} plugin named '${name}'`);
    const mod = await this.importModule(kind, name);
    const main = entry.dir;
    const candidates = [mod.default, ...Object.values(mod), ...(Array.isArray(mod.default) ? mod.default : [])];
    const def = candidates.find((c): c is PluginDefinition => isPluginDefinition(c) && c.kind === kind && c.name === name);
    if (!def) throw new Error(`package ${entry.packageName} declares ${kind} '${name}' but its module (${main}) exports no such definitePlugin() definition`);
    this.loaded.set(k, def);
    return def;
  }
}
