/**
 * The multiline codec on its own: every option, on the plugin's virtual clock (auto_flush_interval
 * moves time by advancing it, nothing sleeps).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ConfigError, completeCodec, type CodecInstance, type Event } from '@pipeline/core';
import { makeContext, optionsFromConfig, type TestContext } from '@pipeline/core/testing';
import multiline, { MAX_BYTES_TAG, MAX_LINES_TAG, parseBytes } from '../src/index.js';

const wd = mkdtempSync(join(tmpdir(), 'multiline-unit-'));
after(() => rmSync(wd, { recursive: true, force: true }));

/** A codec built from a config body, as the runtime builds it (check, then create). */
function codec(body: string, ctx: TestContext = makeContext({ workingDir: wd })): { d: CodecInstance; ctx: TestContext } {
  const o = optionsFromConfig(multiline, body) as never;
  multiline.check!(o, { resolvePath: (p) => ctx.resolvePath(p) });
  return { d: completeCodec(multiline.create(o, ctx) as never), ctx };
}

/** Feeds lines one by one (decodeLine), then ends the stream; returns the events' messages and tags. */
function run(body: string, lines: string[]): { message: unknown; tags: string[] }[] {
  const { d } = codec(body);
  const out: Event[] = [];
  const emit = (e: Event) => void out.push(e);
  for (const l of lines) d.decodeLine!(l, emit);
  d.flush(emit);
  return out.map((e) => ({ message: e.fields.message, tags: e.tags }));
}

const errorOf = (f: () => unknown): ConfigError => {
  try {
    f();
  } catch (e) {
    assert.ok(e instanceof ConfigError, `a ConfigError, got ${String(e)}`);
    return e;
  }
  assert.fail('no error');
};

describe('multiline: what, negate, pattern', () => {
  it('what => previous: indented lines join the line before (Logstash spec example)', () => {
    assert.deepEqual(run('pattern => "^\\s" what => previous', ['hello world', '   second line', 'another first line']), [
      { message: 'hello world\n   second line', tags: ['multiline'] },
      { message: 'another first line', tags: [] },
    ]);
  });

  it('what => next: a line ending in a backslash joins the line after (C continuations)', () => {
    assert.deepEqual(run('pattern => "\\\\$" what => next', ['one \\', 'two \\', 'three', 'four', 'five \\']), [
      { message: 'one \\\ntwo \\\nthree', tags: ['multiline'] },
      { message: 'four', tags: [] },
      { message: 'five \\', tags: [] },
    ]);
  });

  it('negate => true with a grok pattern: lines not starting with a timestamp join the previous one', () => {
    const lines = ['120913 12:04:33 first line', 'second line', 'third line', '120913 12:04:34 next'];
    assert.deepEqual(run('pattern => "^%{NUMBER} %{TIME}" negate => true what => previous', lines), [
      { message: lines.slice(0, 3).join('\n'), tags: ['multiline'] },
      { message: lines[3], tags: [] },
    ]);
  });

  it('negate => true with what => next: lines not matching join the line after', () => {
    // every line not ending in ';' continues into the next one
    assert.deepEqual(run('pattern => ";$" negate => true what => next', ['SELECT *', 'FROM t', 'WHERE x;', 'DROP y;']), [
      { message: 'SELECT *\nFROM t\nWHERE x;', tags: ['multiline'] },
      { message: 'DROP y;', tags: [] },
    ]);
  });

  it('the pattern is a search, not a whole-line match; Oniguruma syntax (a possessive quantifier) is translated', () => {
    assert.deepEqual(run('pattern => "at\\s++com\\." what => previous', ['Exception', 'x at  com.a', 'y at com.b', 'next']), [
      { message: 'Exception\nx at  com.a\ny at com.b', tags: ['multiline'] },
      { message: 'next', tags: [] },
    ]);
  });

  it('grok references with a semantic or an inline definition only match (they capture nothing)', () => {
    const out = run('pattern => "^%{INT:n} %{FOO=[a-z]+}" negate => true what => previous', ['12 abc', 'cont', '13 def']);
    assert.deepEqual(out, [
      { message: '12 abc\ncont', tags: ['multiline'] },
      { message: '13 def', tags: [] },
    ]);
  });

  it('a first line that would join a previous one starts an event of its own', () => {
    assert.deepEqual(run('pattern => "^\\s" what => previous', ['  orphan', 'head', '  tail']), [
      { message: '  orphan', tags: [] },
      { message: 'head\n  tail', tags: ['multiline'] },
    ]);
  });

  it('^ keeps its Oniguruma meaning (start of any line) in a line an input framed with newlines inside', () => {
    const { d } = codec('pattern => "^\\s" what => previous');
    const out: unknown[] = [];
    const emit = (e: Event) => void out.push(e.fields.message);
    d.decodeLine!('head', emit);
    d.decodeLine!('x\n y', emit); // its second line starts with a space: the pattern matches
    d.decodeLine!('z', emit);
    d.flush(emit);
    assert.deepEqual(out, ['head\nx\n y', 'z']);
  });

  it('empty lines are lines like any other', () => {
    assert.deepEqual(run('pattern => "^%{TIMESTAMP_ISO8601} " negate => true what => previous', ['2026-01-01T00:00:00Z a', '', 'b', '2026-01-01T00:00:01Z c']), [
      { message: '2026-01-01T00:00:00Z a\n\nb', tags: ['multiline'] },
      { message: '2026-01-01T00:00:01Z c', tags: [] },
    ]);
  });
});

