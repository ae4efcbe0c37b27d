import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Event, type Fields } from '@pipeline/core';
import { createPlugin, runFilter } from '@pipeline/core/testing';
import mutate from '../src/index.js';

async function run(config: string, fields: Fields): Promise<{ event: Event; matched: boolean | void }> {
  const f = await createPlugin(mutate, config);
  const event = new Event(fields);
  const matched = f.filter(event, () => {});
  return { event, matched };
}

describe('mutate: config validation', () => {
  it('refuses an unknown conversion type', async () => {
    await assert.rejects(createPlugin(mutate, 'convert => ["message", "int"]'), /invalid conversion type 'int'/);
  });
  it('refuses a gsub that is not triples', async () => {
    await assert.rejects(createPlugin(mutate, 'gsub => ["message", "toreplace"]'), /gsub needs field, regex, replacement triples/);
  });
  it('refuses a gsub regex JavaScript cannot express', async () => {
    await assert.rejects(createPlugin(mutate, 'gsub => ["message", "(?>a+)b", "x"]'), /atomic groups/);
    await assert.rejects(createPlugin(mutate, 'gsub => ["message", "a++", "x"]'), /possessive/);
  });
});

describe('mutate: coerce', () => {
  it('sets a default only where the field exists and is null, rendered as a string', async () => {
    const { event } = await run('coerce => { "f1" => "Hello" "f2" => "%{who}" "f3" => 5 "f4" => false "f5" => "x" }', {
      f1: null,
      f2: null,
      f3: null,
      f4: true,
      who: 'bob',
    });
    assert.equal(event.get('f1'), 'Hello');
    assert.equal(event.get('f2'), 'bob');
    assert.equal(event.get('f3'), '5');
    assert.equal(event.get('f4'), true);
    assert.equal(event.includes('f5'), false);
  });
});

describe('mutate: rename', () => {
  it('moves a field, nested and top-level, and ignores a missing one', async () => {
    const { event } = await run('rename => { "a" => "b" "[x][y]" => "[z][w]" "nosuch" => "hello" }', { a: ['v'], x: { y: 1, k: 2 } });
    assert.deepEqual(event.get('b'), ['v']);
    assert.equal(event.includes('a'), false);
    assert.equal(event.get('[z][w]'), 1);
    assert.deepEqual(event.get('x'), { k: 2 });
    assert.equal(event.includes('hello'), false);
  });
  it('accepts %{...} in the source and the destination name', async () => {
    const { event } = await run('rename => [ "field_%{x}", "dest_%{x}" ]', { field_one: 'value', x: 'one' });
    assert.equal(event.includes('field_one'), false);
    assert.equal(event.get('dest_one'), 'value');
  });
  it('renames a field whose value is null', async () => {
    const { event } = await run('rename => { "a" => "b" }', { a: null });
    assert.equal(event.get('b'), null);
    assert.equal('a' in event.fields, false);
  });
});

describe('mutate: update and replace', () => {
  it('update changes only existing fields; replace creates them', async () => {
    const { event } = await run('update => [ "nosuchfield", "weee" ] update => [ "updateme", "updated %{n}" ] replace => [ "replaceme", "hello world" ] replace => [ "newfield", "%{n}-new" ]', {
      updateme: ['who cares'],
      replaceme: ['who cares'],
      n: 7,
    });
    assert.equal(event.includes('nosuchfield'), false);
    assert.equal(event.get('updateme'), 'updated 7');
    assert.equal(event.get('replaceme'), 'hello world');
    assert.equal(event.get('newfield'), '7-new');
  });
  it('replace into a nested path creates the parents', async () => {
    const { event } = await run('replace => { "[a][b][c]" => "v" }', {});
    assert.deepEqual(event.get('a'), { b: { c: 'v' } });
  });
  it('a missing %{field} stays literal, as sprintf leaves it', async () => {
    const { event } = await run('replace => { "m" => "%{nope} x" }', {});
    assert.equal(event.get('m'), '%{nope} x');
  });
});

