import assert from 'node:assert/strict';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { cli, cliAsync, tempDir } from './helpers.js';

const waitFor = async (cond: () => boolean, what: string, ms = 20_000) => {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
};

/** Starts the CLI with JSON logs and collects stdout/stderr. */
function run(args: string[]) {
  const child = cliAsync(['start', '--log.format', 'json', ...args]);
  const state = { out: '', err: '', child };
  child.stdin.on('error', () => {});
  child.stdout.setEncoding('utf8').on('data', (d: string) => (state.out += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (state.err += d));
  return state;
}
const logs = (err: string) =>
  err
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);

describe('reload', () => {
  it('applies a changed config under load without losing events, and refuses a broken one', async () => {
    const t = tempDir();
    try {
      const conf = join(t.dir, 'p.conf');
      const write = (fmt: string) => writeFileSync(conf, `input { stdin { id => "in" } } output { stdout { codec => line { format => "${fmt} %{message}" } } }`);
      write('A');
      const p = run(['-f', conf, '-r', '--config.reload.interval', '0.2', '--path.data', t.dir, '--api.http.port', '0']);
      let n = 0;
      const send = (k: number) => {
        let s = '';
        for (let i = 0; i < k; i++) s += `${n++}\n`;
        p.child.stdin.write(s);
      };
      await waitFor(() => p.err.includes('pipeline started'), 'start');
      send(500);
      await waitFor(() => p.out.split('\n').length > 400, 'first events');
      write('B');
      // keep the stream going while the reload happens
      for (let i = 0; i < 20 && !p.err.includes('"reloaded"'); i++) {
        send(100);
        await new Promise((r) => setTimeout(r, 50));
      }
      await waitFor(() => logs(p.err).some((l) => l.msg === 'reloaded'), 'reload');
      send(300);
      writeFileSync(conf, 'input { stdin { id => "in" } } output { stdout { codex => line } }');
      await waitFor(() => logs(p.err).some((l) => String(l.msg).startsWith('configuration refused')), 'refusal');
      send(200);
      await waitFor(() => p.out.split('\n').length > n, 'last events');
      p.child.stdin.end();
      const [code] = (await once(p.child, 'exit')) as [number];
      assert.equal(code, 0, p.err);
      const lines = p.out.trim().split('\n');
      assert.equal(lines.length, n, 'every line once');
      const numbers = lines.map((l) => Number(l.split(' ')[1]));
      assert.deepEqual(numbers, [...Array(n).keys()], 'in order, none lost, none repeated');
      const firstB = lines.findIndex((l) => l.startsWith('B '));
      assert.ok(firstB > 0, 'the new format took effect');
      assert.ok(lines.slice(firstB).every((l) => l.startsWith('B ')), 'and stayed, the broken config being refused');
      const refused = logs(p.err).find((l) => String(l.msg).startsWith('configuration refused'))!;
      assert.match(String(refused.msg), /unknown option 'codex' for stdout/);
      const reloaded = logs(p.err).find((l) => l.msg === 'reloaded')!;
      assert.equal(reloaded.kept, 1, 'the stdin input was carried over');
    } finally {
      t.cleanup();
    }
  });
});

describe('monitoring API', () => {
  it('serves /_node/stats, Prometheus /metrics and feeds pipeline status', async () => {
    const t = tempDir();
    try {
      const p = run(['--path.data', t.dir, '--api.http.port', '0', '-e', 'input { stdin { id => "in" } } output { null { id => "sink" } }']);
      await waitFor(() => logs(p.err).some((l) => l.msg === 'monitoring API listening'), 'api');
      const address = String(logs(p.err).find((l) => l.msg === 'monitoring API listening')!.address);
      p.child.stdin.write('a\nb\nc\n');
      const base = `http://${address}`;
      let stats: any;
      for (let i = 0; i < 100; i++) {
        stats = await (await fetch(`${base}/_node/stats`)).json();
        if (stats.events.out === 3) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      assert.equal(stats.events.in, 3);
      assert.equal(stats.events.out, 3);
      const pl = stats.pipelines.main;
      assert.equal(pl.plugins.inputs[0].id, 'in');
      assert.equal(pl.plugins.inputs[0].events.out, 3);
      assert.equal(pl.plugins.outputs[0].id, 'sink');
      assert.equal(pl.plugins.outputs[0].events.in, 3);
      assert.equal(pl.queue.type, 'memory');
      assert.ok(stats.process.mem.rss_in_bytes > 0);
      const metrics = await (await fetch(`${base}/metrics`)).text();
      assert.match(metrics, /^# TYPE pipeline_events_in_total counter$/m);
      assert.match(metrics, /^pipeline_events_in_total\{pipeline="main"\} 3$/m);
      assert.match(metrics, /^pipeline_plugin_events_in_total\{pipeline="main",kind="output",plugin_id="sink"\} 3$/m);
      assert.match(metrics, /^process_resident_memory_bytes \d+$/m);
      const status = cli(['status', '--api.http.port', address.split(':')[1]!]);
      assert.equal(status.status, 0, status.stderr);
      assert.match(status.stdout, /events: in 3, filtered 3, out 3/);
      assert.match(status.stdout, /output sink\s+events\.in=3/);
      p.child.stdin.end();
      await once(p.child, 'exit');
    } finally {
      t.cleanup();
    }
  });
});

describe('SIGHUP', () => {
  it('reloads a changed config at once, without -r', async () => {
    const t = tempDir();
    try {
      const conf = join(t.dir, 'p.conf');
      const write = (fmt: string) => writeFileSync(conf, `input { stdin { id => "in" } } output { stdout { codec => line { format => "${fmt} %{message}" } } }`);
      write('A');
      const p = run(['-f', conf, '--path.data', t.dir, '--api.enabled', 'false']);
      await waitFor(() => p.err.includes('pipeline started'), 'start');
      p.child.stdin.write('one\n');
      await waitFor(() => p.out.includes('A one'), 'first event');
      write('B');
      p.child.kill('SIGHUP');
      await waitFor(() => logs(p.err).some((l) => l.msg === 'reloaded' && l.why === 'SIGHUP'), 'the reload on SIGHUP');
      p.child.stdin.write('two\n');
      await waitFor(() => p.out.includes('B two'), 'the new format');
      p.child.stdin.end();
      const [code] = (await once(p.child, 'exit')) as [number];
      assert.equal(code, 0, p.err);
    } finally {
      t.cleanup();
    }
  });
});
