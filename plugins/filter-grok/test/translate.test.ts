import { test } from 'node:test';
import assert from 'node:assert/strict';
import { translate, UntranslatableError } from '../src/index.js';

/** Compiles an Oniguruma source and returns the first match text (or null). */
function m(src: string, input: string): string | null {
  const t = translate(src, 'test');
  return new RegExp(t.source, t.flags).exec(input)?.[0] ?? null;
}

test('translate: atomic group (?>...) never gives back', () => {
  assert.equal(m('(?>a+)a', 'aaaa'), null);
  assert.equal(m('(?:a+)a', 'aaaa'), 'aaaa');
  assert.equal(m('(?>\\d\\d){1,2}', '2024'), '2024');
});

test('translate: possessive quantifiers *+ ++ ?+', () => {
  assert.equal(m('a*+a', 'aaa'), null);
  assert.equal(m('"[^"]++"', '"abc"'), '"abc"');
  assert.equal(m('x?+x', 'x'), null);
});

test('translate: {n,m}+ is a nested quantifier in Ruby, not possessive', () => {
  assert.equal(m('a{1,2}+b', 'aaab'), 'aaab');
});

test('translate: nested quantifier .?* (SHOREWALL) compiles and repeats', () => {
  assert.equal(m('A.?*B', 'AxyzB'), 'AxyzB');
});

test('translate: \\A \\z \\Z anchors', () => {
  assert.equal(m('\\Aab', 'xab'), null);
  assert.equal(m('\\Aab', 'ab\nab'), 'ab');
  assert.equal(m('b\\z', 'ab\n'), null);
  assert.equal(m('b\\Z', 'ab\n'), 'b');
  assert.equal(m('b\\Z', 'ab\n\n'), null);
});

test('translate: \\h and \\H are hex digit classes', () => {
  assert.equal(m('\\h+', 'zz09afAFg'), '09afAF');
  assert.equal(m('\\H+', '09zz'), 'zz');
});

test('translate: POSIX bracket classes are Unicode', () => {
  assert.equal(m('[[:alpha:]]+', '12Čýé3'), 'Čýé');
  assert.equal(m('[[:digit:]]+', 'x٣4'), '٣4');
  assert.equal(m('[[:^alpha:]]+', 'ab12cd'), '12');
  assert.equal(m('[[:xdigit:]]+', 'zzBEEFzz'), 'BEEF');
});

test('translate: nested classes and intersections', () => {
  assert.equal(m('[[[:alnum:]]_%]+', '#a_%1#'), 'a_%1');
  assert.equal(m('[a-z&&[^aeiou]]+', 'aabcde'), 'bcd');
  assert.equal(m('[^[a-c]x]+', 'abxdef'), 'def');
});

test('translate: inline flags (?i) (?i:...) (?-m) (?x)', () => {
  assert.equal(m('(?i)hello', 'say HeLLo'), 'HeLLo');
  assert.equal(m('a(?i:b)c', 'aBc aBC'), 'aBc');
  assert.equal(m('(?i)[a-c]+', 'xABCx'), 'ABC');
  assert.equal(m('(?-m)a.b', 'a\nb'), null);
  assert.equal(m('(?x) a b  # comment\n c', 'abc'), 'abc');
  assert.equal(m('(?m)a.b', 'a\nb'), 'a\nb');
});

test('translate: dot matches newline (Ruby MULTILINE), ^ and $ are line anchors on \\n only', () => {
  assert.equal(m('a.b', 'a\nb'), 'a\nb');
  assert.equal(m('^b', 'a\nb'), 'b');
  assert.equal(m('a$', 'a\nb'), 'a');
  assert.equal(m('a$', 'a\rb'), null);
  assert.equal(m('^b', 'a\rb'), null);
  assert.equal(m('a.b', 'a\u2028b'), 'a\u2028b');
});

test('translate: \\w \\d \\s are ASCII, \\b is Unicode', () => {
  assert.equal(m('\\w+', 'ñandú x'), 'and');
  assert.equal(m('\\d+', '٣٤5'), '5');
  assert.equal(m('\\s', '\u00a0'), null);
  assert.equal(m('\\s', '\u000b'), '\u000b');
  assert.equal(m('\\b\\w+\\b', 'josé'), null);
  assert.equal(m('\\bé', 'é'), 'é');
  assert.equal(m('x\\B', 'xé'), 'x');
});

test('translate: named groups with any name go to a side table, duplicates in first-appearance order', () => {
  const t = translate('(?<WORD:t>\\w+) (?<NUMBER:[a][b]:int>\\d+) (?<WORD:t>\\w+)', 'test');
  assert.deepEqual(
    t.names.map((n) => [n.name, n.indices]),
    [
      ['WORD:t', [1, 3]],
      ['NUMBER:[a][b]:int', [2]],
    ],
  );
  const r = new RegExp(t.source, t.flags).exec('a 1 b')!;
  assert.deepEqual([r[1], r[2], r[3]], ['a', '1', 'b']);
});

test('translate: plain groups do not capture when the regex has named groups', () => {
  const t = translate('(a)(?<x>b)', 'test');
  assert.equal(t.groups.filter(Boolean).length, 1);
  assert.equal(new RegExp(t.source, t.flags).exec('ab')![1], 'b');
});

test('translate: numbered backreferences without named groups', () => {
  assert.equal(m('(a|b)\\1', 'xabba'), 'bb');
});

test('translate: escapes JS would reject in u-mode are emitted as literals', () => {
  assert.equal(m('\\"\\:\\-\\<', 'x":-<'), '":-<');
  assert.equal(m('a{,2}b', 'aab'), 'aab');
  assert.equal(m('x{y}', 'x{y}'), 'x{y}');
  assert.equal(m('\\x41\\101\\u0042', 'AAB'), 'AAB');
});

test('translate: untranslatable constructs are refused with the pattern name', () => {
  for (const src of ['(?<a>x)\\g<a>', '(?~abc)', 'a\\Kb', '(?(1)a|b)', '\\X']) {
    assert.throws(() => translate(src, '"MYPATTERN"'), (e: unknown) => e instanceof UntranslatableError && /MYPATTERN/.test((e as Error).message), src);
  }
});

test('translate: required literal for the indexOf pre-check only comes from mandatory, case-sensitive text', () => {
  assert.equal(translate('\\[Classification: (?<c>.*?)\\]', 't').requiredLiteral, '[Classification: ');
  assert.equal(translate('ab(?:xyz)?c', 't').requiredLiteral, 'ab');
  assert.equal(translate('(?:abc|abd)', 't').requiredLiteral, undefined);
  assert.equal(translate('(?i)abcdef', 't').requiredLiteral, undefined);
  assert.equal(translate('(?=foo)x', 't').requiredLiteral, 'x');
});
