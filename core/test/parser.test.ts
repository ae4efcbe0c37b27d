import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { BranchNode, PluginNode, Value } from '../src/config/ast.js';
import { ConfigError } from '../src/config/errors.js';
import { parseConfig } from '../src/config/parser.js';

const plugin = (text: string, i = 0): PluginNode => parseConfig(text, 't.conf').sections[0]!.body[i] as PluginNode;
const attr = (p: PluginNode, name: string): Value => p.attributes.find((a) => a.name === name)!.value;

describe('config parser: structure', () => {
  it('reads sections in order, with comments anywhere', () => {
    const ast = parseConfig('# top\ninput { # c\n stdin { } # x\n}\nfilter {}\ncorrelate { }\noutput { stdout {} }\n', 'a.conf');
    assert.deepEqual(ast.sections.map((s) => s.kind), ['input', 'filter', 'correlate', 'output']);
    assert.equal((ast.sections[0]!.body[0] as PluginNode).name, 'stdin');
    assert.deepEqual(ast.sections[0]!.loc, { file: 'a.conf', line: 2, column: 1 });
  });

  it('accepts plugin names and option names in quotes', () => {
    const p = plugin('filter { "mutate" { "add_tag" => "x" } }');
    assert.equal(p.name, 'mutate');
    assert.equal(p.attributes[0]!.name, 'add_tag');
  });

  it('locates every plugin and attribute', () => {
    const p = plugin('filter {\n  grok {\n    match => "x"\n  }\n}');
    assert.deepEqual(p.loc, { file: 't.conf', line: 2, column: 3 });
    assert.deepEqual(p.attributes[0]!.loc, { file: 't.conf', line: 3, column: 5 });
  });
});

describe('config parser: values', () => {
  it('reads strings raw by default: backslashes stay, \\" keeps the string open', () => {
    const p = plugin(String.raw`filter { grok { a => "\[%{WORD}\] \"q\"" b => 'it\'s' c => "tab\there" } }`);
    assert.equal((attr(p, 'a') as { value: string }).value, String.raw`\[%{WORD}\] \"q\"`);
    assert.equal((attr(p, 'b') as { value: string }).value, String.raw`it\'s`);
    assert.equal((attr(p, 'c') as { value: string }).value, String.raw`tab\there`);
  });

  it('reads escapes with config.support_escapes', () => {
    const ast = parseConfig(String.raw`filter { x { a => "l1\nl2\t\"q\"\\" b => "\[" } }`, 't', { supportEscapes: true });
    const p = ast.sections[0]!.body[0] as PluginNode;
    assert.equal((attr(p, 'a') as { value: string }).value, 'l1\nl2\t"q"\\');
    assert.equal((attr(p, 'b') as { value: string }).value, '\\[');
  });

  it('keeps newlines inside strings', () => {
    const p = plugin('filter { x { a => "one\ntwo" } }');
    assert.equal((attr(p, 'a') as { value: string }).value, 'one\ntwo');
  });

  it('reads numbers, negative and decimal, and barewords', () => {
    const p = plugin('input { x { a => 42 b => -3.5 c => syslog d => true e => some_word-1 } }');
    assert.deepEqual(attr(p, 'a'), { kind: 'number', value: 42, loc: attr(p, 'a').loc });
    assert.equal((attr(p, 'b') as { value: number }).value, -3.5);
    assert.deepEqual([attr(p, 'c').kind, (attr(p, 'c') as { value: string }).value], ['bareword', 'syslog']);
    assert.equal((attr(p, 'd') as { value: string }).value, 'true');
    assert.equal((attr(p, 'e') as { value: string }).value, 'some_word-1');
  });

  it('reads arrays (mixed, nested, trailing comma, empty)', () => {
    const p = plugin(`input { x { a => ['syslog', "b", 3, [1, 2],] b => [] } }`);
    const a = attr(p, 'a') as { items: Value[] };
    assert.equal(a.items.length, 4);
    assert.equal((a.items[3] as { items: Value[] }).items.length, 2);
    assert.equal((attr(p, 'b') as { items: Value[] }).items.length, 0);
  });

  it('reads hashes with => entries, nested hashes, arrays as values, number and bareword keys', () => {
    const p = plugin(`filter { grok { match => { "message" => [ "a", "b" ] other => { x => 1 } 3 => "three" } } }`);
    const h = attr(p, 'match') as { entries: { key: string; value: Value }[] };
    assert.deepEqual(h.entries.map((e) => e.key), ['message', 'other', '3']);
    assert.equal(h.entries[1]!.value.kind, 'hash');
  });

  it('reads a codec given as a plugin block', () => {
    const p = plugin('output { stdout { codec => json_lines { delimiter => "|" } } }');
    const c = attr(p, 'codec');
    assert.equal(c.kind, 'plugin');
    assert.equal((c as { plugin: PluginNode }).plugin.name, 'json_lines');
  });

  it('substitutes ${VAR} and ${VAR:default} in strings and barewords', () => {
    const env = { PORT: '5514', NAME: 'web' };
    const ast = parseConfig('input { x { port => ${PORT} host => "${NAME}-${MISSING:dflt}" } }', 't', { env });
    const p = ast.sections[0]!.body[0] as PluginNode;
    assert.equal((attr(p, 'port') as { value: string }).value, '5514');
    assert.equal((attr(p, 'host') as { value: string }).value, 'web-dflt');
  });

  it('refuses an unset ${VAR} without default, naming it', () => {
    assert.throws(() => parseConfig('input { x { a => "${NOPE_NOT_SET}" } }', 't', { env: {} }), (e: ConfigError) => /NOPE_NOT_SET is not set/.test(e.message) && e.loc?.line === 1);
  });
});

