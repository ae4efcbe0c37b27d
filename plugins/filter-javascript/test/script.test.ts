/** path scripts: filter(event) returning events, register(params), module.exports, tests, errors. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ConfigError, Event } from '@pipeline/core';
import { createPlugin, makeContext, runFilter } from '@pipeline/core/testing';
import javascript from '../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'javascript-script-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
function script(text: string): string {
  const p = join(dir, `s${++n}.js`);
  writeFileSync(p, text);
  return p;
}
const load = (path: string, more = '') => createPlugin(javascript, `path => "${path}" ${more}`);

async function refused(body: string, pattern: RegExp): Promise<ConfigError> {
  let err: unknown;
  try {
    await createPlugin(javascript, body);
  } catch (e) {
    err = e;
  }
  assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${String(err)}`);
  assert.match(err.message, pattern);
  assert.equal(err.option?.name, 'path');
  return err;
}

const SPLIT = `
// one event per item of [items]; the original is kept only when it has none
let field;
function register(params) {
  field = params.field;
}
function filter(event) {
  const items = event.get(field);
  if (!Array.isArray(items)) return [event];
  return items.map((item) => {
    const e = event.clone();
    e.set(field, item);
    return e;
  });
}
`;

describe('javascript: path scripts', () => {
  it('register gets script_params; filter returns the events that go on, the original dropped when absent', async () => {
    const f = await load(script(SPLIT), 'script_params => { "field" => "items" }');
    const out = runFilter(f, [{ id: 1, items: ['a', 'b'] }, { id: 2 }]);
    assert.deepEqual(out.map((e) => [e.get('id'), e.get('items')]), [[1, 'a'], [1, 'b'], [2, undefined]]);
  });

  it('returning [] drops the event; [event] keeps it; [event, new] keeps it and adds the new one after', async () => {
    const f = await load(
      script(`function filter(event) {
  const kind = event.get('kind');
  if (kind === 'drop') return [];
  if (kind === 'more') return [event, { message: 'extra for ' + event.get('id') }];
  return [event];
}`),
    );
    const out = runFilter(f, [{ id: 1, kind: 'drop' }, { id: 2, kind: 'keep' }, { id: 3, kind: 'more' }]);
    assert.deepEqual(out.map((e) => e.get('id') ?? e.get('message')), [2, 'extra for 3', 3]);
  });

  it('filter may also emit, as code does', async () => {
    const f = await load(script(`function filter(event, emit) { emit(event.clone()); return [event]; }`));
    assert.equal(runFilter(f, [{ m: 1 }]).length, 2);
  });

  it('module.exports / exports define the functions too', async () => {
    const f = await load(script(`module.exports = { register(p) { this.k = p.k; }, filter(event) { event.set('k', 'v'); return [event]; } };`));
    assert.equal(runFilter(f, [{}])[0]!.get('k'), 'v');
    const g = await load(script(`exports.filter = (event) => { event.tag('x'); return [event]; };`));
    assert.deepEqual(runFilter(g, [{}])[0]!.get('tags'), ['x']);
  });

  it('a result that is not an array, or holds something that is not an event, is an exception: the event goes on, tagged', async () => {
    const f = await load(
      script(`function filter(event) {
  if (event.get('how') === 'nothing') return;
  if (event.get('how') === 'string') return ['text'];
  return [event.clone(), event];
}`),
      'tag_with_exception_message => true',
    );
    const out = runFilter(f, [{ how: 'nothing' }, { how: 'string' }, { how: 'fine' }]);
    assert.equal(out.length, 4);
    assert.deepEqual(out[0]!.get('tags'), ['_javascriptexception: filter(event) must return an array of events ([event] keeps the event, [] drops it), got undefined undefined', '_javascriptexception']);
    assert.match(String((out[1]!.get('tags') as string[])[0]), /returned the string "text" in its array/);
    assert.deepEqual([out[2]!.get('how'), out[3]!.get('how'), out[3]!.get('tags')], ['fine', 'fine', undefined]);
  });

  it('a script without filter is refused', async () => {
    await refused(`path => "${script('function register() {}')}"`, /does not define filter\(event\)/);
  });

  it('a syntax error is refused at the file, line and column', async () => {
    const p = script(`function filter(event) {\n  return [event\n}\n`);
    await refused(`path => "${p}"`, new RegExp(`syntax error in ${p.replace(/[.]/g, '\\.')}:3:1: `));
  });

  it('ES module syntax is refused with a hint', async () => {
    const err = await refused(`path => "${script('export function filter(event) { return [event]; }')}"`, /syntax error in .*:1:1: Unexpected token 'export'/);
    assert.match(err.hint ?? '', /plain script: declare function filter\(event\)/);
  });

  it('an unreadable file is refused', async () => {
    await refused(`path => "${join(dir, 'none.js')}"`, /cannot read the script .*none\.js/);
  });

  it('a relative path resolves from the working directory', async () => {
    script('function filter(e) { e.set("rel", true); return [e]; }');
    const ctx = makeContext({ workingDir: dir });
    const f = await createPlugin(javascript, `path => "s${n}.js"`, ctx);
    assert.equal(runFilter(f, [{}])[0]!.get('rel'), true);
  });

  it('register throwing stops the start, with the place in the file', async () => {
    const p = script(`function register(params) {\n  if (!params.need) throw new Error('need is required');\n}\nfunction filter(e) { return [e]; }`);
    await refused(`path => "${p}"`, new RegExp(`register\\(params\\) failed: need is required \\(at ${p.replace(/[.]/g, '\\.')}:2:27\\)`));
  });

  it('an exception in filter is logged with its place in the file', async () => {
    const p = script(`function filter(e) {\n  return [e.get('a').b];\n}`);
    const f = await load(p);
    const [e] = runFilter(f, [{}]);
    assert.deepEqual(e!.get('tags'), ['_javascriptexception']);
  });

  it('each load of a script has its own top-level state', async () => {
    const p = script(`let count = 0;\nfunction filter(e) { e.set('count', ++count); return [e]; }`);
    const a = await load(p);
    const b = await load(p);
    runFilter(a, [{}, {}]);
    assert.equal(runFilter(b, [{}])[0]!.get('count'), 1);
  });

  it('the fingerprint follows the file, so a reload recreates the filter when it changed', () => {
    const p = script('function filter(e) { return [e]; }');
    const before = javascript.fingerprint!({ path: p } as never, (x) => x);
    writeFileSync(p, 'function filter(e) { return []; }');
    assert.notEqual(javascript.fingerprint!({ path: p } as never, (x) => x), before);
    assert.equal(javascript.fingerprint!({ code: '1' } as never, (x) => x), '');
  });

  describe('tests in the script (Logstash test blocks)', () => {
    const withTests = (expectBody: string) => `
let pct;
function register(params) { pct = params.percentage; }
function filter(event) { return Math.random() < pct ? [] : [event]; }
const tests = [
  {
    name: 'drop percentage 100%',
    parameters: { percentage: 1 },
    in_event: { message: 'hello' },
    expect: { 'drops the event': (events) => events.length === 0 },
  },
  {
    name: 'drop percentage 0%',
    parameters: { percentage: 0 },
    in_events: [{ message: 'a' }, { message: 'b' }],
    expect: { 'keeps both': ${expectBody} },
  },
];`;

    it('pass: the filter loads', async () => {
      const f = await load(script(withTests(`(events) => events.map((e) => e.get('message')).join() === 'a,b'`)), 'script_params => { "percentage" => 0 }');
      assert.equal(runFilter(f, [{ m: 1 }]).length, 1);
    });

    it('a failing or throwing expect refuses the script, naming the test', async () => {
      await refused(`path => "${script(withTests('(events) => events.length === 3'))}"`, /1 script test failed: 'drop percentage 0%' \/ 'keeps both' failed/);
      await refused(`path => "${script(withTests('(events) => events[5].get("x")'))}"`, /'drop percentage 0%' \/ 'keeps both' raised: Cannot read properties of undefined/);
    });

    it('a test without in_event, or a filter throwing in a test, is a failure', async () => {
      await refused(`path => "${script('function filter(e) { return [e]; }\nconst tests = [{ name: "t", expect: () => true }];')}"`, /test 't' has no in_event/);
      await refused(`path => "${script('function filter(e) { throw new Error("boom"); }\nconst tests = [{ name: "t", in_event: {}, expect: () => true }];')}"`, /'t' raised: boom/);
    });

    it('tests run with each test its own load of the script', async () => {
      const p = script(`let n = 0;
function filter(e) { e.set('n', ++n); return [e]; }
const tests = [1, 2].map((i) => ({ name: 'run ' + i, in_event: {}, expect: (events) => events[0].get('n') === 1 }));`);
      const f = await load(p);
      assert.equal(runFilter(f, [new Event({})])[0]!.get('n'), 1);
    });
  });
});