describe('mutate: convert', () => {
  it('integer and float on strings, arrays, nested and array-indexed fields', async () => {
    const { event } = await run('convert => [ "intme", "integer", "floatme", "float", "[foo][bar]", "integer", "[arr][0]", "integer" ]', {
      intme: ['1234', '7890.4', '7.9'],
      floatme: ['1234.455'],
      foo: { bar: '1000' },
      arr: ['100', '200'],
    });
    assert.deepEqual(event.get('intme'), [1234, 7890, 7]);
    assert.deepEqual(event.get('floatme'), [1234.455]);
    assert.equal(event.get('[foo][bar]'), 1000);
    assert.deepEqual(event.get('arr'), [100, '200']);
  });
  it('US separators for integer/float, EU separators for the _eu forms', async () => {
    const { event } = await run(
      'convert => { "[u][0]" => "integer" "[u][1]" => "integer" "[u][2]" => "integer" "[f][0]" => "float" "[f][1]" => "float" "[e][0]" => "integer_eu" "[e][1]" => "integer_eu" "[e][2]" => "integer_eu" "[g][0]" => "float_eu" "[g][1]" => "float_eu" "[g][2]" => "float_eu" }',
      { u: ['1,000', '1,234,567.8', '123.4'], f: ['3,141.5926', '1,000'], e: ['1.000', '1.234.567,8', '123,4'], g: ['1.000', '1.234.567,8', '123,4'] },
    );
    assert.deepEqual(event.get('u'), [1000, 1234567, 123]);
    assert.deepEqual(event.get('f'), [3141.5926, 1000]);
    assert.deepEqual(event.get('e'), [1000, 1234567, 123]);
    assert.deepEqual(event.get('g'), [1000, 1234567.8, 123.4]);
  });
  it('booleans to numbers, numbers and booleans to strings', async () => {
    const { event } = await run('convert => { "[b][0]" => "integer" "[b][1]" => "integer" "t" => "float" "s" => "string" "ts" => "string" "o" => "string" }', {
      b: [false, true],
      t: true,
      s: 1234,
      ts: false,
      o: [{ a: 1 }],
    });
    assert.deepEqual(event.get('b'), [0, 1]);
    assert.equal(event.get('t'), 1);
    assert.equal(event.get('s'), '1234');
    assert.equal(event.get('ts'), 'false');
    assert.deepEqual(event.get('o'), ['{"a":1}']);
  });
  it('integer reads leading digits like Ruby to_i, hex as hex, exponents as floats', async () => {
    const { event } = await run('convert => { "[v][0]" => "integer" "[v][1]" => "integer" "[v][2]" => "integer" "[v][3]" => "integer" "[v][4]" => "integer" "[v][5]" => "integer" "[v][6]" => "integer" }', {
      v: ['12abc', 'abc', '  42  ', '0x1A', '-0x1A', '1.5e3', '1_000'],
    });
    assert.deepEqual(event.get('v'), [12, 0, 42, 26, -26, 1500, 1000]);
  });
  it('float on text that is not a number fails the mutate with tag_on_failure', async () => {
    const { event, matched } = await run('convert => { "x" => "float" }', { x: 'not a number' });
    assert.equal(matched, false);
    assert.deepEqual(event.tags, ['_mutate_error']);
    assert.equal(event.get('x'), 'not a number');
  });
  it('integer on a word with an "e" fails like Logstash (BigDecimal rejects it)', async () => {
    const { event } = await run('convert => { "x" => "integer" } tag_on_failure => "bad"', { x: 'hello' });
    assert.deepEqual(event.tags, ['bad']);
  });
  it('boolean accepts Logstash words case-insensitively and leaves others alone', async () => {
    const words = { a: 'true', b: 'False', c: 'Y', d: 'n', e: '1', f: '0', g: 'none of the above', h: 1, i: 0, j: -1, k: 2, l: 1.0123, m: ['1', '0', 0, 1, 2], n: { a: 0 }, o: '' };
    const conf = Object.keys(words)
      .map((k) => `"${k}" => "boolean"`)
      .join(' ');
    const { event } = await run(`convert => { ${conf} }`, { ...words, m: [...words.m], n: { a: 0 } });
    assert.deepEqual(
      Object.keys(words).map((k) => event.get(k)),
      [true, false, true, false, true, false, 'none of the above', true, false, -1, 2, 1.0123, [true, false, false, true, 2], { a: 0 }, false],
    );
  });
  it('leaves null, missing and hash values alone, and keeps null array members', async () => {
    const { event, matched } = await run('convert => { "a" => "integer" "b" => "integer" "h" => "integer" "arr" => "integer" }', { a: null, h: { x: '1' }, arr: ['1', null] });
    assert.equal(matched, true);
    assert.equal(event.get('a'), null);
    assert.equal(event.includes('b'), false);
    assert.deepEqual(event.get('h'), { x: '1' });
    assert.deepEqual(event.get('arr'), [1, null]);
  });
});

