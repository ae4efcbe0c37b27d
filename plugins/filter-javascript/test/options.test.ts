/** Every option of the javascript filter, and the rules across them. */
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { ConfigError, Event } from '@pipeline/core';
import { createPlugin, makeContext, optionsFromConfig, runFilter } from '@pipeline/core/testing';
import pino from 'pino';
import javascript from '../src/index.js';

function capturingLogger(): { logger: pino.Logger; records: Record<string, unknown>[] } {
  const records: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString('utf8').split('\n')) if (l) records.push(JSON.parse(l) as Record<string, unknown>);
      cb();
    },
  });
  return { logger: pino({ level: 'info' }, sink), records };
}

async function refused(body: string, pattern: RegExp, option?: string): Promise<ConfigError> {
  let err: unknown;
  try {
    await createPlugin(javascript, body);
  } catch (e) {
    err = e;
  }
  assert.ok(err instanceof ConfigError, `expected a ConfigError for ${body}, got ${String(err)}`);
  assert.match(err.message, pattern);
  if (option !== undefined) assert.equal(err.option?.name, option);
  return err;
}

describe('javascript: options', () => {
  it('defaults as Logstash ruby (tag_on_exception _rubyexception -> _javascriptexception)', () => {
    const o = optionsFromConfig(javascript, 'code => "1"') as Record<string, unknown>;
    assert.deepEqual([o.tag_on_exception, o.tag_with_exception_message, o.script_params, o.init, o.path], ['_javascriptexception', false, {}, undefined, undefined]);
  });

  describe('code', () => {
    it('runs for every event', async () => {
      const out = runFilter(await createPlugin(javascript, `code => "event.set('n', event.get('n') + 1)"`), [{ n: 1 }, { n: 10 }]);
      assert.deepEqual(out.map((e) => e.get('n')), [2, 11]);
    });

    it('returns true (common add_field/add_tag apply) when it runs through, false when it throws', async () => {
      const f = await createPlugin(javascript, `code => "if (event.get('bad')) throw new Error('no')"`);
      const ok = f.filter(new Event({}), () => {});
      const bad = f.filter(new Event({ bad: true }), () => {});
      assert.deepEqual([ok, bad], [true, false]);
    });

    it('a syntax error is refused with its line and column inside code', async () => {
      await refused(`code => "let a = 1\n  a +* 2"`, /javascript: syntax error in 'code' at line 2, column 6: Unexpected token '\*'/, 'code');
    });

    it('code cannot close the function it runs in', async () => {
      await refused(`code => "}); globalThis.__jsBroke = 1; (function () {"`, /syntax error in 'code' at line 1, column 1/, 'code');
      assert.equal((globalThis as Record<string, unknown>).__jsBroke, undefined);
    });

    it('runs in strict mode: an undeclared name is an exception, not a global', async () => {
      const out = runFilter(await createPlugin(javascript, `code => "leaked = 1"`), [{}]);
      assert.deepEqual(out[0]!.get('tags'), ['_javascriptexception']);
      assert.equal((globalThis as Record<string, unknown>).leaked, undefined);
    });

    it('require loads Node built-ins only', async () => {
      const f = await createPlugin(javascript, `code => "const c = require('node:crypto'); event.set('h', c.createHash('sha1').update(event.get('message')).digest('hex')); if (event.get('other')) require('pino')"`);
      const out = runFilter(f, [{ message: 'abc' }, { message: 'abc', other: true }]);
      assert.equal(out[0]!.get('h'), 'a9993e364706816aba3e25717850c26c9cd0d89d');
      assert.deepEqual(out[1]!.get('tags'), ['_javascriptexception']);
    });

    it('code and path together are refused, naming the option', async () => {
      await refused(`code => "1" path => "x.js"`, /options 'code' and 'path' cannot be used together/, 'path');
    });

    it('neither code nor path is refused', async () => {
      await refused('tag_on_exception => "x"', /set either 'code' .* or 'path'/);
    });
  });

  describe('init', () => {
    it('runs once at start; what it declares is in scope for code and kept across events', async () => {
      const ctx = makeContext();
      const f = await createPlugin(javascript, `init => "let seen = 0; const re = /^(\\w+)=(\\d+)$/" code => "seen++; const m = re.exec(event.get('message')); if (m) event.set(m[1], Number(m[2])); event.set('seen', seen)"`, ctx);
      const out = runFilter(f, [{ message: 'a=1' }, { message: 'b=2' }, { message: 'nothing' }]);
      assert.deepEqual(out.map((e) => [e.get('a'), e.get('b'), e.get('seen')]), [[1, undefined, 1], [undefined, 2, 2], [undefined, undefined, 3]]);
    });

    it('a syntax error in init is refused at init, with its line and column', async () => {
      await refused(`init => "const x = 1\nconst = 2" code => "1"`, /syntax error in 'init' at line 2, column 7/, 'init');
    });

    it('an exception in init stops the start, with its place', async () => {
      await refused(`init => "\nthrow new Error('no config')" code => "1"`, /javascript: init failed: no config \(at init line 2, column 7\)/, 'init');
    });

    it('a top-level return in init is refused', async () => {
      await refused(`init => "return 1" code => "1"`, /init returned before the code/, 'init');
    });

    it('init with path is refused (a script does its setup in register)', async () => {
      await refused(`init => "1" path => "x.js"`, /option 'init' goes with 'code'/, 'init');
    });
  });

  describe('script_params', () => {
    it('with code, is params in init and code (a copy of the option)', async () => {
      const f = await createPlugin(javascript, `script_params => { "field" => "level" "min" => 3 } init => "const min = params.min; params.changed = true" code => "if (event.get(params.field) < min) event.cancel()"`);
      const out = runFilter(f, [{ level: 1 }, { level: 5 }]);
      assert.deepEqual(out.map((e) => e.get('level')), [5]);
    });
  });

  describe('tag_on_exception and tag_with_exception_message', () => {
    it('an exception tags the event, which goes on; other events are not affected', async () => {
      const f = await createPlugin(javascript, `code => "event.set('len', event.get('message').length)" tag_on_exception => "_jsfail"`);
      const out = runFilter(f, [{ message: 'abc' }, { nomessage: 1 }, { message: 'de' }]);
      assert.deepEqual(out.map((e) => [e.get('len'), e.get('tags')]), [[3, undefined], [undefined, ['_jsfail']], [2, undefined]]);
    });

    it('tag_with_exception_message adds "<tag>: <message>" before the tag', async () => {
      const f = await createPlugin(javascript, `code => "throw new RangeError('out of range: ' + event.get('v'))" tag_with_exception_message => true`);
      const [e] = runFilter(f, [{ v: 7 }]);
      assert.deepEqual(e!.get('tags'), ['_javascriptexception: out of range: 7', '_javascriptexception']);
    });

    it('a thrown non-Error is its text', async () => {
      const f = await createPlugin(javascript, `code => "throw 'plain text'" tag_with_exception_message => true`);
      const [e] = runFilter(f, [{}]);
      assert.deepEqual(e!.get('tags'), ['_javascriptexception: plain text', '_javascriptexception']);
    });

    it('exceptions are logged at warn, at most once per 10 s with the count swallowed, and counted', async () => {
      const { logger, records } = capturingLogger();
      const ctx = makeContext({ logger });
      const f = await createPlugin(javascript, `init => "// setup\n" code => "const x = event.get('n');\nif (x > 0) missing()"`, ctx);
      runFilter(f, [{ n: 1 }, { n: 2 }, { n: 0 }, { n: 3 }]);
      let warns = records.filter((r) => r.level === 40);
      assert.equal(warns.length, 1);
      assert.equal(warns[0]!.error, 'missing is not defined');
      assert.equal(warns[0]!.at, 'code line 2, column 12');
      ctx.clock.advance(10_000);
      runFilter(f, [{ n: 4 }]);
      warns = records.filter((r) => r.level === 40);
      assert.equal(warns.length, 2);
      assert.equal(warns[1]!.suppressed, 2);
      assert.equal((ctx.metrics.snapshot() as Record<string, unknown>).exceptions, 4);
    });
  });
});
