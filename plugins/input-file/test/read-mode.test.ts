import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';

/**
 * Logstash's one-shot idiom, through the real command: `mode => read`, `sincedb_path => "/dev/null"`,
 * `exit_after_read => true` reads each file once and the process ends by itself.
 */
const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');
const BIN = join(REPO, 'core', 'bin', 'pipeline.js');

describe('file input, read mode', () => {
  it('reads each file once per run with sincedb_path "/dev/null", and exit_after_read ends the run', () => {
    const dir = mkdtempSync(join(tmpdir(), 'file-read-'));
    try {
      const lines = Array.from({ length: 5000 }, (_, i) => `line ${i}`);
      writeFileSync(join(dir, 'a.log'), lines.join('\n') + '\n');
      writeFileSync(join(dir, 'b.log'), 'only line\n');
      const out = join(dir, 'out.txt');
      const done = join(dir, 'done.txt');
      const conf = `input { file { path => "${dir}/*.log" mode => read sincedb_path => "/dev/null" file_completed_action => log file_completed_log_path => "${done}" exit_after_read => true stat_interval => 0.1 } }
        output { file { path => "${out}" codec => line { format => "%{message}" } } }`;
      const r = spawnSync(process.execPath, [BIN, 'start', '-e', conf, '--path.data', join(dir, 'data'), '--api.enabled', 'false'], { encoding: 'utf8', timeout: 120_000 });
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stderr, /every file has been read \(exit_after_read\)/);
      const got = readFileSync(out, 'utf8').split('\n').filter(Boolean);
      assert.equal(got.length, lines.length + 1, 'each line once: the kept files were not read again');
      assert.deepEqual(got.filter((l) => l.startsWith('line ')), lines);
      assert.deepEqual(readFileSync(done, 'utf8').split('\n').filter(Boolean).sort(), [join(dir, 'a.log'), join(dir, 'b.log')]);
      assert.ok(existsSync(join(dir, 'a.log')), 'file_completed_action => log keeps the file');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('exit_after_read outside read mode is refused at -t, naming the option', () => {
    const r = spawnSync(process.execPath, [BIN, 'start', '-t', '-e', 'input { file { path => "/tmp/x.log" exit_after_read => true } } output { null {} }'], { encoding: 'utf8' });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /exit_after_read works in read mode only/);
  });
});
