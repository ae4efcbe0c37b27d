/** Every option, with the cases and fixtures of Logstash's spec (logstash-filter-translate spec/filters/translate_spec.rb). */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ConfigError, Event, Timestamp, type Fields } from '@pipeline/core';
import { createPlugin, makeContext } from '@pipeline/core/testing';
import translate, { parseText } from '../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'translate-test-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, text: string) => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};

const DICT_YML = file('dict.yml', 'a : 1\nb : 2\nc : 3\nd : { "e": [1, "hello", true, "false", "1", "1.1"] }\n');
const DICT_JSON = file('dict.json', '{\n  "a" : 10,\n  "b" : 20,\n  "c" : 30\n}\n');
const DICT_CSV = file('dict.csv', '"a",100\n"b",200\n"c",300\n');
const REGEX_CSV = file('regex_dict.csv', '"^2[0-9][0-9]$","OK"\n"^3[0-9][0-9]$","Redirect"\n"^4[0-9][0-9]$","Client Error"\n"^5[0-9][0-9]$","Server Error"\n');
const UNION_CSV = file('regex_union_dict.csv', '"200","OK"\n"300","Redirect"\n"400","Client Error"\n"500","Server Error"\n');
const TAG_MAP = file(
  'tag-map-dict.yml',
  '---\n!!map {\n' +
    ['eight', 'five', 'four', 'nine', 'one', 'seven', 'six', 'three', 'two']
      .map((k) => `  ? !!str "${k}"\n  : !!str "val-${['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine'].indexOf(k)}-1|val-${['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine'].indexOf(k)}-2",`)
      .join('\n') +
    '\n}\n',
);

async function run(config: string, fields: Fields, ctx = makeContext({ workingDir: dir })) {
  const f = await createPlugin(translate, config, ctx);
  const event = new Event(fields);
  const matched = f.filter(event, () => {}) === true;
  return { event, matched, f };
}
const STATUS = 'source => "status" target => "translation"';
const HTTP = 'dictionary => { "200" => "OK" "300" => "Redirect" "400" => "Client Error" "500" => "Server Error" }';

describe('translate: exact, regex, exact => false', () => {
  it('coerces the value to a string and returns the exact translation', async () => {
    const { event, matched } = await run(`${STATUS} ${HTTP}`, { status: 200 });
    assert.equal(event.get('translation'), 'OK');
    assert.equal(matched, true);
  });
  it('regex keys do not match when regex is false', async () => {
    const { event, matched } = await run(`${STATUS} dictionary => { "^2\\\\d\\\\d" => "OK" }`, { status: 200 });
    assert.equal(event.get('translation'), undefined);
    assert.equal(matched, false, 'no match: add_tag does not apply');
  });
  it('exact => false replaces every key found in the value (inline and file)', async () => {
    assert.equal((await run(`${STATUS} ${HTTP} exact => false`, { status: '200 & 500' })).event.get('translation'), 'OK & Server Error');
    assert.equal((await run(`${STATUS} dictionary_path => "${UNION_CSV}" exact => false refresh_interval => 0`, { status: '200 & 500' })).event.get('translation'), 'OK & Server Error');
    // keys are literal there, even with regex => true
    assert.equal((await run(`${STATUS} dictionary => { "a.c" => "X" } exact => false regex => true`, { status: 'abc a.c' })).event.get('translation'), 'abc X');
    assert.equal((await run(`${STATUS} ${HTTP} exact => false`, { status: 'nothing here' })).matched, false);
  });
  it('regex => true: keys are regexes, the first that matches wins (inline and file)', async () => {
    const inline = `${STATUS} dictionary => { "^2[0-9][0-9]$" => "OK" "^3[0-9][0-9]$" => "Redirect" "^[0-9]+$" => "number" } regex => true`;
    assert.equal((await run(inline, { status: '200' })).event.get('translation'), 'OK');
    assert.equal((await run(inline, { status: '999' })).event.get('translation'), 'number');
    assert.equal((await run(`${STATUS} dictionary_path => "${REGEX_CSV}" regex => true refresh_interval => 0`, { status: '200' })).event.get('translation'), 'OK');
  });
  it('a regex that could run away is bounded: the line still gets its answer', async () => {
    const { event } = await run(`${STATUS} dictionary => { "^(a+)+$" => "aaa" "b" => "has b" } regex => true`, { status: 'a'.repeat(40) + 'b' });
    assert.equal(event.get('translation'), 'has b');
  });
  it('an inline regex key that does not compile is refused at load', async () => {
    await assert.rejects(createPlugin(translate, `${STATUS} dictionary => { "(" => "x" } regex => true`), (e: Error) => e instanceof ConfigError && /not a valid regex/.test(e.message));
  });
});

