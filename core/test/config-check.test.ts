import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { cli, CORE_ROOT, tempDir } from './helpers.js';

/**
 * `pipeline start -t` must refuse every config `start` refuses (the systemd unit runs -t before
 * each start: a gap is a restart loop), pointing at the offending option's own place. Each case
 * runs the real CLI twice on the same file: with -t, then as a real start.
 */

/** `file:line:col` of the first occurrence of `needle` in `text` (the nth with `nth`). */
function placeOf(file: string, text: string, needle: string, nth = 1): string {
  let at = -1;
  for (let i = 0; i < nth; i++) {
    at = text.indexOf(needle, at + 1);
    assert.ok(at >= 0, `'${needle}' occurs ${nth} times in the config`);
  }
  const before = text.slice(0, at).split('\n');
  return `${file}:${before.length}:${before[before.length - 1]!.length + 1}:`;
}

interface Refusal {
  /** The text the error must point at (its first occurrence, or the nth). */
  at: string;
  nth?: number;
  /** What the message says. */
  says: RegExp;
  /** More places the error must name (the first of two duplicates). */
  alsoAt?: [string, number?][];
}

function refusedBoth(conf: string, r: Refusal): void {
  const t = tempDir();
  try {
    const file = join(t.dir, 'pipeline.conf');
    writeFileSync(file, conf);
    const where = placeOf(file, conf, r.at, r.nth);
    const check = cli(['start', '-t', '-f', file, '--path.data', join(t.dir, 'data')]);
    assert.equal(check.status, 1, `-t exits 1:\n${check.stdout}${check.stderr}`);
    assert.doesNotMatch(check.stdout, /Configuration OK/);
    assert.ok(check.stderr.includes(where), `-t points at ${where}:\n${check.stderr}`);
    assert.match(check.stderr, r.says);
    assert.match(check.stderr, /\n\s+\^\n/, 'draws a caret');
    for (const [needle, nth] of r.alsoAt ?? []) {
      const also = placeOf(file, conf, needle, nth);
      assert.ok(check.stderr.includes(also), `-t also names ${also}:\n${check.stderr}`);
    }
    const start = cli(['start', '-f', file, '--path.data', join(t.dir, 'data'), '--api.enabled', 'false']);
    assert.equal(start.status, 1, `start refuses it too:\n${start.stdout}${start.stderr}`);
    assert.ok(start.stderr.includes(where), `start points at ${where} too:\n${start.stderr}`);
    assert.doesNotMatch(start.stderr, /pipeline started/);
  } finally {
    t.cleanup();
  }
}

const GEN = 'input {\n  generator { count => 1 }\n}\n';
const OUT = 'output {\n  null {}\n}\n';

