import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { cli, FIXTURES, tempDir } from './helpers.js';

/**
 * Commands packages contribute ("pipeline.commands" in package.json): listed by `pipeline --help`
 * without importing them, run with the arguments after their name, refused when they collide.
 */
const DIR = join(FIXTURES, 'plugins-commands');
const GREET = join(DIR, 'pipeline-greet');
const LOADED = /greet: module loaded/;

describe('commands contributed by packages', () => {
  it('an installed package adds `pipeline greet`: listed from package.json, imported only when it runs, raw arguments, exit code', () => {
    const t = tempDir();
    try {
      // the default path.data (./data) of the working directory is where `pipeline greet` looks
      const inst = cli(['plugin', 'install', GREET, '--path.data', join(t.dir, 'data')], { cwd: t.dir });
      assert.equal(inst.status, 0, inst.stderr);
      assert.match(inst.stdout, /Installed pipeline-greet@2\.0\.1: filter greet; command greet/);

      const help = cli(['--help'], { cwd: t.dir });
      assert.equal(help.status, 0, help.stderr);
      assert.match(help.stdout, /pipeline greet\s+print a greeting for each name given/);
      assert.match(help.stdout, /pipeline sec\s+check SEC rule files/, 'the built-in package keeps its command');
      assert.doesNotMatch(help.stderr, LOADED, '--help reads package.json only');
      const start = cli(['start', '-t', '-e', 'input { stdin {} } filter { greet {} } output { stdout {} }'], { cwd: t.dir });
      assert.equal(start.status, 0, start.stderr);
      assert.doesNotMatch(start.stderr, LOADED, 'another command imports nothing of it');

      const run = cli(['greet', '--shout', 'bob', 'a b', '--', '--not-a-flag'], { cwd: t.dir });
      assert.equal(run.status, 0, run.stderr);
      assert.match(run.stderr, LOADED);
      const lines = run.stdout.trim().split('\n');
      assert.deepEqual(lines.slice(0, 3), ['HELLO bob', 'HELLO a b', 'HELLO --not-a-flag']);
      assert.equal(lines[3], `args=${JSON.stringify(['--shout', 'bob', 'a b', '--', '--not-a-flag'])} data=./data cwd=${t.dir} core=0.1.0`);

      const usage = cli(['greet'], { cwd: t.dir });
      assert.equal(usage.status, 2);
      assert.match(usage.stderr, /usage: pipeline greet \[--shout\] NAME\.\.\./);
      assert.equal(cli(['greet', 'x', '--fail', '3'], { cwd: t.dir }).status, 3);

      const none = cli([], { cwd: t.dir });
      assert.match(none.stderr, /name a command: start, test, replay, status, plugin, certs, greet, sec or dlq/);

      assert.equal(cli(['plugin', 'remove', 'pipeline-greet', '--path.data', join(t.dir, 'data')], { cwd: t.dir }).status, 0);
      const gone = cli(['greet', 'bob'], { cwd: t.dir });
      assert.equal(gone.status, 2);
      assert.match(gone.stderr, /Unknown arguments: greet, bob/);
      assert.doesNotMatch(cli(['--help'], { cwd: t.dir }).stdout, /pipeline greet/);
    } finally {
      t.cleanup();
    }
  });

  it('a core command name or another package\'s command is refused with a warning naming the package; core and the first package win', () => {
    const t = tempDir();
    try {
      assert.equal(cli(['plugin', 'install', GREET, '--path.data', join(t.dir, 'data')], { cwd: t.dir }).status, 0);
      // the other two packages come from path.plugins in the working directory's settings
      mkdirSync(join(t.dir, 'config'));
      writeFileSync(join(t.dir, 'config', 'pipeline.yml'), `path.plugins:\n  - ${join(DIR, 'pipeline-squatter')}\n  - ${join(DIR, 'pipeline-broken')}\n`);

      const help = cli(['--help'], { cwd: t.dir });
      assert.equal(help.status, 0, help.stderr);
      const warned = help.stderr;
      assert.match(warned, /^pipeline: warning: command 'start' of package pipeline-squatter \(path, .*pipeline-squatter\) is refused: 'start' is a core command$/m);
      assert.match(warned, /^pipeline: warning: command 'greet' of package pipeline-squatter \(path, .*\) is refused: package pipeline-greet \(installed\) already provides 'greet'; remove one of them$/m);
      assert.match(warned, /package pipeline-broken \(path, .*\): command 'escape': module '\.\.\/pipeline-greet\/cli\.js' is outside the package; ignored/);
      assert.match(warned, /package pipeline-broken .*: command name 'Bad_Name' is not lowercase letters/);
      assert.match(warned, /package pipeline-broken .*: command 'nomodule' names no "module"/);
      assert.match(help.stdout, /pipeline squat\s+\(a command of pipeline-squatter\)/);
      assert.doesNotMatch(help.stdout, /pipeline escape|pipeline nomodule|Bad_Name/);

      const start = cli(['start', '-t', '-e', 'input { stdin {} } output { stdout {} }'], { cwd: t.dir });
      assert.equal(start.status, 0, start.stderr);
      assert.equal(start.stdout, 'Configuration OK\n', 'core runs its own start');
      assert.match(start.stderr, /command 'start' of package pipeline-squatter .* is refused/);

      const greet = cli(['greet', 'bob'], { cwd: t.dir });
      assert.equal(greet.status, 0, greet.stderr);
      assert.match(greet.stdout, /^hello bob$/m);
      assert.doesNotMatch(greet.stdout, /squatter/);

      const squat = cli(['squat', 'x', '-y'], { cwd: t.dir });
      assert.equal(squat.status, 0, squat.stderr);
      assert.equal(squat.stdout, 'squatter ran with ["x","-y"]\n', 'a default-exported function runs too');

      const norun = cli(['norun'], { cwd: t.dir });
      assert.equal(norun.status, 1);
      assert.match(norun.stderr, /^pipeline: command 'norun' of package pipeline-broken: .*pipeline-broken\/cli\.js exports no run\(args, ctx\) function$/m);
      const missing = cli(['missing'], { cwd: t.dir });
      assert.equal(missing.status, 1);
      assert.match(missing.stderr, /^pipeline: command 'missing' of package pipeline-broken could not be loaded from .*dist\/absent\.js: /m);
    } finally {
      t.cleanup();
    }
  });
});
