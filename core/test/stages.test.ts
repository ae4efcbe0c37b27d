import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import pino from 'pino';
import type { PluginNode } from '../src/config/ast.js';
import { parseConfig } from '../src/config/parser.js';
import { Event } from '../src/event/event.js';
import { makeQueue } from '../src/runtime/make-queue.js';
import { MemoryQueue } from '../src/runtime/queue.js';
import { pluginsIn } from '../src/runtime/plan.js';
import { compileRouter, signature } from '../src/runtime/stages.js';
import { tempDir } from './helpers.js';

/** The parts of compiling a plan that need no plugin and no I/O. */
describe('the output router', () => {
  const ast = parseConfig(
    `output {
       if [kind] == "a" { x { id => "x" } } else if "t" in [tags] { y { id => "y" } } else { z { id => "z" } }
       all { id => "all" }
       if [kind] == "a" and [n] > 1 { x2 { id => "x2" } }
     }`,
    't',
  );
  const nodes = pluginsIn(ast.sections[0]!.body);
  const index = new Map<PluginNode, number>(nodes.map((n, i) => [n, i]));
  const route = compileRouter(ast.sections[0]!.body, index);
  const names = nodes.map((n) => n.name);
  const sent = (fields: Record<string, unknown>) => {
    const per: Event[][] = nodes.map(() => []);
    route(new Event(fields), per);
    return names.filter((_, i) => per[i]!.length > 0);
  };

  it('sends each event to the first arm that holds and to every plugin outside branches', () => {
    assert.deepEqual(sent({ kind: 'a', n: 2 }), ['x', 'all', 'x2']);
    assert.deepEqual(sent({ kind: 'a', n: 1 }), ['x', 'all']);
    assert.deepEqual(sent({ kind: 'b', tags: ['t'] }), ['y', 'all']);
    assert.deepEqual(sent({ kind: 'b' }), ['z', 'all']);
  });
});

describe('plugin signatures (what a reload carries over)', () => {
  const plan = (options: Record<string, unknown>, loc = 1) =>
    ({ kind: 'filter', def: { name: 'mutate' }, id: 'm', options, common: {}, node: { loc: { file: 'f', line: loc, column: 1 } } }) as never;
  it('ignore where the block sits, not what it says', () => {
    assert.equal(signature(plan({ a: 1 }, 1)), signature(plan({ a: 1 }, 9)));
    assert.notEqual(signature(plan({ a: 1 })), signature(plan({ a: 2 })));
  });
});

describe('the queue queue.type names', () => {
  const logger = pino({ level: 'silent' });
  it('is in memory by default, 1000 events when queue.max_events is 0', () => {
    const q = makeQueue({ 'queue.type': 'memory', 'queue.max_events': 0 }, '/nonexistent', 'main', logger, 125);
    assert.ok(q instanceof MemoryQueue);
    assert.equal(q.capacity, 1000);
  });
  it('is on disk under path.data/queue/<id> when persisted', () => {
    const t = tempDir();
    try {
      const q = makeQueue({ 'queue.type': 'persisted', 'queue.max_events': 0, 'queue.max_bytes': '64mb', 'queue.checkpoint.writes': 1024 }, t.dir, 'p1', logger, 125);
      assert.equal(q.constructor.name, 'PersistedQueue');
      (q as unknown as { dispose(): void }).dispose();
    } finally {
      t.cleanup();
    }
  });
  it('refuses another type', () => {
    assert.throws(() => makeQueue({ 'queue.type': 'disk', 'queue.max_events': 0 }, '/x', 'main', logger, 125), /queue.type must be memory or persisted/);
  });
});
