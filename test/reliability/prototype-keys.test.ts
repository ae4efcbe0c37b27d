/**
 * Safe field paths (issue 13, item 1): every path by which data becomes field names — kv, the json
 * filter and codecs, mutate's merge, RFC 5424 structured data — is fed keys that name
 * Object.prototype's properties. None may change a prototype, and each key must stay plain data.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Event, fieldRef } from '@pipeline/core';
import { createPlugin, makeContext, runFilter } from '@pipeline/core/testing';
import jsonCodec from '@pipeline/codec-json';
import jsonLinesCodec from '@pipeline/codec-json_lines';
import csvFilter from '@pipeline/filter-csv';
import jsonFilter from '@pipeline/filter-json';
import kvFilter from '@pipeline/filter-kv';
import mutateFilter from '@pipeline/filter-mutate';
import { parseSyslog } from '@pipeline/input-syslog';

/** Keys a hostile sender would try: the accessor, the constructor chain, and methods others call. */
const HOSTILE = ['__proto__', 'constructor', 'prototype', 'hasOwnProperty', 'toString', 'valueOf', '__defineGetter__', 'isPrototypeOf'];
/** The same keys as nested field references, the form kv and json turn into paths. */
const REFS = HOSTILE.flatMap((k) => [`[${k}][polluted]`, `[${k}][prototype][polluted]`, `[a][${k}][polluted]`, `[${k}]`]);

const protoNames = Object.getOwnPropertyNames(Object.prototype).sort();
const protoValues = protoNames.map((k) => Object.getOwnPropertyDescriptor(Object.prototype, k));
const arrayProtoNames = Object.getOwnPropertyNames(Array.prototype).sort();

/** Object.prototype and Array.prototype exactly as before, and a fresh object sees nothing new. */
function assertNoPollution(where: string): void {
  assert.deepEqual(Object.getOwnPropertyNames(Object.prototype).sort(), protoNames, `${where}: Object.prototype gained a property`);
  protoNames.forEach((k, i) => assert.deepEqual(Object.getOwnPropertyDescriptor(Object.prototype, k), protoValues[i], `${where}: Object.prototype.${k} changed`));
  assert.deepEqual(Object.getOwnPropertyNames(Array.prototype).sort(), arrayProtoNames, `${where}: Array.prototype changed`);
  assert.equal(({} as Record<string, unknown>).polluted, undefined, `${where}: {}.polluted is set`);
  const fresh = new Event({ message: 'x' });
  assert.equal(fresh.get('polluted'), undefined, `${where}: a fresh event sees [polluted]`);
  for (const k of HOSTILE) assert.equal(fresh.get(k), undefined, `${where}: a fresh event has [${k}]`);
}

/** The event kept its prototype everywhere (its own and its nested objects'), and still serialises. */
function assertIntact(e: Event, where: string): void {
  const walk = (v: unknown, path: string): void => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return;
    const p = Object.getPrototypeOf(v) as unknown;
    if (path !== '' && v.constructor?.name === 'Timestamp') return;
    assert.ok(p === Object.prototype || p === null, `${where}: the prototype of ${path || 'the event'} was replaced`);
    for (const k of Object.keys(v)) walk((v as Record<string, unknown>)[k], `${path}[${k}]`);
  };
  walk(e.fields, '');
  assert.doesNotThrow(() => JSON.stringify(e), `${where}: the event no longer serialises`);
  assert.doesNotThrow(() => String(e), `${where}: the event no longer prints`);
}

