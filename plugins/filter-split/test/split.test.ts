import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import pino from 'pino';
import { Event, type Fields } from '@pipeline/core';
import { createPlugin, makeContext } from '@pipeline/core/testing';
import split, { FAILURE_TAG, rubySplit } from '../src/index.js';

/** Runs one event through split: the new events, the original, and what filter returned. */
async function run(config: string | Record<string, unknown>, input: string | Fields) {
  const f = await createPlugin(split, config);
  const event = new Event(typeof input === 'string' ? { message: input } : input);
  const out: Event[] = [];
  const matched = f.filter(event, (e) => void out.push(e));
  return { out, event, matched };
}

const values = (events: Event[], ref = 'message') => events.map((e) => e.get(ref));

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

describe('split: strings', () => {
  it('splits message on newlines by default; the original is dropped', async () => {
    const { out, event } = await run('', 'big\nbird\nsesame street');
    assert.deepEqual(values(out), ['big', 'bird', 'sesame street']);
    assert.equal(event.cancelled, true);
  });
  it('a trailing terminator makes no empty event ("big\\n" is one event "big")', async () => {
    const { out, event } = await run('', 'big\n');
    assert.deepEqual(values(out), ['big']);
    assert.equal(event.cancelled, true);
  });
  it('empty pieces in the middle make no event either', async () => {
    assert.deepEqual(values((await run('', '\na\n\n\nb\n')).out), ['a', 'b']);
  });
  it('a string that is one piece leaves the event as it is: not dropped, not decorated', async () => {
    const { out, event, matched } = await run('add_tag => ["split"]', 'no newline here');
    assert.equal(out.length, 0);
    assert.equal(event.cancelled, false);
    assert.equal(matched, false);
    assert.equal(event.get('message'), 'no newline here');
    assert.equal(event.get('tags'), undefined);
  });
  it('an empty string, or one of terminators only, gives no event at all (the event is dropped, as in Logstash)', async () => {
    for (const text of ['', '\n', '\n\n']) {
      const { out, event } = await run('', text);
      assert.equal(out.length, 0, JSON.stringify(text));
      assert.equal(event.cancelled, true, JSON.stringify(text));
    }
  });
  it('a custom terminator: a tab, several characters', async () => {
    assert.deepEqual(values((await run('terminator => "\t"', 'big\tbird\tsesame street')).out), ['big', 'bird', 'sesame street']);
    assert.deepEqual(values((await run('terminator => "::"', 'a::b:c::')).out), ['a', 'b:c']);
    // CR stays in the piece: only the terminator is taken off
    assert.deepEqual(values((await run('', 'a\r\nb\r\n')).out), ['a\r', 'b\r']);
  });
  it('the config reads strings raw: "\\t" written as backslash-t is those two characters', async () => {
    // as Logstash without config.support_escapes
    assert.deepEqual(values((await run('terminator => "\\t"', 'a\\tb\tc')).out), ['a', 'b\tc']);
  });
  it('terminator " " splits on runs of ASCII whitespace, leading whitespace skipped (Ruby\'s awk mode)', async () => {
    assert.deepEqual(values((await run('terminator => " "', '  a  b\tc\n d ')).out), ['a', 'b', 'c', 'd']);
    assert.deepEqual(values((await run('terminator => " "', 'a\u00a0b c')).out), ['a\u00a0b', 'c']);
    // one word with a trailing space is two pieces in Ruby ("a", ""): the event is replaced by "a"
    const trailing = await run('terminator => " "', 'a ');
    assert.deepEqual(values(trailing.out), ['a']);
    assert.equal(trailing.event.cancelled, true);
    // whitespace only is one empty piece in Ruby: the event stays as it is
    const blank = await run('terminator => " "', '   ');
    assert.equal(blank.out.length, 0);
    assert.equal(blank.event.cancelled, false);
  });
  it('terminator "" splits into characters (code points)', async () => {
    assert.deepEqual(values((await run('terminator => ""', 'h\u00e9\u{1F600}')).out), ['h', '\u00e9', '\u{1F600}']);
    // even one character is a split in Ruby ("a", "")
    assert.deepEqual(values((await run('terminator => ""', 'a')).out), ['a']);
  });
  it('rubySplit matches Ruby\'s String#split(terminator, -1)', () => {
    // expectations from ruby 3.1: p "...".split(t, -1)
    const cases: [string, string, string[]][] = [
      ['\n', '', []],
      ['\n', '\n', ['', '']],
      ['\n', 'big\n', ['big', '']],
      [' ', '  a  b ', ['a', 'b', '']],
      [' ', ' a\tb', ['a', 'b']],
      [' ', ' ', ['']],
      [' ', 'a\0b \0', ['a\0b', '\0']],
      [' ', 'a\vb\fc\rd', ['a', 'b', 'c', 'd']],
      ['', 'abc', ['a', 'b', 'c', '']],
      ['', '', []],
      ['ab', 'ab', ['', '']],
      ['ab', 'xabx', ['x', 'x']],
    ];
    for (const [t, text, want] of cases) assert.deepEqual(rubySplit(t)(text), want, `${JSON.stringify(text)}.split(${JSON.stringify(t)}, -1)`);
  });
});