describe('translate: fallback, override, source, target', () => {
  it('fallback, static and sprintf; it counts as a match', async () => {
    const a = await run(`${STATUS} fallback => "no match"`, { status: '200' });
    assert.deepEqual([a.event.get('translation'), a.matched], ['no match', true]);
    const b = await run(`${STATUS} fallback => "%{missing_translation}"`, { status: '200', missing_translation: 'missing no match' });
    assert.equal(b.event.get('translation'), 'missing no match');
  });
  it('an existing target is left alone unless override', async () => {
    const a = await run(`${STATUS} ${HTTP}`, { status: 200, translation: 'old' });
    assert.deepEqual([a.event.get('translation'), a.matched], ['old', false]);
    const b = await run(`${STATUS} ${HTTP} override => true`, { status: 200, translation: 'old' });
    assert.equal(b.event.get('translation'), 'OK');
  });
  it('a missing source: nothing, no match', async () => {
    const a = await run(`${STATUS} ${HTTP} fallback => "x"`, {});
    assert.deepEqual([a.event.get('translation'), a.matched], [undefined, false]);
  });
  it('an array source: its first element', async () => {
    assert.equal((await run(`${STATUS} ${HTTP}`, { status: [300, 200] })).event.get('translation'), 'Redirect');
  });
  it('default target: translation; with ECS compatibility, in place', async () => {
    const a = await run('source => "message" dictionary => { "foo" => "bar" }', { message: 'foo' });
    assert.deepEqual([a.event.get('translation'), a.event.get('message')], ['bar', 'foo']);
    const b = await run('source => "message" dictionary => { "foo" => "bar" } ecs_compatibility => v8', { message: 'foo' });
    assert.deepEqual([b.event.get('translation'), b.event.get('message')], [undefined, 'bar']);
    // in place counts as matched even when nothing matched, as in Logstash
    const c = await run('source => "message" dictionary => { "foo" => "bar" } ecs_compatibility => v1', { message: 'other' });
    assert.deepEqual([c.event.get('message'), c.matched], ['other', true]);
  });
  it('field and destination, the old names (deprecated)', async () => {
    const { event } = await run(`field => "foo" destination => "foo" dictionary_path => "${TAG_MAP}" override => true refresh_interval => -1`, { foo: 'nine' });
    assert.equal(event.get('foo'), 'val-9-1|val-9-2');
  });
  it('nested source and target; a hash translation is copied per event', async () => {
    const ctx = makeContext();
    const f = await createPlugin(translate, `source => "[http][code]" target => "[http][info]" dictionary_path => "${DICT_YML}"`, ctx);
    const e1 = new Event({ http: { code: 'd' } });
    const e2 = new Event({ http: { code: 'd' } });
    f.filter(e1, () => {});
    f.filter(e2, () => {});
    assert.deepEqual(e1.get('[http][info]'), { e: [1, 'hello', true, 'false', '1', '1.1'] });
    (e1.get('[http][info][e]') as unknown[]).push('changed');
    assert.equal((e2.get('[http][info][e]') as unknown[]).length, 6);
  });
  it('a key from data is a plain key: __proto__, constructor, toString', async () => {
    const cfg = `${STATUS} dictionary => { "__proto__" => "proto" "constructor" => "ctor" }`;
    assert.equal((await run(cfg, { status: '__proto__' })).event.get('translation'), 'proto');
    assert.equal((await run(cfg, { status: 'constructor' })).event.get('translation'), 'ctor');
    assert.equal((await run(cfg, { status: 'toString' })).matched, false);
    assert.equal((await run(`${STATUS} dictionary_path => "${file('proto.json', '{"__proto__": {"x": 1}}')}"`, { status: '__proto__' })).event.get('[translation][x]'), 1);
  });
});

