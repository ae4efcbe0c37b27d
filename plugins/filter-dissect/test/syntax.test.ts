/** Every form of the dissect syntax, with the outcomes Logstash's dissect documents and tests. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Event, type Fields } from '@pipeline/core';
import { createPlugin } from '@pipeline/core/testing';
import dissect from '../src/index.js';

/** The fields the filter added or changed (not message, @timestamp, @version), and whether it matched. */
async function run(pattern: string, message: string, extra: Fields = {}, more = '') {
  // config strings are raw (as in Logstash): the pattern goes in as it is, between double quotes
  assert.ok(!pattern.includes('"'));
  const f = await createPlugin(dissect, `mapping => { "message" => "${pattern}" } ${more}`);
  const event = new Event({ message, ...extra });
  const matched = f.filter(event, () => {});
  const out: Fields = {};
  for (const [k, v] of Object.entries(event.fields)) if (k !== 'message' && k !== '@timestamp' && k !== '@version') out[k] = v;
  return { out, matched, event };
}

describe('dissect: fields and delimiters', () => {
  it('one field takes the whole value', async () => {
    assert.deepEqual((await run('%{key}', 'foobar')).out, { key: 'foobar' });
  });
  it('each field runs to the next delimiter; the last takes the rest', async () => {
    assert.deepEqual((await run('%{a} %{b}', 'foo bar baz')).out, { a: 'foo', b: 'bar baz' });
    assert.deepEqual((await run('%{a}------->%{b}', 'foo------->bar baz quux')).out, { a: 'foo', b: 'bar baz quux' });
  });
  it('literal text before the first field must start the value', async () => {
    assert.deepEqual((await run('/var/%{key}', '/var/foobar/log')).out, { key: 'foobar/log' });
    assert.deepEqual((await run('[%{a}] %{b} %{c}', '[foo bar] baz quux')).out, { a: 'foo bar', b: 'baz', c: 'quux' });
    const { matched, out, event } = await run('/var/%{key}', 'x/var/foobar');
    assert.equal(matched, false);
    assert.deepEqual(event.tags, ['_dissectfailure']);
    assert.equal(out.key, undefined);
  });
  it('text after the last field must be found; what follows it is dropped', async () => {
    assert.deepEqual((await run('/var/%{key}/log', '/var/foobar/log')).out, { key: 'foobar' });
    assert.deepEqual((await run('/var/%{key}/log/%{key1}.log', '/var/foobar/log/apache.log')).out, { key: 'foobar', key1: 'apache' });
    assert.deepEqual((await run('%{a}]', 'x]yz')).out, { a: 'x' });
    assert.equal((await run('%{a}]', 'xyz')).matched, false);
  });
  it('delimiters may hold { and } and several characters', async () => {
    assert.deepEqual((await run('{%{a}}{%{b}}%{rest}', '{foo}{bar}')).out, { a: 'foo', b: 'bar', rest: '' });
    assert.deepEqual((await run('%{a} :: %{b}', 'x :: y :: z')).out, { a: 'x', b: 'y :: z' });
  });
  it('a delimiter may be a line break (a real one in the config: a written \\n is two characters)', async () => {
    const f = await createPlugin(dissect, "mapping => { \"message\" => '%{a}\n%{b}' }");
    const event = new Event({ message: 'one\ntwo\nthree' });
    assert.equal(f.filter(event, () => {}), true);
    assert.deepEqual([event.get('a'), event.get('b')], ['one', 'two\nthree']);
    assert.deepEqual((await run('%{a}\\n%{b}', 'one\\ntwo')).out, { a: 'one', b: 'two' });
  });
  it('a delimiter at the very start ends an empty first field', async () => {
    assert.deepEqual((await run('%{a} %{b}', ' x')).out, { a: '', b: 'x' });
  });
  it('multibyte characters in delimiters and values', async () => {
    assert.deepEqual((await run('%{a}.࿏.%{b}', '⟳༒.࿏.༒⟲')).out, { a: '⟳༒', b: '༒⟲' });
    assert.deepEqual((await run('%{a}', '子')).out, { a: '子' });
  });
  it('consecutive delimiters are empty fields, not padding', async () => {
    const { out } = await run('%{name},%{addr1},%{addr2},%{addr3},%{city},%{zip}', 'Jane Doe,4321 Fifth Avenue,,,New York,87432');
    assert.deepEqual(out, { name: 'Jane Doe', addr1: '4321 Fifth Avenue', addr2: '', addr3: '', city: 'New York', zip: '87432' });
  });
  it('the syslog header of the Logstash docs', async () => {
    const { out, matched } = await run(
      '%{timestamp} %{+timestamp} %{+timestamp} %{logsource} %{} %{program}[%{pid}]: %{msg}',
      'Mar 16 00:01:25 evita skip-this postfix/smtpd[1713]: connect from camomile.cloud9.net[168.100.1.3]',
    );
    assert.equal(matched, true);
    assert.deepEqual(out, { timestamp: 'Mar 16 00:01:25', logsource: 'evita', program: 'postfix/smtpd', pid: '1713', msg: 'connect from camomile.cloud9.net[168.100.1.3]' });
  });
});

