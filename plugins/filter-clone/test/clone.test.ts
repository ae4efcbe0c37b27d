import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import pino from 'pino';
import { Event, Timestamp, type Fields } from '@pipeline/core';
import { createPlugin, makeContext, runFilter } from '@pipeline/core/testing';
import clone from '../src/index.js';

/** The original first, then the clones, as Logstash's spec lists them. */
async function run(config: string, fields: Fields) {
  const f = await createPlugin(clone, config);
  const event = new Event(fields);
  const clones: Event[] = [];
  const matched = f.filter(event, (e) => void clones.push(e));
  return { event, clones, matched };
}

function capturingLogger() {
  const records: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString('utf8').split('\n')) if (l) records.push(JSON.parse(l) as Record<string, unknown>);
      cb();
    },
  });
  return { logger: pino({ level: 'info' }, sink), records };
}

describe('clone: clones', () => {
  it('makes one copy per name with type set to it; the original keeps its type', async () => {
    const { event, clones } = await run('clones => ["clone", "clone", "clone"]', { message: 'hello world', type: 'original' });
    assert.equal(clones.length, 3);
    assert.equal(event.get('type'), 'original');
    assert.equal(event.cancelled, false);
    for (const c of clones) {
      assert.equal(c.get('type'), 'clone');
      assert.equal(c.get('message'), 'hello world');
    }
  });
  it('each name in order; an event without type gets one', async () => {
    const { event, clones } = await run('clones => ["a", "b"]', { message: 'x' });
    assert.deepEqual(
      clones.map((c) => c.get('type')),
      ['a', 'b'],
    );
    assert.equal(event.get('type'), undefined);
  });
  it('copies are deep and complete: numbers, nested values, @metadata, @timestamp, tags', async () => {
    const ts = new Timestamp(Date.UTC(2024, 0, 2, 3, 4, 5));
    const { event, clones } = await run('clones => ["c"]', { message: 'unused', number: 5, nested: { list: [1, { k: 'v' }] }, tags: ['t'], '@metadata': { m: 1 }, '@timestamp': ts });
    const [c] = clones;
    assert.equal(c!.get('number'), 5);
    assert.deepEqual(c!.get('nested'), { list: [1, { k: 'v' }] });
    assert.deepEqual(c!.get('[@metadata][m]'), 1);
    assert.equal(c!.timestamp.ms, ts.ms);
    assert.deepEqual(c!.get('tags'), ['t']);
    // nothing is shared: changing the clone leaves the original as it was
    (c!.get('[nested][list]') as unknown[]).push('more');
    c!.set('[nested][list][1][k]', 'changed');
    c!.tag('only-clone');
    c!.set('[@metadata][m]', 2);
    assert.deepEqual(event.get('nested'), { list: [1, { k: 'v' }] });
    assert.deepEqual(event.get('tags'), ['t']);
    assert.equal(event.get('[@metadata][m]'), 1);
  });
  it('field names from data stay literal own keys in the copy', async () => {
    const fields = JSON.parse('{"message":"m","__proto__":{"polluted":true},"constructor":"c"}') as Fields;
    const { clones } = await run('clones => ["c"]', fields);
    const copy = clones[0]!.fields;
    assert.equal(Object.getPrototypeOf(copy), Object.prototype);
    assert.deepEqual(Object.getOwnPropertyDescriptor(copy, '__proto__')?.value, { polluted: true });
    assert.equal(copy.constructor, 'c');
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });
  it('an empty list makes no clone and logs a warning at start', async () => {
    const { logger, records } = capturingLogger();
    const f = await createPlugin(clone, 'clones => []', makeContext({ logger }));
    assert.ok(records.some((r) => r.level === 40 && /'clones' is empty/.test(String(r.msg))));
    const out = runFilter(f, [{ message: 'x' }]);
    assert.equal(out.length, 1);
    assert.equal(out[0]!.get('type'), undefined);
  });
  it('clones is required', async () => {
    await assert.rejects(createPlugin(clone, ''), /clones/);
  });
  it('the original is not matched: the runtime adds no common decoration to it', async () => {
    const { matched } = await run('clones => ["c"]', { message: 'x' });
    assert.equal(matched, false);
  });
});

describe('clone: ecs_compatibility', () => {
  it('v1 and v8 append the name to tags and leave type alone', async () => {
    for (const ecs of ['v1', 'v8']) {
      const { event, clones } = await run(`clones => ["clone1", "clone2"] ecs_compatibility => "${ecs}"`, { message: 'hello world', type: 'original', tags: ['t'] });
      assert.deepEqual(
        clones.map((c) => [c.get('type'), c.get('tags')]),
        [
          ['original', ['t', 'clone1']],
          ['original', ['t', 'clone2']],
        ],
      );
      assert.deepEqual(event.get('tags'), ['t']);
    }
  });
  it('v1 makes tags an array when there were none or one string, and appends a name already there (as Logstash)', async () => {
    assert.deepEqual((await run('clones => ["c"] ecs_compatibility => "v1"', { message: 'x' })).clones[0]!.get('tags'), ['c']);
    assert.deepEqual((await run('clones => ["c"] ecs_compatibility => "v1"', { message: 'x', tags: 'one' })).clones[0]!.get('tags'), ['one', 'c']);
    assert.deepEqual((await run('clones => ["c"] ecs_compatibility => "v1"', { message: 'x', tags: ['c'] })).clones[0]!.get('tags'), ['c', 'c']);
  });
  it('disabled is the default; other values are refused', async () => {
    assert.equal((await run('clones => ["c"] ecs_compatibility => "disabled"', { message: 'x' })).clones[0]!.get('type'), 'c');
    await assert.rejects(createPlugin(clone, 'clones => ["c"] ecs_compatibility => "v2"'), /ecs_compatibility/);
  });
});