describe('translate: iterate_on', () => {
  it('an array of values: an array of translations, fallback where none', async () => {
    const { event } = await run(`iterate_on => "foo" source => "foo" target => "baz" fallback => "nooo" dictionary_path => "${TAG_MAP}" refresh_interval => 0`, { foo: ['nine', 'eight', 'seven', 'zero'] });
    assert.deepEqual(event.get('baz'), ['val-9-1|val-9-2', 'val-8-1|val-8-2', 'val-7-1|val-7-2', 'nooo']);
  });
  it('integers are looked up as strings; null where no fallback', async () => {
    const { event } = await run(`iterate_on => "foo" source => "foo" target => "baz" dictionary_path => "${UNION_CSV}"`, { foo: [200, 300, 400, 600] });
    assert.deepEqual(event.get('baz'), ['OK', 'Redirect', 'Client Error', null]);
  });
  it('an array of objects: source and target inside each object', async () => {
    const { event, matched } = await run(`iterate_on => "[foo]" source => "bar" target => "baz" fallback => "nooo" dictionary_path => "${TAG_MAP}"`, {
      foo: [{ bar: 'two' }, { bar: 'one' }, { bar: 'ten' }, { other: 1 }, 'not an object'],
    });
    assert.equal(matched, true);
    assert.deepEqual(event.get('foo'), [{ bar: 'two', baz: 'val-2-1|val-2-2' }, { bar: 'one', baz: 'val-1-1|val-1-2' }, { bar: 'ten', baz: 'nooo' }, { other: 1 }, 'not an object']);
    assert.match(event.json(), /"baz":"val-2-1\|val-2-2"/, 'the cached JSON text reflects the change');
  });
  it('an array of objects with integer values', async () => {
    const { event } = await run(`iterate_on => "foo" source => "bar" target => "baz" dictionary_path => "${UNION_CSV}"`, { foo: [{ bar: 200 }, { bar: 300 }] });
    assert.deepEqual([event.get('[foo][0][baz]'), event.get('[foo][1][baz]')], ['OK', 'Redirect']);
  });
});

describe('translate: dictionary files', () => {
  it('YAML, JSON, CSV by extension', async () => {
    assert.equal((await run(`${STATUS} dictionary_path => "${DICT_YML}"`, { status: 'a' })).event.get('translation'), 1);
    assert.equal((await run(`${STATUS} dictionary_path => "${DICT_JSON}"`, { status: 'b' })).event.get('translation'), 20);
    assert.equal((await run(`${STATUS} dictionary_path => "${DICT_CSV}"`, { status: 'c' })).event.get('translation'), '300');
  });
  it('a !!map tagged YAML file; a relative path from the working directory', async () => {
    assert.equal((await run(`${STATUS} dictionary_path => "${TAG_MAP}"`, { status: 'six' })).event.get('translation'), 'val-6-1|val-6-2');
    assert.equal((await run(`${STATUS} dictionary_path => "dict.json"`, { status: 'a' })).event.get('translation'), 10);
  });
  it('empty files are empty dictionaries', async () => {
    for (const name of ['dict-e.yml', 'dict-e.json', 'dict-e.csv']) {
      assert.equal((await run(`${STATUS} dictionary_path => "${file(name, '')}" fallback => "no match"`, { status: 'a' })).event.get('translation'), 'no match', name);
    }
  });
  it('invalid YAML, an unknown extension, a missing file: refused at load', async () => {
    const wrong = file('dict-wrong.yml', '"100": Continue\n"101": Switching Protocols: Nope\n');
    await assert.rejects(createPlugin(translate, `${STATUS} dictionary_path => "${wrong}"`), (e: Error) => e instanceof ConfigError && /when loading dictionary file at/.test(e.message));
    await assert.rejects(createPlugin(translate, `${STATUS} dictionary_path => "${file('dict.other', 'a: b')}"`), /has a non valid format/);
    await assert.rejects(createPlugin(translate, `${STATUS} dictionary_path => "${join(dir, 'nope.yml')}"`), /ENOENT/);
  });
  it('YAML 1.1 values as Psych reads them; unquoted integer keys are their text', () => {
    const entries = parseText('100: Continue\nyes: on\nnum: 0x1f\nnull_: ~\nday: 2024-01-02\nlist: [1, two]\n', 'yaml');
    assert.deepEqual(entries.slice(0, 4), [['100', 'Continue'], ['yes', true], ['num', 31], ['null_', null]]);
    assert.ok(entries[4]![1] instanceof Timestamp);
    assert.deepEqual(entries[5], ['list', [1, 'two']]);
  });
  it('the line reader and the full YAML parser give the same entries', () => {
    const values = ['plain text', 'yes', 'No', '~', '', '12', '-3', '0x1f', '1.5', '.inf', '1_000', '0777', '1:20', "'it''s'", '"dq"', 'a, b [c]', '-x', 'null'];
    const flat = values.map((v, i) => `k${i}: ${v}`).join('\n') + "\n'quoted key': 1\n\"dq key\": 2\n# comment\n\n";
    const fast = parseText(flat, 'yaml');
    const full = parseText(flat + 'nested:\n  inner: 1\n', 'yaml'); // the nested entry sends the whole file to the full parser
    assert.equal(full.length, fast.length + 1);
    assert.deepEqual(full.slice(0, -1), fast);
  });
  it('CSV: quoted and unquoted, a BOM, CRLF; an empty unquoted value is null; extra columns ignored', () => {
    assert.deepEqual(parseText('a,1\r\nb,\r\nc\r\nd,4,extra\r\n', 'csv'), [['a', '1'], ['b', null], ['c', null], ['d', '4']]);
    assert.deepEqual(parseText('"a,b","x ""y"""\nc,""\n', 'csv'), [['a,b', 'x "y"'], ['c', '']]);
  });
  it('yaml_load_strategy streaming reads flat files and refuses the rest', async () => {
    const flat = file('flat2.yml', 'x: 1\ny: two\n');
    assert.equal((await run(`${STATUS} dictionary_path => "${flat}" yaml_load_strategy => streaming`, { status: 'y' })).event.get('translation'), 'two');
    await assert.rejects(createPlugin(translate, `${STATUS} dictionary_path => "${TAG_MAP}" yaml_load_strategy => streaming`), /streaming reads flat 'key: value' lines only \(line 2\)/);
  });
  it('yaml_dictionary_code_point_limit', async () => {
    await assert.rejects(createPlugin(translate, `${STATUS} dictionary_path => "${DICT_YML}" yaml_dictionary_code_point_limit => 10`), /exceeds the code point limit of 10/);
    assert.equal((await run(`${STATUS} dictionary_path => "${DICT_YML}" yaml_dictionary_code_point_limit => 1000`, { status: 'a' })).event.get('translation'), 1);
    await assert.rejects(createPlugin(translate, `${STATUS} dictionary_path => "${DICT_JSON}" yaml_dictionary_code_point_limit => 100`), /remove yaml_dictionary_code_point_limit for a dictionary file in JSON or CSV/);
    await assert.rejects(createPlugin(translate, `${STATUS} dictionary_path => "${DICT_YML}" yaml_dictionary_code_point_limit => 0`), ConfigError);
  });
});

