import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, fstatSync, openSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { BIN, REPO, freePort, startPipeline, tempDir, waitFor } from './util.js';

/**
 * The program's own log as operators read it: JSON lines with level names and a syslog priority,
 * prefixed for journald when stderr is a journal stream (JOURNAL_STREAM), config errors as JSON
 * objects in JSON mode, and `--path.logs` (`-l`) writing a file that SIGUSR2 reopens.
 */
const BAD = 'input { generator { count => 1 } }\nfilter {\n  if [message] =~ /sshd\\[(\\d+\\]/ { drop {} }\n}\noutput { stdout {} }\n';

describe('program log', { concurrency: false }, () => {
  test('JSON lines carry level names and syslog priorities', async () => {
    const t = tempDir();
    try {
      const p = startPipeline(['-e', 'input { generator { count => 1 } } output { null {} }', '--path.data', join(t.dir, 'data'), '--api.enabled', 'false']);
      assert.equal(await p.exited, 0, p.stderr());
      const lines = p.stderr().split('\n').filter((l) => l.length > 0).map((l) => JSON.parse(l) as { level: unknown; priority: unknown; msg: string });
      assert.ok(lines.length > 0);
      for (const l of lines) {
        assert.equal(typeof l.level, 'string', `level name in ${JSON.stringify(l)}`);
        assert.equal(l.priority, { info: 6, warn: 4, error: 3, debug: 7 }[l.level as string]);
      }
      assert.ok(lines.some((l) => l.level === 'info' && l.msg === 'pipeline started'));
    } finally {
      t.cleanup();
    }
  });

  test('a refused config is one JSON object with the located errors, at -t and at start', () => {
    const t = tempDir();
    try {
      const conf = join(t.dir, 'bad.conf');
      writeFileSync(conf, BAD);
      for (const extra of [['-t'], []]) {
        const r = spawnSync(process.execPath, [BIN, 'start', '-f', conf, '--log.format', 'json', '--path.data', join(t.dir, 'data'), '--api.enabled', 'false', ...extra], { cwd: REPO, encoding: 'utf8' });
        assert.equal(r.status, 1, r.stderr);
        const objects = r.stderr.split('\n').filter((l) => l.length > 0).map((l) => JSON.parse(l) as Record<string, unknown>);
        const refused = objects.find((o) => String(o.msg).startsWith('configuration refused'));
        assert.ok(refused, r.stderr);
        assert.equal(refused.level, 'error');
        assert.equal(refused.priority, 3);
        const [e] = refused.errors as { file: string; line: number; column: number; message: string }[];
        assert.equal(e!.file, conf);
        assert.equal(e!.line, 3);
        assert.match(e!.message, /regular expression|regex/i);
      }
    } finally {
      t.cleanup();
    }
  });

  test('on a journald stream every line starts with <priority>, which journald strips', async () => {
    const t = tempDir();
    try {
      const port = await freePort();
      const errFile = join(t.dir, 'stderr');
      const fd = openSync(errFile, 'w');
      const st = fstatSync(fd);
      // a port already in use: the input fails, an error line
      const blocker = spawn(process.execPath, ['-e', `require('net').createServer().listen(${port}, '127.0.0.1', () => console.log('up'))`], { stdio: ['ignore', 'pipe', 'ignore'] });
      await new Promise<void>((r) => blocker.stdout!.once('data', () => r()));
      try {
        const child = spawn(process.execPath, [BIN, 'start', '-e', `input { tcp { port => ${port} host => "127.0.0.1" } } output { null {} }`, '--log.format', 'json', '--path.data', join(t.dir, 'data'), '--api.enabled', 'false'], {
          cwd: REPO,
          stdio: ['ignore', 'ignore', fd],
          env: { ...process.env, JOURNAL_STREAM: `${st.dev}:${st.ino}` },
        });
        const code = await new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
        assert.equal(code, 1);
      } finally {
        blocker.kill();
        closeSync(fd);
      }
      // what journald's stream reader does with SyslogLevelPrefix=yes: a leading <N> is the priority
      const entries = readFileSync(errFile, 'utf8')
        .split('\n')
        .filter((l) => l.length > 0)
        .map((l) => {
          const m = /^<([0-7])>(.*)$/.exec(l);
          assert.ok(m, `no priority prefix: ${l}`);
          return { priority: Number(m[1]), record: JSON.parse(m[2]!) as { level: string; priority: number; msg: string } };
        });
      for (const e of entries) assert.equal(e.priority, e.record.priority);
      assert.ok(entries.some((e) => e.priority === 3 && e.record.msg === 'input failed'), JSON.stringify(entries));
      assert.ok(entries.some((e) => e.priority === 6));
    } finally {
      t.cleanup();
    }
  });

  test('-l writes the log to DIR/pipeline-json.log (JSON mode) and SIGUSR2 reopens it after a rotation', async () => {
    const t = tempDir();
    try {
      const logs = join(t.dir, 'logs');
      const file = join(logs, 'pipeline-json.log');
      // startPipeline passes --log.format json
      const p = startPipeline(['-e', 'input { stdin { } } output { null {} }', '-l', logs, '--path.data', join(t.dir, 'data'), '--api.enabled', 'false']);
      await waitFor(() => existsSync(file) && readFileSync(file, 'utf8').includes('pipeline started'), `the log file:\n${p.stderr()}`);
      const started = readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { msg: string; level: string }).find((r) => r.msg === 'pipeline started');
      assert.equal(started?.level, 'info');
      renameSync(file, file + '.1');
      p.child.kill('SIGUSR2');
      await waitFor(() => existsSync(file) && readFileSync(file, 'utf8').includes('SIGUSR2'), 'the reopened log file');
      assert.ok(readFileSync(file + '.1', 'utf8').includes('pipeline started'), 'the rotated file keeps what was written before');
      p.child.stdin!.end();
      assert.equal(await p.exited, 0, p.stderr());
      assert.match(readFileSync(file, 'utf8'), /pipeline stopped/);
    } finally {
      t.cleanup();
    }
  });

  test('-l in plain mode writes DIR/pipeline-plain.log as the console shows it', () => {
    const t = tempDir();
    try {
      const logs = join(t.dir, 'logs');
      const r = spawnSync(process.execPath, [BIN, 'start', '-e', 'input { generator { count => 1 } } output { null {} }', '-l', logs, '--path.data', join(t.dir, 'data'), '--api.enabled', 'false'], { cwd: REPO, encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      const text = readFileSync(join(logs, 'pipeline-plain.log'), 'utf8');
      assert.match(text, /\[INFO \]\[pipeline\] pipeline started/);
      assert.match(r.stderr, /\[INFO \]\[pipeline\] pipeline started/, 'and still on stderr');
    } finally {
      t.cleanup();
    }
  });
});
