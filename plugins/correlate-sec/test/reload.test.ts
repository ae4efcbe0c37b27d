/**
 * The handover between instances of one sec block across a reload, in process, as core drives it:
 * the new instance is created first; the old one's final flush hands over; a new instance whose
 * reload failed (closed before the swap) takes nothing, and the old one goes on.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Event, Timestamp } from '@pipeline/core';
import { createPlugin, makeContext, VirtualClock } from '@pipeline/core/testing';
import sec, { type SecInstance } from '../src/index.js';

const RULE = 'type=SingleWithThreshold\nptype=RegExp\npattern=fail (\\S+)\ndesc=fails of $1\naction=write out.txt %u three fails for $1\nwindow=60\nthresh=3\n';

function setup(extra = '') {
  const dir = mkdtempSync(join(tmpdir(), 'sec-reload-'));
  writeFileSync(join(dir, 'r.sec'), RULE);
  const ctx = makeContext({ workingDir: dir, resolvePath: (p: string) => resolve(dir, p), clock: new VirtualClock(1700000000 * 1000) });
  const make = async () => (await createPlugin(sec, `rules => ["r.sec"] ${extra}`, ctx)) as unknown as SecInstance;
  const out = () => (existsSync(join(dir, 'out.txt')) ? readFileSync(join(dir, 'out.txt'), 'utf8') : '');
  return { dir, ctx, make, out, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

const none = () => {};

test('reload: the old instance hands its windows to the new one at its final flush; a failed reload takes nothing', async () => {
  const s = setup();
  try {
    const p1 = await s.make();
    p1.filter(new Event({ message: 'fail x' }), none);
    // a reload whose config failed after this block was created: the new instance is closed unused
    const failed = await s.make();
    failed.close();
    p1.filter(new Event({ message: 'fail x' }), none);
    // the reload that works: created, then the old one flushes (final) and closes, then the new one runs
    writeFileSync(join(s.dir, 'r.sec'), RULE + '\ntype=Single\nptype=SubStr\npattern=ping\ndesc=ping\naction=write out.txt pong\n');
    const p2 = await s.make();
    p1.flush(none, true);
    p1.close();
    s.ctx.clock.advance(5000);
    p2.filter(new Event({ message: 'fail x' }), none);
    p2.filter(new Event({ message: 'ping' }), none);
    p2.flush(none, false);
    assert.equal(s.out(), '1700000005 three fails for x\npong\n');
    assert.match(p2.dump(), /Rule 1 line 1 \(SingleWithThreshold\) matched 3 events/, 'the unchanged rule keeps its match count');
    // the pipeline stops: the last instance shuts down, nothing to hand to
    p2.flush(none, true);
    p2.close();
  } finally {
    s.cleanup();
  }
});

test('reload with time_source => "event": the event clock goes over with the windows', async () => {
  const s = setup('time_source => "event"');
  try {
    const ev = (t: number, m: string) => new Event({ message: m, '@timestamp': new Timestamp(t * 1000) });
    const p1 = await s.make();
    p1.filter(ev(1000, 'fail a'), none);
    p1.filter(ev(1010, 'fail a'), none);
    const p2 = await s.make();
    p1.flush(none, true);
    p1.close();
    // an older timestamp after the reload: the clock stays at 1010, the window is still open
    p2.filter(ev(900, 'fail a'), none);
    p2.flush(none, false);
    assert.equal(s.out(), '1010 three fails for a\n');
    p2.close();
  } finally {
    s.cleanup();
  }
});
