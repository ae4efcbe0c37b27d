import type { Argv } from 'yargs';
// install (semver, npm) and the scaffold are loaded by the subcommands that use them
const install = () => import('../registry/install.js');
const scaffold = () => import('../scaffold/index.js');
import { CORE_COMMANDS } from '../registry/commands.js';
import { readSources } from '../registry/sources.js';
import { pluginHome, registryFor } from '../runtime/load.js';
import type { Settings } from '../runtime/settings.js';

/** What an installed package provides: "filter hello, filter bye; command greet". */
function provides(r: { plugins: { kind: string; name: string }[]; commands: string[] }): string {
  const parts = [r.plugins.map((p) => `${p.kind} ${p.name}`).join(', '), r.commands.map((c) => `command ${c}`).join(', ')];
  return parts.filter((p) => p !== '').join('; ') || 'nothing (its "pipeline" key declares no plugins or commands)';
}

/** `pipeline plugin list | install | remove | update | generate`. */
export function pluginCommands(y: Argv, settingsOf: (argv: Record<string, unknown>) => Settings, setCode: (c: number) => void): Argv {
  const fail = (e: unknown) => {
    process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
    setCode(1);
  };
  return y
    .option('path.settings', { type: 'string', describe: 'directory holding pipeline.yml, whose path.data is used (a service: /etc/pipeline)' })
    .option('path.data', { type: 'string', describe: 'data directory holding the plugin home (./data)' })
    .option('path.plugins', { type: 'array', describe: 'extra plugin directories' })
    .command(
      'list',
      'list plugins: name, kind, version, source, package (--verbose: and commands, path, where installed from)',
      (a) => a.option('verbose', { type: 'boolean', default: false, describe: 'also the CLI commands packages add, each package\'s path, and where an installed one came from' }),
      (argv) => {
        const settings = settingsOf(argv as Record<string, unknown>);
        const reg = registryFor(settings, process.cwd());
        const rows = reg.list().map((e) => [e.name, e.kind, e.version, e.source, e.packageName, e.dir]);
        if (argv.verbose) rows.push(...reg.commands(CORE_COMMANDS).commands.map((c) => [c.name, 'command', c.version, c.source, c.packageName, c.dir]));
        rows.sort((a, b) => a[1]!.localeCompare(b[1]!) || a[0]!.localeCompare(b[0]!));
        const head = ['NAME', 'KIND', 'VERSION', 'SOURCE', 'PACKAGE'];
        let table = rows.map((r) => r.slice(0, 5));
        if (argv.verbose) {
          const sources = readSources(pluginHome(settings, process.cwd()));
          head.push('PATH', 'FROM');
          // FROM: the tarball, directory or registry name an installed package came from ('-': not recorded)
          table = rows.map((r) => [...r, r[3] === 'installed' ? (sources.get(r[4]!)?.spec ?? '-') : '']);
        }
        const widths = head.map((h, i) => Math.max(h.length, ...table.map((r) => r[i]!.length)));
        for (const r of [head, ...table]) process.stdout.write(r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd() + '\n');
      },
    )
    .command(
      'install <spec>',
      'install a plugin package: an npm name, a directory, or a .tgz made by npm pack',
      (a) => a.positional('spec', { type: 'string', demandOption: true }),
      async (argv) => {
        const settings = settingsOf(argv as Record<string, unknown>);
        const { installPlugin, PluginInstallError } = await install();
        try {
          const r = installPlugin(String(argv.spec), pluginHome(settings, process.cwd()));
          process.stdout.write(`Installed ${r.packageName}@${r.version}: ${provides(r)}\n`);
        } catch (e) {
          if (e instanceof PluginInstallError) fail(e);
          else throw e;
        }
      },
    )
    .command(
      'remove <name>',
      'remove an installed plugin (by plugin name or package name)',
      (a) => a.positional('name', { type: 'string', demandOption: true }),
      async (argv) => {
        const settings = settingsOf(argv as Record<string, unknown>);
        const { removePlugin, PluginInstallError } = await install();
        const name = String(argv.name);
        const reg = registryFor(settings, process.cwd());
        const entry = reg.list().find((e) => e.source === 'installed' && (e.name === name || e.packageName === name));
        try {
          if (!entry) throw new PluginInstallError(`no installed plugin named ${name}; 'pipeline plugin list' shows what is installed (built-in plugins cannot be removed)`);
          const pkg = removePlugin(name, pluginHome(settings, process.cwd()), entry.packageName);
          process.stdout.write(`Removed ${pkg}\n`);
        } catch (e) {
          if (e instanceof PluginInstallError) fail(e);
          else throw e;
        }
      },
    )
    .command(
      'update [names..]',
      'install installed plugins again from where they were installed from (a tarball, a directory, or the registry\'s latest); all of them without names',
      (a) => a.positional('names', { type: 'string', array: true, describe: 'plugin, command or package names (default: every installed package)' }),
      async (argv) => {
        const settings = settingsOf(argv as Record<string, unknown>);
        const { updatePlugin, installSourceOf, PluginInstallError } = await install();
        const home = pluginHome(settings, process.cwd());
        const reg = registryFor(settings, process.cwd());
        const commands = reg.commands(CORE_COMMANDS).commands;
        const all = [...reg.list(), ...commands];
        const installed = [...new Set(all.filter((e) => e.source === 'installed').map((e) => e.packageName))].sort();
        const names = (argv.names as string[] | undefined) ?? [];
        const targets: string[] = [];
        for (const n of names) {
          const hit = all.filter((e) => e.name === n || e.packageName === n);
          const inst = hit.find((e) => e.source === 'installed');
          if (inst) {
            if (!targets.includes(inst.packageName)) targets.push(inst.packageName);
          } else if (hit.length) {
            const e = hit[0]!;
            fail(`${n} is ${e.source === 'builtin' ? 'built in' : `loaded from --path.plugins (${e.dir})`} (package ${e.packageName}@${e.version}), not installed: ${e.source === 'builtin' ? 'built-in plugins are updated with Pipeline itself' : 'update that directory yourself'}; 'pipeline plugin update' updates what 'pipeline plugin install' installed`);
          } else fail(`no installed plugin named ${n}; 'pipeline plugin list' shows what is installed`);
        }
        if (names.length === 0) {
          if (installed.length === 0) {
            process.stdout.write(`No installed plugins to update (plugin home ${home})\n`);
            return;
          }
          targets.push(...installed);
        }
        for (const pkg of targets) {
          try {
            const recorded = installSourceOf(home, pkg)?.recorded;
            const r = updatePlugin(pkg, home, process.cwd());
            const what = r.before === r.after ? `${pkg} ${r.after} reinstalled (no newer version)` : `Updated ${pkg} ${r.before} -> ${r.after}`;
            process.stdout.write(`${what} from ${r.from}\n`);
            if (!recorded) process.stdout.write(`  where ${pkg} was installed from was not recorded; taken from the plugin home's package.json and recorded from now on\n`);
          } catch (e) {
            if (e instanceof PluginInstallError) fail(e);
            else throw e;
          }
        }
      },
    )
    .command(
      'generate',
      'scaffold a plugin package (pipeline-KIND-NAME) that builds, tests and installs as it is',
      (a) =>
        a
          .option('kind', { type: 'string', demandOption: true, describe: 'filter or output' })
          .option('name', { type: 'string', demandOption: true, describe: 'plugin name: lowercase letters, digits, _' })
          .option('dir', { type: 'string', describe: 'where the package folder is created (.)' }),
      async (argv) => {
        const { generatePlugin, ScaffoldError } = await scaffold();
        try {
          const r = generatePlugin({ kind: String(argv.kind), name: String(argv.name), dir: argv.dir as string | undefined });
          // npm install takes typescript and @types/node from the registry and links @pipeline/core
          // (a file: devDependency on the core running now), so nothing asks a registry for it
          const tgz = `${r.packageName}-0.1.0.tgz`;
          process.stdout.write(
            `Created ${r.dir} (builds against @pipeline/core in ${r.coreDir})\n` +
              `Next:\n  cd ${r.dir}\n  npm install && npm run build && npm test\n  npm pack\n  pipeline plugin install ./${tgz}\n`,
          );
        } catch (e) {
          if (e instanceof ScaffoldError) fail(e);
          else throw e;
        }
      },
    )
    .demandCommand(1, 'name a subcommand: list, install, remove, update or generate');
}
