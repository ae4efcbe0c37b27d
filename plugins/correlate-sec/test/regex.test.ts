import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PerlRegex, translatePerlRegex } from '../src/perl-regex.js';

const m = (re: string, s: string) => new PerlRegex(re).exec(s)?.list ?? null;

test('perl regex: anchors \\A \\z \\Z and $ before a final newline', () => {
  assert.deepEqual(m('\\Aab\\z', 'ab'), ['1']);
  assert.equal(m('\\Aab\\z', 'ab\n'), null);
  assert.deepEqual(m('ab\\Z', 'ab\n'), ['1']);
  assert.deepEqual(m('^ab$', 'ab\n'), ['1']);
  assert.equal(m('^ab$', 'ab\ncd'), null);
  assert.deepEqual(m('(?m)^cd$', 'ab\ncd'), ['1']);
});

test('perl regex: dot matches \\r but not \\n; (?s) lets it match \\n', () => {
  assert.deepEqual(m('a.b', 'a\rb'), ['1']);
  assert.equal(m('a.b', 'a\nb'), null);
  assert.deepEqual(m('(?s)a.b', 'a\nb'), ['1']);
});

test('perl regex: scoped and leading inline modifiers', () => {
  assert.deepEqual(m('(?i)hello (\\w+)', 'HELLO World'), ['World']);
  assert.deepEqual(m('a(?i:b)c', 'aBc'), ['1']);
  assert.equal(m('a(?i:b)c', 'aBC'), null);
  assert.deepEqual(m('(?x) a  b # comment\n c', 'abc'), ['1']);
  assert.deepEqual(m('x(?i)y[a-c]', 'xYB'), ['1']);
});

test('perl regex: possessive and atomic forms keep Perl group numbers', () => {
  assert.equal(m('a++a', 'aaa'), null);
  assert.deepEqual(m('(x)(?>a+)(b)', 'xaab'), ['x', 'b']);
  assert.equal(m('(?>a+)a', 'aaa'), null);
  assert.deepEqual(m('(\\d)\\1', '44'), ['4']);
  const t = translatePerlRegex('(a)(?>b)(c)\\2');
  assert.equal(t.perlGroups, 2);
});

test('perl regex: POSIX classes, \\h, \\Q..\\E as plain letters, no groups gives $1 = 1', () => {
  assert.deepEqual(m('^[[:alpha:]]+[[:digit:]]$', 'abc1'), ['1']);
  assert.deepEqual(m('a\\hb', 'a\tb'), ['1']);
  // sec compiles a pattern read at run time (qr/$pattern/): \Q and \E quote nothing there, they
  // are the letters Q and E (perl -e 'print "Q1x2E" =~ qr/$ARGV[0]/ ? 1 : 0' '\Q1.2\E' gives 1)
  assert.equal(m('\\Q1.2\\E', '1.2'), null);
  assert.deepEqual(m('\\Q1.2\\E', 'Q1x2E'), ['1']);
  assert.deepEqual(m('(?<user>\\w+)@(\\w+)', 'bob@host'), ['bob', 'host']);
  assert.equal(new PerlRegex('(?<user>\\w+)').exec('bob')!.named!.user, 'bob');
});

test('perl regex: unsupported constructs are refused at load', () => {
  assert.throws(() => new PerlRegex('a\\Gb'), /not supported/);
  assert.throws(() => new PerlRegex('(?{ 1 })'), /unsupported/);
});
