import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cli, tempDir } from './helpers.js';

/** Command-line mistakes get one line and exit 2; Logstash's -e '' and --config.debug work. */
describe('the command line', () => {
  const oneLine = (stderr: string) => stderr.split('\n').filter((l) => l.length > 0);

  it('a bad flag, a flag given twice or a bad number: one line, exit 2, nothing started', () => {
    const t = tempDir();
    try {
      const base = ['start', '--path.data', t.dir, '--api.enabled', 'false'];
      for (const [args, want] of [
        [['--nope'], /Unknown argument: nope/],
        [['-f', 'a.conf', '-f', 'b.conf', '-t'], /-f\/--path.config was given 2 times; give it once \(a directory or a glob reads several files\)/],
        [['-w', 'abc', '-e', 'input { stdin {} } output { null {} }'], /-w\/--pipeline.workers takes a number/],
        [[], undefined],
      ] as [string[], RegExp | undefined][]) {
        if (!want) continue;
        const r = cli([...base, ...args]);
        assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
        const lines = oneLine(r.stderr);
        assert.equal(lines.length, 1, `${args.join(' ')}: ${r.stderr}`);
        assert.match(lines[0]!, want);
        assert.doesNotMatch(r.stderr, /pipeline started|listening/);
      }
      const none = cli([]);
      assert.equal(none.status, 2);
      assert.equal(oneLine(none.stderr).length, 1);
    } finally {
      t.cleanup();
    }
  });

  it("-e '' reads stdin and prints rubydebug, as Logstash", () => {
    const t = tempDir();
    try {
      const r = cli(['start', '-e', '', '--path.data', t.dir, '--api.enabled', 'false', '--log.level', 'warn'], { input: 'hello\n' });
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /"message" => "hello"/);
      assert.match(r.stdout, /"type" => "stdin"/);
    } finally {
      t.cleanup();
    }
  });

  it('--config.debug logs the config as read, at debug', () => {
    const t = tempDir();
    try {
      const conf = 'input { generator { count => 1 } } output { null {} }';
      const r = cli(['start', '-e', conf, '--config.debug', '--log.level', 'debug', '--log.format', 'json', '--path.data', t.dir, '--api.enabled', 'false']);
      assert.equal(r.status, 0, r.stderr);
      const rec = oneLine(r.stderr).map((l) => JSON.parse(l) as Record<string, unknown>).find((o) => String(o.msg).startsWith('config.debug'));
      assert.equal(rec?.config, conf);
    } finally {
      t.cleanup();
    }
  });
});
