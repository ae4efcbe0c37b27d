import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { cli, FIXTURES, tempDir } from './helpers.js';

const HELLO = join(FIXTURES, 'plugins-install', 'pipeline-filter-hello');
const conf = 'input { generator { count => 1 message => "world" } } filter { hello {} } output { stdout { codec => json_lines } }';

describe('pipeline plugin install / list / remove', () => {
  it('installs from a local directory, runs it, lists it, removes it', () => {
    const t = tempDir();
    try {
      const data = join(t.dir, 'data');
      const inst = cli(['plugin', 'install', HELLO, '--path.data', data]);
      assert.equal(inst.status, 0, inst.stderr);
      assert.match(inst.stdout, /Installed pipeline-filter-hello@1\.2\.3: filter hello/);

      const list = cli(['plugin', 'list', '--path.data', data]);
      assert.match(list.stdout, /^hello\s+filter\s+1\.2\.3\s+installed\s+pipeline-filter-hello$/m);
      assert.match(list.stdout, /^generator\s+input\s+\S+\s+builtin/m);

      const run = cli(['start', '--path.data', data, '-e', conf]);
      assert.equal(run.status, 0, run.stderr);
      assert.equal((JSON.parse(run.stdout) as { greeting: string }).greeting, 'hello world');

      const rm = cli(['plugin', 'remove', 'hello', '--path.data', data]);
      assert.equal(rm.status, 0, rm.stderr);
      const check = cli(['start', '-t', '--path.data', data, '-e', conf]);
      assert.equal(check.status, 1);
      assert.match(check.stderr, /unknown filter plugin 'hello'/);
    } finally {
      t.cleanup();
    }
  });

  it('installs from a tarball made by npm pack', () => {
    const t = tempDir();
    try {
      const src = join(t.dir, 'src');
      cpSync(HELLO, src, { recursive: true });
      execFileSync('npm', ['pack', '--silent', '--pack-destination', t.dir], { cwd: src, stdio: 'pipe' });
      const tgz = readdirSync(t.dir).find((f) => f.endsWith('.tgz'))!;
      const data = join(t.dir, 'data');
      const inst = cli(['plugin', 'install', join(t.dir, tgz), '--path.data', data]);
      assert.equal(inst.status, 0, inst.stderr);
      const run = cli(['start', '--path.data', data, '-e', conf]);
      assert.equal(run.status, 0, run.stderr);
      assert.equal((JSON.parse(run.stdout) as { greeting: string }).greeting, 'hello world');
    } finally {
      t.cleanup();
    }
  });

  it('refuses a plugin made for another core version, installing nothing', () => {
    const t = tempDir();
    try {
      const data = join(t.dir, 'data');
      const r = cli(['plugin', 'install', join(FIXTURES, 'plugins-install', 'pipeline-filter-toonew'), '--path.data', data]);
      assert.equal(r.status, 1);
      assert.match(r.stderr, /needs @pipeline\/core \^9\.0\.0, but this is core 0\.1\.0/);
      assert.doesNotMatch(cli(['plugin', 'list', '--path.data', data]).stdout, /toonew/);
    } finally {
      t.cleanup();
    }
  });

  it('refuses a package that is not a plugin', () => {
    const t = tempDir();
    try {
      const r = cli(['plugin', 'install', join(FIXTURES, '..', '..', 'package.json').replace('package.json', 'bin'), '--path.data', t.dir]);
      assert.equal(r.status, 1);
    } finally {
      t.cleanup();
    }
  });
});