describe('mutate: gsub', () => {
  it('replaces on strings and arrays of strings, on several fields', async () => {
    const { event } = await run('gsub => [ "colors", "red", "blue", "shapes", "square", "circle", "arr", "extinct", "common" ]', {
      colors: 'One red car',
      shapes: 'Four red squares',
      arr: ['Magnificient extinct animals', 5, 'Other extinct ideas'],
    });
    assert.equal(event.get('colors'), 'One blue car');
    assert.equal(event.get('shapes'), 'Four red circles');
    assert.deepEqual(event.get('arr'), ['Magnificient common animals', 5, 'Other common ideas']);
  });
  it('uses regexes with Ruby line anchors and backreferences; $ in a replacement is literal', async () => {
    const { event } = await run(String.raw`gsub => [ "a", "\d$", "blue", "b", "(\w+)@(\w+)", "\2 at \1 ($1)", "c", "^x", "y" ]`, { a: 'red3\nred4', b: 'me@host', c: 'x1\nx2' });
    assert.equal(event.get('a'), 'redblue\nredblue');
    assert.equal(event.get('b'), 'host at me ($1)');
    assert.equal(event.get('c'), 'y1\ny2');
  });
  it('translates Ruby-only escapes (\\h, \\A, \\z, POSIX classes)', async () => {
    const { event } = await run(String.raw`gsub => [ "a", "\h+", "H", "b", "\Aab", "X", "c", "[[:digit:]]+", "#", "d", "b\z", "E" ]`, { a: 'zz0fA9zz', b: 'abab', c: 'a12b3', d: 'ab\nab' });
    assert.equal(event.get('a'), 'zzHzz');
    assert.equal(event.get('b'), 'Xab');
    assert.equal(event.get('c'), 'a#b#');
    assert.equal(event.get('d'), 'ab\naE');
  });
  it('expands %{...} in the pattern and the replacement per event', async () => {
    const { event } = await run('gsub => [ "u", "of type %{color}", "%{color} and green", "v", "of type %{color}", "green" ]', {
      u: 'Unicorns of type blue are common',
      v: ['Unicorns of type blue', 'of type blue x'],
      color: 'blue',
    });
    assert.equal(event.get('u'), 'Unicorns blue and green are common');
    assert.deepEqual(event.get('v'), ['Unicorns green', 'green x']);
  });
  it('skips missing and non-string fields', async () => {
    const { event, matched } = await run('gsub => [ "n", "1", "2", "missing", "a", "b" ]', { n: 1 });
    assert.equal(matched, true);
    assert.equal(event.get('n'), 1);
    assert.equal(event.includes('missing'), false);
  });
  it('handles a huge string in linear time', async () => {
    const big = 'ab'.repeat(1_000_000);
    const t0 = performance.now();
    const { event } = await run('gsub => [ "m", "b", "c" ]', { m: big });
    assert.equal((event.get('m') as string).length, big.length);
    assert.ok(!(event.get('m') as string).includes('b'));
    assert.ok(performance.now() - t0 < 2000);
  });
});

