/**
 * Captures inside a repeated group keep the value of the last iteration that set them, as in
 * Oniguruma/Joni (Logstash), not JavaScript's (cleared at every iteration). The expected values are
 * what Ruby's Onigmo gives for the same regex and text (`Regexp.new(re, Regexp::MULTILINE).match(s)
 * .named_captures`), checked once by hand when the table was written.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MetricsRegistry } from '@pipeline/core';
import { createPlugin, makeContext, optionsFromConfig, runFilter } from '@pipeline/core/testing';
import grok, { builtinPatterns, compileGrok, execGrok, translate } from '../src/index.js';

const lib = new Map(builtinPatterns());
const opts = { namedCapturesOnly: true, target: undefined, overwrite: new Set<string>() };

/** [regex, text, the whole match, named captures (unset ones absent)] */
const CASES: [string, string, string, Record<string, string>][] = [
  // the last iteration that set each name
  ['(?:(?<a>a\\d)|(?<b>b\\d))+', 'a1b2a3b4b5', 'a1b2a3b4b5', { a: 'a3', b: 'b5' }],
  ['x(?:(?<a>a\\d)|(?<b>b\\d))*y', 'xb1b2a3y', 'xb1b2a3y', { a: 'a3', b: 'b2' }],
  ['(?:(?<k>[a-z])=(?<v>\\d)|(?<f>!+))+', 'a=1!!b=2!', 'a=1!!b=2!', { k: 'b', v: '2', f: '!' }],
  ['(?:(?<n>[a-z])?;)+', 'p;q;;', 'p;q;;', { n: 'q' }],
  ['(?:(?<a>a\\d)?(?<b>b\\d)?,)+', 'a1b2,a3,,', 'a1b2,a3,,', { a: 'a3', b: 'b2' }],
  ['(?:(?<a>a\\d)|b\\d)+', 'a1b2', 'a1b2', { a: 'a1' }],
  // a value twice in its iteration, a loop's text twice in the line: offsets from a run with indices
  ['(?:(?<a>a\\d)a\\d|(?<b>b\\d))+', 'a1a1b2', 'a1a1b2', { a: 'a1', b: 'b2' }],
  ['(?:(?<a>a\\d)|(?<b>b\\d))+;', 'a1b2 a1b2;', 'a1b2;', { a: 'a1', b: 'b2' }],
  // a name inside a lookahead of the body
  ['(?:(?<a>a)(?=(?<d>\\d))\\d|(?<b>b\\d))+', 'a1b2a3b4', 'a1b2a3b4', { a: 'a', d: '3', b: 'b4' }],
  // the rest of the regex takes back part of the loop: iterations as the whole match had them
  ['(?:(?<a>a\\d)|(?<b>b\\d+))*b', 'a1b23b', 'a1b23b', { a: 'a1', b: 'b23' }],
  ['(?:(?<a>a\\d)|(?<b>b\\d+))*\\d', 'a1b23', 'a1b23', { a: 'a1', b: 'b2' }],
  ['(?:(?<a>a\\d)|(?<b>b\\d))+(?<t>[ab]\\d)', 'a1b2a3', 'a1b2a3', { a: 'a1', b: 'b2', t: 'a3' }],
  // lazy, bounded, possessive, atomic
  ['(?:(?<a>a\\d)|(?<b>b\\d))*?c', 'a1b2a3c', 'a1b2a3c', { a: 'a3', b: 'b2' }],
  ['(?:(?<a>a\\d)|(?<b>b\\d)){3}', 'a1b2b3a4', 'a1b2b3', { a: 'a1', b: 'b3' }],
  ['(?:(?<a>a\\d)|(?<b>b\\d)){1,3}', 'b1a2b3a4', 'b1a2b3', { a: 'a2', b: 'b3' }],
  ['(?:(?<a>a\\d)|(?<b>b\\d))++', 'a1b2b3', 'a1b2b3', { a: 'a1', b: 'b3' }],
  ['(?>(?:(?<a>a\\d)|(?<b>b\\d))+)', 'b1a2a3', 'b1a2a3', { a: 'a3', b: 'b1' }],
  // a loop inside a loop
  ['(?:(?:(?<x>x\\d)|(?<y>y\\d))+,)+', 'x1y2,y3,', 'x1y2,y3,', { x: 'x1', y: 'y3' }],
  ['(?:(?:(?<x>x\\d)|(?<y>y\\d))+,)+', 'y1x2,y3y4,', 'y1x2,y3y4,', { x: 'x2', y: 'y4' }],
];

function captures(pattern: string, text: string): { whole: string; fields: Record<string, unknown> } | null {
  const g = compileGrok(pattern, lib, opts);
  const m = execGrok(g, text);
  if (m === null) return null;
  const fields: Record<string, unknown> = {};
  for (const s of g.slots) for (const i of s.indices) if (m[i] !== undefined) fields[s.field] = m[i];
  return { whole: m[0], fields };
}