describe('dissect: padding (->)', () => {
  it('repeats of the delimiter right of a -> field are skipped', async () => {
    assert.deepEqual((await run('%{id} %{function->} %{server}', '00000043 ViewReceive     machine-321')).out, { id: '00000043', function: 'ViewReceive', server: 'machine-321' });
    assert.deepEqual((await run('%{id->} %{function} %{server}', '00000043    ViewReceive machine-321')).out, { id: '00000043', function: 'ViewReceive', server: 'machine-321' });
  });
  it('without -> the same padding makes empty fields', async () => {
    assert.deepEqual((await run('%{a} %{b} %{c}', 'x  y z')).out, { a: 'x', b: '', c: 'y z' });
  });
  it('an append after padding joins with the pattern’s delimiter, not the padding', async () => {
    assert.deepEqual((await run('%{ts->} %{+ts} %{+ts} %{host}', 'Feb  5 17:32:18 web1')).out, { ts: 'Feb 5 17:32:18', host: 'web1' });
    assert.deepEqual((await run('%{ts->} %{+ts} %{+ts} %{host}', 'Feb 15 17:32:18 web1')).out, { ts: 'Feb 15 17:32:18', host: 'web1' });
  });
  it('multi-character delimiters repeat whole', async () => {
    assert.deepEqual((await run('%{a->}   %{b->}---%{c}', 'foo            bar------------baz')).out, { a: 'foo', b: 'bar', c: 'baz' });
  });
  it('a skip field with -> eats leading padding', async () => {
    assert.deepEqual((await run('%{?->}-%{a}', '-----666')).out, { a: '666' });
    assert.deepEqual((await run('%{->}-%{a}', '-----666')).out, { a: '666' });
  });
  it('-> combines with an append ordinal in either order', async () => {
    assert.deepEqual((await run('%{+a/2->} %{+a/1}', 'x    y')).out, { a: 'y x' });
    assert.deepEqual((await run('%{+a->/2} %{+a/1}', 'x    y')).out, { a: 'y x' });
  });
});

describe('dissect: skip fields', () => {
  it('%{} and %{?name} match but are not stored', async () => {
    assert.deepEqual((await run('%{} %{key}', 'hello world')).out, { key: 'world' });
    assert.deepEqual((await run('%{a} %{?b} %{c}', 'foo bar baz')).out, { a: 'foo', c: 'baz' });
    assert.deepEqual((await run('%{a}------->%{}', 'foo------->bar baz quux')).out, { a: 'foo' });
  });
});

