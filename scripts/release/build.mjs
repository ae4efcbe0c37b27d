#!/usr/bin/env node
// `npm run release`: builds core and every built-in plugin, then writes
//   release/pipeline-<version>.tgz        one npm package, @pipeline/server, with core, every
//                                         built-in plugin and every third-party dependency bundled
//                                         (bundleDependencies): `npm install -g` needs no registry
//   release/pipeline_<version>_<arch>.deb the same tree as a Debian package (dpkg-deb only)
// Nothing outside the output directory is written except the TypeScript build's own dist/ folders;
// the package trees are staged in a temporary directory.
//
//   node scripts/release/build.mjs [--out DIR] [--no-build] [--no-deb]
import { execFileSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, '..', '..');
const args = process.argv.slice(2);
const flag = (name) => args.includes(name);
const value = (name) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const OUT = resolve(value('--out') ?? join(ROOT, 'release'));
const readJson = (p) => JSON.parse(readFileSync(p, 'utf8'));
const log = (msg) => process.stderr.write(`release: ${msg}\n`);

/** The server package's name: `@pipeline` is the scope of every package inside it. */
export const PACKAGE_NAME = '@pipeline/server';

/** Built-in plugins: the plugin packages the root tsconfig builds (what `npm run build` builds). */
function builtinPluginDirs() {
  const refs = readJson(join(ROOT, 'tsconfig.json')).references.map((r) => r.path.replace(/\/$/, ''));
  return refs.filter((p) => p.startsWith('plugins/')).map((p) => join(ROOT, p));
}

const t0 = Date.now();
const pluginDirs = builtinPluginDirs();
const core = readJson(join(ROOT, 'core', 'package.json'));
const VERSION = core.version;

if (!flag('--no-build')) {
  log(`building core and ${pluginDirs.length} plugins (tsc -b)`);
  execFileSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-b', join(ROOT, 'core'), ...pluginDirs], { cwd: ROOT, stdio: 'inherit' });
}