describe('mutate: case and strip', () => {
  it('uppercase, lowercase and capitalize strings and the string members of arrays, Unicode-aware', async () => {
    const { event } = await run('uppercase => ["u", "ua"] lowercase => ["l"] capitalize => ["c", "ca"]', {
      u: 'xYzółć',
      ua: ['a', 2, 'C'],
      l: ['АБВГД\0MMM', 'NÎcË GÛŸ'],
      c: 'ExAmPlE',
      ca: ['ab', 2, 'CDE', 'nÎcË gÛŸ'],
    });
    assert.equal(event.get('u'), 'XYZÓŁĆ');
    assert.deepEqual(event.get('ua'), ['A', 2, 'C']);
    assert.deepEqual(event.get('l'), ['абвгд\0mmm', 'nîcë gûÿ']);
    assert.equal(event.get('c'), 'Example');
    assert.deepEqual(event.get('ca'), ['Ab', 2, 'Cde', 'Nîcë gûÿ']);
  });
  it('does not create missing fields and leaves non-strings alone', async () => {
    const { event } = await run('uppercase => ["fake", "n"] lowercase => ["fake"] capitalize => ["fake"]', { n: 5 });
    assert.equal(event.includes('fake'), false);
    assert.equal(event.get('n'), 5);
  });
  it('strip removes ASCII whitespace and NUL at both ends only', async () => {
    const { event } = await run('strip => ["a", "b", "arr"]', { a: ' /store.php \t\n', b: '\u00a0keep\u00a0', arr: [' x ', 'y '] });
    assert.equal(event.get('a'), '/store.php');
    assert.equal(event.get('b'), '\u00a0keep\u00a0');
    assert.deepEqual(event.get('arr'), ['x', 'y']);
  });
  it('strip on an array holding a non-string fails the mutate', async () => {
    const { event, matched } = await run('strip => ["arr"]', { arr: [' x ', 3] });
    assert.equal(matched, false);
    assert.ok(event.hasTag('_mutate_error'));
  });
});

describe('mutate: split and join', () => {
  it('split follows Ruby: trailing empties dropped, a single space splits on whitespace runs', async () => {
    const { event } = await run('split => { "a" => "," "b" => "," "c" => " " "d" => "," "e" => "" "n" => "," "arr" => "," "h" => "," }', {
      a: 'foo,bar,baz',
      b: 'foo,,',
      c: '  a  b\tc ',
      d: '',
      e: 'abc',
      n: null,
      arr: ['x,y'],
      h: { foo: 'bar,baz' },
    });
    assert.deepEqual(event.get('a'), ['foo', 'bar', 'baz']);
    assert.deepEqual(event.get('b'), ['foo']);
    assert.deepEqual(event.get('c'), ['a', 'b', 'c']);
    assert.deepEqual(event.get('d'), []);
    assert.deepEqual(event.get('e'), ['a', 'b', 'c']);
    assert.equal(event.get('n'), null);
    assert.deepEqual(event.get('arr'), ['x,y']);
    assert.deepEqual(event.get('h'), { foo: 'bar,baz' });
  });
  it('join joins arrays (nested ones flattened) and ignores other values', async () => {
    const { event } = await run('join => { "a" => "," "b" => "-" "s" => "," }', { a: ['x', 1, null, true], b: ['p', ['q', 'r']], s: 'str' });
    assert.equal(event.get('a'), 'x,1,,true');
    assert.equal(event.get('b'), 'p-q-r');
    assert.equal(event.get('s'), 'str');
  });
  it('split then add_field on an element, as in the Logstash docs', async () => {
    const f = await createPlugin(mutate, 'split => { "hostname" => "." }');
    const [e] = runFilter(f, [{ hostname: 'web.example.com' }]);
    assert.equal(e!.get('[hostname][0]'), 'web');
  });
});

