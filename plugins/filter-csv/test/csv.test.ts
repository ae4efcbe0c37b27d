import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Event, Timestamp, type Fields } from '@pipeline/core';
import { createPlugin, runFilter } from '@pipeline/core/testing';
import csv from '../src/index.js';

/** The fields csv added to one event (not @timestamp/@version), whether it matched, and the event. */
async function run(config: string, input: string | Fields) {
  const f = await createPlugin(csv, config);
  const fields: Fields = typeof input === 'string' ? { message: input } : input;
  const before = new Set(Object.keys(fields));
  const event = new Event(fields);
  const matched = f.filter(event, () => {});
  const added: Fields = {};
  for (const [k, v] of Object.entries(event.fields)) if (!before.has(k) && k !== '@timestamp' && k !== '@version') added[k] = v;
  return { added, event, matched };
}

describe('csv: columns and names', () => {
  it('names columns column1, column2... by default', async () => {
    const { added, matched } = await run('', 'big,bird,sesame street');
    assert.equal(matched, true);
    assert.deepEqual(added, { column1: 'big', column2: 'bird', column3: 'sesame street' });
  });
  it('uses the configured names, and column<N> past their end', async () => {
    const { added } = await run('columns => ["first", "last"]', 'big,bird,sesame street');
    assert.deepEqual(added, { first: 'big', last: 'bird', column3: 'sesame street' });
  });
  it('autogenerate_column_names => false leaves unnamed columns out', async () => {
    const { added } = await run('columns => ["first"] autogenerate_column_names => false', 'big,bird,sesame street');
    assert.deepEqual(added, { first: 'big' });
  });
  it('names are literal keys: dots and spaces stay in the name', async () => {
    const { added } = await run('columns => ["a.b", "c d"]', '1,2');
    assert.deepEqual(added, { 'a.b': '1', 'c d': '2' });
  });
  it('a configured name with brackets is refused at load', async () => {
    await assert.rejects(createPlugin(csv, 'columns => ["ok", "[a][b]"]'), /column 2/);
  });
  it('reads another source and writes under a target (nested too)', async () => {
    const { added, event } = await run('source => "[raw][line]" target => "[parsed][csv]" columns => ["a"]', { raw: { line: 'x,y' } });
    assert.deepEqual(added, { parsed: { csv: { a: 'x', column2: 'y' } } });
    assert.equal(event.get('[raw][line]'), 'x,y');
  });
  it('a missing or null source is not an error; a non-string one is tagged', async () => {
    for (const input of [{}, { message: null }, { message: false }]) {
      const { added, matched, event } = await run('', input);
      assert.equal(matched, false);
      assert.deepEqual(added, {});
      assert.equal(event.hasTag('_csvparsefailure'), false);
    }
    const { event } = await run('', { message: { a: 1 } });
    assert.equal(event.hasTag('_csvparsefailure'), true);
  });
});

describe('csv: quoting and separators', () => {
  it('quoted fields hold separators, doubled quotes and line ends', async () => {
    const { added } = await run('', '"a,b","say ""hi""","two\nlines",plain');
    assert.deepEqual(added, { column1: 'a,b', column2: 'say "hi"', column3: 'two\nlines', column4: 'plain' });
  });
  it('an empty unquoted column is null, an empty quoted one is ""', async () => {
    const { added } = await run('', 'a,,"",d,');
    assert.deepEqual(added, { column1: 'a', column2: null, column3: '', column4: 'd', column5: null });
  });
  it('a trailing LF or CR LF is the line end, not data', async () => {
    assert.deepEqual((await run('', 'a,b\r\n')).added, { column1: 'a', column2: 'b' });
    assert.deepEqual((await run('', 'a,"b"\n')).added, { column1: 'a', column2: 'b' });
  });
  it('other separators: tab, semicolon, several characters', async () => {
    assert.deepEqual((await run('separator => "\t"', 'a\tb c\td')).added, { column1: 'a', column2: 'b c', column3: 'd' });
    assert.deepEqual((await run('separator => ";"', 'a;"b;c";d')).added, { column1: 'a', column2: 'b;c', column3: 'd' });
    assert.deepEqual((await run('separator => " | "', 'a | b|c | d')).added, { column1: 'a', column2: 'b|c', column3: 'd' });
  });
  it('another quote_char', async () => {
    assert.deepEqual((await run(`quote_char => "'"`, `'a,b',"c"`)).added, { column1: 'a,b', column2: '"c"' });
  });
  it('refuses an empty separator, a quote_char that is not one character, a separator holding the quote', async () => {
    await assert.rejects(createPlugin(csv, 'separator => ""'), /separator/);
    await assert.rejects(createPlugin(csv, `quote_char => "''"`), /quote_char/);
    await assert.rejects(createPlugin(csv, `separator => "\\""`), /separator/);
  });
});