describe('split: field and target', () => {
  it('a custom field; other fields are copied untouched', async () => {
    const { out } = await run('field => "custom"', { custom: 'big\nbird\nsesame street', do_not_touch: '1\n2\n3' });
    assert.deepEqual(values(out, 'custom'), ['big', 'bird', 'sesame street']);
    for (const e of out) assert.equal(e.get('do_not_touch'), '1\n2\n3');
  });
  it('a nested field and a nested target', async () => {
    const { out } = await run('field => "[a][lines]" target => "[b][line]"', { a: { lines: 'x\ny' } });
    assert.deepEqual(values(out, '[b][line]'), ['x', 'y']);
    // with a target the source string stays in each new event
    for (const e of out) assert.equal(e.get('[a][lines]'), 'x\ny');
  });
  it('a malformed field reference is refused at load', async () => {
    await assert.rejects(createPlugin(split, 'field => "[a"'), /field/);
    await assert.rejects(createPlugin(split, 'target => "[a]b"'), /target/);
  });
});

describe('split: arrays', () => {
  it('one event per element; without target the field holds the element', async () => {
    const { out, event } = await run('field => "array"', { array: ['big', 'bird', 'sesame street'], untouched: '1\n2\n3' });
    assert.deepEqual(values(out, 'array'), ['big', 'bird', 'sesame street']);
    for (const e of out) assert.equal(e.get('untouched'), '1\n2\n3');
    assert.equal(event.cancelled, true);
  });
  it('a one-element array still gives one event, with the element as a scalar', async () => {
    const { out, event } = await run('field => "array"', { array: ['single-element'], untouched: 'u' });
    assert.deepEqual(values(out, 'array'), ['single-element']);
    assert.equal(out[0]!.get('untouched'), 'u');
    assert.equal(event.cancelled, true);
  });
  it('null and empty-string elements make no event; numbers and objects do', async () => {
    assert.deepEqual(values((await run('field => "array"', { array: ['big', null, 'bird', null, 'sesame street'] })).out, 'array'), ['big', 'bird', 'sesame street']);
    assert.deepEqual(values((await run('field => "array" target => "element"', { array: [1, 2, 'three', ''] })).out, 'element'), [1, 2, 'three']);
    assert.deepEqual(values((await run('field => "array"', { array: [{ a: 1 }, [2, 3], false, 0] })).out, 'array'), [{ a: 1 }, [2, 3], false, 0]);
  });
  it('an empty array gives no event: the original is dropped', async () => {
    const { out, event } = await run('field => "array"', { array: [] });
    assert.equal(out.length, 0);
    assert.equal(event.cancelled, true);
  });
  it('with a target each new event keeps the whole array and holds its element in the target', async () => {
    const { out } = await run('field => "array" target => "element"', { array: ['big', 'bird'] });
    assert.deepEqual(values(out, 'element'), ['big', 'bird']);
    for (const e of out) assert.deepEqual(e.get('array'), ['big', 'bird']);
  });
  it('the new events share nothing: a later filter changing one changes no other', async () => {
    for (const config of ['field => "results"', 'field => "results" target => "r"']) {
      const f = await createPlugin(split, config);
      const ref = config.includes('target') ? 'r' : 'results';
      const event = new Event({ results: [{ id: 1 }, { id: 2 }], shared: { n: 1 } });
      const out: Event[] = [];
      // as in a pipeline: each new event runs through the next filters before the next is made
      f.filter(event, (e) => {
        out.push(e);
        e.set(`[${ref}][seen]`, true);
        (e.get('[shared]') as Fields).n = 99;
        e.changed();
      });
      assert.deepEqual(values(out, ref), [
        { id: 1, seen: true },
        { id: 2, seen: true },
      ]);
      if (ref === 'r') for (const e of out) assert.deepEqual(e.get('results'), [{ id: 1 }, { id: 2 }], config);
      assert.deepEqual(event.get('shared'), { n: 1 });
    }
  });
});

