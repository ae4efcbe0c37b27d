import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import semver from 'semver';
import { CORE_DIR, CORE_VERSION } from './install-root.js';
import { commandsOf } from './commands.js';
import { readSources, writeSource, type SourceRecord } from './sources.js';
import { entriesOf, readPackageJson } from './registry.js';

/**
 * `pipeline plugin install | remove`: npm does the work, into a plugin home (a private npm
 * project under the data dir). Peer dependencies are not installed — the running core satisfies
 * `@pipeline/core`, linked into the home — and a plugin that asks for a core version range the
 * running one is not in is refused before anything is installed.
 */
export class PluginInstallError extends Error {}
export { readSources, type SourceRecord };

interface Manifest {
  name?: string;
  version?: string;
  pipeline?: unknown;
  peerDependencies?: Record<string, string>;
}

function ensureHome(home: string): void {
  mkdirSync(home, { recursive: true });
  const pkg = join(home, 'package.json');
  if (!existsSync(pkg)) writeFileSync(pkg, JSON.stringify({ name: 'pipeline-plugin-home', private: true, dependencies: {} }, null, 2) + '\n');
  linkCore(home);
}

/** Makes `import '@pipeline/core'` from an installed plugin resolve to the running core. */
function linkCore(home: string): void {
  const link = join(home, 'node_modules', '@pipeline', 'core');
  mkdirSync(dirname(link), { recursive: true });
  try {
    if (lstatSync(link)) rmSync(link, { recursive: true, force: true });
  } catch {
    /* absent */
  }
  symlinkSync(CORE_DIR, link, 'dir');
}

