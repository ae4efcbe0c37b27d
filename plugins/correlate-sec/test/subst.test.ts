/** subst.ts */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ActionVars, EMPTY, hasKeys, mapValues, substActions, substRegexp, substString, volatile, withVars, type Vars } from '../src/subst.js';
import { parseActionList } from '../src/actions.js';

const vars = (o: Record<string, string | undefined>): Vars => Object.assign(Object.create(null), o);
const none = new Map<string, Vars>();

test('substString: $N, ${N}, $+{name}, $$, unset variables as empty text', () => {
  const v = vars({ 0: 'all', 1: 'one', 12: 'twelve', user: 'bob' });
  assert.equal(substString('$1 ${1}2 $12 $+{user} $$1 $9 $+{none}.', v, '$', none), 'one one2 twelve bob $1  .');
  assert.equal(substString('no variables', v, '$', none), 'no variables');
});

test('substString: $:{entry:name} from the pattern match cache; the % token for the second half of a Pair', () => {
  const cache = new Map<string, Vars>([['login', vars({ user: 'ann', 1: 'x' })]]);
  assert.equal(substString('$:{login:user} $:{login:1} $:{gone:user}|', EMPTY, '$', cache), 'ann x |');
  assert.equal(substString('%1 and $1 %%', vars({ 1: 'v' }), '%', none), 'v and $1 %');
});

test('withVars and volatile leave rule text alone when the match set no variables', () => {
  const list = parseActionList('write - $1', { conffile: 'f', ruleId: 0 });
  assert.equal(withVars('$1', EMPTY, none), '$1');
  assert.equal(volatile(list, true, EMPTY, none), list);
  assert.equal(volatile(list, false, vars({ 1: 'x' }), none), list, 'a list without variables is not copied');
  assert.deepEqual(volatile(list, true, vars({ 1: 'x' }), none)[0]!.a, ['-', 'x']);
  assert.equal(hasKeys(EMPTY), false);
  assert.equal(hasKeys(vars({})), true);
});

test('substRegexp quotes the values so that they match as literal text', () => {
  assert.equal(substRegexp('^up $1$', vars({ 1: 'a.b(c)' }), none), '^up a\\.b\\(c\\)$');
});

test('substActions: only the arguments that take variables, nested lists too, values with % masked as %%', () => {
  const list = parseActionList('assign %x $1; write $1.log 50$1; if %x ( create C_$1 ) else ( none )', { conffile: 'f', ruleId: 0 });
  const out = substActions(list, vars({ 1: '5%' }), '$', none);
  assert.deepEqual(out[0]!.a, ['x', '5%%']);
  assert.deepEqual(out[1]!.a, ['5%%.log', '505%%']);
  assert.deepEqual(out[2]!.l![0]![0]!.a.slice(0, 1), ['C_5%%']);
  assert.deepEqual(list[1]!.a, ['$1.log', '50$1'], 'the rule\'s list is not changed');
});

test('mapValues keeps undefined values undefined', () => {
  assert.deepEqual({ ...mapValues(vars({ a: 'x', b: undefined }), (s) => s + '!') }, { a: 'x!', b: undefined });
});

test('ActionVars.expand: %s the description, %u and %t the time, %{name} and %name, %% and the character variables; unset is empty', () => {
  process.env.TZ = 'UTC';
  let now = 1700000000;
  const v = new ActionVars(() => now);
  v.set('n', '7');
  assert.equal(v.expand('%s at %u (%t) n=%n %{n}x %% %none|', 'desc'), 'desc at 1700000000 (Tue Nov 14 22:13:20 2023) n=7 7x % |');
  assert.equal(v.expand('a%{.nl}b%.tab%{.chr1}', ''), 'a\nb\t\u0001');
  assert.equal(v.expand('%.hmsstr', ''), '22:13:20');
  assert.equal(v.expand('%.nlx', ''), '', 'a name runs to the end of the word');
  now += 61;
  assert.equal(v.expand('%.hmsstr %.monstr %.year', ''), '22:14:21 Nov 2023', 'the time variables follow the clock');
  assert.equal(v.expand('plain text', 'd'), 'plain text');
});
