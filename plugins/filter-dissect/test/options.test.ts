/** The options: mapping (several entries), convert_datatype, tag_on_failure; failures; config errors. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, Event, Timestamp, type Fields } from '@pipeline/core';
import { createPlugin, makeContext } from '@pipeline/core/testing';
import dissect, { toNumber } from '../src/index.js';

async function filterOne(config: string, fields: Fields) {
  const ctx = makeContext();
  const f = await createPlugin(dissect, config, ctx);
  const event = new Event(fields);
  const matched = f.filter(event, () => {});
  return { event, matched, ctx };
}

describe('dissect: mapping', () => {
  it('several entries run in order; a later one dissects what an earlier one made', async () => {
    const { event, matched } = await filterOne(
      `mapping => {
        "message" => '"%{field1}" "%{field2}" "%{description}"'
        "description" => "%{field3} %{field4} %{field5}"
      }`,
      { message: '"a" "b" "c d e"' },
    );
    assert.equal(matched, true);
    assert.deepEqual([event.get('field1'), event.get('field2'), event.get('description')], ['a', 'b', 'c d e']);
    assert.deepEqual([event.get('field3'), event.get('field4'), event.get('field5')], ['c', 'd', 'e']);
  });
  it('a nested source field', async () => {
    const { event } = await filterOne('mapping => { "[log][line]" => "%{a}|%{b}" }', { log: { line: '1|2' } });
    assert.deepEqual([event.get('a'), event.get('b')], ['1', '2']);
  });
  it('numbers and booleans are dissected as their text; timestamps as ISO text', async () => {
    const { event } = await filterOne('mapping => { "n" => "%{int}.%{frac}" "t" => "%{day}T%{time}" }', { n: 12.5, t: new Timestamp(Date.UTC(2024, 0, 2, 3, 4, 5)) });
    assert.deepEqual([event.get('int'), event.get('frac'), event.get('day'), event.get('time')], ['12', '5', '2024-01-02', '03:04:05.000Z']);
  });
  it('a pattern with a real line break in the config', async () => {
    const { event } = await filterOne("mapping => { \"message\" => '%{a}\n%{b}' }", { message: 'x\ny' });
    assert.deepEqual([event.get('a'), event.get('b')], ['x', 'y']);
  });
});

describe('dissect: failures', () => {
  it('a missing delimiter tags the event and writes none of that mapping’s fields', async () => {
    const { event, matched, ctx } = await filterOne('mapping => { "message" => "%{a} %{b} [%{c}]" }', { message: 'one two three' });
    assert.equal(matched, false);
    assert.deepEqual(event.tags, ['_dissectfailure']);
    assert.equal(event.get('a'), undefined);
    assert.equal(event.get('b'), undefined);
    assert.equal(event.get('message'), 'one two three');
    assert.equal(ctx.metrics.counter('failures').value, 1);
    assert.equal(ctx.metrics.counter('matches').value, 0);
  });
  it('tag_on_failure sets the tags (several, or none)', async () => {
    assert.deepEqual((await filterOne('mapping => { "message" => "%{a}:%{b}" } tag_on_failure => ["x", "y"]', { message: 'nocolon' })).event.tags, ['x', 'y']);
    const none = await filterOne('mapping => { "message" => "%{a}:%{b}" } tag_on_failure => []', { message: 'nocolon' });
    assert.equal(none.event.fields.tags, undefined);
    assert.equal(none.matched, false);
  });
  it('an empty or null field is a failure; a missing one is counted but not tagged (as Logstash)', async () => {
    for (const message of ['', null]) {
      const { event, matched } = await filterOne('mapping => { "message" => "%{a} %{b}" }', { message });
      assert.equal(matched, false);
      assert.deepEqual(event.tags, ['_dissectfailure'], String(message));
    }
    const missing = await filterOne('mapping => { "message" => "%{a} %{b}" }', {});
    assert.equal(missing.matched, false);
    assert.equal(missing.event.fields.tags, undefined);
    assert.equal(missing.ctx.metrics.counter('failures').value, 1);
  });
  it('a hash or array field is not text: a failure', async () => {
    for (const message of [{ a: 1 }, ['a b']]) {
      const { event, matched } = await filterOne('mapping => { "message" => "%{a} %{b}" }', { message });
      assert.equal(matched, false);
      assert.deepEqual(event.tags, ['_dissectfailure']);
    }
  });
  it('one mapping failing does not undo another; the filter counts as matched when one matched', async () => {
    const { event, matched, ctx } = await filterOne('mapping => { "a" => "%{x}-%{y}" "b" => "%{p}:%{q}" }', { a: '1-2', b: 'nope' });
    assert.equal(matched, true);
    assert.deepEqual([event.get('x'), event.get('y'), event.get('p')], ['1', '2', undefined]);
    assert.deepEqual(event.tags, ['_dissectfailure']);
    assert.equal(ctx.metrics.counter('matches').value, 1);
    assert.equal(ctx.metrics.counter('failures').value, 1);
  });
  it('the event’s cached JSON is dropped when fields are written', async () => {
    const f = await createPlugin(dissect, 'mapping => { "message" => "%{a} %{b}" }');
    const event = new Event({ message: 'x y' });
    assert.equal(JSON.parse(event.json()).a, undefined);
    f.filter(event, () => {});
    assert.equal(JSON.parse(event.json()).a, 'x');
  });
});

describe('dissect: convert_datatype', () => {
  it('int and float, after the mappings', async () => {
    const { event } = await filterOne(
      'mapping => { "message" => "[%{occurred_at}] %{code} %{service} %{?ic}=%{&ic}% %{svc_message}" } convert_datatype => { "cpu" => "float" "code" => "int" }',
      { message: '[25/05/16 09:10:38:425 BST] 00000001 SystemOut cpu=95.43% java.lang:type=MemoryPool,name=class storage' },
    );
    assert.equal(event.get('code'), 1);
    assert.equal(event.get('cpu'), 95.43);
    assert.equal(event.get('service'), 'SystemOut');
    assert.equal(event.get('svc_message'), 'java.lang:type=MemoryPool,name=class storage');
  });
  it('works without a mapping, on a nested field, and the type is case-insensitive', async () => {
    const { event, matched } = await filterOne('convert_datatype => { "[a][n]" => "INT" "f" => "Float" }', { a: { n: '42' }, f: '1e3' });
    assert.equal(event.get('[a][n]'), 42);
    assert.equal(event.get('f'), 1000);
    assert.equal(matched, false, 'no mapping matched: add_field and friends do not apply, as in Logstash');
  });
  it('BigDecimal syntax: int truncates toward zero; spaces, words and hex do not convert', () => {
    assert.equal(toNumber('3.9', 'int'), 3);
    assert.equal(toNumber('-3.9', 'int'), -3);
    assert.equal(toNumber('-0.5', 'int'), 0);
    assert.equal(toNumber('+7', 'int'), 7);
    assert.equal(toNumber('1.5e2', 'int'), 150);
    assert.equal(toNumber('.5', 'float'), 0.5);
    assert.equal(toNumber('5.', 'float'), 5);
    assert.equal(toNumber('-2.5E-1', 'float'), -0.25);
    assert.equal(toNumber(12.75, 'int'), 12);
    for (const bad of [' 1', '1 ', '1_000', '0x1F', 'abc', '', '.', '-', '1e', '1e+', 'Infinity', 'NaN', '1.2.3', '12KB']) {
      assert.equal(toNumber(bad, 'int'), undefined, bad);
      assert.equal(toNumber(bad, 'float'), undefined, bad);
    }
    assert.equal(toNumber(true, 'int'), undefined);
    assert.equal(toNumber('1e400', 'float'), undefined, 'beyond a double');
  });
  it('a missing or null field and a value that is not a number are tagged, and stay as they were', async () => {
    const { event } = await filterOne(
      'mapping => { "message" => "%{code} %{rest}" } convert_datatype => { "ccu" => "float" "other" => "int" "rest" => "int" "nul" => "int" }',
      { message: '00000001 words', other: {}, nul: null },
    );
    assert.equal(event.get('code'), '00000001', 'not in convert_datatype: untouched');
    assert.deepEqual(event.get('other'), {});
    assert.equal(event.get('rest'), 'words');
    assert.ok(event.hasTag('_dataconversionnullvalue_ccu_float'));
    assert.ok(event.hasTag('_dataconversionnullvalue_nul_int'));
    assert.ok(event.hasTag('_dataconversionuncoercible_other_int'));
    assert.ok(event.hasTag('_dataconversionuncoercible_rest_int'));
    assert.equal(event.hasTag('_dissectfailure'), false);
  });
  it('runs even when the mapping failed', async () => {
    const { event } = await filterOne('mapping => { "message" => "%{a}:%{b}" } convert_datatype => { "n" => "int" }', { message: 'nocolon', n: '5' });
    assert.equal(event.get('n'), 5);
    assert.deepEqual(event.tags, ['_dissectfailure']);
  });
});

describe('dissect: config errors at load', () => {
  const refuses = async (config: string, option: string, reason: RegExp) => {
    await assert.rejects(createPlugin(dissect, config), (e: unknown) => {
      assert.ok(e instanceof ConfigError, String(e));
      assert.equal(e.option?.name, option);
      assert.match(e.reason, reason);
      return true;
    });
  };
  it('bad patterns name the mapping option and the mistake', async () => {
    await refuses('mapping => { "message" => "%{+&ts}" }', 'mapping', /both append \(\+\) and indirect \(&\)/);
    await refuses('mapping => { "message" => "%{&+ts}" }', 'mapping', /both append/);
    await refuses('mapping => { "message" => "%{+}" }', 'mapping', /prefix without a name/);
    await refuses('mapping => { "message" => "%{+/2}" }', 'mapping', /prefix and a suffix but no name/);
    await refuses('mapping => { "message" => "%{&->}" }', 'mapping', /no name/);
    await refuses('mapping => { "message" => "%{a} %{b" }', 'mapping', /not closed/);
    await refuses('mapping => { "message" => "no fields here" }', 'mapping', /no %\{\} field/);
    await refuses('mapping => { "message" => "" }', 'mapping', /empty/);
    await refuses('mapping => { "message" => "%{a}%{b}" }', 'mapping', /'%\{a\}' and '%\{b\}' have no delimiter/);
    await refuses('mapping => { "message" => "%{[a} %{b}" }', 'mapping', /not a field reference/);
    await refuses('mapping => { "message" => "%{@metadata} %{b}" }', 'mapping', /@metadata/);
    await refuses('mapping => { "[bad" => "%{a}" }', 'mapping', /not a field reference/);
  });
  it('the error carries the pattern, so the runtime can point at it', async () => {
    await assert.rejects(createPlugin(dissect, 'mapping => { "message" => "%{a}%{b}" }'), (e: unknown) => {
      assert.equal((e as ConfigError).option?.value, '%{a}%{b}');
      return true;
    });
  });
  it('bad datatypes name convert_datatype', async () => {
    await refuses('convert_datatype => { "code" => "integer" }', 'convert_datatype', /'integer' is not supported.*int or float/);
    await refuses('convert_datatype => { "[x" => "int" }', 'convert_datatype', /./);
  });
  it('check() refuses what create() would (so pipeline -t reports it)', () => {
    assert.throws(() => dissect.check!({ mapping: { message: '%{a' }, convert_datatype: {}, tag_on_failure: [] } as never, { resolvePath: (p) => p }), ConfigError);
    assert.throws(() => dissect.check!({ mapping: {}, convert_datatype: { a: 'bool' }, tag_on_failure: [] } as never, { resolvePath: (p) => p }), ConfigError);
  });
});