describe('prototype keys through every data-to-field path', () => {
  it('field references: set, get, remove and has never reach a prototype', () => {
    for (const ref of REFS) {
      const e = new Event({ message: 'm', a: {}, list: [1, 2] });
      const r = fieldRef(ref);
      assert.equal(r.get(e.fields), undefined, `${ref} read something inherited`);
      assert.equal(r.has(e.fields), false, `${ref} says it exists`);
      r.set(e.fields, 'yes');
      assert.equal(r.get(e.fields), 'yes', `${ref} did not read back what it set`);
      assertIntact(e, ref);
      assertNoPollution(ref);
      assert.equal(r.remove(e.fields), 'yes');
      assert.equal(r.get(e.fields), undefined);
      // array elements take numeric keys only
      fieldRef(`[list]${ref.startsWith('[a]') ? ref.slice(3) : ref}`).set(e.fields, 'z');
      assertNoPollution(`[list]${ref}`);
    }
  });

  it('kv: hostile keys become plain fields, at the root, under target and recursively', async () => {
    const plain = await createPlugin(kvFilter, '');
    const target = await createPlugin(kvFilter, 'target => "kv"');
    const recursive = await createPlugin(kvFilter, 'recursive => true');
    for (const k of [...HOSTILE, ...REFS]) {
      const line = `${k}=yes other=1`;
      for (const [name, f] of [['root', plain], ['target', target]] as const) {
        const [e] = runFilter(f, [{ message: line }]);
        assertIntact(e!, `kv ${name} ${k}`);
        assertNoPollution(`kv ${name} ${k}`);
        assert.equal(e!.get(name === 'target' ? '[kv][other]' : 'other'), '1');
      }
      const [r] = runFilter(recursive, [{ message: `outer=${k}=deep` }]);
      assertIntact(r!, `kv recursive ${k}`);
      assertNoPollution(`kv recursive ${k}`);
    }
    const [e] = runFilter(plain, [{ message: '__proto__=yes constructor=c' }]);
    assert.equal(e!.get('__proto__'), 'yes');
    assert.equal(e!.get('constructor'), 'c');
    assert.equal(JSON.parse(JSON.stringify(e))['__proto__'], 'yes', 'the key is kept as data in the output');
  });

  it('csv: hostile names from a header line, as columns and under target stay plain fields', async () => {
    for (const k of HOSTILE) {
      for (const target of ['', 'target => "csv"']) {
        const detect = await createPlugin(csvFilter, `autodetect_column_names => true ${target}`);
        const out = runFilter(detect, [{ message: `${k},polluted,other` }, { message: 'yes,yes,1' }]);
        assert.equal(out.length, 1, `csv header ${k} ${target}`);
        assertIntact(out[0]!, `csv header ${k} ${target}`);
        assertNoPollution(`csv header ${k} ${target}`);
        const base = target === '' ? '' : '[csv]';
        assert.equal(out[0]!.get(`${base}[${k}]`), 'yes');
        assert.equal(out[0]!.get(`${base}[other]`), '1');
        const columns = await createPlugin(csvFilter, `columns => ["${k}", "polluted"] convert => { "polluted" => "integer" } ${target}`);
        const [e] = runFilter(columns, [{ message: '1,2' }]);
        assertIntact(e!, `csv columns ${k} ${target}`);
        assertNoPollution(`csv columns ${k} ${target}`);
        assert.equal(e!.get(`${base}[${k}]`), '1');
      }
    }
    for (const ref of REFS) {
      // a header naming a path is refused (tagged), never walked
      const detect = await createPlugin(csvFilter, 'autodetect_column_names => true');
      const out = runFilter(detect, [{ message: `${JSON.stringify(ref)},b` }, { message: 'yes,1' }]);
      for (const e of out) assertIntact(e, `csv header ${ref}`);
      assertNoPollution(`csv header ${ref}`);
    }
    const [e] = runFilter(await createPlugin(csvFilter, 'columns => ["__proto__", "constructor"]'), [{ message: 'yes,c' }]);
    assert.equal(JSON.parse(JSON.stringify(e))['__proto__'], 'yes', 'the key is kept as data in the output');
  });

  it('json filter: hostile keys at the root, as references and under target', async () => {
    const root = await createPlugin(jsonFilter, 'source => "message"');
    const target = await createPlugin(jsonFilter, 'source => "message" target => "doc"');
    for (const k of [...HOSTILE, ...REFS]) {
      const docs = [`{${JSON.stringify(k)}: {"polluted": "yes", "hasOwnProperty": 1}}`, `{${JSON.stringify(k)}: "yes", "n": 1}`, `{"a": {${JSON.stringify(k)}: {"polluted": 1}}}`];
      for (const doc of docs) {
        for (const [name, f] of [['root', root], ['target', target]] as const) {
          const [e] = runFilter(f, [{ message: doc }]);
          assertIntact(e!, `json ${name} ${doc}`);
          assertNoPollution(`json ${name} ${doc}`);
          assert.ok(!e!.hasTag('_jsonparsefailure') || k.startsWith('['), `json ${name} ${doc}: failed to parse`);
        }
      }
    }
    const [e] = runFilter(root, [{ message: '{"__proto__": {"polluted": "yes"}}' }]);
    assert.deepEqual(e!.get('[__proto__][polluted]'), 'yes', 'the key is kept as data');
  });

  it('json and json_lines codecs: hostile keys stay data', async () => {
    for (const def of [jsonCodec, jsonLinesCodec]) {
      const codec = await createPlugin(def, '', makeContext());
      for (const k of HOSTILE) {
        const out: Event[] = [];
        codec.decode(`{${JSON.stringify(k)}: {"polluted": "yes"}, "message": "m"}\n`, (e) => out.push(e));
        codec.flush?.((e) => out.push(e));
        assert.equal(out.length, 1, `${def.name} ${k}`);
        assertIntact(out[0]!, `${def.name} ${k}`);
        assertNoPollution(`${def.name} ${k}`);
        assert.equal(out[0]!.get(`[${k}][polluted]`), 'yes');
        // and a copy of such an event (clone, persisted queue) keeps the key as data
        const copy = out[0]!.clone();
        assertIntact(copy, `${def.name} clone ${k}`);
        assert.equal(copy.get(`[${k}][polluted]`), 'yes');
        assertNoPollution(`${def.name} clone ${k}`);
      }
    }
  });

  it('mutate merge: a hash with hostile keys merges as data', async () => {
    const merge = await createPlugin(mutateFilter, 'merge => { "dest" => "src" }');
    const copy = await createPlugin(mutateFilter, 'copy => { "src" => "[dest2]" }');
    for (const k of HOSTILE) {
      const src = JSON.parse(`{${JSON.stringify(k)}: {"polluted": "yes"}, "x": 1}`) as Record<string, unknown>;
      const [e] = runFilter(merge, [{ dest: { keep: 1 }, src }]);
      assertIntact(e!, `merge ${k}`);
      assertNoPollution(`merge ${k}`);
      assert.equal(e!.get('[dest][keep]'), 1);
      assert.equal(e!.get(`[dest][${k}][polluted]`), 'yes');
      const [c] = runFilter(copy, [{ src }]);
      assertIntact(c!, `copy ${k}`);
      assertNoPollution(`copy ${k}`);
    }
  });

  it('syslog input: RFC 5424 structured data ids and param names stay data', () => {
    for (const k of HOSTILE) {
      const line = `<13>1 2026-12-03T10:00:00Z web1 app 1 - [${k} polluted="yes" ${k}="v"][x@1 ${k}="w"] hello`;
      const p = parseSyslog(line, '127.0.0.1', Date.now(), (y, mo, d, h, mi, s, ms) => Date.UTC(y, mo, d, h, mi, s, ms));
      assert.ok(p, `syslog did not parse ${line}`);
      const e = new Event({ message: 'm' });
      e.set('structured_data', (p as { structuredData?: unknown }).structuredData);
      assertIntact(e, `syslog ${k}`);
      assertNoPollution(`syslog ${k}`);
    }
  });
});
