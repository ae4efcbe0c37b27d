import assert from 'node:assert/strict';
import { once } from 'node:events';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import pino from 'pino';
import { loadPipeline } from '../src/runtime/load.js';
import { DEFAULT_SETTINGS, mergeSettings } from '../src/runtime/settings.js';
import { cliAsync, FIXTURES, REPO_ROOT, tempDir } from './helpers.js';

describe('shutdown', () => {
  it('SIGTERM in the middle of a stdin stream loses nothing that was received', async () => {
    const t = tempDir();
    try {
      const child = cliAsync(['start', '--path.data', t.dir, '--log.format', 'json', '-e', 'input { stdin {} } output { stdout { codec => line { format => "%{message}" } } }']);
      let out = '';
      let err = '';
      child.stdin.on('error', () => {}); // EPIPE once the pipeline has exited
      child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
      child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
      // keep writing numbered lines until output shows the pipeline is flowing, then stop it mid-stream
      let n = 0;
      let writing = true;
      const writer = (async () => {
        while (writing) {
          let chunk = '';
          for (let i = 0; i < 200; i++) chunk += `line-${n++}\n`;
          if (!child.stdin.write(chunk)) await once(child.stdin, 'drain');
          await new Promise((r) => setImmediate(r));
        }
      })().catch(() => {}); // EPIPE once the pipeline has exited
      while (out.split('\n').length < 2000) await new Promise((r) => setTimeout(r, 10));
      child.kill('SIGTERM');
      const [code] = (await once(child, 'exit')) as [number];
      writing = false;
      child.stdin.destroy();
      await writer;
      assert.equal(code, 0, err);
      const lines = out.split('\n');
      assert.equal(lines.pop(), '', 'output ends with a whole line');
      // a gapless prefix of what was sent: nothing received was dropped or reordered
      lines.forEach((l, i) => assert.equal(l, `line-${i}`));
      const stopped = err.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { msg: string; in?: number; out?: number }).find((r) => r.msg === 'pipeline stopped');
      assert.ok(stopped, err);
      assert.equal(stopped.in, lines.length, 'every event the input received reached the output');
      assert.equal(stopped.out, lines.length);
    } finally {
      t.cleanup();
    }
  });
});

describe('back-pressure', () => {
  it('a fast generator into a slow output keeps the queue at its bound', async () => {
    const t = tempDir();
    try {
      const settings = mergeSettings(DEFAULT_SETTINGS, {
        'config.string': 'input { generator { count => 20000 } } output { slow { delay_ms => 1 } }',
        'path.data': t.dir,
        'path.plugins': [join(FIXTURES, 'plugins')],
        'queue.max_events': 200,
        'pipeline.batch.size': 50,
        'pipeline.workers': 1,
      });
      const pipeline = await loadPipeline({ settings, workingDir: REPO_ROOT, logger: pino({ level: 'silent' }) });
      const heapBefore = process.memoryUsage().heapUsed;
      let maxSize = 0;
      let samples = 0;
      const sampler = setInterval(() => {
        maxSize = Math.max(maxSize, pipeline.queueStats.size);
        samples++;
      }, 1);
      pipeline.start();
      await pipeline.done;
      clearInterval(sampler);
      const stats = pipeline.queueStats;
      assert.ok(samples > 5, 'the run lasted long enough to sample');
      assert.ok(stats.peak <= stats.capacity, `queue peak ${stats.peak} within capacity ${stats.capacity}`);
      assert.ok(stats.peak >= stats.capacity - 50, `the generator did fill the queue (peak ${stats.peak})`);
      assert.ok(maxSize <= 200);
      assert.equal((globalThis as { __slowReceived?: number }).__slowReceived, 20000, 'every event delivered');
      const growth = process.memoryUsage().heapUsed - heapBefore;
      assert.ok(growth < 64 * 1024 * 1024, `heap grew by ${growth} bytes`);
    } finally {
      t.cleanup();
    }
  });
});

describe('delivery callbacks', () => {
  it('tells an input that an event was delivered only after the outputs received it, dropped events included', async () => {
    const t = tempDir();
    try {
      (globalThis as { __slowReceived?: number }).__slowReceived = 0;
      const settings = mergeSettings(DEFAULT_SETTINGS, {
        'config.string': 'input { acking { count => 500 } } filter { if [n] < 100 { drop {} } } output { slow { delay_ms => 1 } }',
        'path.data': t.dir,
        'path.plugins': [join(FIXTURES, 'plugins')],
        'queue.max_events': 100,
        'pipeline.batch.size': 25,
      });
      const pipeline = await loadPipeline({ settings, workingDir: REPO_ROOT, logger: pino({ level: 'silent' }) });
      pipeline.start();
      await pipeline.done;
      const acks = (globalThis as { __acks?: { n: number; receivedByThen: number }[] }).__acks!;
      assert.equal(acks.length, 500, 'every event confirmed once');
      assert.deepEqual(new Set(acks.map((a) => a.n)).size, 500);
      for (const a of acks) if (a.n >= 100) assert.ok(a.receivedByThen >= a.n - 99, `event ${a.n} confirmed after the output had it (${a.receivedByThen})`);
    } finally {
      t.cleanup();
    }
  });
});

describe('batch prepare hook', () => {
  it('shows each batch to filters that ask, before the events are filtered', async () => {
    const t = tempDir();
    try {
      (globalThis as { __slowReceived?: number }).__slowReceived = 0;
      const settings = mergeSettings(DEFAULT_SETTINGS, {
        'config.string': 'input { generator { count => 1000 } } filter { if [sequence] >= 0 { preparing {} } } output { slow { delay_ms => 0 } }',
        'path.data': t.dir,
        'path.plugins': [join(FIXTURES, 'plugins')],
        'pipeline.batch.size': 100,
      });
      const pipeline = await loadPipeline({ settings, workingDir: REPO_ROOT, logger: pino({ level: 'silent' }) });
      pipeline.start();
      await pipeline.done;
      const stats = (globalThis as { __prepare?: { batches: number; hits: number; misses: number } }).__prepare!;
      assert.ok(stats.batches >= 10, `one prepare per batch (${stats.batches})`);
      assert.equal(stats.hits, 1000, 'every event was prepared before filter() saw it');
      assert.equal(stats.misses, 0);
      assert.equal((globalThis as { __slowReceived?: number }).__slowReceived, 1000);
    } finally {
      t.cleanup();
    }
  });
});