describe('split: fields that cannot be split', () => {
  it('a number, an object, a boolean, null or a missing field: tagged _split_type_failure, the event goes on', async () => {
    for (const fields of [{ field: 10 }, { field: { a: 1 } }, { field: true }, { field: null }, {}] as Fields[]) {
      const { logger, records } = capturingLogger();
      const f = await createPlugin(split, 'field => "field" add_tag => ["split"]', makeContext({ logger }));
      const event = new Event(fields);
      const out: Event[] = [];
      const matched = f.filter(event, (e) => void out.push(e));
      assert.equal(out.length, 0);
      assert.equal(event.cancelled, false);
      assert.equal(matched, false);
      assert.deepEqual(event.get('tags'), [FAILURE_TAG], JSON.stringify(fields));
      assert.ok(records.some((r) => r.level === 40 && /only string and array/.test(String(r.msg)) && r.field === 'field'));
    }
  });
});

describe('split: add_field, remove_field, add_tag, remove_tag on each new event', () => {
  it('they see the piece', async () => {
    const config = 'add_field => { "line" => "piece %{message}" "[n][%{message}]" => "x" } add_tag => ["from_%{message}"] remove_tag => ["old"] remove_field => ["raw"]';
    const { out } = await run(config, { message: 'a\nb', tags: ['old', 'keep'], raw: 'r' });
    assert.deepEqual(
      out.map((e) => [e.get('line'), e.get('n'), e.get('tags'), e.get('raw')]),
      [
        ['piece a', { a: 'x' }, ['keep', 'from_a'], undefined],
        ['piece b', { b: 'x' }, ['keep', 'from_b'], undefined],
      ],
    );
  });
  it('a second value makes an array', async () => {
    const { out } = await run('add_field => { "k" => ["1", "2"] }', { message: 'a\nb', k: '0' });
    for (const e of out) assert.deepEqual(e.get('k'), ['0', '1', '2']);
  });
  it('a field name that is not a field reference is refused at load', async () => {
    await assert.rejects(createPlugin(split, 'add_field => { "[x" => "1" }'), (e: { details?: { option?: { name?: string } } }) => e.details?.option?.name === 'add_field');
  });
});

describe("split: the events' cached JSON text", () => {
  it('each new event serialises with its piece and decorations', async () => {
    const f = await createPlugin(split, 'field => "items" add_field => { "k" => "v" }');
    const event = new Event({ items: [1, 2], message: 'm' });
    const cached = event.json();
    assert.match(cached, /"items":\[1,2\]/);
    const out: Event[] = [];
    f.filter(event, (e) => void out.push(e));
    for (const [i, e] of out.entries()) {
      assert.equal(e.json(), JSON.stringify(e.toJSON()));
      const parsed = JSON.parse(e.json()) as Fields;
      assert.equal(parsed.items, i + 1);
      assert.equal(parsed.k, 'v');
    }
  });
  it('a tagged failure shows in the text', async () => {
    const f = await createPlugin(split, '');
    const event = new Event({ message: 5 });
    event.json();
    f.filter(event, () => {});
    assert.deepEqual((JSON.parse(event.json()) as Fields).tags, [FAILURE_TAG]);
  });
});
