/**
 * split through a real pipeline run: core/bin/pipeline.js with config text, stdin in, json_lines
 * on stdout; split sits between filters, so the new events must go through the ones after it.
 * Once on the pipeline thread; once with `-w 2` and core's `busy` test filter
 * (core/test/fixtures/plugins) first, which makes the section heavy enough for the worker threads
 * to start and records in [filter_thread] which thread filtered each event: there the events
 * cross threads as JSON text.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const REPO = join(dirname(fileURLToPath(import.meta.url)), '../../../..');
const FIXTURES = join(REPO, 'core/test/fixtures/plugins');
const root = mkdtempSync(join(tmpdir(), 'split-pipeline-'));
after(() => rmSync(root, { recursive: true, force: true }));

const config = (busy: string) => `
input { stdin {} }
filter {
  ${busy}
  json { source => "message" }
  split { field => "items" add_tag => ["item"] }
  mutate { add_field => { "item_n" => "%{[items][n]}" } }
  if [hosts] {
    split { field => "hosts" terminator => "," target => "host_name" }
    mutate { uppercase => ["host_name"] }
  }
}
output { stdout { codec => json_lines } }
`;

type Json = Record<string, any>;

/** Runs a config on `input` (stdin), logs as JSON; kills it and fails after two minutes. */
async function runPipeline(name: string, conf: string, input: string, args: string[]): Promise<{ events: Json[]; logs: Json[] }> {
  const wd = join(root, name);
  mkdirSync(wd);
  const all = ['start', '-e', conf, '--api.enabled', 'false', '--path.data', join(wd, 'data'), '--log.level', 'info', '--log.format', 'json', '--path.plugins', FIXTURES, ...args];
  const child = spawn(process.execPath, [join(REPO, 'core/bin/pipeline.js'), ...all], { cwd: wd, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  const killer = setTimeout(() => child.kill('SIGKILL'), 120_000);
  child.stdin.end(input);
  const code = await exited;
  clearTimeout(killer);
  assert.equal(code, 0, `pipeline failed: ${stderr}`);
  const parse = (t: string) => t.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Json);
  return { events: parse(stdout), logs: parse(stderr) };
}

/** `batches` lines of three items each, then the lines with the edge cases. */
function input(batches: number): string {
  const lines = [
    ...Array.from({ length: batches }, (_, i) => JSON.stringify({ batch: `b${i}`, items: [{ n: 1 }, { n: 2 }, { n: 3 }] })),
    JSON.stringify({ batch: 'hosts', items: [{ n: 9 }], hosts: 'alpha,beta,,gamma' }),
    JSON.stringify({ batch: 'empty', items: [] }),
    'not json at all',
  ];
  return lines.map((l) => l + '\n').join('');
}

function assertSplit(batches: number, events: Json[], logs: Json[]): void {
  const byBatch = new Map<string, Json[]>();
  for (const e of events) byBatch.set(e.batch, [...(byBatch.get(e.batch) ?? []), e]);
  for (let i = 0; i < batches; i++) {
    assert.deepEqual(
      (byBatch.get(`b${i}`) ?? []).map((e) => [e.items, e.item_n, e.tags]),
      [
        [{ n: 1 }, '1', ['item']],
        [{ n: 2 }, '2', ['item']],
        [{ n: 3 }, '3', ['item']],
      ],
      `b${i}`,
    );
  }
  // a second split inside a conditional, with a target, then a filter on its target
  assert.deepEqual(
    (byBatch.get('hosts') ?? []).map((e) => [e.host_name, e.hosts, e.item_n]),
    [
      ['ALPHA', 'alpha,beta,,gamma', '9'],
      ['BETA', 'alpha,beta,,gamma', '9'],
      ['GAMMA', 'alpha,beta,,gamma', '9'],
    ],
  );
  // an empty array is no event at all
  assert.equal(byBatch.has('empty'), false);
  // no items field: tagged, and on to the output
  const failed = events.filter((e) => e.message === 'not json at all');
  assert.equal(failed.length, 1);
  assert.deepEqual(failed[0]!.tags, ['_jsonparsefailure', '_split_type_failure']);
  assert.equal(events.length, batches * 3 + 3 + 1);
  const warned = logs.filter((r) => /only string and array/.test(String(r.msg)));
  assert.equal(warned.length, 1);
  // logged by the thread that filtered the event (a worker's logger carries its id)
  assert.equal(warned[0]!.thread, failed[0]!.filter_thread > 0 ? failed[0]!.filter_thread : undefined);
}

describe('split: through a pipeline run', () => {
  it('new events go through the filters after split (pipeline thread)', async () => {
    const { events, logs } = await runPipeline('one-thread', config(''), input(200), ['-w', '1']);
    assertSplit(200, events, logs);
  });
  it('the same in filter worker threads', async () => {
    const { events, logs } = await runPipeline('worker-threads', config('busy { micros => 50 }'), input(30_000), ['-w', '2']);
    assert.ok(logs.some((r) => /filter section running in 2 worker threads/.test(String(r.msg))));
    assertSplit(30_000, events, logs);
    assert.ok(
      events.some((e) => e.filter_thread > 0),
      'some events were split in a worker thread',
    );
  });
});