describe('multiline: pattern errors and patterns_dir', () => {
  it('a pattern that is not a regex is refused by the schema, naming the option', () => {
    const e = errorOf(() => optionsFromConfig(multiline, 'pattern => "^(unclosed" what => previous'));
    assert.match(e.message, /option 'pattern'/);
  });

  it('an unknown grok name is refused at check, naming the option and a close match', () => {
    const e = errorOf(() => codec('pattern => "^%{TIMESTAMP_ISO8061}" what => previous'));
    assert.equal(e.option?.name, 'pattern');
    assert.match(e.message, /%\{TIMESTAMP_ISO8061\} not defined \(did you mean %\{TIMESTAMP_ISO8601\}\?\)/);
  });

  it('patterns_dir: names from a folder of pattern files (and a file named directly), later files win', () => {
    const dir = join(wd, 'patterns');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'app'), 'APPHEAD \\[app\\]\nLEVEL (?:INFO|WARN)\n');
    const file = join(wd, 'more-patterns');
    writeFileSync(file, 'LEVEL (?:ERROR)\n');
    const out = run(`pattern => "^%{APPHEAD} %{LEVEL}" negate => true what => previous patterns_dir => ["patterns", "${file}"]`, [
      '[app] ERROR one',
      'continued',
      '[app] INFO two',
      '[app] ERROR three',
    ]);
    assert.deepEqual(out, [
      { message: '[app] ERROR one\ncontinued\n[app] INFO two', tags: ['multiline'] },
      { message: '[app] ERROR three', tags: [] },
    ]);
  });

  it('a patterns_dir that does not exist is refused, naming it', () => {
    const e = errorOf(() => codec('pattern => "^x" what => previous patterns_dir => ["no-such-dir"]'));
    assert.deepEqual(e.option, { name: 'patterns_dir', value: 'no-such-dir' });
    assert.match(e.message, /ENOENT/);
  });

  it('the pattern is compiled once per configuration: new instances do not read patterns_dir again', () => {
    const dir = join(wd, 'once');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'p'), 'MARK >>\n');
    const ctx = makeContext({ workingDir: wd });
    const o = optionsFromConfig(multiline, 'pattern => "^%{MARK}" what => previous patterns_dir => ["once"]') as never;
    const first = multiline.create(o, ctx) as CodecInstance;
    unlinkSync(join(dir, 'p'));
    rmSync(dir, { recursive: true });
    const second = multiline.create(o, ctx) as CodecInstance;
    const out: Event[] = [];
    for (const d of [first, second]) {
      d.decodeLine!('a', (e) => out.push(e));
      d.decodeLine!('>> b', (e) => out.push(e));
      d.flush((e) => out.push(e));
    }
    assert.deepEqual(out.map((e) => e.fields.message), ['a\n>> b', 'a\n>> b']);
  });

  it('what is required and must be previous or next', () => {
    assert.match(errorOf(() => optionsFromConfig(multiline, 'pattern => "x"')).message, /missing required option 'what'/);
    assert.match(errorOf(() => optionsFromConfig(multiline, 'pattern => "x" what => prev')).message, /must be one of 'previous', 'next'/);
  });
});

