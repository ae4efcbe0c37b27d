import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fieldRef } from '../src/event/field-ref.js';
import { compileCondition } from '../src/config/conditions.js';
import { parseConfig } from '../src/config/parser.js';
import { Event } from '../src/event/event.js';
import { compileTemplate } from '../src/event/sprintf.js';
import { Timestamp } from '../src/event/timestamp.js';
import { MetricsRegistry } from '../src/plugin/metrics.js';
import { hintsOf, keysReadAfterFilters } from '../src/runtime/filter-workers.js';
import type { BranchNode } from '../src/config/ast.js';

/** The form in which events cross between the pipeline thread and filter worker threads. */
function wired(fields: Record<string, unknown>, keys: string[]): Event {
  const src = new Event(fields, new Timestamp(Date.UTC(2026, 11, 4, 1, 2, 3, 456)));
  const prefixes = keys.map((k) => JSON.stringify(k) + ':');
  return Event.fromWire(src.json(), src.metadataJson(), JSON.parse(hintsOf(src.fields, keys, prefixes)), new Set(keys));
}

describe('Event wire form', () => {
  it('keeps the text it came as for json(), and its fields equal the original', () => {
    const src = new Event({ message: 'm', tags: ['a'], n: 1, '@metadata': { path: '/x' } }, new Timestamp(5));
    const e = Event.fromWire(src.json(), src.metadataJson());
    assert.equal(e.json(), src.json());
    assert.equal(e.get('message'), 'm');
    assert.ok(e.timestamp instanceof Timestamp);
    assert.equal(e.timestamp.ms, 5);
    assert.deepEqual(e.metadata, { path: '/x' });
    assert.equal(e.json(), src.json(), 'parsing does not change the text');
  });

  it('answers reads of hinted fields without parsing, and parses for anything else', () => {
    const e = wired({ message: 'long text', host: 'h1', tags: ['syslog'] }, ['host', 'tags', 'absent']);
    assert.equal(fieldRef('host').get(e.fieldsFor('host')), 'h1');
    assert.equal(fieldRef('absent').get(e.fieldsFor('absent')), undefined, 'a hinted key the event lacks is answered too');
    const hints = e.fieldsFor('tags');
    assert.equal(hints.message, undefined, 'the hints hold only the hinted keys');
    assert.equal(fieldRef('message').get(e.fieldsFor('message')), 'long text', 'an unhinted key parses the event');
    assert.equal(e.fieldsFor('host'), e.fields, 'once parsed, every read sees the fields');
  });

  it('conditions and templates read through the hints', () => {
    const ast = parseConfig('output { if "syslog" in [tags] and [host] == "h1" { x {} } }', 't');
    const branch = ast.sections[0]!.body[0] as BranchNode;
    const test = compileCondition(branch.arms[0]!.condition);
    const e = wired({ message: 'm', host: 'h1', tags: ['syslog'], syslog_program: 'sshd' }, ['host', 'tags', 'syslog_program']);
    assert.equal(test(e), true);
    const t = compileTemplate('/logs/%{host}-%{syslog_program}.log');
    assert.deepEqual(t.keys, ['host', 'syslog_program']);
    assert.equal(t.render(e.fieldsForKeys(t.keys)), '/logs/h1-sshd.log');
    assert.equal(compileTemplate('%{+yyyy}').keys[0], '@timestamp');
  });

  it('every write parses first and drops the text', () => {
    const writes: [string, (e: Event) => void][] = [
      ['set', (e) => e.set('x', 1)],
      ['remove', (e) => e.remove('message')],
      ['tag', (e) => e.tag('t')],
      ['untag', (e) => e.untag('a')],
      ['timestamp', (e) => (e.timestamp = new Timestamp(9))],
      ['direct write + changed()', (e) => { e.fields.y = 2; e.changed(); }],
    ];
    for (const [what, write] of writes) {
      const e = wired({ message: 'm', tags: ['a'] }, ['tags']);
      const before = e.json();
      write(e);
      assert.notEqual(e.json(), before, `${what}: json() changed`);
      assert.equal(e.json(), JSON.stringify(e.toJSON()), `${what}: json() is fresh`);
    }
  });

  it('changed() on an event nobody parsed keeps its text (nothing could have written it)', () => {
    const e = wired({ message: 'm' }, []);
    const text = e.json();
    e.changed();
    assert.equal(e.json(), text);
    assert.equal(e.get('message'), 'm');
  });

  it('a __proto__ key from data stays an own field across the hand-over', () => {
    const src = new Event({ message: 'm' });
    src.set('[__proto__]', { polluted: true });
    const e = wired(src.fields, ['__proto__']);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    assert.ok(Object.hasOwn(e.fields, '__proto__'));
    assert.equal(Object.getPrototypeOf(e.fields), Object.prototype);
  });
});

describe('what the pipeline thread reads after the filter section', () => {
  it('collects top-level fields of correlate and output conditions and templates', () => {
    const ast = parseConfig(
      `filter { if [ignored] { x {} } }
       correlate { if [type] == "syslog" { sec { rules => ["%{[rule][file]}"] } } }
       output { if "a" in [tags] { file { path => "/l/%{host}-%{+yyyy}.log" } } else if [@metadata][x] { y {} } }`,
      't',
    );
    assert.deepEqual(keysReadAfterFilters({ ast, plugins: new Map() }).sort(), ['host', 'rule', 'tags', 'type']);
  });
});

describe('metrics counted in worker threads', () => {
  it('drainDeltas hands over what moved and applyDeltas adds it to the main registry', () => {
    const worker = new MetricsRegistry();
    const main = new MetricsRegistry();
    const c = worker.scope('plugins').scope('filters').scope('g').counter('matches');
    const l = worker.scope('plugins').scope('filters').scope('g').counter('rule', { rule: 'r1' });
    const g = worker.scope('x').gauge('size');
    c.inc(3);
    l.inc();
    g.set(7);
    main.applyDeltas(worker.drainDeltas());
    c.inc(2);
    main.applyDeltas(worker.drainDeltas());
    main.applyDeltas(worker.drainDeltas()); // nothing moved: nothing added
    assert.deepEqual(main.snapshot(), { plugins: { filters: { g: { matches: 5, rule: { r1: 1 } } } }, x: { size: 7 } });
    assert.equal(c.value, 0, 'the worker registry is zeroed as it hands over');
  });
});
