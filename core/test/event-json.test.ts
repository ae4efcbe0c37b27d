import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import pino from 'pino';
import { Event } from '../src/event/event.js';
import { Timestamp } from '../src/event/timestamp.js';
import { loadPipeline } from '../src/runtime/load.js';
import { DEFAULT_SETTINGS, mergeSettings } from '../src/runtime/settings.js';
import { FIXTURES, REPO_ROOT, tempDir } from './helpers.js';

/** json() after a mutation equals a fresh encoding: the cached text was dropped. */
function assertFresh(e: Event, what: string): void {
  assert.equal(e.json(), JSON.stringify(e.toJSON()), `${what}: json() is stale`);
}

function sample(): Event {
  return new Event({ message: 'm', tags: ['a'], host: 'h', nested: { x: 1 }, '@metadata': { hidden: true } }, new Timestamp(0));
}

describe('Event.json: one encoding per unchanged event', () => {
  it('is computed once and shared while nothing changes', () => {
    const e = sample();
    const first = e.json();
    assert.equal(first, JSON.stringify(e));
    assert.ok(!first.includes('hidden'), '@metadata is not serialised');
    assert.equal(e.json(), first);
    // reading leaves it
    e.get('[nested][x]');
    void e.tags;
    e.hasTag('a');
    e.includes('host');
    assert.equal(e.json(), first);
  });

  const mutations: [string, (e: Event) => void][] = [
    ['set (top level)', (e) => e.set('message', 'changed')],
    ['set (nested)', (e) => e.set('[nested][y]', 2)],
    ['remove', (e) => e.remove('host')],
    ['remove (nested)', (e) => e.remove('[nested][x]')],
    ['tag', (e) => e.tag('b')],
    ['untag', (e) => e.untag('a')],
    ['timestamp', (e) => (e.timestamp = new Timestamp(1000))],
    ['a direct write to fields, then changed()', (e) => {
      e.fields.direct = 1;
      e.changed();
    }],
  ];
  for (const [name, mutate] of mutations) {
    it(`is dropped by ${name}`, () => {
      const e = sample();
      const before = e.json();
      mutate(e);
      assertFresh(e, name);
      assert.notEqual(e.json(), before, `${name} changed nothing visible`);
    });
  }

  it('a clone has its own text', () => {
    const e = sample();
    e.json();
    const c = e.clone();
    c.set('message', 'clone');
    assertFresh(c, 'clone');
    assert.ok(e.json().includes('"message":"m"'));
  });

  it('timestamps of the same millisecond share one ISO text', () => {
    const a = new Timestamp(1_700_000_000_123);
    const b = new Timestamp(1_700_000_000_123);
    assert.equal(a.toISOString(), '2023-11-14T22:13:20.123Z');
    assert.equal(b.toISOString(), a.toISOString());
    assert.equal(new Timestamp(1_700_000_000_124).toISOString(), '2023-11-14T22:13:20.124Z');
  });

  it('the executor drops it after a filter that writes fields directly', async () => {
    const t = tempDir();
    try {
      const out = join(t.dir, 'out.jsonl');
      const settings = mergeSettings(DEFAULT_SETTINGS, {
        'config.string': `input { generator { lines => ["one", "two"] count => 1 } } filter { raw_writer {} } output { file { path => "${out}" codec => json_lines } }`,
        'path.data': t.dir,
        'path.plugins': [join(FIXTURES, 'plugins')],
        'pipeline.workers': 1,
      });
      const pipeline = await loadPipeline({ settings, workingDir: REPO_ROOT, logger: pino({ level: 'silent' }) });
      pipeline.start();
      await pipeline.done;
      const events = readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
      assert.equal(events.length, 2);
      for (const e of events) {
        assert.equal(e.raw, 'written');
        assert.deepEqual(e.nested, { deep: 1 });
        assert.equal(typeof e.length_before, 'number');
      }
    } finally {
      t.cleanup();
    }
  });

  /** Runs one event through `filter { json_peek {} <op> }` into a json_lines file; returns it as filed. */
  async function throughPipeline(op: string, fields: Record<string, unknown>): Promise<Record<string, unknown>> {
    const t = tempDir();
    try {
      const out = join(t.dir, 'out.jsonl');
      // the generator's message is the JSON of the fields; the json filter spreads it over the event
      const text = `'${JSON.stringify(fields)}'`; // single-quoted: the config language keeps it as it is
      const settings = mergeSettings(DEFAULT_SETTINGS, {
        'config.string': `input { generator { lines => [${text}] count => 1 } }
          filter { json { source => "message" } json_peek {} ${op} json_peek {} } output { file { path => "${out}" codec => json_lines } }`,
        'path.data': t.dir,
        'path.plugins': [join(FIXTURES, 'plugins')],
        'pipeline.workers': 1,
      });
      const pipeline = await loadPipeline({ settings, workingDir: REPO_ROOT, logger: pino({ level: 'silent' }) });
      pipeline.start();
      await pipeline.done;
      const [line] = readFileSync(out, 'utf8').trim().split('\n');
      return JSON.parse(line!) as Record<string, unknown>;
    } finally {
      t.cleanup();
    }
  }

  const base = { message: ' Hello World ', n: '42', list: ['a', 'b'], words: 'x,y', h: { a: 1 }, h2: { b: 2 }, nul: null, tags: ['t1'] };
  const ops: [string, string, (e: Record<string, unknown>) => void][] = [
    ['add_field (common option)', 'mutate { add_field => { "added" => "yes" } }', (e) => assert.equal(e.added, 'yes')],
    ['add_tag (common option)', 'mutate { add_tag => ["t2"] }', (e) => assert.deepEqual(e.tags, ['t1', 't2'])],
    ['remove_field (common option)', 'mutate { remove_field => ["n"] }', (e) => assert.equal(e.n, undefined)],
    ['remove_tag (common option)', 'mutate { remove_tag => ["t1"] }', (e) => assert.deepEqual(e.tags, [])],
    ['coerce', 'mutate { coerce => { "nul" => "filled" } }', (e) => assert.equal(e.nul, 'filled')],
    ['rename', 'mutate { rename => { "n" => "m" } }', (e) => assert.deepEqual([e.n, e.m], [undefined, '42'])],
    ['update', 'mutate { update => { "n" => "updated" } }', (e) => assert.equal(e.n, 'updated')],
    ['replace', 'mutate { replace => { "fresh" => "new" } }', (e) => assert.equal(e.fresh, 'new')],
    ['convert', 'mutate { convert => { "n" => "integer" } }', (e) => assert.equal(e.n, 42)],
    ['gsub', 'mutate { gsub => ["message", "World", "There"] }', (e) => assert.equal(e.message, ' Hello There ')],
    ['gsub on an array', 'mutate { gsub => ["list", "a", "z"] }', (e) => assert.deepEqual(e.list, ['z', 'b'])],
    ['uppercase', 'mutate { uppercase => ["message"] }', (e) => assert.equal(e.message, ' HELLO WORLD ')],
    ['uppercase on an array', 'mutate { uppercase => ["list"] }', (e) => assert.deepEqual(e.list, ['A', 'B'])],
    ['capitalize', 'mutate { capitalize => ["words"] }', (e) => assert.equal(e.words, 'X,y')],
    ['lowercase', 'mutate { lowercase => ["message"] }', (e) => assert.equal(e.message, ' hello world ')],
    ['strip', 'mutate { strip => ["message"] }', (e) => assert.equal(e.message, 'Hello World')],
    ['split', 'mutate { split => { "words" => "," } }', (e) => assert.deepEqual(e.words, ['x', 'y'])],
    ['join', 'mutate { join => { "list" => "+" } }', (e) => assert.equal(e.list, 'a+b')],
    ['merge (arrays)', 'mutate { merge => { "list" => "words" } }', (e) => assert.deepEqual(e.list, ['a', 'b', 'x,y'])],
    ['merge (hashes)', 'mutate { merge => { "h" => "h2" } }', (e) => assert.deepEqual(e.h, { a: 1, b: 2 })],
    ['copy', 'mutate { copy => { "h" => "hcopy" } }', (e) => assert.deepEqual(e.hcopy, { a: 1 })],
    ['a direct write to fields', 'raw_writer {}', (e) => assert.equal(e.raw, 'written')],
  ];
  for (const [name, op, check] of ops) {
    it(`the filed event shows ${name} made after the text was cached`, async () => {
      const before = (globalThis as { __jsonPeek?: { peeked: number } }).__jsonPeek?.peeked ?? 0;
      const e = await throughPipeline(op, base);
      check(e);
      assert.ok(((globalThis as { __jsonPeek?: { peeked: number } }).__jsonPeek?.peeked ?? 0) > before || before > 0, 'json_peek made the text');
    });
  }
});