describe('dissect: append fields', () => {
  it('joins with the delimiter before each appended field', async () => {
    assert.deepEqual((await run('%{key}-%{+key}-%{+key}', '1-2-3')).out, { key: '1-2-3' });
    assert.deepEqual((await run('%{a} %{b} %{+b} %{z}', 'foo bar baz quux')).out, { a: 'foo', b: 'bar baz', z: 'quux' });
  });
  it('appends in written order after the normal field of the same name', async () => {
    assert.deepEqual((await run('%{a} %{b} %{+a}', 'foo bar baz quux')).out, { a: 'foo baz quux', b: 'bar' });
    // the first +a has no delimiter before it: a space joins it
    assert.deepEqual((await run('%{+a} %{a} %{+a} %{b}', 'December 31 1999 quux')).out, { a: '31 December 1999', b: 'quux' });
  });
  it('a first append with nothing before it is stored as it is', async () => {
    assert.deepEqual((await run('%{+a} %{b}', 'foo bar')).out, { a: 'foo', b: 'bar' });
    assert.deepEqual((await run('%{+a} %{b} %{+a} %{c}', 'foo bar baz quux')).out, { a: 'foo baz', b: 'bar', c: 'quux' });
  });
  it('/n orders the appends', async () => {
    assert.deepEqual((await run('%{+a/2} %{+a/1} %{+a/4} %{+a/3}', '1 2 3 go')).out, { a: '2 1 go 3' });
    assert.deepEqual((await run('%{+key/3} %{+key/1} %{+key/2}', '1 2 3')).out, { key: '2 3 1' });
    assert.deepEqual((await run('%{+a/2} %{+a/4} %{+a/1} %{+a/3}', 'bar quux foo baz')).out, { a: 'foo bar baz quux' });
  });
  it('appends to a value the event already had', async () => {
    assert.deepEqual((await run('%{+a} %{b}', 'x y', { a: 'old' })).out, { a: 'old x', b: 'y' });
    assert.deepEqual((await run('%{+n} %{b}', 'x y', { n: 7 })).out, { n: '7 x', b: 'y' });
  });
  it('append_separator replaces the joining delimiter', async () => {
    assert.deepEqual((await run('%{a},%{+a},%{+a}', '1,2,3', {}, 'append_separator => "-"')).out, { a: '1-2-3' });
    assert.deepEqual((await run('%{a},%{+a}', '1,2', {}, 'append_separator => ""')).out, { a: '12' });
    assert.deepEqual((await run('%{a},%{+a}', '1,2')).out, { a: '1,2' }, 'unset: the delimiter before the field');
  });
  it('append and normal fields name the same nested field', async () => {
    assert.deepEqual((await run('%{[t][d]} %{+[t][d]}', 'Oct 11')).out, { t: { d: 'Oct 11' } });
  });
});