describe('translate: refresh_interval, refresh_behaviour', () => {
  for (const behaviour of ['merge', 'replace'] as const) {
    it(`${behaviour}: a changed file is read at the interval`, async () => {
      const path = file(`refresh-${behaviour}.yml`, 'a : 1\nb : 2\nc : 3');
      const ctx = makeContext();
      const f = await createPlugin(translate, `${STATUS} dictionary_path => "${path}" refresh_interval => 60 fallback => "no match" refresh_behaviour => ${behaviour}`, ctx);
      const t = (status: string) => {
        const e = new Event({ status });
        f.filter(e, () => {});
        return e.get('translation');
      };
      assert.deepEqual([t('b'), t('c')], [2, 3]);
      writeFileSync(path, 'a : 1\nb : 4');
      assert.equal(t('b'), 2, 'not before the interval');
      ctx.clock.advance(60_000);
      assert.equal(t('b'), 4);
      assert.equal(t('c'), behaviour === 'merge' ? 3 : 'no match');
      // a broken or missing file keeps the dictionary
      writeFileSync(path, 'a: [unclosed');
      ctx.clock.advance(60_000);
      unlinkSync(path);
      ctx.clock.advance(60_000);
      assert.equal(t('b'), 4);
      assert.equal(ctx.metrics.snapshot().dictionary_reloads, 1);
      await f.close?.();
      assert.equal(ctx.clock.pending, 0);
    });
  }
  it('refresh_interval 0: no timer', async () => {
    const ctx = makeContext();
    await createPlugin(translate, `${STATUS} dictionary_path => "${DICT_YML}" refresh_interval => 0`, ctx);
    assert.equal(ctx.clock.pending, 0);
  });
});

describe('translate: configuration errors', () => {
  it('dictionary and dictionary_path; source and field; target and destination; no source', async () => {
    await assert.rejects(createPlugin(translate, `source => "x" dictionary => { "a" => "b" } dictionary_path => "${DICT_YML}"`), /'dictionary' and 'dictionary_path' are mutually exclusive/);
    await assert.rejects(createPlugin(translate, 'source => "message" field => "foo"'), /remove 'field => "foo"'/);
    await assert.rejects(createPlugin(translate, 'source => "message" target => "foo" destination => "bar"'), /remove 'destination => "bar"'/);
    await assert.rejects(createPlugin(translate, 'target => "bar"'), /no source field/);
  });
  it('override => false with an in-place translation', async () => {
    await assert.rejects(createPlugin(translate, 'source => "a" target => "[a]" override => false'), /has no effect with an in-place translation/);
  });
});