describe('clone: add_field, remove_field, add_tag, remove_tag apply to the clones only', () => {
  it("Logstash's complex case: add_tag and remove_tag on both clones, the original untouched", async () => {
    const config = 'clones => ["nginx-access-clone1", "nginx-access-clone2"] add_tag => ["RABBIT", "NO_ES"] remove_tag => ["TESTLOG"]';
    const { event, clones } = await run(config, { type: 'nginx-access', tags: ['TESTLOG'], message: 'hello world' });
    assert.deepEqual(event.get('tags'), ['TESTLOG']);
    assert.equal(event.get('type'), 'nginx-access');
    assert.deepEqual(
      clones.map((c) => [c.get('type'), c.get('tags')]),
      [
        ['nginx-access-clone1', ['RABBIT', 'NO_ES']],
        ['nginx-access-clone2', ['RABBIT', 'NO_ES']],
      ],
    );
  });
  it('in ECS mode remove_tag can take the clone tag off again (it is set before the decorations)', async () => {
    const { clones } = await run('clones => ["c"] ecs_compatibility => "v8" remove_tag => ["c"] add_tag => ["d"]', { message: 'x' });
    assert.deepEqual(clones[0]!.get('tags'), ['d']);
  });
  it('add_field renders against the clone (its new type), a second value makes an array, names may be templates', async () => {
    const config = 'clones => ["copy"] add_field => { "copy_of" => "%{type}" "[meta][from]" => "%{host}" "pair" => ["a", "b"] "by_%{type}" => "yes" }';
    const { event, clones } = await run(config, { message: 'x', host: 'h1', type: 'orig', pair: 'z' });
    const c = clones[0]!;
    assert.equal(c.get('copy_of'), 'copy');
    assert.equal(c.get('[meta][from]'), 'h1');
    assert.deepEqual(c.get('pair'), ['z', 'a', 'b']);
    assert.equal(c.get('by_copy'), 'yes');
    assert.equal(event.get('copy_of'), undefined);
    assert.equal(event.get('pair'), 'z');
  });
  it('remove_field removes from the clone only, sprintf names too', async () => {
    const { event, clones } = await run('clones => ["c"] remove_field => ["secret", "[a][b]", "drop_%{type}"]', { message: 'x', secret: 's', a: { b: 1, k: 2 }, drop_c: 1 });
    assert.equal(clones[0]!.get('secret'), undefined);
    assert.deepEqual(clones[0]!.get('a'), { k: 2 });
    assert.equal(clones[0]!.get('drop_c'), undefined);
    assert.equal(event.get('secret'), 's');
    assert.deepEqual(event.get('a'), { b: 1, k: 2 });
  });
  it('add_tag renders sprintf against the clone', async () => {
    const { clones } = await run('clones => ["a", "b"] add_tag => ["cloned_%{type}"]', { message: 'x' });
    assert.deepEqual(
      clones.map((c) => c.get('tags')),
      [['cloned_a'], ['cloned_b']],
    );
  });
  it('a field name that is not a field reference is refused at load', async () => {
    await assert.rejects(createPlugin(clone, 'clones => ["c"] add_field => { "[a" => "x" }'), (e: { details?: { option?: { name?: string } } }) => e.details?.option?.name === 'add_field');
    await assert.rejects(createPlugin(clone, 'clones => ["c"] remove_field => ["[a]b"]'), (e: { details?: { option?: { name?: string } } }) => e.details?.option?.name === 'remove_field');
  });
});

describe("clone: the events' cached JSON text", () => {
  it('the clone serialises with its changes; the original keeps a text that is still right', async () => {
    const f = await createPlugin(clone, 'clones => ["copy"] add_field => { "f" => "v" } add_tag => ["t"]');
    const event = new Event({ message: 'x', type: 'orig' });
    const before = event.json();
    const clones: Event[] = [];
    f.filter(event, (e) => void clones.push(e));
    assert.equal(event.json(), before);
    assert.equal(event.json(), JSON.stringify(event.toJSON()));
    const c = clones[0]!;
    assert.equal(c.json(), JSON.stringify(c.toJSON()));
    const parsed = JSON.parse(c.json()) as Fields;
    assert.equal(parsed.type, 'copy');
    assert.equal(parsed.f, 'v');
    assert.deepEqual(parsed.tags, ['t']);
  });
});