describe('-t refuses what start refuses, at the option', () => {
  it('a regex in a conditional that does not compile', () => {
    refusedBoth(`${GEN}filter {\n  if [message] =~ /sshd\\[(\\d+\\]/ {\n    drop {}\n  }\n}\n${OUT}`, {
      at: '/sshd',
      says: /invalid regular expression: \/sshd\\\[\(\\d\+\\\]\/: Unterminated group/,
    });
  });

  it('a regex given as a string in an output conditional', () => {
    refusedBoth(`${GEN}output {\n  if [message] !~ "a(b" {\n    null {}\n  }\n}\n`, { at: '"a(b"', says: /invalid regular expression/ });
  });

  it('a date pattern with an illegal component', () => {
    refusedBoth(`${GEN}filter {\n  date {\n    match => ["ts", "ISO8601",\n              "yyyy-MM-dd QQQQ"]\n  }\n}\n${OUT}`, {
      at: '"yyyy-MM-dd QQQQ"',
      says: /date: illegal pattern component 'QQQQ'/,
    });
  });

  it("an error from a plugin's check that names one option is placed at that option", () => {
    refusedBoth(`${GEN}filter {\n  date {\n    locale => "en"\n    match => ["ts"]\n  }\n}\n${OUT}`, { at: '["ts"]', says: /match needs a field name and at least one format/ });
    refusedBoth(`${GEN}filter {\n  date {\n    match => ["ts", "ISO8601"]\n    timezone => "Europe/Pari"\n  }\n}\n${OUT}`, {
      at: '"Europe/Pari"',
      says: /unknown time zone 'Europe\/Pari' \(did you mean 'Europe\/Paris'\?\)/,
    });
  });

  it('a malformed field reference in an option that takes one', () => {
    refusedBoth(`${GEN}filter {\n  json { source => "[a" }\n}\n${OUT}`, { at: '"[a"', says: /json: option 'source': malformed field reference '\[a': missing '\]'/ });
  });

  it('a malformed field reference among several, at the item', () => {
    refusedBoth(`${GEN}filter {\n  mutate { lowercase => ["a", "[b]]", "c"] }\n}\n${OUT}`, { at: '"[b]]"', says: /mutate: option 'lowercase': malformed field reference/ });
  });

  it("a malformed field name in a common option (add_field), at the hash key", () => {
    refusedBoth(`${GEN}filter {\n  mutate {\n    add_field => { "ok" => "1"\n                   "[x" => "2" }\n  }\n}\n${OUT}`, {
      at: '"[x"',
      says: /mutate: option 'add_field': malformed field reference '\[x'/,
    });
  });

  it("a malformed field name inside mutate's hashes, at the option", () => {
    refusedBoth(`${GEN}filter {\n  mutate {\n    rename => { "[a" => "b" }\n  }\n}\n${OUT}`, { at: '{ "[a"', says: /mutate: malformed field reference '\[a'/ });
  });

  it("kv's split pattern and character classes, at the option", () => {
    refusedBoth(`${GEN}filter {\n  kv { field_split_pattern => "(" }\n}\n${OUT}`, { at: '"("', says: /kv: invalid split character class or pattern/ });
    refusedBoth(`${GEN}filter {\n  kv { trim_key => "z-a" }\n}\n${OUT}`, { at: '"z-a"', says: /kv: option 'trim_key' is not a valid character class/ });
  });

  it('a port out of range, for a listening input and for an output', () => {
    refusedBoth(`input {\n  tcp { host => "127.0.0.1" port => 70000 }\n}\n${OUT}`, { at: '70000', says: /tcp: option 'port' must be from 0 to 65535, got 70000/ });
    refusedBoth(`${GEN}output {\n  email {\n    to => "ops@example.net"\n    port => 70000\n  }\n}\n`, { at: '70000', says: /email: option 'port' must be from 1 to 65535, got 70000/ });
    refusedBoth(`input {\n  udp { host => "127.0.0.1" port => 51.5 }\n}\n${OUT}`, { at: '51.5', says: /udp: option 'port' expects a whole number, got 51\.5/ });
  });

  it('an unknown grok pattern name, with the closest one', () => {
    refusedBoth(`${GEN}filter {\n  grok {\n    match => { "message" => "%{SYSLOGTIMESTMP:ts} %{GREEDYDATA:rest}" }\n  }\n}\n${OUT}`, {
      at: '"%{SYSLOGTIMESTMP',
      says: /grok: pattern %\{SYSLOGTIMESTMP\} not defined \(did you mean %\{SYSLOGTIMESTAMP\}\?\)/,
    });
  });

  it('a codec on a plugin that takes none', () => {
    for (const [name, opts] of [
      ['email', 'to => "ops@example.net"'],
      ['alerta', 'endpoint => "http://127.0.0.1:1/api"'],
      ['heartbeat', 'mode => "local"'],
      ['null', ''],
    ] as const)
      refusedBoth(`${GEN}output {\n  ${name} {\n    ${opts}\n    codec => json_lines\n  }\n}\n`, { at: 'codec', says: new RegExp(`${name} takes no codec`) });
  });

  it('a key given twice in a hash, naming both places', () => {
    refusedBoth(`${GEN}filter {\n  mutate {\n    add_field => {\n      "a" => "1"\n      "a" => "2"\n    }\n  }\n}\n${OUT}`, {
      at: '"a"',
      nth: 2,
      says: /duplicate key 'a' in a hash/,
      alsoAt: [['"a"', 1]],
    });
  });

  it('two codecs on one plugin, naming both places', () => {
    refusedBoth(`input {\n  generator {\n    count => 1\n    codec => json\n    codec => plain\n  }\n}\n${OUT}`, {
      at: 'codec',
      nth: 2,
      says: /generator: option 'codec' is set twice/,
      alsoAt: [['codec', 1]],
    });
  });

  it('reports each broken place of one config', () => {
    const t = tempDir();
    try {
      const conf = `${GEN}filter {\n  if [a] =~ /(/ { drop {} }\n  json { source => "[a" }\n}\noutput {\n  tcp { port => 70000 }\n}\n`;
      const r = cli(['start', '-t', '--path.data', t.dir, '-e', conf]);
      assert.equal(r.status, 1);
      assert.match(r.stderr, /3 errors in the configuration/);
    } finally {
      t.cleanup();
    }
  });
});

describe('elseif', () => {
  it('is accepted by -t and runs as else if', () => {
    const conf = `input { generator { lines => ["a", "b", "c"] count => 1 } }
      filter {
        if [message] == "a" { mutate { add_tag => ["first"] } }
        elseif [message] == "b" { mutate { add_tag => ["second"] } }
        else { mutate { add_tag => ["other"] } }
      }
      output { stdout { codec => json_lines } }`;
    const t = tempDir();
    try {
      const check = cli(['start', '-t', '--path.data', t.dir, '-e', conf]);
      assert.equal(check.status, 0, check.stderr);
      assert.equal(check.stdout, 'Configuration OK\n');
      const run = cli(['start', '--path.data', t.dir, '--api.enabled', 'false', '-e', conf]);
      assert.equal(run.status, 0, run.stderr);
      const tags = run.stdout.trim().split('\n').map((l) => (JSON.parse(l) as { message: string; tags: string[] }));
      assert.deepEqual(tags.map((e) => [e.message, e.tags]), [['a', ['first']], ['b', ['second']], ['c', ['other']]]);
    } finally {
      t.cleanup();
    }
  });
});

describe('pipeline --version', () => {
  it("prints core's version, as --version and as -V", () => {
    const { version } = JSON.parse(readFileSync(join(CORE_ROOT, 'package.json'), 'utf8')) as { version: string };
    assert.match(version, /^\d+\.\d+\.\d+/);
    for (const flag of ['--version', '-V']) {
      const r = cli([flag]);
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stdout, `${version}\n`);
    }
  });
});