describe('dissect: indirect fields', () => {
  it('a skip field names the field an indirect one fills', async () => {
    assert.deepEqual((await run('%{?key} %{&key}', 'hello world')).out, { hello: 'world' });
    assert.deepEqual((await run('error: %{?err}, %{&err}', 'error: some_error, some_description')).out, { some_error: 'some_description' });
    assert.deepEqual((await run('%{?k1}=%{&k1}, %{?k2}=%{&k2}', 'foo=bar, baz=quux')).out, { foo: 'bar', baz: 'quux' });
  });
  it('a normal field names it too, and is stored', async () => {
    assert.deepEqual((await run('%{key} %{&key}', 'hello world')).out, { key: 'hello', hello: 'world' });
    assert.deepEqual((await run('%{k1}=%{&k1}, %{k2}=%{&k2}', 'foo=bar, baz=quux')).out, { k1: 'foo', k2: 'baz', foo: 'bar', baz: 'quux' });
  });
  it('the key may be a field the event already has', async () => {
    const { out } = await run('%{&k1}, %{&k2}', 'foo, bar', { k1: 'a', k2: 'b' });
    assert.deepEqual(out, { k1: 'a', k2: 'b', a: 'foo', b: 'bar' });
  });
  it('an unknown or empty key stores nothing, and the match still succeeds', async () => {
    const r = await run('%{k1}=%{&k3}, %{k2}=%{&k4}', 'foo=bar, baz=quux');
    assert.deepEqual(r.out, { k1: 'foo', k2: 'baz' });
    assert.equal(r.matched, true);
    assert.deepEqual((await run('%{?k}=%{&k}', '=v')).out, {});
  });
  it('a name from the data is one literal key: dots and brackets stay in it', async () => {
    assert.deepEqual((await run('%{?k}=%{&k}', 'a.b=1')).out, { 'a.b': '1' });
    assert.deepEqual((await run('%{?k}=%{&k}', '[a][b]=1')).out, { '[a][b]': '1' });
  });
  it('__proto__ and other Object.prototype names from the data are plain keys', async () => {
    const { out, event, matched } = await run('%{?k}=%{&k} %{?j}=%{&j}', '__proto__=polluted constructor=x');
    assert.equal(matched, true);
    assert.equal(Object.getPrototypeOf(event.fields), Object.prototype);
    assert.ok(Object.hasOwn(event.fields, '__proto__'));
    assert.equal(Object.getOwnPropertyDescriptor(event.fields, '__proto__')!.value, 'polluted');
    assert.equal(out.constructor, 'x');
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    assert.equal(JSON.parse(event.json()).__proto__, 'polluted');
  });
  it('an indirect key named like an Object.prototype property is read as an own field only', async () => {
    // no `toString` field on the event: the skip field's value names the field, not Object.prototype.toString
    assert.deepEqual((await run('%{?toString}=%{&toString}', 'name=v')).out, { name: 'v' });
  });
});

describe('dissect: field names from the pattern', () => {
  it('[a][b] names a nested field; a.b is one key', async () => {
    assert.deepEqual((await run('%{[a][b]} %{c.d}', 'x y')).out, { a: { b: 'x' }, 'c.d': 'y' });
  });
  it('[@metadata][x] is kept off the output', async () => {
    const { event } = await run('%{[@metadata][x]} %{y}', '1 2');
    assert.equal(event.get('[@metadata][x]'), '1');
    assert.equal(JSON.parse(event.json())['@metadata'], undefined);
  });
  it('__proto__ in the pattern is a plain key', async () => {
    const { event } = await run('%{__proto__} %{[x][__proto__]}', 'a b');
    assert.equal(Object.getPrototypeOf(event.fields), Object.prototype);
    assert.equal(Object.getOwnPropertyDescriptor(event.fields, '__proto__')!.value, 'a');
    const x = event.fields.x as object;
    assert.equal(Object.getPrototypeOf(x), Object.prototype);
    assert.equal(Object.getOwnPropertyDescriptor(x, '__proto__')!.value, 'b');
  });
  it('@timestamp takes a parsed timestamp, and a value that is not one fails the match', async () => {
    const ok = await run('%{@timestamp} %{rest}', '2024-05-01T10:00:00Z hi');
    assert.equal(ok.matched, true);
    assert.equal(ok.event.timestamp.toISOString(), '2024-05-01T10:00:00.000Z');
    const bad = await run('%{@timestamp} %{rest}', 'yesterday hi');
    assert.equal(bad.matched, false);
    assert.equal(bad.out.rest, undefined, 'nothing written');
    assert.deepEqual(bad.event.tags, ['_dissectfailure']);
  });
  it('an indirect name from the data cannot replace @timestamp or @metadata', async () => {
    for (const line of ['@timestamp=x', '@metadata=x']) {
      const { matched, event } = await run('%{?k}=%{&k}', line);
      assert.equal(matched, false, line);
      assert.ok(event.fields['@timestamp'] !== 'x');
      assert.deepEqual(event.tags, ['_dissectfailure']);
    }
  });
});
