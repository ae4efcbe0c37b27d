import assert from 'node:assert/strict';
import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

// `npm run release` end to end: the build writes the npm package and the .deb; the npm package
// installs into an empty prefix with no registry and runs from another folder (check, plugin list,
// a real generator -> file run, a scaffolded plugin built against the installed core and installed,
// systemd readiness over a real unix datagram socket); the .deb's control data and files are what
// dpkg installs, and it installs, runs, and is removed and purged in a throwaway root; the unit
// passes systemd-analyze verify.
const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..'); // test/dist/release -> repo
const BUILD = join(REPO, 'scripts', 'release', 'build.mjs');
const VERSION = (JSON.parse(readFileSync(join(REPO, 'core', 'package.json'), 'utf8')) as { version: string }).version;

function run(cmd: string, args: string[], o: { cwd?: string; env?: Record<string, string | undefined>; input?: string } = {}): SpawnSyncReturns<string> {
  const env: NodeJS.ProcessEnv = { ...process.env, ...o.env };
  delete env.NODE_TEST_CONTEXT; // a nested `node --test` (the scaffold's npm test) must print its own results
  for (const [k, v] of Object.entries(o.env ?? {})) if (v === undefined) delete env[k];
  return spawnSync(cmd, args, { cwd: o.cwd, env, encoding: 'utf8', input: o.input, timeout: 240_000 });
}
const outputOf = (r: SpawnSyncReturns<string>) => `exit ${r.status} signal ${r.signal}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`;
const ok = (r: SpawnSyncReturns<string>) => {
  assert.equal(r.status, 0, outputOf(r));
  return r;
};

/**
 * The built-in plugins as the clone's registry sees them ("kind name"), of the packages
 * `npm run build` builds (the root tsconfig's references): what the release must carry. A plugin
 * package not referenced there yet (being written) is in the clone's list but not built.
 */
function builtinsOfTheClone(): string[] {
  const refs = (JSON.parse(readFileSync(join(REPO, 'tsconfig.json'), 'utf8')) as { references: { path: string }[] }).references.map((r) => r.path.replace(/\/$/, ''));
  const built = new Set(refs.filter((p) => p.startsWith('plugins/')).map((p) => (JSON.parse(readFileSync(join(REPO, p, 'package.json'), 'utf8')) as { name: string }).name));
  const r = ok(run(process.execPath, [join(REPO, 'core', 'bin', 'pipeline.js'), 'plugin', 'list', '--path.data', join(tmp, 'clone-data')], { cwd: tmp }));
  return rowsOf(r.stdout)
    .filter((r) => r.source === 'builtin' && built.has(r.pkg))
    .map((r) => `${r.kind} ${r.name}`);
}
function rowsOf(list: string): { name: string; kind: string; version: string; source: string; pkg: string }[] {
  return list
    .trim()
    .split('\n')
    .slice(1)
    .map((l) => {
      const [name, kind, version, source, pkg] = l.trim().split(/\s+/);
      return { name: name!, kind: kind!, version: version!, source: source!, pkg: pkg! };
    });
}
function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.on('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => res(port));
    });
  });
}

let tmp: string;
let out: string;
let tgz: string;
let deb: string;
let prefix: string;
let pipelineBin: string;
let installedCore: string;
const figures: string[] = [];