describe('multiline: limits and tags', () => {
  const many = (n: number) => Array.from({ length: n }, (_, i) => `- line ${i}`);

  it('max_lines: an event is emitted once it holds more than max_lines lines, tagged; no line is lost', () => {
    const out = run('pattern => "^-" what => previous max_lines => 10', many(25));
    // as Logstash: the limit is checked before a line joins, so a full event holds max_lines + 1 lines
    assert.deepEqual(out.map((e) => (e.message as string).split('\n').length), [11, 11, 3]);
    assert.deepEqual(out.map((e) => e.tags), [['multiline', MAX_LINES_TAG], ['multiline', MAX_LINES_TAG], ['multiline']]);
    assert.deepEqual(out.flatMap((e) => (e.message as string).split('\n')), many(25));
  });

  it('max_lines with what => next', () => {
    const out = run('pattern => "^-" what => next max_lines => 3', [...many(9), 'end']);
    assert.deepEqual(out.map((e) => (e.message as string).split('\n').length), [4, 4, 2]);
    assert.deepEqual(out.map((e) => e.tags.includes(MAX_LINES_TAG)), [true, true, false]);
  });

  it('the default max_lines is 500', () => {
    const out = run('pattern => "^-" what => previous', many(1200));
    assert.deepEqual(out.map((e) => (e.message as string).split('\n').length), [501, 501, 198]);
  });

  it('max_bytes: an event is emitted once its lines hold max_bytes bytes (UTF-8), tagged', () => {
    // each line is 10 bytes ("- é 12345": é is two bytes)
    const lines = Array.from({ length: 7 }, () => '- é 12345');
    assert.equal(Buffer.byteLength(lines[0]!), 10);
    const out = run('pattern => "^-" what => previous max_bytes => 30', lines);
    assert.deepEqual(out.map((e) => (e.message as string).split('\n').length), [3, 3, 1]);
    assert.deepEqual(out.map((e) => e.tags), [['multiline', MAX_BYTES_TAG], ['multiline', MAX_BYTES_TAG], []]);
  });

  it('max_bytes takes Logstash sizes: a number, SI and binary units', () => {
    assert.equal(parseBytes('1113'), 1113);
    assert.equal(parseBytes('10 MiB'), 10 * 1024 * 1024);
    assert.equal(parseBytes('10MiB'), 10 * 1024 * 1024);
    assert.equal(parseBytes('100kib'), 102400);
    assert.equal(parseBytes('2 mb'), 2_000_000);
    assert.equal(parseBytes('180 MB'), 180_000_000);
    assert.equal(parseBytes('1 gb'), 1e9);
    assert.ok(Number.isNaN(parseBytes('ten')));
    assert.match(errorOf(() => optionsFromConfig(multiline, 'pattern => "x" what => next max_bytes => "lots"')).message, /option 'max_bytes': cannot read 'lots' as a size/);
    // the default is 10 MiB: an 11 MiB line alone is over it
    const big = 'x'.repeat(11 * 1024 * 1024);
    const out = run('pattern => "^x" what => previous', [big, 'xy']);
    assert.deepEqual(out.map((e) => e.tags), [[MAX_BYTES_TAG], []]);
  });

  it('multiline_tag names the tag; "" adds none; one-line events never get it', () => {
    assert.deepEqual(run('pattern => "^\\s" what => previous multiline_tag => "hurray"', ['a', ' b', 'c']).map((e) => e.tags), [['hurray'], []]);
    assert.deepEqual(run('pattern => "^\\s" what => previous multiline_tag => ""', ['a', ' b', 'c']).map((e) => e.tags), [[], []]);
  });

  it('ecs_compatibility => v1 also sets [event][original]; disabled leaves it out', () => {
    const { d } = codec('pattern => "^\\s" what => previous ecs_compatibility => v1');
    const out: Event[] = [];
    d.decode('a\n b\n', (e) => out.push(e));
    d.flush((e) => out.push(e));
    assert.deepEqual(out[0]!.fields.event, { original: 'a\n b' });
    assert.equal(run('pattern => "^\\s" what => previous', ['a', ' b'])[0]!.message, 'a\n b');
    const { d: plain } = codec('pattern => "^\\s" what => previous');
    plain.decodeMessage('a\n b', (e) => assert.equal(e.fields.event, undefined));
  });

  it("@timestamp is the time of the event's first line", () => {
    const { d, ctx } = codec('pattern => "^\\s" what => previous');
    const out: Event[] = [];
    const emit = (e: Event) => void out.push(e);
    const t0 = ctx.clock.now();
    d.decodeLine!('head', emit);
    ctx.clock.advance(5000);
    d.decodeLine!(' more', emit);
    ctx.clock.advance(5000);
    d.decodeLine!('next', emit);
    d.flush(emit);
    assert.deepEqual(out.map((e) => e.timestamp.ms), [t0, t0 + 10_000]);
  });
});

