/** The event API code sees: Logstash's Event methods over core's Event. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Event, Timestamp } from '@pipeline/core';
import { createPlugin, runFilter } from '@pipeline/core/testing';
import javascript from '../src/index.js';

const TS = '2026-03-01T10:00:00.000Z';
const js = (code: string, more = '') => createPlugin(javascript, `code => '${code}' ${more}`);
const one = async (code: string, fields: Record<string, unknown>) => {
  const out = runFilter(await js(code), [{ '@timestamp': TS, ...fields }]);
  assert.equal(out.length, 1);
  return out[0]!;
};

describe('javascript: the event API', () => {
  it('get and set take field references, nested ones too', async () => {
    const e = await one('event.set("[a][b]", event.get("[src][port]") * 2); event.set("plain", event.get("message").toUpperCase())', { message: 'hi', src: { port: 21 } });
    assert.deepEqual(e.get('a'), { b: 42 });
    assert.equal(e.get('plain'), 'HI');
  });

  it('get gives undefined for a missing field; set returns the value', async () => {
    const e = await one('event.set("missing", event.get("[no][such]") === undefined); event.set("ret", event.set("x", 5))', {});
    assert.equal(e.get('missing'), true);
    assert.equal(e.get('ret'), 5);
  });

  it('remove returns the value it removed; includes and include tell a field exists (null too)', async () => {
    const e = await one('event.set("was", event.remove("[a][b]")); event.set("has", [event.includes("n"), event.include("[a][b]"), event.includes("[a]")])', { a: { b: 'x' }, n: null });
    assert.equal(e.get('was'), 'x');
    assert.deepEqual(e.get('has'), [true, false, true]);
    assert.deepEqual(e.get('a'), {});
  });

  it('tag adds a tag once; untag and hasTag; tags is a copy', async () => {
    const e = await one('event.tag("t1"); event.tag("t1"); event.untag("old"); event.set("seen", event.hasTag("t1")); event.tags.push("not-kept")', { tags: ['old'] });
    assert.deepEqual(e.get('tags'), ['t1']);
    assert.equal(e.get('seen'), true);
  });

  it('cancel drops the event; uncancel keeps it; cancelled reads the state', async () => {
    const f = await js('if (event.get("drop")) event.cancel(); if (event.get("undo")) { event.uncancel(); event.set("was", event.cancelled) }');
    const out = runFilter(f, [{ message: 'a', drop: true }, { message: 'b' }, { message: 'c', drop: true, undo: true }]);
    assert.deepEqual(out.map((e) => e.get('message')), ['b', 'c']);
    assert.equal(out[1]!.get('was'), false);
  });

  it('clone is a deep copy with @metadata; emit and new_event_block.call hand it on after the code returns', async () => {
    const f = await js('const c = event.clone(); c.set("[n][copy]", 1); emit(c); c.set("after_emit", true); const d = event.clone(); d.set("[n][copy]", 2); new_event_block.call(d)');
    const out = runFilter(f, [new Event({ message: 'm', n: { orig: true }, '@metadata': { route: 'r' } })]);
    assert.equal(out.length, 3);
    const [c, d, orig] = out as [Event, Event, Event];
    assert.deepEqual(c.get('n'), { orig: true, copy: 1 });
    assert.equal(c.get('after_emit'), true, 'the code may change what it emitted until it returns');
    assert.deepEqual(d.get('n'), { orig: true, copy: 2 });
    assert.equal(d.get('[@metadata][route]'), 'r');
    assert.deepEqual(orig.get('n'), { orig: true }, 'the copies share nothing with the original');
  });

  it('emit takes a plain object as a new event', async () => {
    const f = await js('for (const part of event.get("message").split(",")) emit({ message: part, "@timestamp": event.timestamp })');
    const out = runFilter(f, [{ message: 'a,b', '@timestamp': TS }]);
    assert.deepEqual(out.map((e) => e.get('message')), ['a', 'b', 'a,b']);
    assert.equal(out[0]!.timestamp.toISOString(), TS);
  });

  it('emitting the event itself, or one event twice, is an exception', async () => {
    const f = await js('if (event.get("self")) emit(event); else { const c = event.clone(); emit(c); emit(c) }');
    const out = runFilter(f, [{ self: true }, { self: false }]);
    assert.deepEqual(out[0]!.get('tags'), ['_javascriptexception']);
    // the first emit of the copy went through, the second was refused
    assert.equal(out.length, 3);
    assert.deepEqual(out[2]!.get('tags'), ['_javascriptexception']);
    assert.equal(out[1]!.get('tags'), undefined);
  });

  it('emit outside a filter call is refused', async () => {
    const f = await createPlugin(javascript, `init => 'let saved' code => 'if (saved) saved(event.clone()); else saved = emit'`);
    const out = runFilter(f, [{ n: 1 }, { n: 2 }]);
    assert.equal(out.length, 3, 'a saved emit still works during a later call');
    const g = await createPlugin(javascript, `init => 'let saved' code => 'saved = emit; Promise.resolve().then(() => { try { saved({ late: 1 }) } catch (e) { globalThis.__jsLate = e.message } })'`);
    runFilter(g, [{}]);
    await new Promise((r) => setImmediate(r));
    assert.match(String((globalThis as Record<string, unknown>).__jsLate), /only while the filter runs/);
  });

  it('to_hash and toHash are copies without @metadata; to_hash_with_metadata has it', async () => {
    const e = await one(
      'const h = event.to_hash(); h.message = "changed"; event.set("keys", Object.keys(event.toHash()).sort()); event.set("meta", event.to_hash_with_metadata()["@metadata"]); event.set("ts_is", event.toHash()["@timestamp"].toISOString())',
      { message: 'm', '@metadata': { a: 1 } },
    );
    assert.equal(e.get('message'), 'm');
    assert.deepEqual(e.get('keys'), ['@timestamp', '@version', 'message']);
    assert.deepEqual(e.get('meta'), { a: 1 });
    assert.equal(e.get('ts_is'), TS);
  });

  it('timestamp reads and writes @timestamp (Timestamp, Date, epoch ms or ISO text)', async () => {
    const f = await js('const t = event.timestamp; event.set("epoch", Math.floor(t.ms / 1000)); if (event.get("to")) event.timestamp = event.get("to"); if (event.get("date")) event.timestamp = new Date(0)');
    const out = runFilter(f, [{ '@timestamp': TS }, { '@timestamp': TS, to: '2026-03-02T00:00:00Z' }, { '@timestamp': TS, date: true }, { '@timestamp': TS, to: 'not a time' }]);
    assert.equal(out[0]!.get('epoch'), Date.parse(TS) / 1000);
    assert.equal(out[1]!.timestamp.toISOString(), '2026-03-02T00:00:00.000Z');
    assert.equal(out[2]!.timestamp.ms, 0);
    assert.equal(out[3]!.timestamp.toISOString(), TS);
    assert.deepEqual(out[3]!.get('tags'), ['_javascriptexception']);
  });

  it('set("@timestamp", ...) converts as the timestamp setter does; a Date in a field becomes a Timestamp', async () => {
    const e = await one('event.set("@timestamp", 1000); event.set("[when][d]", new Date(2000))', {});
    assert.equal(e.timestamp.ms, 1000);
    assert.ok(e.get('[when][d]') instanceof Timestamp);
    assert.equal(JSON.parse(JSON.stringify(e)).when.d, '1970-01-01T00:00:02.000Z');
  });

  it('set copies objects and arrays: two fields never share one value', async () => {
    const e = await one('const v = event.get("src"); event.set("dst", v); v.list.push(3); event.set("undef", undefined)', { src: { list: [1, 2] } });
    assert.deepEqual(e.get('src'), { list: [1, 2, 3] }, 'get returns the live value: changing it changes the event');
    assert.deepEqual(e.get('dst'), { list: [1, 2] });
    assert.equal(e.get('undef'), null);
  });

  it('set refuses what a field cannot hold (a function, a BigInt, a Map, an event)', async () => {
    for (const v of ['() => 1', '10n', 'new Map()', 'event.clone()']) {
      const e = await one(`event.set("x", ${v})`, {});
      assert.equal(e.get('x'), undefined, v);
      assert.deepEqual(e.get('tags'), ['_javascriptexception'], v);
    }
  });

  it('sprintf renders %{field} and %{+date} templates', async () => {
    const e = await one('event.set("index", event.sprintf("logs-%{[app][name]}-%{+yyyy.MM.dd}"))', { app: { name: 'web' } });
    assert.equal(e.get('index'), 'logs-web-2026.03.01');
  });

  it('JSON.stringify(event) is the event JSON; to_json too', async () => {
    const e = await one('event.set("json", JSON.parse(JSON.stringify(event)).message + "|" + JSON.parse(event.to_json()).message)', { message: 'm', '@metadata': { hidden: 1 } });
    assert.equal(e.get('json'), 'm|m');
  });

  it('field names from data stay literal keys: __proto__, constructor', async () => {
    const e = await one('event.set("[obj][__proto__]", "p"); event.set("c", event.get("constructor") === undefined); event.set("copy", event.get("src"))', {
      src: JSON.parse('{"__proto__": {"polluted": 1}, "constructor": "x"}'),
    });
    const obj = e.get('obj') as Record<string, unknown>;
    assert.ok(Object.hasOwn(obj, '__proto__'));
    assert.equal(Object.getPrototypeOf(obj), Object.prototype);
    assert.equal(e.get('c'), true);
    const copy = e.get('copy') as Record<string, unknown>;
    assert.ok(Object.hasOwn(copy, '__proto__'));
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    assert.equal(copy.constructor, 'x');
  });

  it('a malformed field reference is an exception on that event', async () => {
    const e = await one('event.set("[a][" + event.get("key") + "]", 1)', { key: 'x]y[' });
    assert.deepEqual(e.get('tags'), ['_javascriptexception']);
    assert.equal(e.get('a'), undefined);
  });

  it('the facade does not expose the core Event', async () => {
    const e = await one('event.set("props", Object.getOwnPropertyNames(event).concat(Object.keys(event)))', {});
    assert.deepEqual(e.get('props'), []);
  });
});