before(() => {
  tmp = mkdtempSync(join(tmpdir(), 'pipeline-release-test-'));
  out = join(tmp, 'release');
  const t0 = Date.now();
  const b = ok(run(process.execPath, [BUILD, '--out', out], { cwd: REPO }));
  figures.push(`release build ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  const arch = ok(run('dpkg', ['--print-architecture'])).stdout.trim();
  tgz = join(out, `pipeline-${VERSION}.tgz`);
  deb = join(out, `pipeline_${VERSION}_${arch}.deb`);
  assert.deepEqual(readdirSync(out).sort(), [`pipeline-${VERSION}.tgz`, `pipeline_${VERSION}_${arch}.deb`].sort(), b.stderr);
});

after(() => {
  process.stderr.write(`# release figures: ${figures.join(', ')}\n`);
  rmSync(tmp, { recursive: true, force: true });
});

describe('npm package', () => {
  it('installs into an empty prefix without the registry', () => {
    prefix = join(tmp, 'prefix');
    const t0 = Date.now();
    // an unreachable registry and an empty cache: everything must come from the tarball
    ok(run('npm', ['install', '-g', '--prefix', prefix, '--no-audit', '--no-fund', '--offline', tgz], { cwd: tmp, env: { npm_config_cache: join(tmp, 'empty-cache'), npm_config_registry: 'http://127.0.0.1:9/' } }));
    figures.push(`npm install -g ${((Date.now() - t0) / 1000).toFixed(1)} s`, `tarball ${(readFileSync(tgz).length / 1048576).toFixed(1)} MiB`);
    pipelineBin = join(prefix, 'bin', 'pipeline');
    assert.ok(existsSync(pipelineBin), 'pipeline on the prefix PATH');
    installedCore = join(prefix, 'lib', 'node_modules', '@pipeline', 'server', 'node_modules', '@pipeline', 'core');
    assert.ok(existsSync(join(installedCore, 'dist', 'src', 'index.d.ts')), 'core with its type declarations');
    // better-sqlite3's module is the shipped one, not compiled again (no build tree)
    assert.deepEqual(readdirSync(join(prefix, 'lib', 'node_modules', '@pipeline', 'server', 'node_modules', 'better-sqlite3', 'build', 'Release')), ['better_sqlite3.node']);
    const v = ok(run(pipelineBin, ['--version'], { cwd: tmp }));
    assert.match(v.stdout, new RegExp(VERSION.replace(/\./g, '\\.')));
  });

  it('checks the default pipeline from another folder', () => {
    const work = join(tmp, 'elsewhere');
    mkdirSync(work);
    const r = ok(run(pipelineBin, ['start', '-t'], { cwd: work }));
    assert.match(r.stdout, /^Configuration OK$/m);
  });

  it('lists every built-in plugin', () => {
    const r = ok(run(pipelineBin, ['plugin', 'list'], { cwd: join(tmp, 'elsewhere') }));
    const rows = rowsOf(r.stdout);
    const installed = rows.map((r) => `${r.kind} ${r.name}`).sort();
    assert.deepEqual(installed, builtinsOfTheClone().sort());
    assert.ok(rows.every((r) => r.source === 'builtin'));
    assert.ok(installed.length >= 38, `${installed.length} plugins`);
  });

  it('runs a generator -> file pipeline with the persisted queue (better-sqlite3)', () => {
    const work = join(tmp, 'elsewhere');
    const config = 'input { generator { lines => ["one", "two"] count => 3 } } output { file { path => "out/events.jsonl" } }';
    ok(run(pipelineBin, ['start', '--api.enabled', 'false', '--queue.type', 'persisted', '-e', config], { cwd: work }));
    const events = readFileSync(join(work, 'out', 'events.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { message: string });
    assert.deepEqual(events.map((e) => e.message).sort(), ['one', 'one', 'one', 'two', 'two', 'two']);
    assert.ok(existsSync(join(work, 'data', 'queue')), 'the queue lives under the working folder');
  });

  it('scaffolds a plugin that builds against the installed core, packs and installs', () => {
    const work = join(tmp, 'dev');
    mkdirSync(work);
    const g = ok(run(pipelineBin, ['plugin', 'generate', '--kind', 'filter', '--name', 'wordstats'], { cwd: work }));
    const pkgDir = join(work, 'pipeline-filter-wordstats');
    // the printed next steps, as printed
    assert.match(g.stdout, /npm install && npm run build && npm test/);
    const pkg = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8')) as { devDependencies: Record<string, string> };
    assert.equal(pkg.devDependencies['@pipeline/core'], `file:${installedCore}`);
    // typescript and @types/node come from the registry (npm's cache); @pipeline/core is linked
    ok(run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline'], { cwd: pkgDir }));
    ok(run('npm', ['run', 'build'], { cwd: pkgDir }));
    const t = ok(run('npm', ['test'], { cwd: pkgDir }));
    assert.match(t.stdout, /# pass 4/);
    ok(run('npm', ['pack', '--silent'], { cwd: pkgDir }));
    const inst = ok(run(pipelineBin, ['plugin', 'install', `./pipeline-filter-wordstats/pipeline-filter-wordstats-0.1.0.tgz`], { cwd: work }));
    assert.match(inst.stdout, /Installed pipeline-filter-wordstats@0\.1\.0: filter wordstats/);
    const list = ok(run(pipelineBin, ['plugin', 'list'], { cwd: work }));
    assert.match(list.stdout, /^wordstats\s+filter\s+0\.1\.0\s+installed\s+pipeline-filter-wordstats$/m);
    const config = 'input { generator { lines => ["hello  pipeline world"] count => 1 } } filter { wordstats { } } output { stdout { codec => json_lines } }';
    const r = ok(run(pipelineBin, ['start', '--api.enabled', 'false', '-e', config], { cwd: work }));
    const ev = JSON.parse(r.stdout.split('\n').find((l) => l.startsWith('{'))!) as { wordstats: unknown };
    assert.deepEqual(ev.wordstats, { length: 21, words: 3 });
  });

  it('tells systemd READY=1 over $NOTIFY_SOCKET once its inputs listen', async () => {
    const py = run('python3', ['-c', 'import socket']);
    if (py.status !== 0) throw new Error('python3 is needed for the unix datagram listener');
    const dir = join(tmp, 'notify');
    mkdirSync(dir);
    const sock = join(dir, 'notify.sock');
    // a real AF_UNIX SOCK_DGRAM socket, as systemd's; each datagram printed on one line
    const listener = spawn('python3', ['-u', '-c', `import socket,sys\ns=socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)\ns.bind(sys.argv[1])\nprint('BOUND', flush=True)\nwhile True:\n  d=s.recv(4096)\n  print(d.decode().replace('\\n','|'), flush=True)\n`, sock], { stdio: ['ignore', 'pipe', 'inherit'] });
    let heard = '';
    const waitHeard = (re: RegExp, what: string) =>
      new Promise<void>((res, rej) => {
        const timer = setTimeout(() => rej(new Error(`no ${what}; heard: ${heard}`)), 30_000);
        const check = () => {
          if (re.test(heard)) {
            clearTimeout(timer);
            listener.stdout!.off('data', onData);
            res();
          }
        };
        const onData = (d: Buffer) => {
          heard += d.toString();
          check();
        };
        listener.stdout!.on('data', onData);
        check();
      });
    try {
      await waitHeard(/^BOUND$/m, 'listener');
      const tcpPort = await freePort();
      const udpPort = await freePort();
      const config = `input { tcp { port => ${tcpPort} host => "localhost" } udp { port => ${udpPort} host => "127.0.0.1" } } output { file { path => "${join(dir, 'got.log')}" codec => line { format => "%{message}" } } }`;
      const child = spawn(pipelineBin, ['start', '--api.enabled', 'false', '-e', config], { cwd: dir, env: { ...process.env, NOTIFY_SOCKET: sock }, stdio: ['ignore', 'ignore', 'pipe'] });
      let err = '';
      child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
      const exited = new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
      try {
        await waitHeard(/READY=1/, 'READY=1');
        // the moment READY=1 arrives, both inputs take traffic: no retry
        await new Promise<void>((res, rej) => {
          const c = connect({ host: '127.0.0.1', port: tcpPort }, () => c.end('over tcp\n', () => res()));
          c.on('error', rej);
        });
        const u = createSocket('udp4');
        await new Promise<void>((res, rej) => u.send('over udp', udpPort, '127.0.0.1', (e) => (e ? rej(e) : res())));
        u.close();
        const line = heard.split('\n').find((l) => l.includes('READY=1'))!;
        assert.match(line, new RegExp(`MAINPID=${child.pid}`));
        assert.match(line, /STATUS=pipeline main running/);
        const deadline = Date.now() + 20_000;
        const got = () => (existsSync(join(dir, 'got.log')) ? readFileSync(join(dir, 'got.log'), 'utf8').split('\n').filter(Boolean).sort() : []);
        while (got().length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
        assert.deepEqual(got(), ['over tcp', 'over udp']);
        // the environment variable is not passed on to the pipeline's children
        assert.doesNotMatch(err, /could not tell systemd/);
      } finally {
        child.kill('SIGTERM');
        assert.equal(await exited, 0, err);
      }
    } finally {
      listener.kill();
    }
  });
});

describe('Debian package', () => {
  let root = '';
  const extracted = (p: string) => {
    if (!root) {
      root = join(tmp, 'deb-root');
      ok(run('dpkg-deb', ['-x', deb, root]));
    }
    return readFileSync(join(root, p), 'utf8');
  };
  const contents = () => ok(run('dpkg-deb', ['-c', deb])).stdout;
  const field = (name: string) => ok(run('dpkg-deb', ['-f', deb, name])).stdout.trim();

  it('declares its dependencies, architecture and conffiles', () => {
    const engines = (JSON.parse(readFileSync(join(REPO, 'core', 'package.json'), 'utf8')) as { engines: { node: string } }).engines.node;
    assert.equal(field('Package'), 'pipeline');
    assert.equal(field('Version'), VERSION);
    assert.equal(field('Depends'), `nodejs (${engines.replace('>=', '>= ')}), adduser`);
    // it carries better-sqlite3's compiled module: it is not "all"
    assert.equal(field('Architecture'), ok(run('dpkg', ['--print-architecture'])).stdout.trim());
    const info = ok(run('dpkg-deb', ['-I', deb])).stdout;
    for (const s of ['conffiles', 'control', 'postinst', 'prerm', 'postrm']) assert.match(info, new RegExp(`\\b${s}\\b`));
    const ctl = join(tmp, 'control');
    ok(run('dpkg-deb', ['-e', deb, ctl]));
    assert.deepEqual(readFileSync(join(ctl, 'conffiles'), 'utf8').trim().split('\n').sort(), [
      '/etc/pipeline/conf.d/default.conf',
      '/etc/pipeline/pipeline.yml',
      '/etc/pipeline/rules/homelab.sec',
      '/etc/pipeline/rules/openvpn.sec',
      '/etc/pipeline/rules/snort.sec',
      '/etc/pipeline/secrets.env',
    ]);
    for (const s of ['postinst', 'prerm', 'postrm']) {
      const r = ok(run('sh', ['-n', join(ctl, s)]));
      assert.equal(r.stderr, '', `${s}: sh -n`);
    }
  });

  it('holds the files where the service expects them', () => {
    const c = contents();
    const entry = (path: string) => c.split('\n').find((l) => l.endsWith(` .${path}`) || l.includes(` .${path} -> `));
    for (const p of ['/usr/lib/pipeline/bin/pipeline.js', '/usr/lib/pipeline/node_modules/@pipeline/core/package.json', '/usr/lib/pipeline/pipelines/default.conf', '/etc/pipeline/pipeline.yml', '/etc/pipeline/conf.d/default.conf', '/etc/pipeline/rules/homelab.sec', '/lib/systemd/system/pipeline.service', '/var/lib/pipeline/', '/var/log/pipeline/', '/usr/lib/pipeline/lib/native-module.sh', '/usr/lib/pipeline/node_modules/better-sqlite3/build/Release/better_sqlite3.node'])
      assert.ok(entry(p), `${p} in the package`);
    assert.match(entry('/usr/bin/pipeline')!, /-> \.\.\/lib\/pipeline\/bin\/pipeline\.js$/);
    assert.match(entry('/usr/lib/pipeline/config')!, /-> \.\.\/\.\.\/\.\.\/etc\/pipeline$/);
    assert.match(entry('/etc/pipeline/secrets.env')!, /^-rw------- root\/root /);
    // every file root-owned (--root-owner-group)
    assert.deepEqual([...new Set(c.trim().split('\n').map((l) => l.split(/\s+/)[1]))], ['root/root']);
    assert.equal(extracted('/lib/systemd/system/pipeline.service'), readFileSync(join(REPO, 'config', 'pipeline.service'), 'utf8'));
  });

  it('runs from the extracted tree: the check of its config, the plugin list', () => {
    extracted('/etc/pipeline/pipeline.yml');
    const bin = join(root, 'usr', 'bin', 'pipeline');
    const work = join(tmp, 'deb-work');
    mkdirSync(work);
    // the package's own default pipeline (the one under /etc names absolute /etc paths; see the next test)
    const r = ok(run(bin, ['start', '-t', '-f', join(root, 'usr/lib/pipeline/pipelines/default.conf'), '--path.data', join(work, 'data')], { cwd: work }));
    assert.match(r.stdout, /Configuration OK/);
    const list = ok(run(bin, ['plugin', 'list', '--path.data', join(work, 'data')], { cwd: work }));
    assert.deepEqual(rowsOf(list.stdout).map((r) => `${r.kind} ${r.name}`).sort(), builtinsOfTheClone().sort());
    // the service's config differs from pipelines/default.conf only by its paths
    assert.match(extracted('/etc/pipeline/conf.d/default.conf'), /rules => \["\/etc\/pipeline\/rules\/homelab\.sec"\]/);
  });

  it('native-module.sh: a module that does not load and no compiler is a clear error', () => {
    extracted('/etc/pipeline/pipeline.yml');
    const mod = join(root, 'usr/lib/pipeline/node_modules/better-sqlite3/build/Release/better_sqlite3.node');
    const good = readFileSync(mod);
    const script = join(root, 'usr/lib/pipeline/lib/native-module.sh');
    assert.equal(ok(run('sh', [script, join(root, 'usr/lib/pipeline')])).stderr, '', 'the shipped module loads: nothing to do');
    writeFileSync(mod, 'not an ELF file');
    // a PATH with node and nothing to build with
    const bin = join(tmp, 'bare-bin');
    mkdirSync(bin);
    symlinkSync(process.execPath, join(bin, 'node'));
    for (const t of ['uname']) symlinkSync(ok(run('sh', ['-c', `command -v ${t}`])).stdout.trim(), join(bin, t));
    const r = run('/bin/sh', [script, join(root, 'usr/lib/pipeline')], { env: { PATH: bin } });
    writeFileSync(mod, good);
    chmodSync(mod, 0o755);
    assert.equal(r.status, 1, outputOf(r));
    assert.match(r.stderr, /does not load with node v\d+/);
    assert.match(r.stderr, /cannot build better-sqlite3 for node v[\d.]+: missing python3 make g\+\+/);
    assert.match(r.stderr, /apt-get install python3 make g\+\+/);
  });

  it('installs with dpkg in a throwaway root: user, folders, config check as the service user; removes and purges', (t) => {
    // dpkg -i for real, inside a private mount namespace whose /etc, /usr, /var and /lib are
    // overlays on a temporary folder: the host's files and dpkg database are never touched
    const can = run('unshare', ['-m', 'sh', '-c', `mkdir -p ${tmp}/probe/u ${tmp}/probe/w && mount -t overlay overlay -o lowerdir=/etc,upperdir=${tmp}/probe/u,workdir=${tmp}/probe/w /etc`]);
    const nodejs = run('dpkg-query', ['-W', '-f', '${Version}', 'nodejs']);
    if (can.status !== 0 || nodejs.status !== 0) {
      t.skip(`needs root with unshare and overlayfs, and nodejs as a dpkg package: ${can.stderr.trim() || nodejs.stderr.trim()}`);
      return;
    }
    const ov = join(tmp, 'overlay');
    const script = `set -e
for d in etc usr var lib; do mkdir -p ${ov}/$d/u ${ov}/$d/w; mount -t overlay overlay -o lowerdir=/$d,upperdir=${ov}/$d/u,workdir=${ov}/$d/w /$d; done
dpkg -i ${deb} >/dev/null
echo "user: $(id -nG pipeline)"
echo "home: $(getent passwd pipeline | cut -d: -f6)"
echo "data: $(stat -c '%U:%G %a' /var/lib/pipeline)"
echo "logs: $(stat -c '%U:%G %a' /var/log/pipeline)"
echo "secrets: $(stat -c '%U:%G %a' /etc/pipeline/secrets.env)"
cd /var/lib/pipeline
runuser -u pipeline -- /usr/bin/pipeline start --path.settings /etc/pipeline --config.test_and_exit
runuser -u pipeline -- /usr/bin/pipeline plugin list | tail -n +2 | wc -l | sed 's/^/plugins: /'
dpkg -r pipeline >/dev/null
echo "after remove: lib=$(test -e /usr/lib/pipeline && echo yes || echo no) etc=$(ls /etc/pipeline | tr '\\n' ' ')"
dpkg -P pipeline >/dev/null
echo "after purge: etc=$(test -e /etc/pipeline && echo yes || echo no) data=$(test -e /var/lib/pipeline && echo yes || echo no)"
`;
    const hostHad = existsSync('/usr/lib/pipeline') || existsSync('/etc/pipeline');
    const r = ok(run('unshare', ['-m', 'sh', '-c', script]));
    const n = builtinsOfTheClone().length;
    assert.match(r.stdout, /^user: pipeline adm$/m);
    assert.match(r.stdout, /^home: \/var\/lib\/pipeline$/m);
    assert.match(r.stdout, /^data: pipeline:pipeline 750$/m);
    assert.match(r.stdout, /^logs: pipeline:adm 2750$/m);
    assert.match(r.stdout, /^secrets: root:root 600$/m);
    assert.match(r.stdout, /^Configuration OK$/m);
    assert.match(r.stdout, new RegExp(`^plugins: ${n}$`, 'm'));
    assert.match(r.stdout, /^after remove: lib=no etc=conf.d pipeline.yml rules secrets.env $/m);
    assert.match(r.stdout, /^after purge: etc=no data=no$/m);
    if (!hostHad) assert.ok(!existsSync('/usr/lib/pipeline') && !existsSync('/etc/pipeline'), 'nothing installed on the host');
  });
});

describe('systemd unit', () => {
  it('passes systemd-analyze verify, pointed at the installed command', () => {
    assert.ok(pipelineBin, 'the npm package test installed pipeline');
    const unit = readFileSync(join(REPO, 'config', 'pipeline.service'), 'utf8');
    for (const line of ['Type=notify', 'NotifyAccess=all', 'ExecReload=/bin/kill -HUP $MAINPID', 'ReadWritePaths=-/var/log/pipeline -/srv/logs'])
      assert.ok(unit.split('\n').includes(line), line);
    assert.match(unit, /^ExecStartPre=\/usr\/bin\/pipeline start --path.settings \/etc\/pipeline --config.test_and_exit$/m);
    assert.doesNotMatch(unit, /\/opt\//);
    const dir = join(tmp, 'unit');
    mkdirSync(dir);
    writeFileSync(join(dir, 'pipeline.service'), unit.replaceAll('/usr/bin/pipeline', pipelineBin));
    const r = run('systemd-analyze', ['verify', join(dir, 'pipeline.service')], { env: { PATH: `${dirname(process.execPath)}${delimiter}${process.env.PATH}` } });
    assert.equal(r.status, 0, outputOf(r));
    assert.equal(r.stderr.trim(), '', 'no warnings');
    // and it does fail on a broken unit (a missing command, a bad type)
    writeFileSync(join(dir, 'pipeline.service'), unit.replaceAll('/usr/bin/pipeline', join(dir, 'missing')).replace('Type=notify', 'Type=notifyy'));
    const bad = run('systemd-analyze', ['verify', join(dir, 'pipeline.service')]);
    assert.notEqual(bad.status, 0, outputOf(bad));
    assert.match(bad.stderr, /not executable/);
  });
});
