/**
 * clone through a real pipeline run: core/bin/pipeline.js with config text, stdin in, two file
 * outputs chosen by a conditional on [type]. Once on the pipeline thread; once with `-w 2` and
 * core's `busy` test filter (core/test/fixtures/plugins) ahead of clone, which makes the section
 * heavy enough for the worker threads to start and records in [filter_thread] which thread
 * filtered each event: there the events cross threads as JSON text.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const REPO = join(dirname(fileURLToPath(import.meta.url)), '../../../..');
const FIXTURES = join(REPO, 'core/test/fixtures/plugins');
const root = mkdtempSync(join(tmpdir(), 'clone-pipeline-'));
after(() => rmSync(root, { recursive: true, force: true }));

const config = (busy: string) => `
input { stdin {} }
filter {
  ${busy}
  clone { clones => ["copy"] add_tag => ["cloned"] }
  if [type] == "copy" {
    mutate { add_field => { "route" => "copies" } }
  } else {
    mutate { add_field => { "route" => "originals" } }
  }
}
output {
  if [type] == "copy" {
    file { path => "out/copies.jsonl" }
  } else {
    file { path => "out/originals.jsonl" }
  }
}
`;

type Json = Record<string, any>;

/** Runs a config on `input` (stdin); kills it and fails after two minutes. */
async function runPipeline(name: string, conf: string, input: string, args: string[]): Promise<{ copies: Json[]; originals: Json[]; stderr: string }> {
  const wd = join(root, name);
  mkdirSync(wd);
  const all = ['start', '-e', conf, '--api.enabled', 'false', '--path.data', join(wd, 'data'), '--log.level', 'info', '--path.plugins', FIXTURES, ...args];
  const child = spawn(process.execPath, [join(REPO, 'core/bin/pipeline.js'), ...all], { cwd: wd, stdio: ['pipe', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  const killer = setTimeout(() => child.kill('SIGKILL'), 120_000);
  child.stdin.end(input);
  const code = await exited;
  clearTimeout(killer);
  assert.equal(code, 0, `pipeline failed: ${stderr}`);
  const read = (f: string): Json[] => (existsSync(join(wd, 'out', f)) ? readFileSync(join(wd, 'out', f), 'utf8').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Json) : []);
  return { copies: read('copies.jsonl'), originals: read('originals.jsonl'), stderr };
}

function assertRouted(lines: string[], copies: Json[], originals: Json[]): void {
  assert.equal(originals.length, lines.length);
  assert.equal(copies.length, lines.length);
  const sorted = [...lines].sort();
  assert.deepEqual(originals.map((e) => e.message).sort(), sorted);
  assert.deepEqual(copies.map((e) => e.message).sort(), sorted);
  for (const e of originals) {
    assert.equal(e.type, undefined);
    assert.equal(e.route, 'originals');
    assert.equal(e.tags, undefined);
  }
  for (const e of copies) {
    assert.equal(e.type, 'copy');
    assert.equal(e.route, 'copies');
    assert.deepEqual(e.tags, ['cloned']);
  }
  // each copy is its original's twin: same timestamp, same thread
  const byMessage = new Map(originals.map((e) => [e.message, e]));
  for (const c of copies) {
    const o = byMessage.get(c.message)!;
    assert.equal(c['@timestamp'], o['@timestamp']);
    assert.equal(c.filter_thread, o.filter_thread);
  }
}

const text = (lines: string[]) => lines.map((l) => l + '\n').join('');

describe('clone: through a pipeline run', () => {
  it('originals and copies take different branches and outputs (pipeline thread)', async () => {
    const lines = Array.from({ length: 500 }, (_, i) => `line ${i}`);
    const { copies, originals } = await runPipeline('one-thread', config(''), text(lines), ['-w', '1']);
    assertRouted(lines, copies, originals);
  });
  it('the same in filter worker threads', async () => {
    const lines = Array.from({ length: 30_000 }, (_, i) => `line ${i}`);
    const { copies, originals, stderr } = await runPipeline('worker-threads', config('busy { micros => 50 }'), text(lines), ['-w', '2']);
    assert.match(stderr, /filter section running in 2 worker threads/);
    assertRouted(lines, copies, originals);
    assert.ok(
      copies.some((e) => e.filter_thread > 0),
      'some events were cloned in a worker thread',
    );
  });
});