describe('option types: integer, port, bounds', () => {
  const loc = { file: 't.conf', line: 1, column: 1 };
  const num = (value: number | string) => [{ name: 'n', loc, value: typeof value === 'number' ? { kind: 'number' as const, value, loc } : { kind: 'string' as const, value, loc } }];

  it('an integer takes whole numbers within its bounds, from numbers or numeric strings', async () => {
    const { opt, resolveOptions } = await import('../src/plugin/options.js');
    const schema = { n: opt.integer({ min: 1, max: 10 }) };
    assert.equal(resolveOptions(schema, num(5), 'p', loc).n, 5);
    assert.equal(resolveOptions(schema, num('7'), 'p', loc).n, 7);
    assert.throws(() => resolveOptions(schema, num(0), 'p', loc), /option 'n' must be from 1 to 10, got 0/);
    assert.throws(() => resolveOptions(schema, num(11), 'p', loc), /must be from 1 to 10, got 11/);
    assert.throws(() => resolveOptions(schema, num(1.5), 'p', loc), /expects a whole number, got 1\.5/);
    assert.throws(() => resolveOptions({ n: opt.number({ min: 0.5 }) }, num(0.25), 'p', loc), /must be at least 0\.5/);
  });

  it('a port is 1..65535 unless it says min: 0; the README table names bounds other than the usual', async () => {
    const { opt, optionsTable, resolveOptions } = await import('../src/plugin/options.js');
    assert.throws(() => resolveOptions({ n: opt.port() }, num(0), 'p', loc), /must be from 1 to 65535, got 0/);
    assert.equal(resolveOptions({ n: opt.port({ min: 0 }) }, num(0), 'p', loc).n, 0);
    const table = optionsTable({ a: opt.port({ default: 25, description: 'relay' }), b: opt.port({ min: 0 }), c: opt.integer({ min: 1 }) });
    assert.match(table, /\| `a` \| port \| `25` \|  \| relay \|/);
    assert.match(table, /\| `b` \| port \|  \|  \| from 0 to 65535 \|/);
    assert.match(table, /\| `c` \| integer \|  \|  \| at least 1 \|/);
  });
});
