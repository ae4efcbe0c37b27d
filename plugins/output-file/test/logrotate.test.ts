import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { OutputInstance } from '@pipeline/core';
import type { TestContext } from '@pipeline/core/testing';
import { cleanup, ev, fileContext, fileOut, metric, tempDir } from './helpers.js';

/*
 * Debian's real logrotate, forced (-f) with a generated config and its own state file, rotating
 * the output's files while batches are written to them. Afterwards the rotated files (oldest
 * first) followed by the live file must hold every line exactly once, in order, none torn.
 */

const LOGROTATE = '/usr/sbin/logrotate';
const HOSTS = ['web1', 'db2'];
const BATCH = 100;

const dirs: string[] = [];
// OUTPUT_FILE_TEST_KEEP=1 keeps the temp dirs to look at after a failure
after(() => process.env.OUTPUT_FILE_TEST_KEEP || dirs.forEach(cleanup));

interface Setup {
  wd: string;
  ctx: TestContext;
  out: OutputInstance;
  conf: string;
  state: string;
  seq: Map<string, number>;
}

async function setup(mode: 'copytruncate' | 'create'): Promise<Setup> {
  assert.ok(existsSync(LOGROTATE), 'logrotate must be installed (Debian package logrotate)');
  const wd = tempDir();
  dirs.push(wd);
  mkdirSync(join(wd, 'logs/history'), { recursive: true });
  const conf = join(wd, 'logrotate.conf');
  // the reference setup's stanza (copytruncate, olddir history), forced by -f instead of size
  writeFileSync(conf, `${wd}/logs/*.log {\n  ${mode}\n  olddir ${wd}/logs/history\n  rotate 1000\n  missingok\n  nocompress\n}\n`, { mode: 0o644 });
  const ctx = fileContext(wd, { line: 'format => "%{host} %{seq} %{pad}"' });
  const out = await fileOut('path => "logs/%{host}.log" flush_interval => 1', ctx);
  return { wd, ctx, out, conf, state: join(wd, 'logrotate.state'), seq: new Map(HOSTS.map((h) => [h, 0])) };
}

/**
 * One batch for both hosts. Virtual time moves `advanceMs` (250 ms by default, so the timer
 * flushes and the path checks run every 4 batches). While logrotate runs, the tests move it by
 * the real time elapsed instead: logrotate is a real process, and the output's one-check grace
 * between seeing a path renamed away and creating it anew is meant to cover logrotate's gap
 * between its rename and its create in real time.
 */
async function writeBatch(s: Setup, advanceMs = 250): Promise<void> {
  const batch = [];
  for (let i = 0; i < BATCH; i++) {
    const host = HOSTS[i % HOSTS.length]!;
    const n = s.seq.get(host)!;
    s.seq.set(host, n + 1);
    batch.push(ev({ host, seq: n, pad: 'x'.repeat(n % 97) }));
  }
  await s.out.receive(batch);
  s.ctx.clock.advance(advanceMs);
}

/** The contents of a host's files: rotated files oldest first (highest number), then the live file. */
function union(s: Setup, host: string): { texts: string[]; rotated: number; hasLive: boolean } {
  const hist = join(s.wd, 'logs/history');
  const rotated = readdirSync(hist)
    .filter((f) => f.startsWith(`${host}.log.`))
    .sort((a, b) => Number(b.split('.').pop()) - Number(a.split('.').pop()));
  const texts = rotated.map((f) => readFileSync(join(hist, f), 'utf8'));
  const live = join(s.wd, `logs/${host}.log`);
  const hasLive = existsSync(live);
  if (hasLive) texts.push(readFileSync(live, 'utf8'));
  return { texts, rotated: rotated.length, hasLive };
}

/**
 * Checks each line is whole and belongs to its host; returns the sequence numbers in file order.
 * With `tornCopyEnds`, a rotated copy may end in a partial line: copytruncate copies the file
 * while it is being appended to and then truncates it, so a write that was in progress during the
 * copy is cut (logrotate documents this window). The live file must never be torn.
 */
