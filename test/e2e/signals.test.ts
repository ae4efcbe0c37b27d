/**
 * Signals an operator (or a logrotate postrotate script written for sec) sends: SIGUSR2 reopens the
 * files the outputs write and never stops the process (it ended it with exit 140 before); SIGABRT is
 * sec's soft restart, never an abort.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { freePort, logRecords, startPipeline, tempDir, waitFor } from './util.js';

const linesOf = (f: string) => (existsSync(f) ? readFileSync(f, 'utf8').split('\n').filter(Boolean) : []);

describe('signals', () => {
  it('SIGUSR2 reopens the file output: the next line goes to a new file at the path, the process lives on', async () => {
    const t = tempDir();
    let sock: Socket | undefined;
    try {
      const port = await freePort();
      const out = join(t.dir, 'out.log');
      const conf = `input { tcp { port => ${port} host => "127.0.0.1" } } output { file { path => "${out}" codec => line { format => "%{message}" } flush_interval => 0 } }`;
      const p = startPipeline(['-e', conf, '--path.data', join(t.dir, 'data')]);
      try {
        await waitFor(() => p.stderr().includes('pipeline started'), 'start');
        sock = await new Promise<Socket>((resolve, reject) => {
          const s = connect(port, '127.0.0.1', () => resolve(s));
          s.on('error', reject);
        });
        sock.write('before-1\nbefore-2\n');
        await waitFor(() => linesOf(out).length === 2, 'the first lines filed');
        // what logrotate's "create" mode does: move the file aside, then tell the writer
        renameSync(out, `${out}.1`);
        p.child.kill('SIGUSR2');
        await waitFor(() => p.stderr().includes('SIGUSR2: reopening output files'), 'the reopen');
        sock.write('after-1\n');
        await waitFor(() => linesOf(out).length === 1, 'the line after the signal in a new file at the path');
        assert.deepEqual(linesOf(out), ['after-1']);
        assert.deepEqual(linesOf(`${out}.1`), ['before-1', 'before-2'], 'the rotated file keeps what it had, and nothing more');
        // a second SIGUSR2 with nothing to reopen changes nothing either
        p.child.kill('SIGUSR2');
        sock.write('after-2\n');
        await waitFor(() => linesOf(out).length === 2, 'the second line');
        assert.equal(p.child.exitCode, null, `SIGUSR2 ended the process: ${p.stderr()}`);
      } finally {
        sock?.destroy();
        p.child.kill('SIGTERM');
        assert.equal(await p.exited, 0, p.stderr());
      }
    } finally {
      t.cleanup();
    }
  });

  it('SIGABRT is a soft restart: the process lives, a sec block whose rules did not change keeps its window', async () => {
    const t = tempDir();
    let sock: Socket | undefined;
    try {
      const port = await freePort();
      const out = join(t.dir, 'out.log');
      const rules = join(t.dir, 'r.sec');
      writeFileSync(rules, 'type=SingleWithThreshold\nptype=RegExp\npattern=fail (\\S+)\ndesc=three fails for $1\naction=write - three fails for $1\nwindow=600\nthresh=3\n');
      const conf = `input { tcp { port => ${port} host => "127.0.0.1" } } correlate { sec { rules => ["${rules}"] } } output { file { path => "${out}" codec => line { format => "%{message}" } flush_interval => 0 } }`;
      const p = startPipeline(['-e', conf, '--path.data', join(t.dir, 'data')], { stdout: 'pipe' });
      let stdout = '';
      p.child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
      try {
        await waitFor(() => p.stderr().includes('pipeline started'), 'start');
        sock = await new Promise<Socket>((resolve, reject) => {
          const s = connect(port, '127.0.0.1', () => resolve(s));
          s.on('error', reject);
        });
        sock.write('fail bob\nfail bob\n');
        await waitFor(() => linesOf(out).length === 2, 'two lines filed');
        p.child.kill('SIGABRT');
        await waitFor(() => logRecords(p.stderr()).some((r) => r.msg === 'reloaded' && r.why === 'SIGABRT'), 'the soft restart');
        sock.write('fail bob\n');
        await waitFor(() => stdout.includes('three fails for bob'), 'the third line completes the window opened before the signal');
        assert.equal(p.child.exitCode, null, `SIGABRT ended the process: ${p.stderr()}`);
      } finally {
        sock?.destroy();
        p.child.kill('SIGTERM');
        assert.equal(await p.exited, 0, p.stderr());
      }
    } finally {
      t.cleanup();
    }
  });
});
