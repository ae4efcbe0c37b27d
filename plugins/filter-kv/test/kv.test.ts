import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Event, type Fields } from '@pipeline/core';
import { createPlugin } from '@pipeline/core/testing';
import kv from '../src/index.js';

/** Runs kv on fields (a string is the message); returns the fields kv added, and whether it matched. */
async function run(config: string | Record<string, unknown>, input: string | Fields) {
  // an options object (for values the config syntax cannot write, like CR LF) gets the schema's defaults
  const options =
    typeof config === 'string'
      ? config
      : { ...Object.fromEntries(Object.entries(kv.options).flatMap(([k, spec]) => (spec.default === undefined ? [] : [[k, structuredClone(spec.default)]]))), ...config };
  const f = await createPlugin(kv, options);
  const fields: Fields = typeof input === 'string' ? { message: input } : input;
  const before = new Set(Object.keys(fields));
  const event = new Event(fields);
  const matched = f.filter(event, () => {});
  const added: Fields = {};
  for (const [k, v] of Object.entries(event.fields)) if (!before.has(k) && k !== '@timestamp' && k !== '@version') added[k] = v;
  return { added, event, matched };
}

const ALL = `hello=world foo=bar baz=fizz doublequoted="hello world" singlequoted='hello world' bracketsone=(hello world) bracketstwo=[hello world] bracketsthree=<hello world>`;
const ALL_OUT = { hello: 'world', foo: 'bar', baz: 'fizz', doublequoted: 'hello world', singlequoted: 'hello world', bracketsone: 'hello world', bracketstwo: 'hello world', bracketsthree: 'hello world' };

describe('kv: defaults', () => {
  it('reads plain, quoted and bracketed values', async () => {
    const { added, matched } = await run('', ALL);
    assert.equal(matched, true);
    assert.deepEqual(added, ALL_OUT);
  });
  it('lenient whitespace allows spaces around the separator', async () => {
    const { added } = await run('', `hello = world foo =bar baz= fizz doublequoted = "hello world" singlequoted= 'hello world' brackets =(hello world)`);
    assert.deepEqual(added, { hello: 'world', foo: 'bar', baz: 'fizz', doublequoted: 'hello world', singlequoted: 'hello world', brackets: 'hello world' });
  });
  it('keeps backslash-escaped spaces in keys and values (LOGSTASH-624)', async () => {
    const { added } = await run('value_split => ":"', String.raw`IKE:=Quick\ Mode\ completion IKE\ IDs:=subnet:\ x.x.x.x\ (mask=\ 255.255.255.254)\ and\ host:\ y.y.y.y`);
    assert.deepEqual(added, { IKE: String.raw`=Quick\ Mode\ completion`, [String.raw`IKE\ IDs`]: String.raw`=subnet:\ x.x.x.x\ (mask=\ 255.255.255.254)\ and\ host:\ y.y.y.y` });
  });
  it('a quoted value followed by more text ends at the quote (field split wins)', async () => {
    const { added } = await run('', `foo=bar baz="quoted stuff" and more unquoted msg="some fully-quoted message " empty="" non-empty="foo"`);
    assert.deepEqual(added, { foo: 'bar', baz: 'quoted stuff', msg: 'some fully-quoted message ', 'non-empty': 'foo' });
  });
  it('a quote that does not end before a field split is part of an unquoted value', async () => {
    const { added } = await run('', `a="x"y b="open c=d`);
    assert.deepEqual(added, { a: '"x"y', b: '"open', c: 'd' });
  });
  it('does nothing (no match) on text without pairs, a missing source, or a non-string source', async () => {
    for (const input of ['this is not key value', {}, { message: 5 }, { message: { a: 'b=c' } }]) {
      const { added, matched } = await run('', input);
      assert.equal(matched, false);
      assert.deepEqual(added, {});
    }
  });
  it('reads every string of an array source, collecting repeated keys', async () => {
    const { added } = await run('', { message: ['a=1 b=2', 7, 'a=3'] });
    assert.deepEqual(added, { a: ['1', '3'], b: '2' });
  });
});

