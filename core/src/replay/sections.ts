import type { Logger } from 'pino';
import type { Statement } from '../config/ast.js';
import type { Event } from '../event/event.js';
import { SystemClock } from '../plugin/clock.js';
import type { FilterInstance, OutputInstance, PendingWrite, PluginContext } from '../plugin/define.js';
import type { MetricsRegistry } from '../plugin/metrics.js';
import { compileChain, type ChainHost, type Next } from '../runtime/chain.js';
import { pluginsIn, type PipelinePlan, type PluginPlan } from '../runtime/plan.js';
import { pluginContext } from '../runtime/plugin-context.js';
import type { Settings } from '../runtime/settings.js';
import { closeInstance, compileRouter } from '../runtime/stages.js';
import type { EventClock } from './clock.js';

/**
 * A config's filter and correlate sections on event time, for `pipeline test` and `pipeline
 * replay`: compiled with the executor's own pieces (compileChain, the plugin contexts, the output
 * router), with a step between the two sections that moves the clock to each event's `@timestamp`
 * as the filters left it. The clock never goes back: an event older than the clock's second is
 * counted as late and correlated at the current time. Inputs are never created; outputs only when
 * asked (`replay --outputs`), and on the wall clock, which their timers (retries, flushes) need. Every filter with a `flush` gets its flush timer on the event clock,
 * as the executor arms it on the wall clock, so SEC's timer pass runs once per second of event time.
 */
export interface SectionOptions {
  plan: PipelinePlan;
  settings: Settings;
  workingDir: string;
  dataDir: string;
  logger: Logger;
  metrics: MetricsRegistry;
  clock: EventClock;
  /** Each event leaving the filter section, before the clock moves to it; false keeps it from the correlate section. */
  filtered?(e: Event): boolean | void;
  /** Each event leaving the correlate section (the events that went through, and those rules raised). */
  collected?(e: Event): void;
  /** May wrap a plugin's context before its create() (replay watches SEC's per-rule counters). */
  context?(ctx: PluginContext, p: PluginPlan): PluginContext;
  /** Around each step that can reach the correlate section: one event, one timer's flush (a timer firing while the clock moves to an event nests in that event's step). */
  step?: { begin(): void; end(): void };
  /** Create the output section's plugins, and route collected events to them with `deliver`. */
  outputs?: boolean;
}

interface Flushable {
  plan: PluginPlan;
  instance: FilterInstance;
  next: Next;
}

interface Output {
  plan: PluginPlan;
  instance: OutputInstance;
}

const floorSecond = (ms: number) => Math.floor(ms / 1000) * 1000;

export class Sections {
  /** Events older than the clock's second when they left the filter section. */
  late = 0;
  private instances: (FilterInstance | OutputInstance)[] = [];
  private filterSection: Flushable[] = [];
  private correlateSection: Flushable[] = [];
  private preparers: FilterInstance[] = [];
  private outputs: Output[] = [];
  private route?: (e: Event, batches: Event[][]) => void;
  private pendingOut: Event[] = [];
  private writes: Promise<void>[] = [];
  private process!: Next;
  private readonly abort = new AbortController();
  private wallClock?: SystemClock;

  private constructor(private readonly o: SectionOptions) {}

  static async build(o: SectionOptions): Promise<Sections> {
    const s = new Sections(o);
    try {
      await s.compile();
    } catch (e) {
      await s.close().catch(() => {});
      throw e;
    }
    return s;
  }

  private contextFor(p: PluginPlan): PluginContext {
    const o = this.o;
    // outputs deliver on the wall clock (connect timeouts, retries, flush intervals): event time is the sections' alone
    const clock = p.kind === 'output' ? (this.wallClock ??= new SystemClock()) : o.clock;
    const ctx = pluginContext(
      { logger: o.logger, clock, metrics: o.metrics, dataDir: o.dataDir, workingDir: o.workingDir, signal: this.abort.signal, pipelineId: String(o.settings['pipeline.id'] ?? 'main'), settings: o.settings },
      p,
    );
    return o.context ? o.context(ctx, p) : ctx;
  }

