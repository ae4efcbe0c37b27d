import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { cli, FIXTURES, tempDir } from './helpers.js';

/** `pipeline plugin update` and `pipeline plugin list --verbose`, with real npm installs. */
const HELLO = join(FIXTURES, 'plugins-install', 'pipeline-filter-hello');
const conf = 'input { generator { count => 1 message => "world" } } filter { hello {} } output { stdout { codec => json_lines } }';

/** A copy of the hello fixture at `dir`, as version `version` greeting with `word`. */
function helloSource(dir: string, version: string, word: string): void {
  cpSync(HELLO, dir, { recursive: true });
  const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version: string };
  pkg.version = version;
  writeFileSync(join(dir, 'package.json'), JSON.stringify(pkg, null, 2));
  writeFileSync(join(dir, 'index.js'), readFileSync(join(dir, 'index.js'), 'utf8').replace("'hello %{message}'", `'${word} %{message}'`));
}

/** `npm pack` of a source directory, moved to `tgz`. */
function pack(src: string, tgz: string, into: string): void {
  const name = execFileSync('npm', ['pack', '--silent', '--pack-destination', into], { cwd: src, encoding: 'utf8' }).trim().split('\n').pop()!;
  renameSync(join(into, name), tgz);
}

const greeting = (data: string) => {
  const r = cli(['start', '--path.data', data, '-e', conf]);
  assert.equal(r.status, 0, r.stderr);
  return (JSON.parse(r.stdout) as { greeting: string }).greeting;
};

describe('pipeline plugin update', () => {
  it('reinstalls from the recorded tarball path: a new tarball there is the update', () => {
    const t = tempDir();
    try {
      const data = join(t.dir, 'data');
      const tgz = join(t.dir, 'hello.tgz');
      helloSource(join(t.dir, 'v1'), '1.2.3', 'hello');
      pack(join(t.dir, 'v1'), tgz, t.dir);
      assert.equal(cli(['plugin', 'install', tgz, '--path.data', data]).status, 0);
      assert.equal(greeting(data), 'hello world');

      const list = cli(['plugin', 'list', '--verbose', '--path.data', data]);
      assert.equal(list.status, 0, list.stderr);
      assert.match(list.stdout, /^NAME\s+KIND\s+VERSION\s+SOURCE\s+PACKAGE\s+PATH\s+FROM$/m);
      assert.match(list.stdout, new RegExp(`^hello\\s+filter\\s+1\\.2\\.3\\s+installed\\s+pipeline-filter-hello\\s+${join(data, 'plugins', 'node_modules', 'pipeline-filter-hello')}\\s+${tgz}$`, 'm'));
      assert.match(list.stdout, /^sec\s+command\s+\S+\s+builtin\s+@pipeline\/correlate-sec\s+\S+correlate-sec$/m, 'commands packages add are listed');
      assert.match(list.stdout, /^generator\s+input\s+\S+\s+builtin\s+@pipeline\/input-generator\s+\S+$/m);
      assert.doesNotMatch(cli(['plugin', 'list', '--path.data', data]).stdout, /PATH|command/, 'without --verbose: the five columns');

      helloSource(join(t.dir, 'v2'), '1.3.0', 'hi');
      pack(join(t.dir, 'v2'), tgz, t.dir);
      const up = cli(['plugin', 'update', '--path.data', data]);
      assert.equal(up.status, 0, up.stderr);
      assert.equal(up.stdout, `Updated pipeline-filter-hello 1.2.3 -> 1.3.0 from ${tgz}\n`);
      assert.equal(greeting(data), 'hi world');
      assert.match(cli(['plugin', 'list', '--path.data', data]).stdout, /^hello\s+filter\s+1\.3\.0\s+installed/m);

      const again = cli(['plugin', 'update', 'hello', '--path.data', data]);
      assert.equal(again.status, 0, again.stderr);
      assert.equal(again.stdout, `pipeline-filter-hello 1.3.0 reinstalled (no newer version) from ${tgz}\n`);
    } finally {
      t.cleanup();
    }
  });

  it('a directory install is updated from that directory; without a record the home\'s package.json is used and the source recorded from then on', () => {
    const t = tempDir();
    try {
      const data = join(t.dir, 'data');
      const src = join(t.dir, 'src');
      helloSource(src, '1.2.3', 'hello');
      assert.equal(cli(['plugin', 'install', src, '--path.data', data]).status, 0);
      // as a plugin home written before sources were recorded
      const record = join(data, 'plugins', 'pipeline-sources.json');
      assert.ok(existsSync(record));
      rmSync(record);
      rmSync(src, { recursive: true });
      helloSource(src, '2.0.0', 'hey');
      const up = cli(['plugin', 'update', 'pipeline-filter-hello', '--path.data', data]);
      assert.equal(up.status, 0, up.stderr);
      assert.equal(up.stdout, `Updated pipeline-filter-hello 1.2.3 -> 2.0.0 from ${src}\n  where pipeline-filter-hello was installed from was not recorded; taken from the plugin home's package.json and recorded from now on\n`);
      assert.equal(greeting(data), 'hey world');
      assert.equal((JSON.parse(readFileSync(record, 'utf8')) as Record<string, { spec: string; type: string }>)['pipeline-filter-hello']!.type, 'directory');
      assert.match(cli(['plugin', 'list', '--verbose', '--path.data', data]).stdout, new RegExp(`^hello\\s+filter\\s+2\\.0\\.0\\s+installed\\s+pipeline-filter-hello\\s+\\S+\\s+${src}$`, 'm'));
    } finally {
      t.cleanup();
    }
  });

  it('refuses built-ins, unknown names and a source that is gone, each with a message; nothing installed: says so', () => {
    const t = tempDir();
    try {
      const data = join(t.dir, 'data');
      const none = cli(['plugin', 'update', '--path.data', data]);
      assert.equal(none.status, 0, none.stderr);
      assert.match(none.stdout, /^No installed plugins to update \(plugin home .*\)$/m);

      const builtin = cli(['plugin', 'update', 'grok', '--path.data', data]);
      assert.equal(builtin.status, 1);
      assert.match(builtin.stderr, /^grok is built in \(package @pipeline\/filter-grok@\S+\), not installed: built-in plugins are updated with Pipeline itself; 'pipeline plugin update' updates what 'pipeline plugin install' installed$/m);
      const unknown = cli(['plugin', 'update', 'nosuch', '--path.data', data]);
      assert.equal(unknown.status, 1);
      assert.match(unknown.stderr, /^no installed plugin named nosuch; 'pipeline plugin list' shows what is installed$/m);

      const tgz = join(t.dir, 'hello.tgz');
      helloSource(join(t.dir, 'v1'), '1.2.3', 'hello');
      pack(join(t.dir, 'v1'), tgz, t.dir);
      assert.equal(cli(['plugin', 'install', tgz, '--path.data', data]).status, 0);
      rmSync(tgz);
      const gone = cli(['plugin', 'update', 'hello', '--path.data', data]);
      assert.equal(gone.status, 1);
      assert.match(gone.stderr, new RegExp(`^pipeline-filter-hello was installed from ${tgz}, which no longer exists; install it again with 'pipeline plugin install SPEC'$`, 'm'));
      assert.equal(greeting(data), 'hello world', 'the installed version stays');

      // removed: its record goes too, so nothing is updated from it
      assert.equal(cli(['plugin', 'remove', 'hello', '--path.data', data]).status, 0);
      assert.doesNotMatch(readFileSync(join(data, 'plugins', 'pipeline-sources.json'), 'utf8'), /hello/);
    } finally {
      t.cleanup();
    }
  });
});
