/**
 * The runaway protection without an isolate per filter: the static check (onig/backtrack.ts) that
 * lets proven patterns match on the pipeline thread, and the one guard worker every grok filter of
 * the thread shares for the rest.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createPlugin } from '@pipeline/core/testing';
import { Event } from '@pipeline/core';
import grok, { builtinPatterns, expandPattern, provenSafe, translate } from '../src/index.js';
import { sharedGuard } from '../src/worker-guard.js';

const noop = () => {};
const verdict = (grokPattern: string) => provenSafe(translate(expandPattern(grokPattern, new Map(builtinPatterns())), 'test').source);

test('backtrack check: nested and ambiguous repetitions are refused', () => {
  for (const p of ['(a+)+$', '(?:a|a)*b', '(\\w+\\s?)+$', '(a*)*b', '(?:[a-z]+\\.?)+@', '%{URIPROTO}']) {
    const v = verdict(p);
    assert.equal(v.safe, false, `${p} must not be proven safe`);
    assert.match(v.reason!, /more than one way/);
  }
});

test('backtrack check: the library patterns real configs lean on are proven, with their ambiguous-loop count', () => {
  for (const name of ['IPV4', 'IPV6', 'HOSTNAME', 'IPORHOST', 'NUMBER', 'INT', 'WORD', 'QUOTEDSTRING', 'SYSLOGTIMESTAMP', 'TIMESTAMP_ISO8601', 'HTTPDATE', 'UUID', 'MAC', 'URIPATHPARAM']) {
    assert.deepEqual(verdict(`%{${name}}`), { safe: true, loops: 0 }, name);
  }
  // DATA before a literal is one ambiguous loop; GREEDYDATA at the end is none
  assert.deepEqual(verdict('%{SYSLOGTIMESTAMP:t} %{DATA:prog}(?:\\[%{POSINT:pid}\\])?: %{GREEDYDATA:msg}'), { safe: true, loops: 1 });
  assert.deepEqual(verdict('%{DATA:a} %{DATA:b} %{DATA:c}: %{GREEDYDATA:msg}'), { safe: true, loops: 3 });
});

test('backtrack check: atomic groups and lookarounds are checked inside; other backreferences are opaque', () => {
  assert.equal(verdict('(?>a+)+b').safe, true, 'an atomic body matches one way');
  assert.equal(verdict('(?=(a+)+$)x').safe, false, 'a lookahead body is checked like any other');
  assert.equal(verdict('(\\w)(?:x\\1)+').safe, true, 'a backreference after a literal decides nothing');
  assert.equal(verdict('(\\w+)(?:\\1|\\w)+$').safe, false, 'a backreference may match what its neighbour matches');
  // IPV6's zone (%.+)? is an ambiguous loop once something follows it
  assert.deepEqual(verdict('%{IPV6:ip} %{WORD:w}'), { safe: true, loops: 1 });
});

test('shared guard: two grok filters with guarded patterns use one worker; a runaway in one does not spoil the other', async () => {
  const guard = sharedGuard();
  const spawns = guard.spawns;
  const a = await createPlugin(grok, 'match => { "message" => "%{URI:u}" } timeout_millis => 300');
  const b = await createPlugin(grok, 'match => { "message" => "^(?:%{WORD:w}\\s?)+$" } timeout_millis => 300');
  try {
    const batch = ['see http://example.com/1', 'one two three', 'a'.repeat(40) + '!://x', 'four five'].map((message) => new Event({ message }));
    a.prepare!(batch);
    b.prepare!(batch);
    for (const e of batch) {
      a.filter(e, noop);
      b.filter(e, noop);
    }
    assert.equal(batch[0]!.get('u'), 'http://example.com/1');
    assert.equal(batch[1]!.get('w'), 'three', 'a repeated group keeps its last capture, as in Logstash');
    assert.deepEqual(batch[2]!.tags, ['_groktimeout', '_grokparsefailure'], 'the runaway times out in the URI filter only');
    assert.equal(batch[3]!.get('w'), 'five');
    // one worker for both (and a second one after the timeout replaced the first)
    assert.equal(guard.spawns - spawns, 2);
    assert.equal(guard.restarts > 0, true);
  } finally {
    await a.close?.();
    await b.close?.();
  }
  assert.equal(guard.running, false, 'the last filter to close stops the worker');
});

test('grok: a value longer than its pattern may take inline goes to the guard and matches the same', async () => {
  const direct = await createPlugin(grok, 'match => { "message" => "%{WORD:first} %{DATA:mid}: %{GREEDYDATA:rest}" } timeout_millis => 0');
  const guarded = await createPlugin(grok, 'match => { "message" => "%{WORD:first} %{DATA:mid}: %{GREEDYDATA:rest}" }');
  try {
    const long = `head ${'x '.repeat(20_000)}: tail`;
    const before = sharedGuard().handed;
    const d = new Event({ message: long });
    const g = new Event({ message: long });
    direct.filter(d, noop);
    guarded.filter(g, noop);
    assert.equal(sharedGuard().handed - before, 1, 'the long value was handed over');
    assert.deepEqual(g.fields, { ...d.fields, '@timestamp': g.fields['@timestamp'] });
    const short = new Event({ message: 'head x: tail' });
    guarded.filter(short, noop);
    assert.equal(sharedGuard().handed - before, 1, 'a short value matches on the pipeline thread');
    assert.equal(short.get('rest'), 'tail');
  } finally {
    await guarded.close?.();
  }
});