describe('kv: splitting', () => {
  it('value_split with other characters', async () => {
    const { added } = await run('value_split => ":"', `hello:=world foo:bar baz=:fizz doublequoted:"hello world" singlequoted:'hello world' brackets:(hello world)`);
    assert.deepEqual(added, { hello: '=world', foo: 'bar', 'baz=': 'fizz', doublequoted: 'hello world', singlequoted: 'hello world', brackets: 'hello world' });
  });
  it('field_split with several characters (query strings)', async () => {
    const { added } = await run('field_split => "?&"', `?hello=world&foo=bar&baz=fizz&doublequoted="hello world"&singlequoted='hello world'&ignoreme&foo12=bar12`);
    assert.deepEqual(added, { hello: 'world', foo: 'bar', baz: 'fizz', doublequoted: 'hello world', singlequoted: 'hello world', foo12: 'bar12' });
  });
  it('a field_split without space keeps spaces inside values (LOGSTASH-733)', async () => {
    const { added } = await run('field_split => "|"', 'field1=test|field2=another test|field3=test3');
    assert.deepEqual(added, { field1: 'test', field2: 'another test', field3: 'test3' });
  });
  it('empty values are skipped, or kept as "" with allow_empty_values', async () => {
    assert.deepEqual((await run('field_split => "|"', 'a=1|b=|c=3')).added, { a: '1', c: '3' });
    assert.deepEqual((await run({ field_split_pattern: String.raw`\|`, value_split_pattern: '=' }, 'a=1|b=|c=3')).added, { a: '1', c: '3' });
    const { added } = await run('allow_empty_values => true whitespace => "strict"', `present=one empty= emptyquoted='' present=two emptybracketed=[] endofinput=`);
    assert.deepEqual(added, { present: ['one', 'two'], empty: '', emptyquoted: '', emptybracketed: '', endofinput: '' });
  });
  it('include_brackets => false makes brackets ordinary characters', async () => {
    assert.deepEqual((await run('include_brackets => false', 'bracketsone=(hello world) bracketstwo=[hello world]')).added, { bracketsone: '(hello', bracketstwo: '[hello' });
  });
  it('multi-character and regex splitters', async () => {
    assert.deepEqual((await run({ field_split: ' ', value_split_pattern: '::' }, ALL.replaceAll('=', '::'))).added, ALL_OUT);
    assert.deepEqual((await run({ field_split_pattern: '__', value_split_pattern: '::' }, ALL.replaceAll('=', '::').replaceAll(' ', '__').replaceAll('hello__world', 'hello world'))).added, ALL_OUT);
    const messy = `hello:world_foo::bar__baz:::fizz___doublequoted:::"hello world"____singlequoted:::::'hello world'____bracketsone:::(hello world)__bracketstwo:[hello world]_bracketsthree::::::<hello world>`;
    assert.deepEqual((await run({ field_split_pattern: '_+', value_split_pattern: ':+' }, messy)).added, ALL_OUT);
    const escaped = `hello++world??foo++bar??baz++fizz??doublequoted++"hello world"??singlequoted++'hello world'??bracketsone++(hello world)??bracketstwo++[hello world]??bracketsthree++<hello world>`;
    assert.deepEqual((await run({ field_split_pattern: String.raw`\?\?`, value_split_pattern: String.raw`\+\+` }, escaped)).added, ALL_OUT);
  });
  it('a multi-character field split with quoted values that contain it', async () => {
    const msg = 'foo=bar!!!!!baz="quoted stuff" and more unquoted!!!!!msg="fully-quoted with a part! of the separator"!!!!!blip="this!!!!!is it"!!!!!empty=""!!!!!non-empty="foo"';
    assert.deepEqual((await run({ field_split_pattern: '!!!!!' }, msg)).added, { foo: 'bar', baz: '"quoted stuff" and more unquoted', msg: 'fully-quoted with a part! of the separator', blip: 'this!!!!!is it', 'non-empty': 'foo' });
  });
  it('patterns with lookahead (backtracking engine)', async () => {
    const msg = 'key1: val1; key2: val2; key3:  https://site/?g={......"...;  CLR  rv:11.0)"..}; key4: val4;';
    const { added } = await run({ field_split_pattern: String.raw`;\s*(?=key.+?:)|;$`, value_split_pattern: String.raw`:\s+` }, msg);
    assert.deepEqual(added, { key1: 'val1', key2: 'val2', key3: 'https://site/?g={......"...;  CLR  rv:11.0)"..}', key4: 'val4' });
  });
  it('HTTP headers split on a literal backslash-r-backslash-n', async () => {
    const headers = String.raw`Host: foo.com\r\nUser-Agent: Qwerty/1.2.3 (www.qwerty.org)\r\nContent-Type: text/xml; charset=utf-8\r\nAccept: */*\r\nX-UUID: 0:15713435944943992\r\n\r\n`;
    const { event } = await run('source => "headers" field_split_pattern => "\\\\r\\\\n" value_split_pattern => ": " whitespace => "strict" target => "headerskv"', { headers });
    assert.deepEqual(event.get('headerskv'), { Host: 'foo.com', 'User-Agent': 'Qwerty/1.2.3 (www.qwerty.org)', 'Content-Type': 'text/xml; charset=utf-8', Accept: '*/*', 'X-UUID': '0:15713435944943992' });
  });
});

