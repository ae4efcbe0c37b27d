/**
 * translate in a real pipeline run: core/bin/pipeline.js start -f <config file> with a
 * 100,000-entry YAML dictionary and a CSV dictionary on disk, lines on stdin, json_lines on stdout;
 * and -t refusing a broken dictionary file at the option.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const REPO = join(dirname(fileURLToPath(import.meta.url)), '../../../..');
const BIN = join(REPO, 'core/bin/pipeline.js');
const wd = mkdtempSync(join(tmpdir(), 'translate-pipeline-'));
after(() => rmSync(wd, { recursive: true, force: true }));

function start(args: string[], input = '') {
  return spawnSync(process.execPath, [BIN, 'start', ...args, '--api.enabled', 'false', '--path.data', join(wd, 'data'), '--log.level', 'error'], {
    cwd: wd,
    input,
    encoding: 'utf8',
    timeout: 120_000,
    maxBuffer: 64 * 1024 * 1024,
  });
}

describe('translate: through a pipeline run', () => {
  it('a 100,000-entry YAML dictionary, a CSV one over an array, fallback and add_tag', () => {
    const lines: string[] = [];
    for (let i = 0; i < 100_000; i++) lines.push(`"user${i}": "User Number ${i}"`);
    writeFileSync(join(wd, 'users.yml'), lines.join('\n') + '\n');
    writeFileSync(join(wd, 'codes.csv'), '200,OK\n404,Not Found\n500,Server Error\n');
    const conf = join(wd, 'translate.conf');
    writeFileSync(
      conf,
      `input { stdin { codec => json_lines } }
filter {
  translate { source => "user" target => "[user_name]" dictionary_path => "users.yml" fallback => "unknown %{user}" add_tag => ["named"] }
  translate { iterate_on => "codes" source => "codes" target => "code_names" dictionary_path => "codes.csv" }
}
output { stdout { codec => json_lines } }
`,
    );
    const input = [
      { id: 1, user: 'user0', codes: [200, 404] },
      { id: 2, user: 'user99999', codes: 500 },
      { id: 3, user: 'nobody', codes: [302] },
      { id: 4 },
    ];
    const r = start(['-f', conf], input.map((o) => JSON.stringify(o)).join('\n') + '\n');
    assert.equal(r.status, 0, r.stderr);
    const out = r.stdout
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const by = new Map(out.map((e) => [e.id, e]));
    assert.equal(out.length, 4);
    assert.deepEqual([by.get(1)!.user_name, by.get(1)!.code_names, by.get(1)!.tags], ['User Number 0', ['OK', 'Not Found'], ['named']]);
    assert.deepEqual([by.get(2)!.user_name, by.get(2)!.code_names], ['User Number 99999', ['Server Error']]);
    assert.deepEqual([by.get(3)!.user_name, by.get(3)!.code_names, by.get(3)!.tags], ['unknown nobody', [null], ['named']]);
    assert.deepEqual([by.get(4)!.user_name, by.get(4)!.tags], [undefined, undefined]);
  });

  it('-t refuses a dictionary file that is not valid YAML, at the option', () => {
    writeFileSync(join(wd, 'broken.yml'), 'a: 1\nb: [unclosed\n');
    const conf = join(wd, 'bad.conf');
    writeFileSync(conf, 'input { stdin {} }\nfilter {\n  translate {\n    source => "a"\n    dictionary_path => "broken.yml"\n  }\n}\noutput { stdout {} }\n');
    const r = start(['-f', conf, '-t']);
    assert.equal(r.status, 1);
    assert.match(r.stdout + r.stderr, /bad\.conf:5:\d+: translate: .* when loading dictionary file at .*broken\.yml/);
  });
});
