import type { PluginNode, Statement } from '../config/ast.js';
import { compileCondition } from '../config/conditions.js';
import type { Event } from '../event/event.js';
import type { Clock } from '../plugin/clock.js';
import type { FilterInstance, InputInstance, OutputInstance, PluginContext } from '../plugin/define.js';
import type { Counter } from '../plugin/metrics.js';
import { compileChain, type ChainHost, type Next } from './chain.js';
import { threadPlan, type ThreadPlan } from './filter-workers.js';
import { pluginsIn, type PipelinePlan, type PluginPlan } from './plan.js';
import type { Settings } from './settings.js';

/**
 * Compiling a checked plan into what the executor runs: the plugin instances (created, or carried
 * over a reload by signature), the filter and correlate sections as closure chains, the output
 * router. Nothing here reads or writes anything but the plugins' own create(); the executor
 * (pipeline.ts) owns the queue, the batches and the timers.
 */
export interface RunningInput {
  plan: PluginPlan;
  instance: InputInstance;
  running?: Promise<void>;
}

export interface RunningFilter {
  plan: PluginPlan;
  instance: FilterInstance;
  /** Where events it emits (or flushes) continue. */
  next: Next;
}

export interface RunningOutput {
  plan: PluginPlan;
  instance: OutputInstance;
  index: number;
  tail: Promise<void>;
  received: Counter;
  millis: Counter;
}

/** One compiled configuration: instances and the closures that connect them. */
export interface Stages {
  inputs: RunningInput[];
  filters: RunningFilter[];
  /** Filters with a `prepare` hook. */
  preparers: FilterInstance[];
  outputs: RunningOutput[];
  /** The filter and correlate sections, for a batch filtered on this thread. */
  process: Next;
  /** The correlate section alone, for events coming back from filter worker threads. */
  correlate: Next;
  route: (e: Event, batches: Event[][]) => void;
  threads: ThreadPlan;
}

export type Instance = InputInstance | FilterInstance | OutputInstance;

/** What compiling needs from the executor. */
export interface StageServices {
  context(plan: PluginPlan): PluginContext;
  /** Told of each instance and its signature (a reload pools instances by it). */
  remember(instance: Instance, signature: string): void;
  /** Where events leaving the correlate section go. */
  collect: Next;
  settings: Settings;
  clock: Clock;
}

/**
 * Compiles a plan into stages, taking instances from `reuse` (signature → instances) where
 * the plugin is unchanged. On failure, closes what it created and rethrows.
 */
export async function compileStages(plan: PipelinePlan, reuse: Map<string, Instance[]>, s: StageServices): Promise<Stages> {
  const created: Instance[] = [];
  const take = async <T extends Instance>(p: PluginPlan): Promise<T> => {
    const sig = signature(p);
    const pool = reuse.get(sig);
    const old = pool?.shift();
    const inst = (old ?? (await p.def.create(p.options as never, s.context(p)))) as T;
    if (!old) created.push(inst);
    s.remember(inst, sig);
    return inst;
  };
  try {
    const stmts = (kind: string) => plan.ast.sections.filter((s) => s.kind === kind).flatMap((s) => s.body);
    const inputs: RunningInput[] = [];
    for (const node of pluginsIn(stmts('input'))) {
      const p = plan.plugins.get(node)!;
      inputs.push({ plan: p, instance: await take<InputInstance>(p) });
    }
    const outputNodes = pluginsIn(stmts('output'));
    const outputs: RunningOutput[] = [];
    for (const [index, node] of outputNodes.entries()) {
      const p = plan.plugins.get(node)!;
      const m = s.context(p).metrics.scope('events');
      outputs.push({ plan: p, instance: await take<OutputInstance>(p), index, tail: Promise.resolve(), received: m.counter('in'), millis: m.counter('duration_in_millis') });
    }
    const route = compileRouter(stmts('output'), new Map(outputNodes.map((n, i) => [n, i])));
    const filters: RunningFilter[] = [];
    const host: ChainHost = {
      take: (p) => take<FilterInstance>(p),
      metrics: (p) => s.context(p).metrics,
      added: (p, instance, next) => void filters.push({ plan: p, instance, next }),
    };
    const correlate = await compileChain(stmts('correlate'), s.collect, plan, host);
    const filterCount = filters.length;
    const process = await compileChain(stmts('filter'), correlate, plan, host);
    const preparers = filters.filter((f) => typeof f.instance.prepare === 'function').map((f) => f.instance);
    // the filter section's plugins (compiled after correlate's, so they follow them in `filters`)
    const filterSection = filters.slice(filterCount);
    return { inputs, filters, preparers, outputs, process, correlate, route, threads: threadPlan(plan, filterSection, s.settings, s.clock) };
  } catch (e) {
    for (const inst of created) await closeInstance(inst).catch(() => {});
    throw e;
  }
}

export async function closeInstance(inst: Instance): Promise<void> {
  const c = (inst as { close?: () => unknown }).close;
  if (typeof c === 'function') await c.call(inst);
}

/** What makes two plugin blocks the same plugin, for carrying instances over a reload. */
export function signature(p: PluginPlan): string {
  const strip = (_k: string, v: unknown) => (_k === 'loc' ? undefined : v);
  return JSON.stringify([p.kind, p.def.name, p.id, p.options, p.common, p.codec?.def.name, p.codec?.options, p.fingerprint], strip);
}

/** The output section as one function that appends each event to the batch of every output it reaches. */
export function compileRouter(body: Statement[], index: Map<PluginNode, number>): (e: Event, batches: Event[][]) => void {
  const compile = (stmts: Statement[]): ((e: Event, b: Event[][]) => void) => {
    const steps = stmts.map((s) => {
      if (s.type === 'plugin') {
        const i = index.get(s)!;
        return (e: Event, b: Event[][]) => void b[i]!.push(e);
      }
      const arms = s.arms.map((a) => ({ test: compileCondition(a.condition), body: compile(a.body) }));
      const otherwise = s.otherwise ? compile(s.otherwise) : undefined;
      return (e: Event, b: Event[][]) => {
        for (const arm of arms) if (arm.test(e)) return arm.body(e, b);
        otherwise?.(e, b);
      };
    });
    return (e, b) => {
      for (const step of steps) step(e, b);
    };
  };
  return compile(body);
}