  private async compile(): Promise<void> {
    const { plan, clock } = this.o;
    const stmts = (kind: string): Statement[] => plan.ast.sections.filter((x) => x.kind === kind).flatMap((x) => x.body);
    let into = this.correlateSection;
    const host: ChainHost = {
      take: async (p) => {
        const inst = (await p.def.create(p.options as never, this.contextFor(p))) as FilterInstance;
        this.instances.push(inst);
        return inst;
      },
      metrics: (p) => this.contextFor(p).metrics,
      added: (p, instance, next) => void into.push({ plan: p, instance, next }),
    };
    const collected = this.o.collected;
    const wantOutputs = this.o.outputs === true;
    const collect: Next = (e) => {
      collected?.(e);
      if (wantOutputs) this.pendingOut.push(e);
    };
    const correlate = await compileChain(stmts('correlate'), collect, plan, host);
    const filtered = this.o.filtered;
    const between: Next = (e) => {
      if (filtered?.(e) === false) return;
      const t = e.timestamp.ms;
      if (!clock.started) clock.start(floorSecond(t));
      const now = clock.now();
      if (t >= now) clock.advanceTo(t);
      else if (floorSecond(t) < floorSecond(now)) this.late++;
      correlate(e);
    };
    into = this.filterSection;
    this.process = await compileChain(stmts('filter'), between, plan, host);
    this.preparers = this.filterSection.filter((f) => typeof f.instance.prepare === 'function').map((f) => f.instance);
    // flush timers, as the executor arms them (pipeline.ts armFlushTimers), on the event clock
    for (const f of [...this.filterSection, ...this.correlateSection]) {
      const every = f.plan.def.flushIntervalMs ?? (f.plan.common.periodic_flush ? 5000 : undefined);
      if (typeof f.instance.flush === 'function' && every) clock.setInterval(() => this.inStep(() => f.instance.flush!(f.next, false)), every);
    }
    if (wantOutputs) {
      const nodes = pluginsIn(stmts('output'));
      for (const node of nodes) {
        const p = plan.plugins.get(node)!;
        const instance = (await p.def.create(p.options as never, this.contextFor(p))) as OutputInstance;
        this.instances.push(instance);
        this.outputs.push({ plan: p, instance });
      }
      this.route = compileRouter(stmts('output'), new Map(nodes.map((n, i) => [n, i])));
    }
  }

  private inStep(fn: () => void): void {
    const step = this.o.step;
    if (step === undefined) return fn();
    step.begin();
    try {
      fn();
    } finally {
      step.end();
    }
  }

  /** Runs one batch through the filter and correlate sections, in order (filters' `prepare` first, as the executor does). */
  run(batch: Event[]): void {
    const preparers = this.preparers;
    for (let i = 0; i < preparers.length; i++) preparers[i]!.prepare!(batch);
    const process = this.process;
    const step = this.o.step;
    if (step === undefined) for (let i = 0; i < batch.length; i++) process(batch[i]!);
    else
      for (let i = 0; i < batch.length; i++) {
        step.begin();
        try {
          process(batch[i]!);
        } finally {
          step.end();
        }
      }
  }

  /** Moves the clock forward by `ms` (a test case's `after:`), running the timers on the way. */
  advance(ms: number): void {
    const c = this.o.clock;
    if (!c.started) c.start(floorSecond(c.now()));
    c.advanceTo(c.now() + ms);
  }

  /** The end of input: the filter section's flushes, then the correlate section's (SEC shuts down), as at a pipeline's stop. */
  finish(): void {
    for (const f of [...this.filterSection, ...this.correlateSection]) if (typeof f.instance.flush === 'function') this.inStep(() => f.instance.flush!(f.next, true));
  }

  /** Hands the events collected since the last call to the outputs (`outputs: true`), in order. */
  async deliver(): Promise<void> {
    if (this.route === undefined || this.pendingOut.length === 0) {
      this.pendingOut = [];
      return;
    }
    const per: Event[][] = this.outputs.map(() => []);
    for (const e of this.pendingOut) this.route(e, per);
    this.pendingOut = [];
    for (const [i, out] of this.outputs.entries()) {
      if (per[i]!.length === 0) continue;
      const r = await out.instance.receive(per[i]!);
      if (r != null && typeof r === 'object' && 'written' in r) this.writes.push((r as PendingWrite).written);
    }
  }

  /** Closes every plugin (outputs after their buffered writes). */
  async close(): Promise<void> {
    await Promise.allSettled(this.writes);
    this.abort.abort();
    for (const inst of this.instances) await closeInstance(inst).catch((err: unknown) => this.o.logger.error({ err }, 'a plugin failed to close'));
    this.instances = [];
  }
}