describe('kv: whitespace => strict', () => {
  it('an empty value is not captured', async () => {
    const { added } = await run('whitespace => "strict"', 'IN=eth0 OUT= MAC=0f:5f:5e:aa:d3:a2:21:ff:09:00:0f:e1:c8:17 SRC=192.168.0.1');
    assert.deepEqual(added, { IN: 'eth0', MAC: '0f:5f:5e:aa:d3:a2:21:ff:09:00:0f:e1:c8:17', SRC: '192.168.0.1' });
  });
  it('sloppy input gives only the unambiguous pairs', async () => {
    const { added } = await run('whitespace => "strict"', `hello = world foo =bar baz= fizz whitespace=none doublequoted = "hello world" singlequoted= 'hello world' brackets =(hello world) strict=true`);
    assert.deepEqual(added, { whitespace: 'none', strict: 'true' });
  });
  it('mixed quotations', async () => {
    const { added } = await run('whitespace => "strict"', String.raw`hello=world goodbye=cruel\ world empty_quoted="" quoted="value1" empty_unquoted= unquoted=value2 empty_bracketed=[] bracketed=[value3] cake=delicious`);
    assert.deepEqual(added, { hello: 'world', goodbye: String.raw`cruel\ world`, quoted: 'value1', unquoted: 'value2', bracketed: 'value3', cake: 'delicious' });
  });
});

