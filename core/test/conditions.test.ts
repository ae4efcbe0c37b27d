import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { BranchNode } from '../src/config/ast.js';
import { compileCondition } from '../src/config/conditions.js';
import { parseConfig } from '../src/config/parser.js';
import { Event } from '../src/event/event.js';

const cond = (text: string) => compileCondition((parseConfig(`filter { if ${text} { x {} } }`, 't').sections[0]!.body[0] as BranchNode).arms[0]!.condition);
const ev = (fields: Record<string, unknown>) => new Event(fields);
const check = (text: string, fields: Record<string, unknown>, expected: boolean) => assert.equal(cond(text)(ev(fields)), expected, `${text} on ${JSON.stringify(fields)}`);

describe('conditions: truthiness', () => {
  it('a field is true when present and neither null nor false', () => {
    check('[a]', { a: 'x' }, true);
    check('[a]', { a: '' }, true);
    check('[a]', { a: 0 }, true);
    check('[a]', { a: [] }, true);
    check('[a]', { a: false }, false);
    check('[a]', { a: null }, false);
    check('[a]', {}, false);
    check('![a]', {}, true);
    check('[a][b]', { a: { b: 1 } }, true);
    check('[a][b]', { a: 'str' }, false);
  });
});

describe('conditions: comparisons', () => {
  it('== compares strings, numbers numerically, never number with string', () => {
    check('[a] == "x"', { a: 'x' }, true);
    check('[a] == 1', { a: 1 }, true);
    check('[a] == 1', { a: 1.0 }, true);
    check('[a] == 1', { a: '1' }, false);
    check('[a] == "1"', { a: 1 }, false);
    check('[a] == [b]', { a: [1, 2], b: [1, 2] }, true);
    check('[a] == [b]', { a: { x: 1 }, b: { x: 1 } }, true);
  });
  it('a missing field equals nothing but another missing field', () => {
    check('[a] == "x"', {}, false);
    check('[a] != "x"', {}, true);
    check('[a] == [b]', {}, true);
  });
  it('ordering needs two numbers or two strings', () => {
    check('[a] < 10', { a: 9 }, true);
    check('[a] < 10', { a: 10 }, false);
    check('[a] <= 10', { a: 10 }, true);
    check('[a] > 10', { a: 10.5 }, true);
    check('[a] >= 10', { a: 9.99 }, false);
    check('[a] < "b"', { a: 'a' }, true);
    check('[a] > "b"', { a: 'a' }, false);
    check('[a] < 10', { a: '9' }, false);
    check('[a] > 10', {}, false);
    check('[a] < 10', {}, false);
    // no order between a number and a string: every operator is false, >= and <= included
    check('[a] >= 10', { a: '10' }, false);
    check('[a] <= 10', { a: '10' }, false);
    check('[a] >= "a"', { a: 'a' }, true);
    check('[a] <= [b]', { a: 3, b: 3 }, true);
  });
});

describe('conditions: regex match', () => {
  it('=~ and !~ match strings; non-strings and missing fields do not match', () => {
    check('[m] =~ /^err/', { m: 'error here' }, true);
    check('[m] =~ /^err/', { m: 'no error' }, false);
    check('[m] !~ /^err/', { m: 'no error' }, true);
    check('[m] =~ /1/', { m: 1 }, false);
    check('[m] =~ /x/', {}, false);
    check('[m] !~ /x/', {}, true);
    check(String.raw`[p] =~ /\/var\/log/`, { p: '/var/log/syslog' }, true);
    check('[m] =~ "^a.c$"', { m: 'abc' }, true);
  });
});

describe('conditions: in', () => {
  it('searches arrays by equality', () => {
    check('"syslog" in [tags]', { tags: ['a', 'syslog'] }, true);
    check('"sys" in [tags]', { tags: ['syslog'] }, false);
    check('"syslog" not in [tags]', { tags: ['x'] }, true);
    check('"syslog" in [tags]', {}, false);
    check('"syslog" not in [tags]', {}, true);
    check('[n] in [1, 2, 3]', { n: 2 }, true);
    check('[n] in [1, 2, 3]', { n: '2' }, false);
    check('[a] in ["x", "y"]', { a: 'y' }, true);
    check('[a] in ["x", "y"]', {}, false);
  });
  it('searches strings by substring and hashes by key', () => {
    check('"foo" in [m]', { m: 'a foo b' }, true);
    check('"bar" in [m]', { m: 'a foo b' }, false);
    check('"k" in [h]', { h: { k: 1 } }, true);
    check('"z" in [h]', { h: { k: 1 } }, false);
  });
});

describe('conditions: boolean operators', () => {
  it('and, or, xor, nand, !, parentheses', () => {
    check('[a] and [b]', { a: 1, b: 1 }, true);
    check('[a] and [b]', { a: 1 }, false);
    check('[a] or [b]', { b: 1 }, true);
    check('[a] xor [b]', { a: 1, b: 1 }, false);
    check('[a] xor [b]', { a: 1 }, true);
    check('[a] nand [b]', { a: 1, b: 1 }, false);
    check('[a] nand [b]', { a: 1 }, true);
    check('!([a] or [b])', {}, true);
    check('[a] or [b] and [c]', { a: 1 }, true); // and binds tighter
    check('([a] or [b]) and [c]', { a: 1 }, false);
    check('"x" in [tags] and [n] > 1', { tags: ['x'], n: 2 }, true);
  });
});
