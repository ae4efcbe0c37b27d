import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { AlertaDouble } from '@pipeline/output-alerta/testing';
import { BIN, startPipeline, tempDir, waitFor } from './util.js';

const cli = (args: string[], cwd: string) => spawnSync(process.execPath, [BIN, ...args], { cwd, encoding: 'utf8', timeout: 60_000 });

describe('dead letters', () => {
  it('an alert Alerta refuses for good is kept, listed by pipeline dlq list, and delivered after pipeline dlq replay', async () => {
    const t = tempDir();
    let alerta = await AlertaDouble.start({ environments: ['Production'] });
    try {
      const conf = (url: string) =>
        `input { stdin { } } output { alerta { id => "ops" endpoint => "${url}" resource => "%{message}" event => "DiskFull" environment => "Lab" service => ["disk"] severity => "major" retry_initial_interval => 0.1 } }`;
      const args = (url: string) => ['-e', conf(url), '--path.data', join(t.dir, 'data'), '--api.enabled', 'false'];

      const first = startPipeline(args(alerta.url), { cwd: t.dir });
      await waitFor(() => first.stderr().includes('pipeline started'), 'start');
      first.child.stdin!.write('web1\n');
      await waitFor(() => alerta.requests.length >= 1, 'the alert to be tried');
      assert.equal(alerta.requests[0]!.status, 403, 'Alerta refuses an environment it does not allow (as recorded)');
      await waitFor(() => cli(['dlq', 'list', '--path.data', join(t.dir, 'data')], t.dir).stdout.includes('DiskFull'), 'the dead letter');
      first.child.stdin!.end();
      assert.equal(await first.exited, 0, first.stderr());
      assert.equal(alerta.requests.length, 1, 'a refusal is never retried');

      const list = cli(['dlq', 'list', '--path.data', join(t.dir, 'data')], t.dir);
      assert.match(list.stdout, /^alerta-ops\t1\t\S+\t403\t\[POLICY\] Alert environment does not match[^\t]*\t.*"resource":"web1".*"environment":"Lab"/m);
      assert.match(list.stderr, /1 dead letter/);

      // the cause is fixed (Alerta now accepts the environment); replay and start again
      await alerta.stop();
      alerta = await AlertaDouble.start({ environments: ['Production', 'Lab'] });
      const replay = cli(['dlq', 'replay', '--path.data', join(t.dir, 'data')], t.dir);
      assert.match(replay.stdout, /1 dead letter queued again/);
      assert.match(cli(['dlq', 'list', '--path.data', join(t.dir, 'data')], t.dir).stderr, /0 dead letters/);
      const second = startPipeline(args(alerta.url), { cwd: t.dir });
      await waitFor(() => alerta.alerts.length === 1, 'the replayed alert at Alerta');
      assert.equal(alerta.alerts[0]!.resource, 'web1');
      second.child.stdin!.end();
      assert.equal(await second.exited, 0, second.stderr());
    } finally {
      await alerta.stop();
      t.cleanup();
    }
  });
});
