/** correlation/kind.ts and the table of types (correlation/index.ts). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { keyed, onMatch } from '../src/correlation/kind.js';
import { TYPES } from '../src/correlation/index.js';
import { opKey } from '../src/runtime.js';
import type { RuleType } from '../src/rules.js';
import { testRuntime, RULE_FILE, T0 } from './rt.js';

const RULES = `type=Single\nptype=RegExp\npattern=go (\\w+)\ncontinue=TakeNext\ndesc=go $1\naction=none\n\ntype=Single\nptype=SubStr\npattern=x\ndesc=x\naction=none\n`;

test('onMatch: no match is the next rule; a match is counted, fires with condition 0, and goes on at continue; true from fire ends the search', () => {
  const t = testRuntime(RULES);
  const calls: [string | undefined, number][] = [];
  let end = false;
  const match = onMatch((_rt, _r, v, cond) => (calls.push([v[1], cond]), end));
  t.event('stop');
  assert.equal(match(t.engine, t.rules[0]!, 0), 1);
  assert.deepEqual(calls, []);
  assert.equal(t.rules[0]!.matchCount, 0);
  t.event('go on');
  assert.equal(match(t.engine, t.rules[0]!, 0), 1);
  assert.equal(match(t.engine, t.rules[1]!, 1), 2, 'no match: the next rule');
  end = true;
  t.event('go x');
  assert.equal(match(t.engine, t.rules[1]!, 1), -1);
  assert.deepEqual(calls, [['on', 0], [undefined, 0]]);
  assert.equal(t.rules[0]!.matchCount, 1);
});

test('keyed: the description with the match values, the operation key of rule file, rule number and description, the time now', () => {
  const t = testRuntime(RULES);
  t.at(7);
  t.event('go far');
  const got: unknown[] = [];
  keyed((_rt, _r, _v, desc, key, time, cond) => void got.push(desc, key, time, cond))(t.engine, t.rules[0]!, t.engine.matchCond(t.rules[0]!.c1)!, 0);
  assert.deepEqual(got, ['go far', opKey(RULE_FILE, 0, 'go far'), T0 + 7, 0]);
  assert.equal(opKey(RULE_FILE, 0, 'go far'), '/rules/t.sec | 0 | go far');
});

test('the table has every rule type; the types that keep operations, and only they, have an expiry', () => {
  const all: RuleType[] = ['Single', 'SingleWithScript', 'SingleWithSuppress', 'Pair', 'PairWithWindow', 'SingleWithThreshold', 'SingleWith2Thresholds', 'EventGroup', 'Suppress', 'Calendar', 'Jump'];
  assert.deepEqual(Object.keys(TYPES).sort(), [...all].sort());
  const withOps = all.filter((k) => TYPES[k].expire);
  assert.deepEqual(withOps, ['SingleWithSuppress', 'Pair', 'PairWithWindow', 'SingleWithThreshold', 'SingleWith2Thresholds', 'EventGroup']);
  assert.deepEqual(all.filter((k) => TYPES[k].moveWindow), ['SingleWithThreshold', 'SingleWith2Thresholds', 'EventGroup']);
});
