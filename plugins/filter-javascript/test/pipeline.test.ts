/**
 * javascript in real pipeline runs: core/bin/pipeline.js start -f <file> with the stdin input and
 * json_lines on stdout, inline code with init beside a path script file (with tests) in the
 * working directory; and `-t` refusing conflicting options, syntax errors and a failing script test
 * at their place.
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
const wd = mkdtempSync(join(tmpdir(), 'javascript-pipeline-'));
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

const SCRIPT = `// splits "a,b,c" into one event per item; drops "drop me"
let separator;
function register(params) {
  separator = params.separator;
}
function filter(event) {
  const text = event.get('message');
  if (text === 'drop me') return [];
  if (!text.includes(separator)) return [event];
  return text.split(separator).map((part, i) => {
    const e = event.clone();
    e.set('message', part);
    e.set('[part][index]', i);
    return e;
  });
}
const tests = [
  {
    name: 'split',
    parameters: { separator: ';' },
    in_event: { message: 'x;y' },
    expect: { 'two events': (events) => events.map((e) => e.get('message')).join() === 'x,y' },
  },
];
`;

const CONFIG = `input { stdin {} }
filter {
  javascript {
    id => "inline"
    init => "let seen = 0"
    code => "
      seen += 1;
      event.set('[js][seen]', seen);
      const m = event.get('message');
      if (m.startsWith('#')) event.cancel();
      if (m === 'boom') event.get('nope').field;
    "
    add_tag => ["js_ok"]
    tag_with_exception_message => true
  }
  javascript {
    id => "file"
    path => "split.js"
    script_params => { "separator" => "," }
    add_field => { "matched" => "yes" }
  }
}
output { stdout { codec => json_lines } }
`;

describe('javascript: through a pipeline run', () => {
  it('runs inline code with init and a path script; drops, splits, tags exceptions', () => {
    writeFileSync(join(wd, 'split.js'), SCRIPT);
    const conf = join(wd, 'js.conf');
    writeFileSync(conf, CONFIG);
    // two workers: the filter keeps state (init's counter), so the section stays on the pipeline
    // thread with one instance, and the counter runs 1, 2, 3, 4 across the events in order
    const r = start(['-f', conf, '--pipeline.workers', '2'], ['plain', '# comment', 'a,b', 'boom', 'drop me'].join('\n') + '\n');
    assert.equal(r.status, 0, r.stderr);
    const out = r.stdout
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as Record<string, any>);
    assert.deepEqual(
      out.map((e) => [e.message, e.js?.seen, e.part?.index, e.tags, e.matched]),
      [
        ['plain', 1, undefined, ['js_ok'], 'yes'],
        // the script's new events: the inline filter's tag, not the file filter's add_field
        ['a', 3, 0, ['js_ok'], undefined],
        ['b', 3, 1, ['js_ok'], undefined],
        ['boom', 4, undefined, ["_javascriptexception: Cannot read properties of undefined (reading 'field')", '_javascriptexception'], 'yes'],
      ],
    );
  });

  it('-t passes a good config (the script loads and its tests pass)', () => {
    writeFileSync(join(wd, 'split.js'), SCRIPT);
    const r = start(['-f', join(wd, 'js.conf'), '-t']);
    assert.equal(r.status, 0, r.stdout + r.stderr);
  });

  it('-t refuses code with path, at the path option value', () => {
    const conf = join(wd, 'both.conf');
    writeFileSync(conf, 'input { stdin {} }\nfilter {\n  javascript {\n    code => "1"\n    path => "split.js"\n  }\n}\noutput { stdout {} }\n');
    const r = start(['-f', conf, '-t']);
    assert.equal(r.status, 1);
    assert.match(r.stdout + r.stderr, /both\.conf:5:13: javascript: options 'code' and 'path' cannot be used together/);
  });

  it('-t refuses a syntax error in code, with its line and column inside the code', () => {
    const conf = join(wd, 'syntax.conf');
    writeFileSync(conf, `input { stdin {} }\nfilter {\n  javascript {\n    code => "const a = 1;\n      event.set('x', a +* 2)"\n  }\n}\noutput { stdout {} }\n`);
    const r = start(['-f', conf, '-t']);
    assert.equal(r.status, 1);
    assert.match(r.stdout + r.stderr, /syntax\.conf:4:13: javascript: syntax error in 'code' at line 2, column 25: Unexpected token '\*'/);
  });

  it('-t refuses a syntax error in the script file, at the file line and column', () => {
    writeFileSync(join(wd, 'broken.js'), 'function filter(event) {\n  return [event;\n}\n');
    const conf = join(wd, 'broken.conf');
    writeFileSync(conf, 'input { stdin {} }\nfilter {\n  javascript { path => "broken.js" }\n}\noutput { stdout {} }\n');
    const r = start(['-f', conf, '-t']);
    assert.equal(r.status, 1);
    assert.match(r.stdout + r.stderr, /broken\.conf:3:24: javascript: syntax error in \S*broken\.js:2:16: Unexpected token ';'/);
  });

  it('-t refuses a script whose own test fails', () => {
    writeFileSync(join(wd, 'failing.js'), SCRIPT.replace("=== 'x,y'", "=== 'nope'"));
    const conf = join(wd, 'failing.conf');
    writeFileSync(conf, 'input { stdin {} }\nfilter {\n  javascript { path => "failing.js" script_params => { "separator" => "," } }\n}\noutput { stdout {} }\n');
    const r = start(['-f', conf, '-t']);
    assert.equal(r.status, 1);
    assert.match(r.stdout + r.stderr, /failing\.conf:3:24: javascript: \S*failing\.js: 1 script test failed: 'split' \/ 'two events' failed/);
  });
});