describe('multiline: streams, framing and charset', () => {
  it('decode frames lines across any chunking: one byte at a time gives the same events', () => {
    const text = '1234567890\nA234567890\nB234567890\n0987654321\nC23';
    const whole = codec('pattern => "\\D" what => previous').d;
    const bytes = codec('pattern => "\\D" what => previous').d;
    const a: unknown[] = [];
    const b: unknown[] = [];
    whole.decode(Buffer.from(text), (e) => a.push(e.fields.message));
    whole.flush((e) => a.push(e.fields.message));
    for (const byte of Buffer.from(text)) bytes.decode(Buffer.from([byte]), (e) => b.push(e.fields.message));
    bytes.flush((e) => b.push(e.fields.message));
    assert.deepEqual(a, ['1234567890\nA234567890\nB234567890', '0987654321\nC23']);
    assert.deepEqual(b, a);
  });

  it('flush at the end of a stream emits the event being built and the partial last line', () => {
    const { d } = codec('pattern => "^\\s" what => previous');
    const out: unknown[] = [];
    d.decode('Exception\n  at a\n  at', (e) => out.push(e.fields.message));
    assert.equal(out.length, 0);
    d.decode(' b', (e) => out.push(e.fields.message));
    d.flush((e) => out.push(e.fields.message));
    assert.deepEqual(out, ['Exception\n  at a\n  at b']);
  });

  it('decodeMessage joins the lines of one message and completes the event (nothing carried over)', () => {
    const { d } = codec('pattern => "^\\s" what => previous');
    const out: unknown[] = [];
    d.decodeMessage('Exception\n  at a\nnext\n  at b\n', (e) => out.push(e.fields.message));
    d.decodeMessage('  at c', (e) => out.push(e.fields.message));
    assert.deepEqual(out, ['Exception\n  at a', 'next\n  at b', '  at c']);
  });

  it('each instance keeps its own state (one per connection or file)', () => {
    const ctx = makeContext({ workingDir: wd });
    const o = optionsFromConfig(multiline, 'pattern => "^\\s" what => previous') as never;
    const [x, y] = [multiline.create(o, ctx) as CodecInstance, multiline.create(o, ctx) as CodecInstance];
    const out: string[] = [];
    const ex = (e: Event) => void out.push(`x:${e.fields.message as string}`);
    const ey = (e: Event) => void out.push(`y:${e.fields.message as string}`);
    x.decodeLine!('X1', ex);
    y.decodeLine!('Y1', ey);
    x.decodeLine!(' x2', ex);
    y.decodeLine!(' y2', ey);
    y.decodeLine!('Y3', ey);
    x.decodeLine!('X3', ex);
    x.flush(ex);
    y.flush(ey);
    assert.deepEqual(out, ['y:Y1\n y2', 'x:X1\n x2', 'x:X3', 'y:Y3']);
  });

  it('heldLines counts the lines in no emitted event yet, as seen from inside emit', () => {
    const { d } = codec('pattern => "^\\s" what => previous');
    const seen: number[] = [];
    const emit = () => void seen.push(d.heldLines!);
    d.decodeLine!('a', emit);
    d.decodeLine!(' b', emit);
    assert.equal(d.heldLines, 2);
    d.decodeLine!('c', emit); // emits a+b while c is held
    assert.equal(d.heldLines, 1);
    d.flush(emit);
    assert.deepEqual(seen, [1, 0]);
    const next = codec('pattern => "\\\\$" what => next').d;
    const seenNext: number[] = [];
    next.decodeLine!('a \\', () => seenNext.push(next.heldLines!));
    next.decodeLine!('b', () => seenNext.push(next.heldLines!)); // emits a+b: nothing held
    assert.deepEqual(seenNext, [0]);
  });

  it('charset: ISO-8859-1 and Windows-1252 bytes become UTF-8 text', () => {
    const { d } = codec('pattern => "^\\s" what => previous charset => "ISO-8859-1"');
    const out: unknown[] = [];
    d.decode(Buffer.from('\xe0 Montr\xe9al\n \x80\n', 'latin1'), (e) => out.push(e.fields.message));
    d.flush((e) => out.push(e.fields.message));
    assert.deepEqual(out, ['à Montréal\n \u0080']);
    const w = codec('pattern => "^\\s" what => previous charset => "Windows-1252"').d;
    const outW: unknown[] = [];
    w.decode(Buffer.from('price \x80 5\n', 'latin1'), (e) => outW.push(e.fields.message));
    w.flush((e) => outW.push(e.fields.message));
    assert.deepEqual(outW, ['price € 5']);
  });

  it('charset: ASCII-8BIT bytes above 0x7f become U+FFFD; UTF-8 keeps a character split between chunks', () => {
    const a = codec('pattern => "^\\s" what => previous charset => "ASCII-8BIT"').d;
    const outA: unknown[] = [];
    a.decode(Buffer.from('\xe0 Montr\xe9al\n', 'latin1'), (e) => outA.push(e.fields.message));
    a.flush((e) => outA.push(e.fields.message));
    assert.deepEqual(outA, ['\ufffd Montr\ufffdal']);
    const u = codec('pattern => "^\\s" what => previous').d;
    const outU: unknown[] = [];
    const bytes = Buffer.from('κόσμε\n');
    u.decode(bytes.subarray(0, 3), (e) => outU.push(e.fields.message));
    u.decode(bytes.subarray(3), (e) => outU.push(e.fields.message));
    u.flush((e) => outU.push(e.fields.message));
    assert.deepEqual(outU, ['κόσμε']);
  });

  it('charset in decodeMessage: a message of bytes is decoded whole, nothing kept for the next one', () => {
    const { d } = codec('pattern => "^\\s" what => previous charset => "Shift_JIS"');
    const out: unknown[] = [];
    // "日" in Shift_JIS, then a message cut inside its next character: nothing waits for a rest
    d.decodeMessage(Buffer.from([0x93, 0xfa, 0x0a, 0x20, 0x96]), (e) => out.push(e.fields.message));
    d.decodeMessage(Buffer.from([0x93, 0xfa]), (e) => out.push(e.fields.message));
    assert.deepEqual(out, ['日\n \ufffd', '日']);
  });

  it('an unknown charset is refused by the schema', () => {
    assert.match(errorOf(() => optionsFromConfig(multiline, 'pattern => "x" what => next charset => "EBCDIC-XYZ"')).message, /option 'charset': unknown charset 'EBCDIC-XYZ'/);
  });

  it('encode writes the event as text', () => {
    const { d } = codec('pattern => "x" what => next');
    let e: Event | undefined;
    d.decodeMessage('hello', (ev) => (e = ev));
    assert.equal(d.encode(e!), e!.toString());
  });
});

