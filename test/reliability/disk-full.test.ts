import assert from 'node:assert/strict';
import { closeSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { AlertaDouble } from '@pipeline/output-alerta/testing';
import { freePort, logRecords, startPipeline, tempDir, waitFor, type Running } from '../e2e/util.js';
import { mountTmpfs, readRows, sendLines, tallyLines } from './disk-full-helpers.js';

/**
 * A full disk is back-pressure, never a crash or a drop: the persisted queue and the alerta spool on
 * a real, small tmpfs that fills, with the real `pipeline` process, kill -9 and restarts.
 */

const alive = (r: Running) => r.child.exitCode === null && r.child.signalCode === null;
const fullLogs = (r: Running, what: string) => logRecords(r.stderr()).filter((l) => String(l.msg).startsWith(`${what}: the disk is full`));

async function stop(r: Running): Promise<number | null> {
  if (alive(r)) r.child.kill('SIGTERM');
  return r.exited;
}

describe('a full disk', () => {
  it('the persisted queue on a tmpfs that fills: no crash, TCP is held back, it resumes by itself and nothing is lost', async () => {
    const LINES = 100_000;
    const fs = mountTmpfs('16m');
    const t = tempDir();
    let run: Running | undefined;
    let sender: ReturnType<typeof sendLines> | undefined;
    try {
      const port = await freePort();
      const out = join(t.dir, 'out.txt');
      const fd = openSync(out, 'a');
      const args = ['-e', `input { tcp { port => ${port} host => "127.0.0.1" } } output { stdout { codec => line { format => "%{message}" } } }`];
      args.push('--path.data', join(fs.dir, 'data'), '--queue.type', 'persisted', '--api.enabled', 'false', '-w', '1');
      run = startPipeline(args, { stdout: fd });
      await waitFor(() => run!.stderr().includes('pipeline started'), 'start');
      // another writer takes all but 8.5 MiB; the queue stops at its 8 MiB reserve (kept so that
      // deletions and checkpoints still work), its own writes filling the rest mid-stream
      fs.fill('filler', 8.5 * 1024 * 1024);
      sender = sendLines(port, LINES, (i) => `line-${i} ${'x'.repeat(80)}`);
      await waitFor(() => fullLogs(run!, 'persisted queue').length > 0, 'the queue to report the full disk');
      const report = fullLogs(run!, 'persisted queue')[0]!;
      assert.equal(report.path, join(fs.dir, 'data', 'queue', 'main'));
      assert.equal(typeof report.free_bytes, 'number');
      assert.ok(alive(run), 'no crash');
      assert.equal(sender.finished(), false, 'the sender is held back (TCP back-pressure), not read and dropped');
      assert.ok(tallyLines(out, 'line-').size < LINES);

      fs.free('filler'); // space returns: nothing to restart, it resumes by itself
      await sender.done;
      await waitFor(() => tallyLines(out, 'line-').size === LINES, 'every line after space returned', 120_000);
      assert.ok(logRecords(run.stderr()).some((l) => /persisted queue: the disk has room again/.test(String(l.msg))));
      assert.equal(await stop(run), 0, run.stderr());
      closeSync(fd);
      const seen = tallyLines(out, 'line-');
      assert.equal(seen.size, LINES, 'nothing lost');
      assert.deepEqual([...seen.values()].filter((n) => n > 1), [], 'no crash, so nothing twice');
    } finally {
      sender?.close();
      if (run && alive(run)) run.child.kill('SIGKILL');
      await run?.exited;
      fs.cleanup();
      t.cleanup();
    }
  });

  it('start-up with a full queue disk waits (logging) instead of crash-looping, then runs when space returns', async () => {
    const fs = mountTmpfs('16m');
    const t = tempDir();
    let run: Running | undefined;
    try {
      fs.fill(); // to the last byte: the queue's database cannot even be created
      const out = join(t.dir, 'out.txt');
      const fd = openSync(out, 'a');
      const args = ['-e', 'input { generator { count => 1000 message => "gen" } } output { stdout { codec => line { format => "%{message}-%{sequence}" } } }'];
      args.push('--path.data', join(fs.dir, 'data'), '--queue.type', 'persisted', '--api.enabled', 'false');
      run = startPipeline(args, { stdout: fd });
      await waitFor(() => fullLogs(run!, 'persisted queue').length > 0, 'the queue to report the full disk');
      assert.ok(alive(run), 'waiting, not exiting');
      assert.equal(tallyLines(out, 'gen-').size, 0);
      fs.free();
      assert.equal(await run.exited, 0, run.stderr()); // the generator's 1,000 events, then a clean stop
      closeSync(fd);
      assert.equal(tallyLines(out, 'gen-').size, 1000);
    } finally {
      if (run && alive(run)) run.child.kill('SIGKILL');
      await run?.exited;
      fs.cleanup();
      t.cleanup();
    }
  });

  const ALERTS = 3000;
  const alertaConf = (url: string, spool: string) =>
    `input { stdin { } } output { alerta { id => "ops" endpoint => "${url}" resource => "%{message}" event => "DiskFull" environment => "Homelab" service => ["disk"] severity => "major" spool_path => "${spool}" retry_initial_interval => 0.2 retry_max_interval => 1 } }`;
  const delivered = (alerta: AlertaDouble) => {
    const seen = new Map<string, number>();
    for (const a of alerta.alerts) seen.set(String(a.resource), (seen.get(String(a.resource)) ?? 0) + 1);
    return seen;
  };

  it('the alerta spool on a full disk, then kill -9: nothing the queue had is lost after space returns and a restart', async () => {
    const fs = mountTmpfs('8m');
    const t = tempDir();
    const alerta = await AlertaDouble.start();
    const runs: Running[] = [];
    try {
      await alerta.down(); // Alerta is away: alerts pile up in the spool until its disk is full
      const spool = join(fs.dir, 'alerta-ops.sqlite');
      const data = join(t.dir, 'data'); // the persisted queue is on another (roomy) disk
      const args = ['-e', alertaConf(alerta.url, spool), '--path.data', data, '--queue.type', 'persisted', '--api.enabled', 'false', '-w', '1'];
      fs.fill('filler', 2.5 * 1024 * 1024); // the spool keeps a 2 MiB reserve: about 0.5 MiB of alerts fit
      const first = startPipeline(args, { cwd: t.dir });
      runs.push(first);
      await waitFor(() => first.stderr().includes('pipeline started'), 'start');
      let text = '';
      for (let i = 0; i < ALERTS; i++) text += `host-${i}\n`;
      first.child.stdin!.write(text);
      await waitFor(() => fullLogs(first, 'alerta spool').length > 0, 'the spool to report the full disk');
      assert.equal(fullLogs(first, 'alerta spool')[0]!.path, spool);
      // every alert is on disk somewhere: in the spool, or still in the queue (not acknowledged)
      const durable = () => {
        const have = new Set<string>();
        for (const r of readRows<{ payload: string }>(spool, 'SELECT payload FROM items')) have.add(String((JSON.parse(r.payload) as { resource: string }).resource));
        for (const r of readRows<{ data: string }>(join(data, 'queue', 'main', 'queue.sqlite'), 'SELECT data FROM events'))
          have.add(String((JSON.parse(r.data) as { message: string }).message));
        return have.size;
      };
      await waitFor(() => durable() === ALERTS, 'every alert on disk (spool or queue)');
      const inSpool = readRows<{ n: number }>(spool, 'SELECT count(*) AS n FROM items')[0]!.n;
      assert.ok(inSpool > 0 && inSpool < ALERTS, `the spool's disk holds only part (${inSpool})`);
      assert.ok(alive(first), 'no crash');
      first.child.kill('SIGKILL');
      await first.exited;

      fs.free('filler');
      await alerta.up();
      const second = startPipeline(args, { cwd: t.dir });
      runs.push(second);
      await waitFor(() => delivered(alerta).size === ALERTS, 'every alert at Alerta after the restart', 120_000).catch((err: Error) => {
        throw new Error(`${err.message}: ${delivered(alerta).size} delivered\n${second.stderr().slice(-3000)}`);
      });
      second.child.stdin!.end();
      assert.equal(await second.exited, 0, second.stderr());
      const seen = delivered(alerta);
      const missing = Array.from({ length: ALERTS }, (_, i) => `host-${i}`).filter((r) => !seen.has(r));
      assert.deepEqual(missing, [], 'nothing lost');
      const twice = [...seen.values()].filter((n) => n > 1).length;
      process.stderr.write(`# alerta spool, full disk + kill -9: ${inSpool} alerts in the spool and ${ALERTS - inSpool} held in the queue at the kill; ${ALERTS} of ${ALERTS} delivered, ${twice} twice\n`);
    } finally {
      for (const r of runs) if (alive(r)) r.child.kill('SIGKILL');
      await Promise.all(runs.map((r) => r.exited));
      await alerta.stop();
      fs.cleanup();
      t.cleanup();
    }
  });

  it('three kill -9 during alert delivery: duplicates stay within the stated bound (one per crash from the spool, plus a batch in flight)', async () => {
    const t = tempDir();
    const alerta = await AlertaDouble.start();
    const runs: Running[] = [];
    const BATCH = 10;
    try {
      const spool = join(t.dir, 'spool', 'alerta-ops.sqlite');
      const args = ['-e', alertaConf(alerta.url, spool), '--path.data', join(t.dir, 'data'), '--queue.type', 'persisted', '--api.enabled', 'false', '-w', '1', '-b', String(BATCH)];
      let run = startPipeline(args, { cwd: t.dir });
      runs.push(run);
      await waitFor(() => run.stderr().includes('pipeline started'), 'start');
      let text = '';
      for (let i = 0; i < ALERTS; i++) text += `host-${i}\n`;
      run.child.stdin!.write(text);
      for (const at of [300, 1200, 2100]) {
        await waitFor(() => alerta.alerts.length >= at, `${at} alerts delivered`);
        run.child.kill('SIGKILL');
        await run.exited;
        run = startPipeline(args, { cwd: t.dir }); // stdin stays open: the rest comes from the queue and the spool
        runs.push(run);
      }
      await waitFor(() => delivered(alerta).size === ALERTS, 'every alert after three crashes', 120_000);
      run.child.stdin!.end();
      assert.equal(await run.exited, 0, run.stderr());
      const seen = delivered(alerta);
      assert.equal(seen.size, ALERTS, 'nothing lost');
      const extra = alerta.alerts.length - ALERTS;
      const bound = 3 * (1 + BATCH);
      process.stderr.write(`# alerta, three kill -9 during delivery: ${extra} duplicate alerts (bound ${bound}: per crash 1 from the spool + 1 batch of ${BATCH} in flight)\n`);
      assert.ok(extra <= bound, `${extra} duplicates, more than ${bound}`);
    } finally {
      for (const r of runs) if (alive(r)) r.child.kill('SIGKILL');
      await Promise.all(runs.map((r) => r.exited));
      await alerta.stop();
      t.cleanup();
    }
  });
});
