import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Event, Timestamp, type Fields } from '@pipeline/core';
import { createPlugin, makeContext, VirtualClock } from '@pipeline/core/testing';
import json from '../src/index.js';

async function run(config: string, fields: Fields) {
  const ctx = makeContext({ clock: new VirtualClock(Date.parse('2026-01-02T03:04:05Z')) });
  const f = await createPlugin(json, config, ctx);
  const event = new Event({ '@timestamp': new Timestamp(0), ...fields });
  const matched = f.filter(event, () => {});
  return { event, matched };
}

describe('json', () => {
  it('merges a JSON object into the event root', async () => {
    const { event, matched } = await run('source => "message"', { message: '{"hello": "world", "list": [1, 2, 3], "hash": {"k": "v"}, "n": null}' });
    assert.equal(matched, true);
    assert.equal(event.get('hello'), 'world');
    assert.deepEqual(event.get('list'), [1, 2, 3]);
    assert.equal(event.get('[hash][k]'), 'v');
    assert.equal(event.get('n'), null);
    assert.equal(event.get('message'), '{"hello": "world", "list": [1, 2, 3], "hash": {"k": "v"}, "n": null}');
  });
  it('puts any JSON value in target, overwriting it', async () => {
    for (const [text, value] of [
      ['{"a": 1}', { a: 1 }],
      ['[1, "x"]', [1, 'x']],
      ['"str"', 'str'],
      ['42', 42],
      ['null', null],
    ] as const) {
      const { event, matched } = await run('source => "[raw][json]" target => "[doc][data]"', { raw: { json: text }, doc: { data: 'old', other: 1 } });
      assert.equal(matched, true);
      assert.deepEqual(event.get('[doc][data]'), value);
      assert.equal(event.get('[doc][other]'), 1);
    }
  });
  it('tags invalid JSON, with or without skip_on_invalid_json, and changes nothing else', async () => {
    for (const conf of ['source => "message"', 'source => "message" skip_on_invalid_json => true', 'source => "message" target => "t"']) {
      const { event, matched } = await run(conf, { message: '{"broken": ' });
      assert.equal(matched, false);
      assert.deepEqual(event.tags, ['_jsonparsefailure']);
      assert.equal(event.includes('broken'), false);
      assert.equal(event.includes('t'), false);
    }
    const custom = await run('source => "message" tag_on_failure => ["bad", "json"]', { message: 'nope' });
    assert.deepEqual(custom.event.tags, ['bad', 'json']);
  });
  it('tags a JSON value that is not an object when there is no target', async () => {
    for (const text of ['[1,2]', '"s"', '7', 'null']) {
      const { event, matched } = await run('source => "message"', { message: text });
      assert.equal(matched, false);
      assert.deepEqual(event.tags, ['_jsonparsefailure']);
    }
  });
  it('ignores a missing, null or false source without a tag', async () => {
    for (const fields of [{}, { message: null }, { message: false }]) {
      const { event, matched } = await run('source => "message"', fields);
      assert.equal(matched, false);
      assert.deepEqual(event.tags, []);
    }
  });
  it('tags a source that is not text (number, array, hash)', async () => {
    for (const message of [5, ['{}'], { a: 1 }]) {
      const { event } = await run('source => "message"', { message });
      assert.deepEqual(event.tags, ['_jsonparsefailure']);
    }
  });
  it('reads @timestamp from the JSON, and keeps an unreadable one in _@timestamp', async () => {
    const ok = await run('source => "message"', { message: '{"@timestamp": "2013-01-01T10:00:00.123+02:00", "a": 1}' });
    assert.equal(ok.event.timestamp.toISOString(), '2013-01-01T08:00:00.123Z');
    const bare = await run('source => "message"', { message: '{"@timestamp": "2013-01-01T10:00:00"}' });
    assert.equal(bare.event.timestamp.toISOString(), '2013-01-01T10:00:00.000Z');
    const bad = await run('source => "message"', { message: '{"@timestamp": "yesterday", "a": 1}' });
    assert.equal(bad.matched, true);
    assert.equal(bad.event.timestamp.toISOString(), '2026-01-02T03:04:05.000Z');
    assert.deepEqual(bad.event.tags, ['_timestampparsefailure']);
    assert.equal(bad.event.get('_@timestamp'), 'yesterday');
    assert.equal(bad.event.get('a'), 1);
  });
  it('treats keys as field references and replaces tags, as Logstash does', async () => {
    const { event } = await run('source => "message"', { message: '{"[a][b]": 1, "tags": ["x"]}', tags: ['old'] });
    assert.equal(event.get('[a][b]'), 1);
    assert.deepEqual(event.tags, ['x']);
  });
  it('tags a key that is not a valid field reference', async () => {
    const { event, matched } = await run('source => "message"', { message: '{"[[[": 1}' });
    assert.equal(matched, false);
    assert.deepEqual(event.tags, ['_jsonparsefailure']);
  });
  it('copes with huge and deeply nested documents', async () => {
    const big = JSON.stringify({ s: 'x'.repeat(5_000_000), arr: Array.from({ length: 100_000 }, (_, i) => i) });
    const a = await run('source => "message"', { message: big });
    assert.equal((a.event.get('s') as string).length, 5_000_000);
    const deep = '['.repeat(100_000) + ']'.repeat(100_000);
    const b = await run('source => "message" target => "d"', { message: deep });
    assert.equal(b.matched, true);
    const unbalanced = await run('source => "message"', { message: '{"a":' + '['.repeat(1_000_000) });
    assert.deepEqual(unbalanced.event.tags, ['_jsonparsefailure']);
  });
});
