import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Event } from '../src/event/event.js';
import { fieldRef, parseFieldPath } from '../src/event/field-ref.js';
import { compileTemplate } from '../src/event/sprintf.js';
import { Timestamp } from '../src/event/timestamp.js';

const at = new Timestamp(Date.UTC(2026, 10, 7, 5, 4, 3, 21));
const ev = (f: Record<string, unknown>) => new Event({ ...f, '@timestamp': at });
const render = (t: string, f: Record<string, unknown>) => compileTemplate(t).render(ev(f).fields);

describe('sprintf templates', () => {
  it('returns text without %{ unchanged and marks it static', () => {
    const t = compileTemplate('/var/log/plain.log');
    assert.equal(t.dynamic, false);
    assert.equal(t.render({}), '/var/log/plain.log');
  });
  it('fills top-level and nested fields', () => {
    assert.equal(render('%{host}-%{[a][b]}.log', { host: 'h1', a: { b: 'x' } }), 'h1-x.log');
  });
  it('leaves a missing field as its %{...} text, as Logstash does', () => {
    assert.equal(render('%{nope}/%{[a][b]}', { a: {} }), '%{nope}/%{[a][b]}');
    assert.equal(render('%{n}', { n: null }), '%{n}');
  });
  it('renders arrays joined by commas, hashes as JSON, numbers and booleans as text', () => {
    assert.equal(render('%{a}|%{h}|%{n}|%{b}', { a: ['x', 'y', 1], h: { k: 'v' }, n: 1.5, b: false }), 'x,y,1|{"k":"v"}|1.5|false');
  });
  it('formats @timestamp with Joda patterns in UTC', () => {
    assert.equal(render('%{+yyyy.MM.dd}', {}), '2026.11.07');
    assert.equal(render('%{+YYYY-MM-dd HH:mm:ss.SSS}', {}), '2026-11-07 05:04:03.021');
    assert.equal(render('%{+MMM d yy}', {}), 'Nov 7 26');
    assert.equal(render("%{+yyyy'T'HH}", {}), '2026T05');
    assert.equal(render('%{+EEE EEEE}', {}), 'Sat Saturday');
    assert.equal(render('%{+ZZ}', {}), '+00:00');
  });
  it('formats %{+%s} as epoch seconds', () => {
    assert.equal(render('%{+%s}', {}), String(Math.floor(at.ms / 1000)));
  });
  it('renders @timestamp itself as ISO-8601 with milliseconds', () => {
    assert.equal(render('%{@timestamp}', {}), '2026-11-07T05:04:03.021Z');
  });
  it('keeps an unterminated %{ as text', () => {
    assert.equal(render('a %{host', { host: 'h' }), 'a %{host');
  });
  it('exposes the static prefix (file outputs confine paths to it)', () => {
    assert.equal(compileTemplate('/srv/logs/%{host}/x.log').staticPrefix, '/srv/logs/');
  });
  it('compiles each template text once', () => {
    assert.equal(compileTemplate('%{x}-cached'), compileTemplate('%{x}-cached'));
  });
});

describe('field references', () => {
  it('parses [a][b] into a path and bare names into one key', () => {
    assert.deepEqual(parseFieldPath('[a][b]'), ['a', 'b']);
    assert.deepEqual(parseFieldPath('a.b'), ['a.b']);
    assert.throws(() => parseFieldPath('[a]b'));
    assert.throws(() => parseFieldPath('[a'));
  });
  it('gets, sets (creating parents), removes and tests nested fields', () => {
    const f: Record<string, unknown> = {};
    const r = fieldRef('[x][y][z]');
    r.set(f, 1);
    assert.deepEqual(f, { x: { y: { z: 1 } } });
    assert.equal(r.get(f), 1);
    assert.equal(r.has(f), true);
    assert.equal(r.remove(f), 1);
    assert.equal(r.has(f), false);
  });
  it('indexes arrays, negative indices from the end', () => {
    const f = { a: ['p', 'q', 'r'] };
    assert.equal(fieldRef('[a][0]').get(f), 'p');
    assert.equal(fieldRef('[a][-1]').get(f), 'r');
  });
});

describe('Event', () => {
  it('adds @timestamp and @version, and reads an ISO @timestamp string back', () => {
    const e = new Event({ message: 'm', '@timestamp': '2026-01-02T03:04:05.678Z' });
    assert.equal(e.timestamp.ms, Date.UTC(2026, 0, 2, 3, 4, 5, 678));
    assert.equal(e.fields['@version'], '1');
  });
  it('never serialises @metadata', () => {
    const e = new Event({ message: 'm' });
    e.metadata.secret = 's';
    assert.equal(JSON.parse(JSON.stringify(e)).message, 'm');
    assert.equal(JSON.parse(JSON.stringify(e))['@metadata'], undefined);
    assert.equal(e.get('[@metadata][secret]'), 's');
  });
  it('tags once and untags', () => {
    const e = new Event({});
    e.tag('a');
    e.tag('a');
    e.tag('b');
    e.untag('a');
    assert.deepEqual(e.tags, ['b']);
  });
  it('clones deeply', () => {
    const e = new Event({ a: { b: [1] } });
    const c = e.clone();
    (c.get('[a][b]') as number[]).push(2);
    assert.deepEqual(e.get('[a][b]'), [1]);
  });
});
