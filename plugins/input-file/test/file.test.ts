import assert from 'node:assert/strict';
import { appendFileSync, existsSync, mkdirSync, readFileSync, renameSync, truncateSync, writeFileSync, copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { runCommand, start, tempDir, waitFor, type Started } from '@pipeline/net/testing';
import file from '../src/index.js';

let tmp: ReturnType<typeof tempDir>;
let logs: string;
let data: string;
beforeEach(() => {
  tmp = tempDir('pipeline-file-');
  logs = join(tmp.dir, 'logs');
  data = join(tmp.dir, 'data');
  mkdirSync(logs);
  mkdirSync(data);
});
afterEach(() => tmp.cleanup());

const messages = (t: Started) => t.sink.events.map((e) => e.get('message') as string);

/** Moves the virtual clock one stat interval and waits for that scan to finish. */
async function tick(t: Started, n = 1): Promise<void> {
  for (let i = 0; i < n; i++) {
    const before = t.metric('scans');
    t.ctx.clock.advance(1000);
    await waitFor(() => t.metric('scans') > before, 'a scan');
  }
}

async function startFile(config: string): Promise<Started> {
  // the file input has no port: start() waits for `listen_port`, so wait for the first scan instead
  return start(file, config, { dataDir: data }).catch((e) => {
    throw e;
  });
}

describe('file input', () => {
  it('files present at start are read from their end, files created later from their start; exclude applies', async () => {
    writeFileSync(join(logs, 'host1-sshd.log'), 'old 1\nold 2\n');
    const t = await startFile(`path => "${logs}/*-sshd.log*" exclude => "*.gz" stat_interval => 1 discover_interval => 1`);
    try {
      await tick(t);
      assert.deepEqual(messages(t), []);
      appendFileSync(join(logs, 'host1-sshd.log'), 'new 1\n');
      writeFileSync(join(logs, 'host2-sshd.log'), 'host2 a\nhost2 b\n');
      writeFileSync(join(logs, 'host3-sshd.log.gz'), 'compressed\n');
      writeFileSync(join(logs, 'host3-sudo.log'), 'not matched\n');
      await tick(t);
      assert.deepEqual(messages(t).sort(), ['host2 a', 'host2 b', 'new 1']);
      const e = t.sink.events.find((x) => x.get('message') === 'host2 a')!;
      assert.equal(e.get('path'), join(logs, 'host2-sshd.log'));
      assert.equal(typeof e.get('host'), 'string');
      assert.equal(t.metric('files_discovered'), 2);
    } finally {
      await t.stop();
    }
  });

  it('rename+create rotation by logrotate loses and repeats nothing, even with unread lines at rotation time', async () => {
    const log = join(logs, 'app.log');
    writeFileSync(log, '');
    const t = await startFile(`path => "${logs}/*.log" stat_interval => 1 discover_interval => 1`);
    try {
      appendFileSync(log, 'a1\na2\n');
      await tick(t);
      appendFileSync(log, 'a3\n'); // not read yet when rotated
      const conf = join(tmp.dir, 'rename.conf');
      writeFileSync(conf, `${log} {\n  rotate 3\n  create\n  missingok\n}\n`);
      const r = await runCommand('logrotate', ['-f', '-s', join(tmp.dir, 'lr.state'), conf]);
      assert.equal(r.code, 0, r.stderr);
      assert.ok(existsSync(`${log}.1`));
      appendFileSync(log, 'b1\nb2\n');
      await tick(t, 2);
      assert.deepEqual(messages(t), ['a1', 'a2', 'a3', 'b1', 'b2']);
      assert.equal(t.metric('rotations'), 1);
    } finally {
      await t.stop();
    }
  });

  it('copytruncate rotation by logrotate (as in the reference) loses and repeats nothing', async () => {
    const log = join(logs, 'host-sshd.log');
    writeFileSync(log, '');
    mkdirSync(join(logs, 'history'));
    const t = await startFile(`path => "${logs}/*.log" stat_interval => 1 discover_interval => 1`);
    try {
      appendFileSync(log, 'before 1\nbefore 2\n');
      await tick(t);
      const conf = join(tmp.dir, 'copytruncate.conf');
      writeFileSync(conf, `${log} {\n  copytruncate\n  olddir ${logs}/history\n  rotate 20\n  missingok\n  notifempty\n}\n`);
      const r = await runCommand('logrotate', ['-f', '-s', join(tmp.dir, 'lr.state'), conf]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(readFileSync(log, 'utf8'), '');
      appendFileSync(log, 'after 1\n');
      await tick(t);
      // truncated and rewritten past the old offset before the next check: recognised by its bytes
      truncateSync(log, 0);
      appendFileSync(log, 'rewritten line that is longer than everything before it\n');
      await tick(t);
      assert.deepEqual(messages(t), ['before 1', 'before 2', 'after 1', 'rewritten line that is longer than everything before it']);
      assert.equal(t.metric('truncations'), 2);
    } finally {
      await t.stop();
    }
  });

  it('a restart resumes at the saved offset (a partial last line is completed, not split or repeated)', async () => {
    const log = join(logs, 'x.log');
    writeFileSync(log, '');
    const config = `path => "${logs}/*.log" stat_interval => 1 discover_interval => 1`;
    let t = await startFile(config);
    appendFileSync(log, 'one\ntwo\npart');
    await tick(t);
    assert.deepEqual(messages(t), ['one', 'two']);
    await t.stop();
    appendFileSync(log, 'ial\nthree\n');
    // a file renamed while we were down keeps its place (same inode)
    renameSync(log, join(logs, 'y.log'));
    t = await startFile(config);
    try {
      await tick(t);
      assert.deepEqual(messages(t), ['partial', 'three']);
      const db = readFileSync(join(data, 'plugins', 'inputs', 'file', (await import('node:fs')).readdirSync(join(data, 'plugins', 'inputs', 'file'))[0]!), 'utf8');
      assert.match(db, /^pipeline-sincedb 1\n/);
    } finally {
      await t.stop();
    }
  });

  it('mode => read reads whole files, logs them as completed and never reads them again', async () => {
    writeFileSync(join(logs, 'a.log'), 'r1\nr2\nlast without newline');
    const done = join(tmp.dir, 'completed.txt');
    const config = `path => "${logs}/*.log" mode => read file_completed_action => log file_completed_log_path => "${done}" stat_interval => 1 discover_interval => 1`;
    let t = await startFile(config);
    await tick(t);
    assert.deepEqual(messages(t), ['r1', 'r2', 'last without newline']);
    assert.equal(readFileSync(done, 'utf8'), join(logs, 'a.log') + '\n');
    await t.stop();
    t = await startFile(config);
    try {
      await tick(t, 2);
      assert.deepEqual(messages(t), []);
    } finally {
      await t.stop();
    }
  });

  it('refuses a sincedb of an unknown format instead of guessing offsets', async () => {
    const db = join(tmp.dir, 'since');
    writeFileSync(db, '1234 0 0 5\n');
    await assert.rejects(() => startFile(`path => "${logs}/*.log" sincedb_path => "${db}"`), /not a pipeline sincedb version 1/);
  });
});