describe('multiline: auto_flush_interval', () => {
  it('what => previous: the event is emitted after the interval without a new line, through the latest emit', () => {
    const { d, ctx } = codec('pattern => "^\\s" what => previous auto_flush_interval => 2');
    const out: string[] = [];
    d.decodeLine!('hello world', (e) => out.push(`old:${e.fields.message as string}`));
    d.decodeLine!(' second line', (e) => out.push(`new:${e.fields.message as string}`));
    ctx.clock.advance(1500);
    d.decodeLine!(' third line', (e) => out.push(`new:${e.fields.message as string}`));
    ctx.clock.advance(1500); // 3 s since the first line, 1.5 s since the last: still waiting
    assert.deepEqual(out, []);
    ctx.clock.advance(500);
    assert.deepEqual(out, ['new:hello world\n second line\n third line']);
    assert.equal(d.heldLines, 0);
    ctx.clock.advance(10_000);
    assert.equal(out.length, 1, 'nothing more to flush');
    assert.equal(ctx.clock.pending, 0, 'no timer left once nothing is held');
  });

  it('what => next: an unfinished continuation is emitted after the interval', () => {
    const { d, ctx } = codec('pattern => "\\+\\+$" what => next auto_flush_interval => 2');
    const out: unknown[] = [];
    const emit = (e: Event) => void out.push(e.fields.message);
    for (const l of ['hello world++', 'second line++', 'third line']) d.decodeLine!(l, emit);
    assert.deepEqual(out, ['hello world++\nsecond line++\nthird line']);
    d.decodeLine!('Salut le Monde++', emit);
    ctx.clock.advance(2000);
    assert.deepEqual(out, ['hello world++\nsecond line++\nthird line', 'Salut le Monde++']);
  });

  it('without auto_flush_interval nothing is emitted however long the stream waits', () => {
    const { d, ctx } = codec('pattern => "^\\s" what => previous');
    const out: unknown[] = [];
    d.decodeLine!('a', (e) => out.push(e));
    d.decodeLine!(' b', (e) => out.push(e));
    ctx.clock.advance(3_600_000);
    assert.deepEqual(out, []);
    assert.equal(d.heldLines, 2);
  });

  it('flush at the end of the stream cancels the timer; stopping the pipeline cancels armed timers', () => {
    const { d, ctx } = codec('pattern => "^\\s" what => previous auto_flush_interval => 1');
    const out: string[] = [];
    d.decodeLine!('a', (e) => out.push(String(e.fields.message)));
    assert.equal(ctx.clock.pending, 1);
    d.flush((e) => out.push(String(e.fields.message)));
    assert.equal(ctx.clock.pending, 0);
    assert.deepEqual(out, ['a']);

    const o = optionsFromConfig(multiline, 'pattern => "^\\s" what => previous auto_flush_interval => 1') as never;
    const xs = [0, 1, 2].map(() => multiline.create(o, ctx) as CodecInstance);
    for (const x of xs) x.decodeLine!('held', (e) => out.push(String(e.fields.message)));
    assert.equal(ctx.clock.pending, 3);
    ctx.abort.abort();
    assert.equal(ctx.clock.pending, 0);
    ctx.clock.advance(5000);
    assert.deepEqual(out, ['a'], 'the input flushes at its stream end, not the timer after stop');
    xs[0]!.flush((e) => out.push(String(e.fields.message)));
    assert.deepEqual(out, ['a', 'held']);
  });

  it('auto_flush_interval must be positive', () => {
    assert.match(errorOf(() => optionsFromConfig(multiline, 'pattern => "x" what => next auto_flush_interval => 0')).message, /auto_flush_interval': must be > 0/);
  });
});