describe('config parser: conditionals', () => {
  const branch = (cond: string): BranchNode => parseConfig(`filter { if ${cond} { x {} } }`, 't').sections[0]!.body[0] as BranchNode;

  it('reads if / else if / else chains', () => {
    const ast = parseConfig('filter { if [a] { x {} } else if [b] { y {} } else if [c] { z {} } else { w {} } }', 't');
    const b = ast.sections[0]!.body[0] as BranchNode;
    assert.equal(b.arms.length, 3);
    assert.equal((b.otherwise![0] as PluginNode).name, 'w');
  });

  it("reads elseif as else if, as Logstash's grammar (\"else\" cs \"if\") does", () => {
    const strip = (t: string) => JSON.stringify(parseConfig(t, 't'), (k, v: unknown) => (k === 'loc' ? undefined : v));
    const spaced = strip('filter { if [a] { x {} } else if [b] { y {} } else { w {} } }');
    assert.equal(strip('filter { if [a] { x {} } elseif [b] { y {} } else { w {} } }'), spaced);
    assert.equal(strip('filter { if [a] { x {} } else # why\n if [b] { y {} } else { w {} } }'), spaced);
  });

  it('keeps a plugin whose name starts with else after a branch a plugin', () => {
    const body = parseConfig('filter { if [a] { x {} } elsewhere { } elseif_x { } }', 't').sections[0]!.body;
    assert.deepEqual(body.map((s) => (s.type === 'plugin' ? s.name : s.type)), ['branch', 'elsewhere', 'elseif_x']);
  });

  for (const op of ['==', '!=', '<', '>', '<=', '>=']) {
    it(`reads the comparison ${op}`, () => {
      const c = branch(`[a] ${op} 1`).arms[0]!.condition;
      assert.equal(c.type, 'compare');
      assert.equal((c as { op: string }).op, op);
    });
  }

  it('reads =~ and !~ with regex literals, escaped slashes included', () => {
    const c = branch(String.raw`[path] =~ /^\/var\/log/`).arms[0]!.condition as { type: string; right: { source: string } };
    assert.equal(c.type, 'regex');
    assert.equal(c.right.source, String.raw`^/var/log`);
    assert.equal((branch('[a] !~ /x/').arms[0]!.condition as { negate: boolean }).negate, true);
  });

  it('reads in and not in, with array literals and field references', () => {
    const c1 = branch('"syslog" in [tags]').arms[0]!.condition as { type: string; negate: boolean };
    assert.deepEqual([c1.type, c1.negate], ['in', false]);
    const c2 = branch('[a] not in ["x", "y"]').arms[0]!.condition as { type: string; negate: boolean; right: { type: string } };
    assert.deepEqual([c2.type, c2.negate, c2.right.type], ['in', true, 'array']);
  });

  it('reads and, or, xor, nand with and binding tighter than or', () => {
    const c = branch('[a] or [b] and [c]').arms[0]!.condition as { op: string; right: { op: string } };
    assert.equal(c.op, 'or');
    assert.equal(c.right.op, 'and');
    assert.equal((branch('[a] xor [b]').arms[0]!.condition as { op: string }).op, 'xor');
    assert.equal((branch('[a] nand [b]').arms[0]!.condition as { op: string }).op, 'nand');
  });

  it('reads parentheses and ! negation of fields and groups', () => {
    const c = branch('!([a] == 1 or [b]) and ![c]').arms[0]!.condition as { op: string; left: { type: string }; right: { type: string } };
    assert.equal(c.op, 'and');
    assert.equal(c.left.type, 'not');
    assert.equal(c.right.type, 'not');
  });

  it('reads nested field references', () => {
    const c = branch('[a][b][c] == "x"').arms[0]!.condition as { left: { ref: string } };
    assert.equal(c.left.ref, '[a][b][c]');
  });
});

