import type { Argv } from 'yargs';
// install (semver, npm) and the scaffold are loaded by the subcommands that use them
const install = () => import('../registry/install.js');
const scaffold = () => import('../scaffold/index.js');
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
      'list installed plugins: name, kind, version, source',
      () => {},
      (argv) => {
        const reg = registryFor(settingsOf(argv as Record<string, unknown>), process.cwd());
        const rows = reg.list().map((e) => [e.name, e.kind, e.version, e.source, e.packageName]);
        const head = ['NAME', 'KIND', 'VERSION', 'SOURCE', 'PACKAGE'];
        const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
        for (const r of [head, ...rows]) process.stdout.write(r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd() + '\n');
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
    .demandCommand(1, 'name a subcommand: list, install, remove or generate');
}
