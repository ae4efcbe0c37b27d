import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { cli, FIXTURES, tempDir } from './helpers.js';

describe('pipeline start', () => {
  it('runs an inline generator config to stdout as JSON lines and exits 0', () => {
    const t = tempDir();
    try {
      const r = cli(['start', '--path.data', t.dir, '-e', 'input { generator { count => 3 message => "hello" } } output { stdout { codec => json_lines } }']);
      assert.equal(r.status, 0, r.stderr);
      const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
      assert.equal(lines.length, 3);
      for (const [i, l] of lines.entries()) {
        assert.equal(l.message, 'hello');
        assert.equal(l.sequence, i);
        assert.equal(typeof l.host, 'string');
        assert.match(String(l['@timestamp']), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      }
      assert.doesNotMatch(r.stdout, /INFO/, 'logs stay on stderr');
    } finally {
      t.cleanup();
    }
  });

  it('applies conditionals and common options', () => {
    const t = tempDir();
    try {
      const conf = `input { generator { lines => ["a", "b"] count => 1 type => "t" tags => ["in"] add_field => { "src" => "%{type}-x" } } }
        filter { if [message] == "a" { drop {} } }
        output { if "in" in [tags] { stdout { codec => json_lines } } }`;
      const r = cli(['start', '--path.data', t.dir, '-e', conf]);
      assert.equal(r.status, 0, r.stderr);
      const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
      assert.equal(lines.length, 1);
      assert.deepEqual([lines[0]!.message, lines[0]!.type, lines[0]!.src, lines[0]!.tags], ['b', 't', 't-x', ['in']]);
    } finally {
      t.cleanup();
    }
  });
});

describe('pipeline start --config.test_and_exit', () => {
  const check = (conf: string) => {
    const t = tempDir();
    try {
      const file = join(t.dir, 'bad.conf');
      writeFileSync(file, conf);
      return { ...cli(['start', '-f', file, '--config.test_and_exit', '--path.data', t.dir, '--path.plugins', join(FIXTURES, 'plugins')]), file };
    } finally {
      t.cleanup();
    }
  };

  it('prints Configuration OK for a good config', () => {
    const t = tempDir();
    const r = cli(['start', '-t', '--path.data', t.dir, '-e', 'input { stdin {} } output { stdout {} }']);
    t.cleanup();
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, 'Configuration OK\n');
  });

  const cases: [string, string, RegExp, string][] = [
    ['syntax error', 'input {\n  generator {\n    count 3\n  }\n}\n', /:3:11: expected '=>' after option 'count'/, "    count 3"],
    ['unknown plugin', 'input {\n  generatr { }\n}\noutput { stdout {} }\n', /:2:3: unknown input plugin 'generatr' \(did you mean 'generator'\?\)/, '  generatr { }'],
    ['unknown option', 'input { generator { count => 1 } }\noutput {\n  stdout { codex => json }\n}\n', /:3:12: unknown option 'codex' for stdout \(did you mean 'codec'\?\)/, '  stdout { codex => json }'],
    ['wrong option type', 'input {\n  generator { count => "many" }\n}\noutput { stdout {} }\n', /:2:24: generator: option 'count' expects a number, got a string/, '  generator { count => "many" }'],
    ['missing required option', 'input { generator {} }\noutput {\n  needy {}\n}\n', /:3:3: needy: missing required option 'delay'/, '  needy {}'],
  ];
  for (const [name, conf, re, line] of cases) {
    it(`exits 1 on a ${name}, with file:line:col, the line and a caret`, () => {
      const r = check(conf);
      assert.equal(r.status, 1, r.stdout + r.stderr);
      assert.match(r.stderr, re);
      assert.ok(r.stderr.includes(r.file), 'names the file');
      assert.ok(r.stderr.includes(line), `shows the line: ${r.stderr}`);
      assert.match(r.stderr, /\n\s+\^\n/, 'draws a caret');
    });
  }

  it('reports every broken plugin, not just the first', () => {
    const r = check('input { generatr {} }\noutput { stdot {} }\n');
    assert.equal(r.status, 1);
    assert.match(r.stderr, /unknown input plugin 'generatr'/);
    assert.match(r.stderr, /unknown output plugin 'stdot'/);
    assert.match(r.stderr, /2 errors in the configuration/);
  });

  it('reads several files of a directory in name order', () => {
    const t = tempDir();
    try {
      writeFileSync(join(t.dir, '20-out.conf'), 'output { stdout { codec => json_lines } }');
      writeFileSync(join(t.dir, '10-in.conf'), 'input { generator { count => 1 message => "m" } }');
      const r = cli(['start', '-f', t.dir, '--path.data', join(t.dir, 'data')]);
      assert.equal(r.status, 0, r.stderr);
      assert.equal((JSON.parse(r.stdout) as { message: string }).message, 'm');
    } finally {
      t.cleanup();
    }
  });
});

describe('pipeline --help', () => {
  it('prints the commands and exits 0, for the program and for each command', () => {
    const top = cli(['--help']);
    assert.equal(top.status, 0, top.stderr);
    for (const c of ['start', 'status', 'plugin', 'certs', 'sec', 'dlq']) assert.match(top.stdout, new RegExp(`pipeline ${c} `));
    const start = cli(['start', '--help']);
    assert.equal(start.status, 0, start.stderr);
    assert.match(start.stdout, /--config\.test_and_exit/);
    assert.match(start.stdout, /--pipeline\.batch\.size/);
    assert.match(cli(['plugin', '--help']).stdout, /pipeline plugin generate/);
  });

  it('a command line without a command says which commands exist, exit 2', () => {
    const r = cli([]);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /name a command: start, test, replay, status, plugin, certs, sec or dlq/);
  });
});

describe('an input that cannot start', () => {
  it('ends the run with exit 1 and says why (a port in use)', async () => {
    const { createServer } = await import('node:net');
    const server = createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as { port: number }).port;
    const t = tempDir();
    try {
      const r = cli(['start', '--path.data', t.dir, '--api.enabled', 'false', '-e', `input { tcp { host => "127.0.0.1" port => ${port} } } output { null {} }`]);
      assert.equal(r.status, 1, r.stderr);
      assert.match(r.stderr, /input failed.*EADDRINUSE/);
    } finally {
      server.close();
      t.cleanup();
    }
  });
});

describe('config check reaches into the files plugins read', () => {
  it('reports an unknown grok pattern and a broken SEC rule file with -t', () => {
    const t = tempDir();
    try {
      const rules = join(t.dir, 'bad.sec');
      writeFileSync(rules, 'type=Single\nptype=RegExp\npattern=x\ndesc=d\naction=shellcmd rm -rf /\n');
      const r = cli(['start', '-t', '--path.data', t.dir, '-e', `input { stdin {} } filter { grok { match => { "message" => "%{NOPE:x}" } } } correlate { sec { rules => ["${rules}"] } } output { null {} }`]);
      assert.equal(r.status, 1);
      assert.match(r.stderr, /grok: pattern %\{NOPE\} not defined/);
      assert.match(r.stderr, /bad\.sec:5: action 'shellcmd' runs a shell command/);
      assert.match(r.stderr, /2 errors in the configuration/);
    } finally {
      t.cleanup();
    }
  });
});