describe('kv: keys and values', () => {
  it('transform_key and transform_value', async () => {
    const input = `Hello = World fOo =bar baz= FIZZ DOUBLEQUOTED = "hellO worlD" singlequoted= 'hEllo wOrld' brackets =(HELLO world)`;
    assert.deepEqual((await run('transform_key => "lowercase" transform_value => "uppercase"', input)).added, { hello: 'WORLD', foo: 'BAR', baz: 'FIZZ', doublequoted: 'HELLO WORLD', singlequoted: 'HELLO WORLD', brackets: 'HELLO WORLD' });
    assert.deepEqual((await run('transform_key => "capitalize" transform_value => "capitalize"', input)).added, { Hello: 'World', Foo: 'Bar', Baz: 'Fizz', Doublequoted: 'Hello world', Singlequoted: 'Hello world', Brackets: 'Hello world' });
    await assert.rejects(createPlugin(kv, 'transform_key => "title"'), /must be one of/);
  });
  it('trim_key and trim_value trim the ends only, remove_char_* everywhere', async () => {
    assert.deepEqual((await run(String.raw`field_split => "\|" trim_value => " " trim_key => " "`, 'key1=  value1 with spaces    |  key2 with spaces  =value2')).added, { key1: 'value1 with spaces', 'key2 with spaces': 'value2' });
    assert.deepEqual((await run(String.raw`field_split => "\|" remove_char_value => " " remove_char_key => " "`, 'key1= value1 with spaces | key2 with spaces =value2')).added, { key1: 'value1withspaces', key2withspaces: 'value2' });
    const postfix = 'to=<foo@example.com>, orig_to=<bar@example.com>, %+relay=mail.example.com[private/dovecot-lmtp], delay=2.2, delays=1.9/0.01/0.01/0.21, dsn=2.0.0, status=sent (250 2.0.0 <foo@example.com> YERDHejiRSXFDSdfUXTV Saved) ';
    assert.deepEqual((await run('trim_value => "<>," trim_key => "%+"', postfix)).added, { to: 'foo@example.com', orig_to: 'bar@example.com', relay: 'mail.example.com[private/dovecot-lmtp]', delay: '2.2', delays: '1.9/0.01/0.01/0.21', dsn: '2.0.0', status: 'sent' });
  });
  it('keys without values are ignored (CRLF-separated, value split on space)', async () => {
    const message = 'AccountStatus: 4\r\nAdditionalInformation\r\n\r\nCode: \r\nHttpStatusCode: \r\nIsSuccess: True\r\nMessage: \r\n';
    assert.deepEqual((await run({ field_split: '\r\n', value_split: ' ', trim_key: ':' }, message)).added, { AccountStatus: '4', IsSuccess: 'True' });
  });
  it('prefix, include_keys and exclude_keys (static, with prefix, with %{...})', async () => {
    const input = `hello=world foo=bar baz=fizz doublequoted="hello world" singlequoted='hello world'`;
    assert.deepEqual((await run("prefix => '__'", input)).added, { __hello: 'world', __foo: 'bar', __baz: 'fizz', __doublequoted: 'hello world', __singlequoted: 'hello world' });
    assert.deepEqual((await run('include_keys => ["foo", "singlequoted"]', input)).added, { foo: 'bar', singlequoted: 'hello world' });
    assert.deepEqual((await run('exclude_keys => ["foo", "singlequoted"] prefix => "__"', input)).added, { __hello: 'world', __baz: 'fizz', __doublequoted: 'hello world' });
    assert.deepEqual((await run('include_keys => ["foo"] exclude_keys => ["foo"]', input)).added, {});
    assert.deepEqual((await run('source => "data" include_keys => ["%{key}"]', { data: 'foo=bar baz=fizz', key: 'foo' })).added, { foo: 'bar' });
    assert.deepEqual((await run('source => "data" exclude_keys => ["%{key}"] prefix => "%{key}_"', { data: 'foo=bar baz=fizz', key: 'foo' })).added, { foo_baz: 'fizz' });
  });
  it('default_keys fill in what the text lacks', async () => {
    const { added } = await run('default_keys => ["foo", "xxx", "goo", "yyy"]', 'hello=world foo=bar');
    assert.deepEqual(added, { foo: 'bar', goo: 'yyy', hello: 'world' });
    assert.deepEqual((await run('default_keys => { "d" => "v" }', 'no pairs here')).added, { d: 'v' });
  });
  it('repeated keys become arrays; allow_duplicate_values => false keeps distinct values', async () => {
    assert.deepEqual((await run('field_split => "&" source => "source"', { source: 'foo=bar&foo=yeah&foo=yeah' })).added, { foo: ['bar', 'yeah', 'yeah'] });
    assert.deepEqual((await run('field_split => "&" source => "source" allow_duplicate_values => false', { source: 'foo=bar&foo=yeah&foo=yeah' })).added, { foo: ['bar', 'yeah'] });
  });
  it('recursive parses values that hold pairs', async () => {
    const { added } = await run('recursive => true', String.raw`IKE="Quick Mode completion" IKE\ IDs = (subnet= x.x.x.x mask= 255.255.255.254 and host=y.y.y.y)`);
    assert.deepEqual(added, { IKE: 'Quick Mode completion', [String.raw`IKE\ IDs`]: { subnet: 'x.x.x.x', mask: '255.255.255.254', host: 'y.y.y.y' } });
    assert.deepEqual((await run('recursive => true', 'foo=1 bar=(baz=2)')).added, { foo: '1', bar: { baz: '2' } });
    assert.deepEqual((await run('', 'foo=1 bar=(baz=2)')).added, { foo: '1', bar: 'baz=2' });
  });
});

