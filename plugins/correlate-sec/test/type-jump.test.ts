/** correlation/jump.ts */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { jump } from '../src/correlation/jump.js';
import { testRuntime } from './rt.js';

const SETS: [string, string][] = [
  ['a.sec', `type=Options\njoincfset=set_a\nprocallin=no\n\ntype=Single\nptype=RegExp\npattern=to (\\w+)\ndesc=in a\naction=write - a saw $1\n`],
  ['b.sec', `type=Options\njoincfset=set_b\nprocallin=no\n\ntype=Single\nptype=SubStr\npattern=to\ncontinue=EndMatch\ndesc=in b\naction=write - b ends it\n`],
  ['loop.sec', `type=Options\njoincfset=set_loop\nprocallin=no\n\ntype=Jump\nptype=SubStr\npattern=to\ncfset=set_loop\n`],
];

test('Jump: the search goes on in the file set named by the match ($1, constset=no), then at the rule\'s continue', () => {
  const t = testRuntime(`type=Jump\nptype=RegExp\npattern=to (\\w+)\ncfset=set_$1\nconstset=no\n`, { more: SETS });
  const r = t.rules[0]!;
  t.event('to a');
  assert.equal(jump.match(t.engine, r, 0), 1);
  assert.deepEqual(t.out, ['a saw a']);
  assert.equal(r.matchCount, 1);
});

test('Jump: a file of the set whose search ends (EndMatch) ends the whole search', () => {
  const t = testRuntime(`type=Jump\nptype=RegExp\npattern=to (\\w+)\ncfset=set_$1\nconstset=no\n`, { more: SETS });
  t.event('to b');
  assert.equal(jump.match(t.engine, t.rules[0]!, 0), -1);
  assert.deepEqual(t.out, ['b ends it']);
});

test('Jump: by default (constset=yes) the set names are kept as written', () => {
  const t = testRuntime(`type=Jump\nptype=RegExp\npattern=to (\\w+)\ncfset=set_$1\n`, { more: SETS });
  t.event('to a');
  jump.match(t.engine, t.rules[0]!, 0);
  assert.deepEqual(t.out, []);
  assert.deepEqual(t.logs, ["warn: Can't jump to fileset 'set_$1' from /rules/t.sec, set does not exist"]);
});

test('Jump: a set that no file joined, and a set already on the way (a loop), are skipped with a warning', () => {
  const t = testRuntime(`type=Jump\nptype=RegExp\npattern=to (\\w+)\ncfset=set_$1 set_loop set_a\nconstset=no\n`, { more: SETS });
  t.event('to nowhere');
  assert.equal(jump.match(t.engine, t.rules[0]!, 0), 1);
  assert.deepEqual(t.logs, ["warn: Can't jump to fileset 'set_nowhere' from /rules/t.sec, set does not exist", "warn: Can't jump to fileset 'set_loop' from /rules/loop.sec, loop detected"]);
  assert.deepEqual(t.out, ['a saw nowhere'], 'the sets after them are searched');
});

test('Jump: no match goes on to the next rule; it keeps no operations', () => {
  const t = testRuntime(`type=Jump\nptype=SubStr\npattern=to\ncfset=set_a\n`, { more: SETS });
  t.event('from');
  assert.equal(jump.match(t.engine, t.rules[0]!, 0), 1);
  assert.equal(t.rules[0]!.matchCount, 0);
  assert.equal(jump.expire, undefined);
});