function sequence(s: Setup, host: string, tornCopyEnds = false): { seqs: number[]; rotated: number } {
  const files = union(s, host);
  const seqs: number[] = [];
  files.texts.forEach((text, idx) => {
    const isLive = idx === files.texts.length - 1 && files.hasLive;
    assert.ok(!text.includes('\0'), `${host}: NUL bytes in the files (a hole after truncation)`);
    const lines = text.split('\n');
    const last = lines.pop();
    if (last !== '') assert.ok(tornCopyEnds && !isLive, `${host}: a file ends with a partial line ${JSON.stringify(last)}`);
    for (const l of lines) {
      const m = /^(\S+) (\d+) (x*)$/.exec(l);
      assert.ok(m && m[1] === host && m[3]!.length === Number(m[2]) % 97, `${host}: torn or foreign line ${JSON.stringify(l.slice(0, 80))}`);
      seqs.push(Number(m[2]));
    }
  });
  return { seqs, rotated: files.rotated };
}

const runLogrotate = (s: Setup) =>
  new Promise<void>((resolve, reject) =>
    execFile(LOGROTATE, ['-f', '-s', s.state, s.conf], (err, _out, stderr) => (err ? reject(new Error(`logrotate failed: ${stderr}`)) : resolve())),
  );

describe('file output under real logrotate', () => {
  it('copytruncate between batches of a running stream: every line once, in order, no NUL hole', async () => {
    const s = await setup('copytruncate');
    for (let round = 0; round < 6; round++) {
      for (let b = 0; b < 7; b++) await writeBatch(s); // leaves some lines buffered, not yet written
      execFileSync(LOGROTATE, ['-f', '-s', s.state, s.conf]); // copies, then truncates the open files
    }
    for (let b = 0; b < 5; b++) await writeBatch(s);
    await s.out.close?.();
    for (const host of HOSTS) {
      const { seqs, rotated } = sequence(s, host);
      assert.ok(rotated >= 5, `${host}: ${rotated} rotated files`);
      assert.deepEqual(seqs, Array.from({ length: s.seq.get(host)! }, (_, i) => i));
    }
    assert.equal(metric(s.ctx, 'reopens'), 0, 'copytruncate keeps the same file: no reopen needed');
  });

  it('copytruncate running concurrently with the stream: no NUL hole, no repeated line, torn only at a copy\'s end (logrotate\'s copy window)', async () => {
    const s = await setup('copytruncate');
    let during = 0;
    for (let round = 0; round < 5; round++) {
      const rotation = runLogrotate(s);
      let done = false;
      void rotation.then(() => (done = true), () => (done = true));
      let last = performance.now();
      while (!done) {
        const now = performance.now();
        await writeBatch(s, now - last);
        last = now;
        during++;
        await new Promise((r) => setImmediate(r));
      }
      await rotation;
    }
    await s.out.close?.();
    assert.ok(during >= 5, `batches written while logrotate ran: ${during}`);
    if (process.env.OUTPUT_FILE_TEST_DEBUG) console.log(`batches written while logrotate ran: ${during}`);
    for (const host of HOSTS) {
      const { seqs } = sequence(s, host, true);
      for (let i = 1; i < seqs.length; i++) assert.ok(seqs[i]! > seqs[i - 1]!, `${host}: line ${seqs[i]} after ${seqs[i - 1]}: repeated or out of order`);
      assert.equal(seqs.at(-1), s.seq.get(host)! - 1, 'the last line written is there');
    }
  });

  it('rename + create while batches are being written: every line exactly once, in order, files reopened', async () => {
    const s = await setup('create');
    for (let b = 0; b < 5; b++) await writeBatch(s); // the files exist (flushed) before the first rotation
    let during = 0;
    for (let round = 0; round < 5; round++) {
      const rotation = runLogrotate(s);
      let done = false;
      void rotation.then(() => (done = true), () => (done = true));
      // keep writing while logrotate renames and creates; at least a few batches after it exits
      let last = performance.now();
      while (!done) {
        const now = performance.now();
        await writeBatch(s, now - last);
        last = now;
        during++;
        await new Promise((r) => setImmediate(r));
      }
      await rotation;
      for (let b = 0; b < 5; b++) await writeBatch(s);
    }
    await s.out.close?.();
    assert.ok(during >= 5, `batches written while logrotate ran: ${during}`);
    if (process.env.OUTPUT_FILE_TEST_DEBUG) console.log(`batches written while logrotate ran: ${during}`);
    for (const host of HOSTS) {
      const { seqs, rotated } = sequence(s, host);
      assert.equal(rotated, 5, `${host}: rotated files`);
      assert.deepEqual(seqs, Array.from({ length: s.seq.get(host)! }, (_, i) => i));
    }
    assert.ok(metric(s.ctx, 'reopens') >= 2 * 5 - 1, `reopens: ${metric(s.ctx, 'reopens')}`);
  });
});