describe('mutate: merge', () => {
  const cases: [string, Fields, unknown][] = [
    ['string into a missing field', { foo: 'bar' }, ['bar']],
    ['string into an empty array', { foo: 'bar', list: [] }, ['bar']],
    ['string into an array', { foo: 'bar', list: ['baz'] }, ['baz', 'bar']],
    ['array into an array', { foo: ['bar'], list: ['baz'] }, ['baz', 'bar']],
    ['empty array into an array', { foo: [], list: ['baz'] }, ['baz']],
    ['array into a string', { foo: ['bar'], list: 'baz' }, ['baz', 'bar']],
    ['string into a string', { foo: 'bar', list: 'baz' }, ['baz', 'bar']],
  ];
  for (const [name, fields, expected] of cases) {
    it(name, async () => {
      const { event } = await run('merge => [ "list", "foo" ]', fields);
      assert.deepEqual(event.get('list'), expected);
      assert.deepEqual(event.get('foo'), fields.foo);
    });
  }
  it('merges hashes and refuses hash with array', async () => {
    const { event } = await run('merge => { "h" => "g" "arr" => "g" }', { h: { a: 1 }, g: { b: 2 }, arr: ['x'] });
    assert.deepEqual(event.get('h'), { a: 1, b: 2 });
    assert.deepEqual(event.get('arr'), ['x']);
  });
  it('merges several source fields in turn', async () => {
    const { event } = await run('merge => { "list" => ["a", "b"] }', { list: 'x', a: 'y', b: ['z'] });
    assert.deepEqual(event.get('list'), ['x', 'y', 'z']);
  });
});

describe('mutate: copy', () => {
  it('deep-copies strings, arrays and hashes, overwriting the destination', async () => {
    const { event } = await run('copy => { "s" => "s2" "a" => "a2" "h" => "[t][h]" "missing" => "m2" "n" => "n2" }', { s: 'x', a: ['1'], h: { k: 'v' }, n: null, s2: 'old' });
    assert.equal(event.get('s2'), 'x');
    (event.get('a') as string[]).push('2');
    assert.deepEqual(event.get('a2'), ['1']);
    event.set('[h][k]', 'changed');
    assert.equal(event.get('[t][h][k]'), 'v');
    assert.equal(event.includes('m2'), false);
    assert.equal(event.includes('n2'), false);
  });
});

describe('mutate: processing order and failure', () => {
  it('applies operations in the fixed order regardless of how the config lists them', async () => {
    // copy comes last, after rename, update, gsub, uppercase and split
    const { event } = await run('copy => { "b" => "c" } split => { "b" => "-" } uppercase => ["b"] gsub => ["b", "x", "y"] update => { "b" => "%{b}-x" } rename => { "a" => "b" } coerce => { "a" => "z" }', {
      a: null,
    });
    // coerce a:null→"z"; rename a→b; update b="z-x"; gsub → "z-y"; uppercase → "Z-Y"; split → ["Z","Y"]; copy → c
    assert.deepEqual(event.get('b'), ['Z', 'Y']);
    assert.deepEqual(event.get('c'), ['Z', 'Y']);
  });
  it('convert runs after replace, so a replaced value is converted', async () => {
    const { event } = await run('convert => { "n" => "integer" } replace => { "n" => "%{raw}" }', { raw: '42' });
    assert.equal(event.get('n'), 42);
  });
  it('returns true on success so add_tag applies, false with the failure tag on error', async () => {
    const ok = await run('lowercase => ["a"]', { a: 'X' });
    assert.equal(ok.matched, true);
    // a field name built per event that is not a valid reference fails at run time
    const bad = await run('rename => { "a" => "%{to}" }', { a: 1, to: '[[[bad' });
    assert.equal(bad.matched, false);
    assert.ok(bad.event.hasTag('_mutate_error'));
  });
  it('refuses a malformed field reference when the config loads', async () => {
    await assert.rejects(createPlugin(mutate, 'replace => { "[[[bad" => "x" }'), /field reference/);
  });
  it('keeps the changes made before the failing operation', async () => {
    const { event } = await run('replace => { "r" => "done" } convert => { "x" => "float" }', { x: 'nan-ish' });
    assert.equal(event.get('r'), 'done');
    assert.ok(event.hasTag('_mutate_error'));
  });
});