function npm(args: string[], cwd: string): string {
  try {
    return execFileSync('npm', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    throw new PluginInstallError(`npm ${args.join(' ')} failed:\n${(err.stderr ?? err.message).trim()}`);
  }
}

/** The manifest of what is about to be installed, read without installing it. */
function manifestOf(spec: string, cwd: string): Manifest {
  const abs = resolve(cwd, spec);
  if (existsSync(abs)) {
    if (existsSync(join(abs, 'package.json'))) return JSON.parse(readFileSync(join(abs, 'package.json'), 'utf8')) as Manifest;
    if (/\.(tgz|tar\.gz)$/.test(abs)) return JSON.parse(execFileSync('tar', ['-xzOf', abs, 'package/package.json'], { encoding: 'utf8' })) as Manifest;
    throw new PluginInstallError(`${spec} is neither a package directory nor a .tgz tarball`);
  }
  return JSON.parse(npm(['view', spec, 'name', 'version', 'pipeline', 'peerDependencies', '--json'], cwd)) as Manifest;
}

export function checkCompatible(m: Manifest, spec: string): void {
  if (!m.pipeline) throw new PluginInstallError(`${m.name ?? spec} is not a Pipeline plugin: its package.json has no "pipeline" key declaring the plugins it provides`);
  const range = m.peerDependencies?.['@pipeline/core'];
  if (range && !semver.satisfies(CORE_VERSION, range, { includePrerelease: true }))
    throw new PluginInstallError(`${m.name}@${m.version} needs @pipeline/core ${range}, but this is core ${CORE_VERSION}; install a version of the plugin made for core ${semver.major(CORE_VERSION)}.${semver.minor(CORE_VERSION)}`);
}

export interface InstallResult {
  packageName: string;
  version: string;
  plugins: { kind: string; name: string }[];
  /** CLI commands the package contributes. */
  commands: string[];
}

function sourceType(target: string): SourceRecord['type'] {
  if (!isAbsolute(target)) return 'registry';
  return statSync(target).isDirectory() ? 'directory' : 'tarball';
}

export function installPlugin(spec: string, home: string, cwd = process.cwd()): InstallResult {
  const manifest = manifestOf(spec, cwd);
  checkCompatible(manifest, spec);
  ensureHome(home);
  const target = existsSync(resolve(cwd, spec)) ? resolve(cwd, spec) : spec;
  npm(['install', '--prefix', home, '--no-audit', '--no-fund', '--legacy-peer-deps', '--install-links', '--save', target], cwd);
  linkCore(home); // npm may have pruned the link
  const dir = join(home, 'node_modules', ...manifest.name!.split('/'));
  writeSource(home, manifest.name!, { spec: target, type: sourceType(target), version: readPackageJson(dir)?.version ?? manifest.version ?? '?', installedAt: new Date().toISOString() });
  const pkg = readPackageJson(dir);
  const entries = entriesOf(dir, 'installed', pkg);
  const commands = pkg ? commandsOf(pkg, dir, 'installed').commands.map((c) => c.name) : [];
  return { packageName: manifest.name!, version: pkg?.version ?? manifest.version ?? '?', plugins: entries.map((e) => ({ kind: e.kind, name: e.name })), commands };
}

export function removePlugin(nameOrPackage: string, home: string, installedPackage?: string): string {
  const pkg = installedPackage ?? nameOrPackage;
  if (!existsSync(join(home, 'node_modules', ...pkg.split('/')))) throw new PluginInstallError(`${nameOrPackage} is not installed in ${home}`);
  npm(['uninstall', '--prefix', home, '--no-audit', '--no-fund', '--legacy-peer-deps', pkg], home);
  linkCore(home);
  writeSource(home, pkg, undefined);
  return pkg;
}

/**
 * The source an installed package is reinstalled from: its record, else (a package installed
 * before sources were recorded) the spec npm saved in the plugin home's package.json, else none.
 */
export function installSourceOf(home: string, pkg: string): { spec: string; type: SourceRecord['type']; recorded: boolean } | undefined {
  const rec = readSources(home).get(pkg);
  if (rec) return { spec: rec.spec, type: rec.type, recorded: true };
  const saved = (JSON.parse(readFileSync(join(home, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> }).dependencies?.[pkg];
  if (saved === undefined) return undefined;
  if (saved.startsWith('file:')) {
    const path = resolve(home, saved.slice('file:'.length));
    return { spec: path, type: existsSync(path) ? sourceType(path) : /\.(tgz|tar\.gz)$/.test(path) ? 'tarball' : 'directory', recorded: false };
  }
  return { spec: pkg, type: 'registry', recorded: false };
}

export interface UpdateResult {
  packageName: string;
  from: string;
  before: string;
  after: string;
  /** The source was not recorded before this update (it is now). */
  recordedNow: boolean;
}

/**
 * `pipeline plugin update`, Logstash's semantics for an installed plugin: install it again from
 * where it was installed from — the same tarball path or directory (rebuilt or replaced there),
 * or the registry's latest version of its name — checking the core range first, as install does.
 */
export function updatePlugin(pkg: string, home: string, cwd = process.cwd()): UpdateResult {
  const src = installSourceOf(home, pkg);
  if (!src)
    throw new PluginInstallError(`${pkg}: where it was installed from is not recorded (was it copied into ${home} by hand?); install it again with 'pipeline plugin install SPEC', which records it for later updates`);
  if (src.type !== 'registry' && !existsSync(src.spec)) throw new PluginInstallError(`${pkg} was installed from ${src.spec}, which no longer exists; install it again with 'pipeline plugin install SPEC'`);
  const before = readPackageJson(join(home, 'node_modules', ...pkg.split('/')))?.version ?? '?';
  // a registry name that was installed without a version goes to its latest; a pinned spec stays pinned
  const spec = src.type === 'registry' && src.spec === pkg ? `${pkg}@latest` : src.spec;
  const r = installPlugin(spec, home, cwd);
  if (r.packageName !== pkg) throw new PluginInstallError(`${src.spec} now holds ${r.packageName}, not ${pkg}; both are installed now, remove the one you do not want`);
  // keep the spec as first given (a bare name, not name@latest), so later updates follow latest too
  writeSource(home, pkg, { spec: src.spec, type: src.type, version: r.version, installedAt: new Date().toISOString() });
  return { packageName: pkg, from: src.spec, before, after: r.version, recordedNow: !src.recorded };
}
