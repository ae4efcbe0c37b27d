import type { Statement } from '../config/ast.js';
import { compileCondition } from '../config/conditions.js';
import type { Event } from '../event/event.js';
import type { FilterInstance } from '../plugin/define.js';
import type { Metrics } from '../plugin/metrics.js';
import { compileDecorator } from './common-options.js';
import type { PipelinePlan, PluginPlan } from './plan.js';

/**
 * A filter or correlate section compiled into one closure per statement: a branch tests its arms'
 * conditions, a plugin runs its filter, then its common decorations, then the rest. The executor
 * builds its chain with this and so does each filter worker thread, so both run a section alike.
 */
export type Next = (e: Event) => void;

export interface ChainHost {
  /** The plugin's instance (created, or carried over a reload). */
  take(p: PluginPlan): Promise<FilterInstance>;
  /** The plugin's metrics scope. */
  metrics(p: PluginPlan): Metrics;
  /** Told of each filter with where its emitted (or flushed) events continue. */
  added(plan: PluginPlan, instance: FilterInstance, next: Next): void;
}

export async function compileChain(body: readonly Statement[], next: Next, plan: PipelinePlan, host: ChainHost): Promise<Next> {
  let cont = next;
  for (let i = body.length - 1; i >= 0; i--) cont = await compileStatement(body[i]!, cont, plan, host);
  return cont;
}

async function compileStatement(s: Statement, next: Next, plan: PipelinePlan, host: ChainHost): Promise<Next> {
  if (s.type === 'branch') {
    const arms: { test: (e: Event) => boolean; body: Next }[] = [];
    for (const a of s.arms) arms.push({ test: compileCondition(a.condition), body: await compileChain(a.body, next, plan, host) });
    const otherwise = s.otherwise ? await compileChain(s.otherwise, next, plan, host) : next;
    if (arms.length === 1) {
      const { test, body } = arms[0]!;
      return (e) => (test(e) ? body(e) : otherwise(e));
    }
    return (e) => {
      for (const arm of arms) if (arm.test(e)) return arm.body(e);
      otherwise(e);
    };
  }
  const p = plan.plugins.get(s)!;
  const instance = await host.take(p);
  host.added(p, instance, next);
  const decorate = compileDecorator(p.common, p.kind);
  const counters = host.metrics(p).scope('events');
  const cin = counters.counter('in');
  const cout = counters.counter('out');
  const emit = (e: Event) => {
    cout.inc();
    next(e);
  };
  // a filter may write fields directly: its events' cached JSON text is dropped unless it only reads
  const readsOnly = p.def.readsOnly === true;
  return (e) => {
    cin.inc();
    const matched = instance.filter(e, emit);
    if (!readsOnly) e.changed();
    if (e.cancelled) return;
    if (matched !== false && decorate !== undefined) decorate(e);
    cout.inc();
    next(e);
  };
}