for (const [re, text, whole, want] of CASES) {
  test(`repeat keeps the last participating iteration: ${re} on ${text}`, () => {
    const got = captures(re, text);
    assert.ok(got, 'matches');
    assert.equal(got.whole, whole);
    assert.deepEqual(got.fields, want);
  });
}

test('repeat: JavaScript alone would clear them (the fix is what makes the difference)', () => {
  const t = translate('(?:(?<a>a\\d)|(?<b>b\\d))+', 'test');
  const m = new RegExp(t.source, t.flags).exec('a1b2')!;
  const a = t.names.find((n) => n.name === 'a')!.indices[0]!;
  assert.equal(m[a], undefined);
  assert.deepEqual(captures('(?:(?<a>a\\d)|(?<b>b\\d))+', 'a1b2')!.fields, { a: 'a1', b: 'b2' });
});

test('repeat: only loops whose iterations may leave a name unset get the fix', () => {
  // every iteration sets the name: JavaScript already keeps the last value
  assert.deepEqual(translate('(?<h>[a-z]+)+', 't').repeats, []);
  assert.deepEqual(translate('(?:(?<a>a)(?<b>b))+', 't').repeats, []);
  // no repetition: ? and {1} run the group at most once
  assert.deepEqual(translate('(?:(?<a>a)|(?<b>b))?', 't').repeats, []);
  assert.equal(translate('(?:(?<a>a)|(?<b>b)){2,}', 't').repeats.length, 1);
  // the library: only EXIM's key=value run (SYSLOGBASE2's %{SYSLOGHOST:logsource}+ sets it each time)
  const withLoops = [...lib.keys()].filter((n) => compileGrok(`%{${n}}`, lib, opts).repeats.length > 0).sort();
  assert.deepEqual(withLoops, ['EXIM', 'EXIM_MESSAGE_ARRIVAL', 'EXIM_NAMED_FIELDS']);
});

test('repeat: a name set in the last iteration keeps that value; unset in every iteration stays unset', () => {
  assert.deepEqual(captures('(?:(?<a>a\\d)|(?<b>b\\d)|(?<c>c\\d))+', 'b1a2b3')!.fields, { a: 'a2', b: 'b3' });
});

const EXIM = '2010-09-13 05:00:13 [1487] 1Ov4tU-0000Nz-Rm <= mailling.list@domain.com H=mailhost.domain.com [208.42.54.2]:51792 I=[67.215.162.175]:25 P=esmtps X=TLSv1:AES256-SHA:256 CV=no S=21778 id=384a86a39e83be0d9b3a94d1feb3119f@domain.com T="Daily List: Chameleon" for user@example.com';
const EXIM_FIELDS = {
  remote_hostname: 'mailhost.domain.com',
  remote_host: '208.42.54.2',
  remote_port: '51792',
  exim_interface: '67.215.162.175',
  exim_interface_port: '25',
  protocol: 'esmtps',
  exim_msg_size: '21778',
  exim_header_id: '384a86a39e83be0d9b3a94d1feb3119f@domain.com',
  exim_subject: '"Daily List: Chameleon"',
  exim_recipient_email: 'user@example.com',
};

async function filterOnce(pattern: string, message: string, timeout: number): Promise<{ fields: Record<string, unknown>; guarded: number }> {
  const metrics = new MetricsRegistry();
  const o = optionsFromConfig(grok, `timeout_millis => ${timeout}`);
  o.match = { message: pattern };
  const f = await createPlugin(grok, o, makeContext({ metrics }));
  try {
    const [ev] = runFilter(f, [{ message }]);
    return { fields: ev!.fields as Record<string, unknown>, guarded: Number(metrics.snapshot().guarded ?? 0) };
  } finally {
    await f.close?.();
  }
}

for (const timeout of [0, 30000]) {
  const mode = timeout === 0 ? 'direct' : 'worker-guarded';
  test(`repeat (${mode}): EXIM's key=value fields from every part, as Logstash`, async () => {
    const { fields, guarded } = await filterOnce('%{EXIM}', EXIM, timeout);
    for (const [k, v] of Object.entries(EXIM_FIELDS)) assert.equal(fields[k], v, k);
    // EXIM's run of parts is not proven free of runaway backtracking: with a timeout it runs in the worker
    assert.equal(guarded, timeout === 0 ? 0 : 1);
  });

  test(`repeat (${mode}): the table, as the filter sets the fields`, async () => {
    // a long prefix the patterns skip: beyond what matches inline, so the worker's offsets are used too
    const pad = timeout === 0 ? '' : '#'.repeat(70_000);
    for (const [re, text, , want] of CASES) {
      const { fields, guarded } = await filterOnce(re, pad + text, timeout);
      const got = Object.fromEntries(Object.keys(fields).filter((k) => !['message', '@timestamp', '@version'].includes(k)).map((k) => [k, fields[k]]));
      assert.deepEqual(got, want, `${re} on ${text}`);
      assert.equal(guarded, timeout === 0 ? 0 : 1, re);
    }
  });
}
