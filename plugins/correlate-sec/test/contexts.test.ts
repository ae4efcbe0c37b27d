/** contexts.ts */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Contexts } from '../src/contexts.js';
import type { Action } from '../src/actions.js';

const T0 = 1700000000;
/** A context store on a settable clock whose expiry lists are recorded with what _THIS was. */
function store() {
  const clock = { now: T0 };
  const ran: [Action[], string, string[] | undefined][] = [];
  const c: Contexts = new Contexts(
    () => clock.now,
    (list, desc) => void ran.push([list, desc, c.get('_THIS') && [...c.get('_THIS')!.aliases]]),
  );
  return { c, clock, ran };
}
const LIST: Action[] = [{ op: 'none', a: [] }];

test('a context lives for its lifetime; past it, valid() runs its action list once with it as _THIS, and all its names go', () => {
  const { c, clock, ran } = store();
  c.create('A', 5, LIST, 'desc a');
  c.alias('A', 'B');
  clock.now = T0 + 5;
  assert.equal(c.valid('B'), true);
  clock.now = T0 + 6;
  assert.equal(c.valid('B'), false);
  assert.deepEqual(ran, [[LIST, 'desc a', ['A', 'B']]]);
  assert.equal(c.has('A'), false);
  assert.equal(c.has('_THIS'), false, '_THIS is gone again');
  assert.equal(c.size, 0);
});

test('lifetime 0 never ends; expireAll ends those whose lifetime has passed', () => {
  const { c, clock, ran } = store();
  c.create('FOREVER', 0, LIST, '');
  c.create('SHORT', 1, LIST, 's');
  clock.now = T0 + 100;
  c.expireAll();
  assert.deepEqual([...c.names()], ['FOREVER']);
  assert.equal(ran.length, 1);
});

test('an expiry list that asks about its own context sees it gone and does not run again', () => {
  const clock = { now: T0 };
  let runs = 0;
  const c: Contexts = new Contexts(
    () => clock.now,
    () => {
      runs++;
      assert.equal(c.valid('A'), false);
    },
  );
  c.create('A', 1, LIST, '');
  clock.now = T0 + 2;
  c.valid('A');
  assert.equal(runs, 1);
});

test('create on an existing context restarts it: new lifetime and list, empty store', () => {
  const { c, clock } = store();
  c.create('A', 5, [], '');
  c.store('add', 'A', ['x']);
  clock.now = T0 + 4;
  c.create('A', 5, LIST, 'again');
  assert.deepEqual({ ...c.get('A')!, aliases: [...c.get('A')!.aliases] }, { time: T0 + 4, window: 5, buffer: [], action: LIST, desc: 'again', aliases: ['A'] });
});

test('delete removes every name without the action list; obsolete ends it now, with the list', () => {
  const { c, ran } = store();
  c.create('A', 0, LIST, '');
  c.alias('A', 'A2');
  c.delete('A2');
  assert.equal(c.size, 0);
  assert.deepEqual(ran, []);
  c.create('B', 0, LIST, 'b');
  c.obsolete('B');
  assert.equal(c.has('B'), false);
  assert.deepEqual(ran.map((r) => r[1]), ['b']);
});

test('set: a new lifetime from now, or `-` (undefined) to keep it; an empty list keeps the old one', () => {
  const { c, clock } = store();
  c.create('A', 5, LIST, 'first');
  clock.now = T0 + 3;
  c.set('A', undefined, [], 'ignored');
  assert.deepEqual([c.get('A')!.time, c.get('A')!.window, c.get('A')!.desc], [T0, 5, 'first']);
  c.set('A', 10, [], 'ignored');
  assert.deepEqual([c.get('A')!.time, c.get('A')!.window, c.get('A')!.action], [T0 + 3, 10, LIST]);
  const other: Action[] = [{ op: 'break', a: [] }];
  c.set('A', undefined, other, 'new');
  assert.deepEqual([c.get('A')!.action, c.get('A')!.desc], [other, 'new']);
});

test('alias does not take a name in use; unalias drops one name, the context stays under the others', () => {
  const { c } = store();
  c.create('A', 0, [], '');
  c.create('B', 0, [], '');
  c.alias('A', 'B');
  assert.notEqual(c.get('B'), c.get('A'));
  c.alias('A', 'C');
  c.unalias('A');
  assert.equal(c.has('A'), false);
  assert.deepEqual([...c.get('C')!.aliases], ['C']);
});

test('store: add appends, prepend puts in front, fill replaces; a missing context is created with an infinite lifetime', () => {
  const { c } = store();
  c.store('add', 'S', ['b', 'c']);
  c.store('prepend', 'S', ['a']);
  assert.deepEqual(c.get('S')!.buffer, ['a', 'b', 'c']);
  assert.equal(c.get('S')!.window, 0);
  assert.equal(c.report('S'), 'a\nb\nc\n');
  c.store('fill', 'S', ['z']);
  assert.deepEqual(c.get('S')!.buffer, ['z']);
  c.store('fill', 'S', []);
  assert.equal(c.report('S'), undefined, 'nothing to report in an empty store');
  assert.equal(c.report('NONE'), undefined);
});

test('copy, empty, pop, shift read the store', () => {
  const { c } = store();
  c.store('add', 'S', ['1', '2', '3', '4']);
  assert.equal(c.copy('S', false), '1\n2\n3\n4');
  assert.equal(c.take('S', true), '4');
  assert.equal(c.take('S', false), '1');
  assert.equal(c.copy('S', true), '2\n3');
  assert.equal(c.take('S', true), '', 'an empty store gives an empty line');
  assert.equal(c.take('NONE', true), undefined);
  assert.equal(c.copy('NONE', false), undefined);
});

test('setLifetime counts from the creation time (it may end the context at once); setCreated only moves it later, not past now', () => {
  const { c, clock, ran } = store();
  c.create('A', 100, LIST, 'a');
  clock.now = T0 + 10;
  c.setCreated('A', T0 - 5);
  c.setCreated('A', T0 + 11);
  assert.equal(c.get('A')!.time, T0);
  c.setCreated('A', T0 + 4);
  assert.equal(c.get('A')!.time, T0 + 4);
  c.setLifetime('A', 5);
  assert.equal(c.has('A'), false);
  assert.equal(ran.length, 1);
});

test('the internal context stands under a name while an event is matched; actions leave it alone', () => {
  const { c } = store();
  c.startInternal(T0 - 50);
  c.enterInternal('SEC_INTERNAL_EVENT');
  const ctx = c.get('SEC_INTERNAL_EVENT')!;
  assert.equal(ctx.internal, true);
  assert.equal(ctx.time, T0 - 50);
  c.create('SEC_INTERNAL_EVENT', 5, LIST, '');
  c.store('add', 'SEC_INTERNAL_EVENT', ['x']);
  c.delete('SEC_INTERNAL_EVENT');
  c.set('SEC_INTERNAL_EVENT', 1, LIST, '');
  c.alias('SEC_INTERNAL_EVENT', 'MINE');
  assert.deepEqual([ctx.window, ctx.buffer, c.has('MINE'), c.valid('SEC_INTERNAL_EVENT')], [0, [], false, true]);
  c.leaveInternal('SEC_INTERNAL_EVENT');
  assert.equal(c.size, 0);
  assert.deepEqual([...ctx.aliases], []);
});
