/**
 * clone through a real pipeline run: core/bin/pipeline.js with config text, stdin in, two file
 * outputs chosen by a conditional on [type]; once on the pipeline thread, once with two filter
 * worker threads (the events then cross threads as JSON text).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const REPO = join(dirname(fileURLToPath(import.meta.url)), '../../../..');
const root = mkdtempSync(join(tmpdir(), 'clone-pipeline-'));
after(() => rmSync(root, { recursive: true, force: true }));

const CONFIG = `
input { stdin {} }
filter {
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

type Out = { copies: Record<string, any>[]; originals: Record<string, any>[] };

/**
 * Runs the config on `first`, then `rest`, on stdin. With `threads`, `rest` is written only once
 * the log says the worker threads are up (they start at the first full batch), so every event
 * of `rest` is filtered in a worker thread.
 */
async function runPipeline(name: string, first: string, rest: string, threads: boolean): Promise<Out> {
  const wd = join(root, name);
  mkdirSync(wd);
  const args = ['start', '-e', CONFIG, '--api.enabled', 'false', '--path.data', join(wd, 'data'), '--log.level', 'info', '-b', '16', '-w', threads ? '2' : '1'];
  const child = spawn(process.execPath, [join(REPO, 'core/bin/pipeline.js'), ...args], { cwd: wd, stdio: ['pipe', 'ignore', 'pipe'] });
  let stderr = '';
  const up = new Promise<void>((resolve) => {
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString('utf8');
      if (/running in 2 worker threads/.test(stderr)) resolve();
    });
  });
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  child.stdin.write(first);
  if (threads) await Promise.race([up, exited]);
  child.stdin.end(rest);
  const code = await exited;
  assert.equal(code, 0, `pipeline failed: ${stderr}`);
  if (threads) assert.match(stderr, /running in 2 worker threads/);
  const read = (f: string) => (existsSync(join(wd, 'out', f)) ? readFileSync(join(wd, 'out', f), 'utf8').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l)) : []);
  return { copies: read('copies.jsonl'), originals: read('originals.jsonl') };
}

describe('clone: through a pipeline run', () => {
  const lines = Array.from({ length: 200 }, (_, i) => `line ${i}`);
  for (const [name, threads] of [
    ['pipeline thread', false],
    ['two filter worker threads', true],
  ] as const) {
    it(`originals and copies take different branches and outputs (${name})`, async () => {
      const text = (l: string[]) => l.map((x) => x + '\n').join('');
      const { copies, originals } = await runPipeline(name.replace(/ /g, '-'), text(lines.slice(0, 16)), text(lines.slice(16)), threads);
      assert.equal(originals.length, lines.length);
      assert.equal(copies.length, lines.length);
      assert.deepEqual(originals.map((e) => e.message).sort(), [...lines].sort());
      assert.deepEqual(copies.map((e) => e.message).sort(), [...lines].sort());
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
      // each copy is its original's twin: same timestamp and text
      const byMessage = new Map(originals.map((e) => [e.message, e['@timestamp']]));
      for (const c of copies) assert.equal(c['@timestamp'], byMessage.get(c.message));
    });
  }
});
