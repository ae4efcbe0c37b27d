import assert from 'node:assert/strict';
import { mkdirSync, openSync, writeSync, closeSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { PIPELINE_BIN, runCommand, tempDir } from '@pipeline/net/testing';
import { progressLine, ReadProgress, PROGRESS_MIN_BYTES } from '../src/progress.js';

const tmp = tempDir('pipeline-file-progress-');
after(() => tmp.cleanup());

describe('file input: read mode progress line on a terminal', () => {
  it('says bytes read of the total, lines per second and the time left', () => {
    assert.equal(progressLine(25 * 1048576, 100 * 1048576, 50_000, 10), `[${'#'.repeat(8)}${'.'.repeat(22)}]  25%  25.0/100.0 MiB  5,000 lines/s  ETA 0:30`);
  });

  it('draws only on a TTY, only for reads of 4 MiB or more, and clears the line when done', () => {
    const writes: string[] = [];
    const tty = new ReadProgress({ isTTY: true, write: (s) => writes.push(s) });
    tty.update(1000, PROGRESS_MIN_BYTES - 1, 10, 0);
    assert.deepEqual(writes, [], 'a small read: nothing');
    tty.update(0, 8 * 1048576, 0, 1000);
    tty.update(4 * 1048576, 8 * 1048576, 20_000, 3000);
    assert.match(writes.at(-1)!, /^\r\[#{15}\.{15}\]  50%  4\.0\/8\.0 MiB  10,000 lines\/s  ETA 0:02\u001b\[K$/);
    tty.update(8 * 1048576, 8 * 1048576, 40_000, 5000);
    assert.equal(writes.at(-1), '\r\u001b[K', 'everything read: the line is cleared');
    const piped: string[] = [];
    const pipe = new ReadProgress({ isTTY: false, write: (s) => piped.push(s) });
    pipe.update(1, 8 * 1048576, 1, 0);
    assert.deepEqual(piped, []);
  });

  it('a real run under a pseudo-terminal (script) shows the line while a 48 MiB file is read; with stderr piped, none', async () => {
    const dir = join(tmp.dir, 'big');
    mkdirSync(dir);
    const big = join(dir, 'big.log');
    const fd = openSync(big, 'w');
    const block = Buffer.from(Array.from({ length: 1024 }, (_, i) => `Dec  3 10:00:00 web1 sshd[${1000 + i}]: Failed password for invalid user admin from 203.0.113.5 port 5${i}\n`).join(''));
    for (let n = 0; n * block.length < 48 * 1048576; n++) writeSync(fd, block);
    closeSync(fd);
    const conf = join(tmp.dir, 'read.conf');
    writeFileSync(conf, `input { file { path => "${big}" mode => "read" exit_after_read => true file_completed_action => "log" file_completed_log_path => "${tmp.dir}/done.log" sincedb_path => "/dev/null" } }\noutput { null {} }\n`);
    const cmd = `${process.execPath} ${PIPELINE_BIN} start -f ${conf} --path.data ${join(tmp.dir, 'data')} --api.enabled false`;
    const r = await runCommand('script', ['-qec', cmd, '/dev/null'], undefined, 120_000);
    assert.equal(r.code, 0, r.stdout.slice(-2000));
    assert.match(r.stdout, /\r\[[#.]{30}\] +\d+%  \d+\.\d\/48\.\d MiB  [\d,]+ lines\/s  ETA \d+:\d\d\u001b\[K/);
    const piped = await runCommand(process.execPath, [PIPELINE_BIN, 'start', '-f', conf, '--path.data', join(tmp.dir, 'data2'), '--api.enabled', 'false'], undefined, 120_000);
    assert.equal(piped.code, 0, piped.stderr.slice(-2000));
    assert.doesNotMatch(piped.stderr, /lines\/s/);
  });
});