describe('csv: malformed lines are tagged, never thrown', () => {
  for (const line of ['a,"unclosed', 'a,"b"c,d', 'a,b"c,d', '"a"x', 'a,b\nc,d', 'a\rb']) {
    it(JSON.stringify(line), async () => {
      const { added, event, matched } = await run('', line);
      assert.equal(matched, false);
      assert.deepEqual(added, { tags: ['_csvparsefailure'] }, 'no column is set');
      assert.deepEqual(event.get('tags'), ['_csvparsefailure']);
      assert.equal(event.get('message'), line);
    });
  }
  it('tag_on_failure sets the tags', async () => {
    const { event } = await run('tag_on_failure => ["bad", "csv"]', 'a,"b');
    assert.deepEqual(event.get('tags'), ['bad', 'csv']);
  });
});

describe('csv: convert', () => {
  it('integer, float, boolean; values that do not convert stay strings', async () => {
    const cfg = 'columns => ["i", "f", "b", "j", "g", "c"] convert => { "i" => "integer" "f" => "float" "b" => "boolean" "j" => "integer" "g" => "float" "c" => "boolean" }';
    const { added } = await run(cfg, '-42,3.5e2,TRUE,12abc,x.5,maybe');
    assert.deepEqual(added, { i: -42, f: 350, b: true, j: '12abc', g: 'x.5', c: 'maybe' });
    assert.deepEqual((await run('columns => ["b"] convert => { "b" => "boolean" }', ' false ')).added, { b: false });
  });
  it('date and date_time become timestamps', async () => {
    const { added } = await run('columns => ["d", "t", "bad"] convert => { "d" => "date" "t" => "date_time" "bad" => "date_time" }', '2026-12-03,2026-12-03T19:40:01.250Z,not a date');
    assert.ok(added.d instanceof Timestamp);
    assert.equal((added.d as Timestamp).toISOString(), '2026-12-03T00:00:00.000Z');
    assert.equal((added.t as Timestamp).toISOString(), '2026-12-03T19:40:01.250Z');
    assert.equal(added.bad, 'not a date');
  });
  it('converts autogenerated columns by their generated name; empty columns stay null', async () => {
    assert.deepEqual((await run('convert => { "column2" => "integer" }', 'a,7,')).added, { column1: 'a', column2: 7, column3: null });
  });
  it('an unknown conversion is refused at load', async () => {
    await assert.rejects(createPlugin(csv, 'convert => { "a" => "number" }'), /invalid conversion 'number'/);
  });
  it('an @timestamp column must convert to a date', async () => {
    const ok = await run('columns => ["@timestamp", "m"] convert => { "@timestamp" => "date_time" }', '2026-12-03T19:40:01Z,x');
    assert.equal(ok.event.timestamp.toISOString(), '2026-12-03T19:40:01.000Z');
    const bad = await run('columns => ["@timestamp", "m"]', '2026-12-03T19:40:01Z,x');
    assert.equal(bad.event.hasTag('_csvparsefailure'), true);
    assert.ok(bad.event.timestamp instanceof Timestamp);
  });
});