const stage = mkdtempSync(join(tmpdir(), 'pipeline-release-'));
try {
  const app = join(stage, 'package');
  mkdirSync(join(app, 'node_modules', '@pipeline'), { recursive: true });

  // -- our packages: core and the plugins, with the files npm would pack ---------------------------
  /** workspace dir -> its name inside the bundle's node_modules */
  const workspaces = new Map();
  workspaces.set(join(ROOT, 'core'), core.name);
  for (const d of pluginDirs) workspaces.set(d, readJson(join(d, 'package.json')).name);
  const noBuildInfo = (src) => !src.endsWith('.tsbuildinfo');
  for (const [dir, name] of workspaces) {
    const pkg = readJson(join(dir, 'package.json'));
    const dest = join(app, 'node_modules', ...name.split('/'));
    mkdirSync(dest, { recursive: true });
    // core has no "files": what it needs at run time and for plugin builds (the .d.ts files) is this
    const files = name === core.name ? ['bin', 'dist/src', 'README.md'] : (pkg.files ?? ['dist/src', 'README.md']);
    for (const f of files) {
      if (!existsSync(join(dir, f))) {
        if (f === 'README.md') continue;
        throw new Error(`${name}: '${f}' (package.json files) does not exist; is it built?`);
      }
      cpSync(join(dir, f), join(dest, f), { recursive: true, filter: noBuildInfo });
    }
    writeFileSync(join(dest, 'package.json'), JSON.stringify(pkg, null, 2) + '\n');
  }

  // -- third-party dependencies, resolved as Node resolves them from each package ----------------
  /** bundle-relative install path -> source directory */
  const thirdParty = new Map();
  const bundlePathOf = (real) => {
    const rel = relative(ROOT, real).split(sep).join('/');
    for (const [dir, name] of workspaces) {
      const wrel = relative(ROOT, dir).split(sep).join('/') + '/';
      if (rel.startsWith(wrel)) return `node_modules/${name}/${rel.slice(wrel.length)}`;
    }
    if (!rel.startsWith('node_modules/')) throw new Error(`dependency outside node_modules: ${real}`);
    return rel;
  };
  const resolveFrom = (fromDir, name) => {
    for (let d = fromDir; ; d = dirname(d)) {
      const cand = join(d, 'node_modules', ...name.split('/'));
      if (existsSync(join(cand, 'package.json'))) return cand;
      if (d === ROOT || dirname(d) === d) return undefined;
    }
  };
  const visit = (fromDir, deps, optional) => {
    for (const name of Object.keys(deps ?? {})) {
      const found = resolveFrom(fromDir, name);
      if (!found) {
        if (optional.has(name)) continue;
        throw new Error(`cannot resolve ${name} from ${fromDir}`);
      }
      const real = realpathSync(found);
      if (workspaces.has(real)) continue; // one of ours, already staged
      if (real.startsWith(join(ROOT, 'plugins') + sep) || real === join(ROOT, 'core')) throw new Error(`${name} is a workspace package that is not built in (not in the root tsconfig's references)`);
      const at = bundlePathOf(found);
      if (thirdParty.has(at)) continue;
      thirdParty.set(at, real);
      const pkg = readJson(join(real, 'package.json'));
      const peerOptional = new Set(Object.entries(pkg.peerDependenciesMeta ?? {}).filter(([, m]) => m?.optional).map(([n]) => n));
      visit(found, pkg.dependencies, new Set(Object.keys(pkg.optionalDependencies ?? {})));
      visit(found, pkg.optionalDependencies, new Set(Object.keys(pkg.optionalDependencies ?? {})));
      visit(found, pkg.peerDependencies, new Set([...peerOptional, ...Object.keys(pkg.peerDependencies ?? {})]));
    }
  };
  for (const dir of workspaces.keys()) {
    const pkg = readJson(join(dir, 'package.json'));
    visit(dir, pkg.dependencies, new Set(Object.keys(pkg.optionalDependencies ?? {})));
  }
  for (const [at, src] of thirdParty) {
    const dest = join(app, at);
    const isSqlite = readJson(join(src, 'package.json')).name === 'better-sqlite3';
    cpSync(src, dest, {
      recursive: true,
      filter: (p) => {
        const r = relative(src, p).split(sep).join('/');
        if (r === 'node_modules' || r.startsWith('node_modules/')) return false; // nested ones are visited on their own
        // better-sqlite3: the source (to rebuild) and the one compiled module, not the build tree
        if (isSqlite && (r === 'build' || r.startsWith('build/'))) return ['build', 'build/Release', 'build/Release/better_sqlite3.node'].includes(r);
        return true;
      },
    });
    if (isSqlite) patchSqlite(dest);
  }

  // -- the application: bin, pipelines, config examples, docs ---------------------------------------
  mkdirSync(join(app, 'bin'));
  writeFileSync(
    join(app, 'bin', 'pipeline.js'),
    `#!/usr/bin/env -S node --max-old-space-size=1024 --max-semi-space-size=4
// The \`pipeline\` command of an installed Pipeline: core's own entry point (see its comments for
// the heap flags above, which must be on the line of the file that is run).
await import('../node_modules/@pipeline/core/bin/pipeline.js');
`,
  );
  chmodSync(join(app, 'bin', 'pipeline.js'), 0o755);
  for (const d of ['pipelines', 'config', 'docs']) cpSync(join(ROOT, d), join(app, d), { recursive: true });
  for (const f of ['README.md', 'BENCHMARKS.md']) if (existsSync(join(ROOT, f))) cpSync(join(ROOT, f), join(app, f));

  const topLevel = readdirSync(join(app, 'node_modules')).flatMap((n) => (n.startsWith('@') ? readdirSync(join(app, 'node_modules', n)).map((s) => `${n}/${s}`) : [n]));
  const dependencies = Object.fromEntries(topLevel.sort().map((n) => [n, readJson(join(app, 'node_modules', ...n.split('/'), 'package.json')).version]));
  const manifest = {
    name: PACKAGE_NAME,
    version: VERSION,
    description: 'Pipeline: a Logstash-language log pipeline with SEC correlation, in one Node.js process (core, every built-in plugin and their dependencies)',
    type: 'module',
    engines: core.engines,
    os: ['linux', 'darwin'],
    bin: { pipeline: 'bin/pipeline.js' },
    keywords: ['logstash', 'sec', 'syslog', 'log-pipeline'],
    dependencies,
    bundleDependencies: Object.keys(dependencies),
  };
  writeFileSync(join(app, 'package.json'), JSON.stringify(manifest, null, 2) + '\n');

  // -- npm package ---------------------------------------------------------------------------------
  mkdirSync(OUT, { recursive: true });
  const packed = execFileSync('npm', ['pack', '--json', '--pack-destination', stage], { cwd: app, encoding: 'utf8', env: { ...process.env, npm_config_loglevel: 'error' } });
  const tgzName = JSON.parse(packed)[0].filename;
  const tgz = join(OUT, `pipeline-${VERSION}.tgz`);
  renameOrCopy(join(stage, tgzName), tgz);
  log(`${relative(process.cwd(), tgz)} (${(statSync(tgz).size / 1048576).toFixed(1)} MiB, ${topLevel.length} bundled packages)`);

  // -- Debian package ------------------------------------------------------------------------------
  if (!flag('--no-deb')) {
    const deb = buildDeb(stage, app);
    log(`${relative(process.cwd(), deb)} (${(statSync(deb).size / 1048576).toFixed(1)} MiB)`);
  }
  log(`done in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
} finally {
  rmSync(stage, { recursive: true, force: true });
}

function renameOrCopy(from, to) {
  try {
    renameSync(from, to);
  } catch {
    cpSync(from, to);
    rmSync(from);
  }
}

/**
 * The bundled better-sqlite3 carries the module compiled on the build machine. Its install script
 * (which npm runs for bundled packages too) would download a prebuilt one from GitHub or compile
 * from source every time; it now first loads the shipped module and keeps it when it loads (same
 * platform, architecture and Node ABI), and falls back to the original script otherwise. Its
 * `files` gains the module, or npm pack would leave it out.
 */
function patchSqlite(dir) {
  const p = join(dir, 'package.json');
  const pkg = readJson(p);
  const original = pkg.scripts?.install ?? 'prebuild-install || node-gyp rebuild --release';
  pkg.scripts = { install: `node -e "require('./build/Release/better_sqlite3.node')" 2>/dev/null || ${original}` };
  pkg.files = [...(pkg.files ?? []), 'build/Release/better_sqlite3.node'];
  delete pkg.devDependencies;
  writeFileSync(p, JSON.stringify(pkg, null, 2) + '\n');
}

/** The Debian package, from the staged application tree. */
function buildDeb(stage, app) {
  const arch = execFileSync('dpkg', ['--print-architecture'], { encoding: 'utf8' }).trim();
  const deb = join(stage, 'deb');
  const lib = join(deb, 'usr', 'lib', 'pipeline');
  const etc = join(deb, 'etc', 'pipeline');
  const doc = join(deb, 'usr', 'share', 'doc', 'pipeline');
  const DEB = join(HERE, 'deb');
  mkdirSync(join(deb, 'usr', 'lib'), { recursive: true });
  cpSync(app, lib, { recursive: true, verbatimSymlinks: true });
  // the settings directory of the installation is /etc/pipeline (relative, so it also holds in an extracted tree)
  mkdirSync(doc, { recursive: true });
  cpSync(join(lib, 'config'), join(doc, 'examples'), { recursive: true });
  rmSync(join(lib, 'config'), { recursive: true });
  symlinkSync('../../../etc/pipeline', join(lib, 'config'));
  for (const d of ['docs', 'README.md', 'BENCHMARKS.md']) if (existsSync(join(lib, d))) renameSync(join(lib, d), join(doc, d));
  mkdirSync(join(lib, 'lib'));
  cpSync(join(DEB, 'native-module.sh'), join(lib, 'lib', 'native-module.sh'));
  chmodSync(join(lib, 'lib', 'native-module.sh'), 0o755);
  mkdirSync(join(deb, 'usr', 'bin'), { recursive: true });
  symlinkSync('../lib/pipeline/bin/pipeline.js', join(deb, 'usr', 'bin', 'pipeline'));

  mkdirSync(join(etc, 'conf.d'), { recursive: true });
  mkdirSync(join(etc, 'rules'));
  cpSync(join(DEB, 'pipeline.yml'), join(etc, 'pipeline.yml'));
  writeFileSync(join(etc, 'conf.d', 'default.conf'), debDefaultConfig(readFileSync(join(ROOT, 'pipelines', 'default.conf'), 'utf8')));
  for (const f of readdirSync(join(ROOT, 'pipelines', 'rules'))) if (f.endsWith('.sec')) cpSync(join(ROOT, 'pipelines', 'rules', f), join(etc, 'rules', f));
  cpSync(join(DEB, 'secrets.env'), join(etc, 'secrets.env'));
  chmodSync(join(etc, 'secrets.env'), 0o600);
  mkdirSync(join(deb, 'lib', 'systemd', 'system'), { recursive: true });
  cpSync(join(ROOT, 'config', 'pipeline.service'), join(deb, 'lib', 'systemd', 'system', 'pipeline.service'));
  mkdirSync(join(deb, 'var', 'lib', 'pipeline'), { recursive: true });
  mkdirSync(join(deb, 'var', 'log', 'pipeline'), { recursive: true });

  const control = join(deb, 'DEBIAN');
  mkdirSync(control);
  const conffiles = [];
  const walk = (d) => {
    for (const n of readdirSync(d).sort()) {
      const p = join(d, n);
      if (statSync(p).isDirectory()) walk(p);
      else conffiles.push('/' + relative(deb, p).split(sep).join('/'));
    }
  };
  walk(etc);
  writeFileSync(join(control, 'conffiles'), conffiles.join('\n') + '\n');
  const installedKiB = Number(execFileSync('du', ['-sk', '--exclude=DEBIAN', deb], { encoding: 'utf8' }).split('\t')[0]);
  const engines = /^>=\s*([0-9.]+)$/.exec(core.engines?.node ?? '');
  if (!engines) throw new Error(`core's engines.node (${core.engines?.node}) is not a '>=X.Y' floor`);
  writeFileSync(
    join(control, 'control'),
    [
      'Package: pipeline',
      `Version: ${VERSION}`,
      `Architecture: ${arch}`,
      'Maintainer: Pipeline maintainers <pipeline@localhost>',
      `Installed-Size: ${installedKiB}`,
      `Depends: nodejs (>= ${engines[1]}), adduser`,
      'Suggests: python3, make, g++',
      'Section: admin',
      'Priority: optional',
      'Description: log pipeline with Logstash configs and SEC correlation in one Node.js process',
      ' Receives logs as Logstash does (and reads its pipeline.conf language), correlates them',
      ' with SEC rule files and sends alerts to Alerta and by e-mail. Runs as the pipeline',
      ' system user under systemd (Type=notify), configured in /etc/pipeline.',
      ' .',
      ' Contains better-sqlite3 compiled for this architecture and Node.js ABI; when the',
      ' installed node cannot load it, postinst rebuilds it (needs python3, make and g++).',
      '',
    ].join('\n'),
  );
  for (const s of ['postinst', 'prerm', 'postrm']) {
    cpSync(join(DEB, s), join(control, s));
    chmodSync(join(control, s), 0o755);
  }
  const out = join(OUT, `pipeline_${VERSION}_${arch}.deb`);
  execFileSync('dpkg-deb', ['--root-owner-group', '-Zxz', '--build', deb, out], { stdio: ['ignore', 'ignore', 'inherit'] });
  return out;
}

/** pipelines/default.conf for the service: rules from /etc/pipeline, received logs under /var/log/pipeline. */
function debDefaultConfig(text) {
  const edits = [
    ['"pipelines/rules/homelab.sec"', '"/etc/pipeline/rules/homelab.sec"'],
    ['"data/logs/%{host}-%{syslog_program}.log"', '"/var/log/pipeline/%{host}-%{syslog_program}.log"'],
    ['"data/alerts.jsonl"', '"/var/lib/pipeline/alerts.jsonl"'],
  ];
  for (const [from, to] of edits) {
    if (!text.includes(from)) throw new Error(`pipelines/default.conf no longer contains ${from}: update debDefaultConfig in scripts/release/build.mjs`);
    text = text.replaceAll(from, to);
  }
  return text.replace(/^# The default pipeline:.*$/m, '# The default pipeline of the Debian package (pipelines/default.conf with the paths of the service):');
}