describe('config parser: errors name file, line and column', () => {
  const fails = (text: string, re: RegExp, line: number, column: number) => {
    try {
      parseConfig(text, 'bad.conf');
      assert.fail('expected an error');
    } catch (e) {
      assert.ok(e instanceof ConfigError, String(e));
      assert.match(e.message, re);
      assert.equal(e.loc?.file, 'bad.conf');
      assert.deepEqual([e.loc?.line, e.loc?.column], [line, column], e.message);
      assert.match(e.format(), /\n\s+\^/, 'shows a caret');
    }
  };
  it('missing =>', () => fails('input {\n  tcp {\n    port 514\n  }\n}', /expected '=>' after option 'port'/, 3, 10));
  it('unknown section', () => fails('inptu { }', /expected a section/, 1, 1));
  it('unterminated string', () => fails('input { x { a => "abc } }', /unterminated string/, 1, 18));
  it('unclosed section', () => fails('filter {\n  x { }\n', /end of file inside the filter section/, 3, 1));
  it('else without if', () => fails('filter { else { } }', /'else' without/, 1, 10));
  it('elseif without if', () => fails('filter { elseif [a] { } }', /'elseif' without/, 1, 10));
  it('a hash key given twice, with both places', () => {
    fails('filter {\n  mutate { add_field => {\n    "a" => "1"\n    "a" => "2" } }\n}', /duplicate key 'a' in a hash/, 4, 5);
    try {
      parseConfig('filter { x { h => { "a" => 1 b => { "c" => 1 "c" => 2 } } } }', 'n.conf');
      assert.fail('expected an error');
    } catch (e) {
      assert.ok(e instanceof ConfigError);
      assert.match(e.format(), /n\.conf:1:46: duplicate key 'c'[\s\S]*n\.conf:1:37: 'c' is first given here/, 'nested hashes too, both places');
    }
    // the same key in two different hashes is fine
    parseConfig('filter { x { h => { "a" => 1 } g => { "a" => 2 } } }', 't');
  });
  it('bad operator in a condition', () => fails('filter { if [a] === 1 { } }', /expected a value in the condition/, 1, 19));
});

describe('config parser: secrets from files', () => {
  it('reads ${VAR} from the file named by VAR_FILE when VAR is unset', async () => {
    const { mkdtempSync, writeFileSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dir = mkdtempSync(join(tmpdir(), 'secret-'));
    try {
      writeFileSync(join(dir, 'key'), 's3cret\n');
      const ast = parseConfig('output { x { api_key => "${ALERTA_API_KEY}" } }', 't', { env: { ALERTA_API_KEY_FILE: join(dir, 'key') } });
      assert.equal(((ast.sections[0]!.body[0] as PluginNode).attributes[0]!.value as { value: string }).value, 's3cret');
      assert.throws(() => parseConfig('output { x { k => "${K}" } }', 't', { env: { K_FILE: join(dir, 'missing') } }), /cannot read \$\{K\} from K_FILE/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('config parser: generated configs nested past any hand-written one', () => {
  const refused = (text: string, what: RegExp) =>
    assert.throws(
      () => parseConfig(text, 'deep.conf'),
      (e: unknown) => e instanceof ConfigError && what.test(e.message) && e.loc?.file === 'deep.conf' && e.loc.line === 1 && e.format().split('\n')[1]!.length < 200,
    );

  it('blocks, parentheses, arrays and hashes past 100 levels are an error with the location, not a stack overflow', () => {
    refused(`filter { ${'if [a] { '.repeat(5000)}drop {}${' }'.repeat(5000)} }`, /blocks nested more than 100 deep/);
    refused(`filter { if ${'('.repeat(5000)}[a]${')'.repeat(5000)} { drop {} } }`, /parentheses nested more than 100 deep/);
    refused(`filter { if ${'!('.repeat(5000)}[a]${')'.repeat(5000)} { drop {} } }`, /parentheses nested more than 100 deep/);
    refused(`input { x { a => ${'['.repeat(5000)}1${']'.repeat(5000)} } }`, /arrays nested more than 100 deep/);
    refused(`input { x { a => ${'{ "k" => '.repeat(5000)}1${' }'.repeat(5000)} } }`, /hashes nested more than 100 deep/);
    refused(`filter { if ${Array(3000).fill('[a]').join(' and ')} { drop {} } }`, /chains more than 1000 operands/);
  });

  it('still reads deep but reasonable nesting', () => {
    const ast = parseConfig(`filter { ${'if [a] { '.repeat(50)}drop {}${' }'.repeat(50)} }`, 'ok.conf');
    let b = ast.sections[0]!.body[0] as BranchNode;
    let depth = 1;
    while (b.arms[0]!.body[0]!.type === 'branch') {
      b = b.arms[0]!.body[0] as BranchNode;
      depth++;
    }
    assert.equal(depth, 50);
    parseConfig(`filter { if ${Array(500).fill('[a]').join(' or ')} { drop {} } }`, 'ok.conf');
  });
});

describe('config hashes: keys are data', () => {
  it('a `__proto__` key in a hash option is an ordinary key, not a prototype', async () => {
    const { plainValue } = await import('../src/plugin/options.js');
    const p = plugin('filter { mutate { add_field => { "__proto__" => { "polluted" => "yes" } "constructor" => "c" } } }');
    const h = plainValue(attr(p, 'add_field')) as Record<string, unknown>;
    assert.equal(Object.getPrototypeOf(h), Object.prototype);
    assert.deepEqual(Object.keys(h), ['__proto__', 'constructor']);
    assert.deepEqual(Object.getOwnPropertyDescriptor(h, '__proto__')?.value, { polluted: 'yes' });
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });
});