describe('csv: headers and empty data', () => {
  it('autodetect_column_names takes the names from the first line, which is dropped', async () => {
    const f = await createPlugin(csv, 'autodetect_column_names => true');
    const out = runFilter(f, [{ message: 'host,port,up' }, { message: 'a,22,yes' }, { message: 'b,80,no,extra' }]);
    assert.equal(out.length, 2);
    assert.deepEqual([out[0]!.get('host'), out[0]!.get('port'), out[0]!.get('up')], ['a', '22', 'yes']);
    assert.deepEqual([out[1]!.get('host'), out[1]!.get('column4')], ['b', 'extra']);
  });
  it('autodetect is ignored when columns are set', async () => {
    const f = await createPlugin(csv, 'autodetect_column_names => true columns => ["x", "y"]');
    const out = runFilter(f, [{ message: 'host,port' }]);
    assert.equal(out.length, 1);
    assert.equal(out[0]!.get('x'), 'host');
  });
  it('skip_header drops lines equal to the column names, configured or detected', async () => {
    const f = await createPlugin(csv, 'columns => ["host", "port"] skip_header => true');
    const out = runFilter(f, [{ message: 'host,port' }, { message: 'a,1' }, { message: '"host","port"' }, { message: 'host,port,x' }]);
    assert.deepEqual(out.map((e) => e.get('host')), ['a', 'host']);
    const g = await createPlugin(csv, 'autodetect_column_names => true skip_header => true');
    const out2 = runFilter(g, [{ message: 'h,p' }, { message: 'h,p' }, { message: '1,2' }]);
    assert.deepEqual(out2.map((e) => e.get('h')), ['1']);
    const h = await createPlugin(csv, 'columns => ["host", "port"]');
    assert.equal(runFilter(h, [{ message: 'host,port' }]).length, 1, 'without skip_header the header is data');
  });
  it('skip_empty_columns leaves out null and "" columns', async () => {
    assert.deepEqual((await run('skip_empty_columns => true columns => ["a", "b", "c", "d"]', 'x,,"",y')).added, { a: 'x', d: 'y' });
  });
  it('skip_empty_rows drops blank lines; without it a blank line is tagged, as in Logstash', async () => {
    const f = await createPlugin(csv, 'skip_empty_rows => true');
    assert.deepEqual(runFilter(f, [{ message: '' }, { message: '\n' }, { message: 'a' }]).map((e) => e.get('message')), ['a']);
    const { added, matched, event } = await run('', '');
    assert.equal(matched, false);
    assert.deepEqual(added, { tags: ['_csvparsefailure'] });
  });
});

describe('csv: prototype keys stay plain data', () => {
  const assertClean = () => {
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    assert.equal(Object.getPrototypeOf({}), Object.prototype);
    assert.equal(typeof ({} as { constructor: unknown }).constructor, 'function');
  };
  it('a header line __proto__,constructor,polluted names plain fields', async () => {
    for (const config of ['autodetect_column_names => true', 'autodetect_column_names => true target => "t"']) {
      const f = await createPlugin(csv, config);
      const out = runFilter(f, [{ message: '__proto__,constructor,polluted,hasOwnProperty' }, { message: 'p,c,yes,h' }]);
      assert.equal(out.length, 1);
      const e = out[0]!;
      const holder = (config.includes('target') ? e.fields.t : e.fields) as Record<string, unknown>;
      assert.equal(Object.getPrototypeOf(holder), Object.prototype);
      assert.deepEqual(Object.getOwnPropertyDescriptor(holder, '__proto__')?.value, 'p');
      assert.equal(Object.getOwnPropertyDescriptor(holder, 'constructor')?.value, 'c');
      assert.equal(Object.getOwnPropertyDescriptor(holder, 'hasOwnProperty')?.value, 'h');
      assert.equal(holder.polluted, 'yes');
      assert.equal(JSON.parse(JSON.stringify(e.fields))[config.includes('target') ? 't' : '__proto__'] !== undefined, true);
      assertClean();
    }
  });
  it('configured columns named like prototype properties, with convert', async () => {
    const { event } = await run('columns => ["__proto__", "prototype", "toString"] convert => { "toString" => "integer" }', '1,2,3');
    assert.equal(Object.getOwnPropertyDescriptor(event.fields, '__proto__')?.value, '1');
    assert.equal(event.get('toString'), 3);
    assert.doesNotThrow(() => String(event));
    assertClean();
  });
  it('a header naming a bracketed path tags the header event and keeps the default names', async () => {
    const f = await createPlugin(csv, 'autodetect_column_names => true');
    const out = runFilter(f, [{ message: '[__proto__][polluted],b' }, { message: 'x,y' }]);
    assert.equal(out[0]!.hasTag('_csvparsefailure'), true);
    assertClean();
  });
});