describe('kv: target and failures', () => {
  it('target collects the pairs, overwriting the field (even the source)', async () => {
    const { event } = await run('target => "kv"', `hello=world foo=bar`);
    assert.deepEqual(event.get('kv'), { hello: 'world', foo: 'bar' });
    const same = await run('source => "happy" target => "happy"', { happy: 'foo=bar baz=fizz' });
    assert.deepEqual(same.event.get('happy'), { foo: 'bar', baz: 'fizz' });
    const none = await run('target => "kv"', 'hello:world:foo:bar');
    assert.equal(none.event.includes('kv'), false);
    assert.equal(none.matched, false);
  });
  it('keys are field references: nested keys nest, a malformed one tags the event', async () => {
    assert.deepEqual((await run('', '[a][b]=1 c=2')).event.get('a'), { b: '1' });
    const bad = await run('', 'c=2 [[x=1');
    assert.equal(bad.matched, false);
    assert.deepEqual(bad.event.tags, ['_kv_filter_error']);
    assert.deepEqual((await run('tag_on_failure => ["KV-ERROR", "two"]', '[[x=1')).event.tags, ['KV-ERROR', 'two']);
  });
  it('refuses an empty value_split or split pattern, and a bad character class', async () => {
    await assert.rejects(createPlugin(kv, 'value_split => ""'), /non-empty/);
    await assert.rejects(createPlugin(kv, 'value_split_pattern => ""'), /non-empty/);
    await assert.rejects(createPlugin(kv, 'field_split_pattern => ""'), /non-empty/);
    await assert.rejects(createPlugin(kv, 'trim_key => "z-a"'), /trim_key/);
  });
});

describe('kv: hostile input', () => {
  it('scans lines that make a backtracking regex quadratic or exponential in linear time', async () => {
    const lines = [
      'a'.repeat(1_000_000) + ' b=c', // a long token without a separator
      '\\'.repeat(1_000_001) + 'x b=c', // a long run of backslashes
      'k="' + 'x'.repeat(1_000_000) + ' b=c', // an unterminated quote
      ('x' + ' '.repeat(50)).repeat(20_000) + 'b=c',
    ];
    for (const line of lines) {
      const t0 = performance.now();
      const { added } = await run('', line);
      assert.equal(added.b, 'c');
      assert.ok(performance.now() - t0 < 1500, `took ${performance.now() - t0} ms`);
    }
    const t0 = performance.now();
    await run('field_split => "&"', 'a' + ' '.repeat(1_000_000) + 'b');
    assert.ok(performance.now() - t0 < 1500);
  });
  it('a pathological user pattern runs on the linear engine and finishes', async () => {
    const t0 = performance.now();
    const { added, event } = await run({ value_split_pattern: '(?:=+=+)+:' }, 'foo========:bar baz' + '='.repeat(5000) + 'bingo');
    assert.equal(added.foo, 'bar');
    assert.deepEqual(event.tags, []);
    assert.ok(performance.now() - t0 < 2000);
    assert.deepEqual((await run({ value_split_pattern: '(?:=+=+)+:' }, 'foo==:bar baz==:bingo')).added, { foo: 'bar', baz: 'bingo' });
  });
  it('a backtracking user pattern is cut off by timeout_millis between regex calls', async () => {
    // (?=...) forces the backtracking engine; each call is short, but there are many of them
    const line = 'x'.repeat(200_000);
    const t0 = performance.now();
    const { event, matched } = await run({ value_split_pattern: '(?=[^y]*y)=', timeout_millis: 50, tag_on_timeout: 'BADKV', default_keys: { d: 'v' } }, line + '=');
    assert.ok(performance.now() - t0 < 3000, `took ${performance.now() - t0} ms`);
    assert.equal(matched, false);
    assert.deepEqual(event.tags, ['BADKV']);
    assert.equal(event.includes('d'), false);
  });
});
