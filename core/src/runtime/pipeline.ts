import 'reflect-metadata';
import { inject, injectable } from 'tsyringe';
import type { Logger } from 'pino';
import { isAbsolute, join } from 'node:path';
import type { PluginNode, Statement } from '../config/ast.js';
import { compileCondition } from '../config/conditions.js';
import type { Event } from '../event/event.js';
import type { Clock, TimerHandle } from '../plugin/clock.js';
import type { CodecFactory, FilterInstance, InputInstance, InputSink, OutputInstance, PluginContext } from '../plugin/define.js';
import type { Counter, MetricsRegistry } from '../plugin/metrics.js';
import { resolveConfigPath } from '../registry/install-root.js';
import { compileDecorator } from './common-options.js';
import { pluginsIn, type CodecPlan, type PipelinePlan, type PluginPlan } from './plan.js';
import { MemoryQueue, setDeliveryCallback, type EventQueue } from './queue.js';
import { TOKENS } from './services.js';
import { PersistedQueue } from './persisted-queue.js';
import { bytes, num, type Settings } from './settings.js';

/** Events the memory queue holds when queue.max_events is 0. */
const MEMORY_QUEUE_EVENTS = 1000;

/**
 * The executor. Inputs push into a bounded queue; one worker loop takes batches and runs each
 * event through the filter and correlate sections (compiled once into a chain of closures, so
 * events reach correlation in the order their input produced them), then hands each output its
 * share of the batch. Outputs receive batches in order; up to `pipeline.workers` batches may be
 * waiting on outputs at once.
 */
type Next = (e: Event) => void;

interface RunningFilter {
  plan: PluginPlan;
  instance: FilterInstance;
  /** Where events it emits (or flushes) continue. */
  next: Next;
}

interface RunningOutput {
  plan: PluginPlan;
  instance: OutputInstance;
  index: number;
  tail: Promise<void>;
  out: Counter;
}

@injectable()
export class Pipeline {
  private queue!: EventQueue;
  private inputs: { plan: PluginPlan; instance: InputInstance; running?: Promise<void> }[] = [];
  private filters: RunningFilter[] = [];
  private outputs: RunningOutput[] = [];
  private process!: Next;
  private route!: (e: Event, batches: Event[][]) => void;
  private collected: Event[] = [];
  private flushTimers: TimerHandle[] = [];
  private flushDue = new Set<RunningFilter>();
  private readonly abort = new AbortController();
  private stopping = false;
  private worker?: Promise<void>;
  private inFlight = new Set<Promise<void>>();
  private finished!: Promise<void>;
  private finish!: () => void;
  private readonly eventsIn: Counter;
  private readonly eventsFiltered: Counter;
  private readonly eventsOut: Counter;

  constructor(
    @inject(TOKENS.Logger) private readonly logger: Logger,
    @inject(TOKENS.Clock) private readonly clock: Clock,
    @inject(TOKENS.Settings) private readonly settings: Settings,
    @inject(TOKENS.Metrics) readonly metrics: MetricsRegistry,
    @inject(TOKENS.DataDir) private readonly dataDir: string,
    @inject(TOKENS.WorkingDir) private readonly workingDir: string,
  ) {
    this.eventsIn = metrics.scope('events').counter('in');
    this.eventsFiltered = metrics.scope('events').counter('filtered');
    this.eventsOut = metrics.scope('events').counter('out');
    this.finished = new Promise((resolve) => (this.finish = resolve));
  }

  get id(): string {
    return String(this.settings['pipeline.id'] ?? 'main');
  }

  /** Resolves when the pipeline has stopped (every input done, or stop()), drained and closed. */
  get done(): Promise<void> {
    return this.finished;
  }

  /** Queue size and peak, for back-pressure tests and the monitoring API. */
  get queueStats(): { type: string; size: number; peak: number; capacity: number; bytes?: number } {
    const q = this.queue as MemoryQueue | PersistedQueue;
    return { type: q instanceof PersistedQueue ? 'persisted' : 'memory', size: q.size, peak: q.peak, capacity: q.capacity, bytes: q instanceof PersistedQueue ? q.bytes : undefined };
  }

  private context(plan: PluginPlan): PluginContext {
    const scope = this.metrics.scope('plugins').scope(plan.kind + 's').scope(plan.id);
    scope.gauge('name'); // keeps the scope visible even before counting
    return {
      logger: this.logger.child({ plugin: plan.id }),
      clock: this.clock,
      metrics: scope,
      dataDir: this.dataDir,
      workingDir: this.workingDir,
      resolvePath: (p: string) => (isAbsolute(p) ? p : resolveConfigPath(p, this.workingDir)),
      signal: this.abort.signal,
      pipelineId: this.id,
      id: plan.id,
      codec: this.codecFactory(plan),
      settings: this.settings,
    };
  }

  private codecFactory(plan: PluginPlan): CodecFactory {
    const codec: CodecPlan | undefined = plan.codec;
    if (!codec) return { name: 'none', create: () => { throw new Error(`${plan.id} has no codec`); } };
    const ctxFor = (): PluginContext => ({ ...this.context({ ...plan, codec: undefined }), id: `${plan.id}.codec` });
    let ctx: PluginContext | undefined;
    return {
      name: codec.def.name,
      create: () => codec.def.create(codec.options as never, (ctx ??= ctxFor())) as ReturnType<CodecFactory['create']>,
    };
  }

  /** Creates every plugin instance and compiles the sections. */
  async build(plan: PipelinePlan): Promise<void> {
    const batchSize = num(this.settings, 'pipeline.batch.size');
    this.queue = this.makeQueue(batchSize);
    const sections = plan.ast.sections;
    const stmts = (kind: string) => sections.filter((s) => s.kind === kind).flatMap((s) => s.body);

    for (const node of pluginsIn(stmts('input'))) {
      const p = plan.plugins.get(node)!;
      const instance = (await p.def.create(p.options as never, this.context(p))) as InputInstance;
      this.inputs.push({ plan: p, instance });
    }
    // outputs first: the filter chain ends in the router
    const outputNodes = pluginsIn(stmts('output'));
    for (const [index, node] of outputNodes.entries()) {
      const p = plan.plugins.get(node)!;
      const instance = (await p.def.create(p.options as never, this.context(p))) as OutputInstance;
      this.outputs.push({ plan: p, instance, index, tail: Promise.resolve(), out: this.context(p).metrics.scope('events').counter('in') });
    }
    this.route = this.compileRouter(stmts('output'), new Map(outputNodes.map((n, i) => [n, i])));
    const collect: Next = (e) => {
      this.collected.push(e);
    };
    const afterFilters = await this.compileChain(stmts('correlate'), collect, plan);
    this.process = await this.compileChain(stmts('filter'), afterFilters, plan);
  }

  private makeQueue(batchSize: number): EventQueue {
    // queue.max_events 0 (the default) means: 1000 events in memory; bounded by queue.max_bytes only on disk
    const maxEvents = num(this.settings, 'queue.max_events');
    const type = String(this.settings['queue.type'] ?? 'memory');
    if (type === 'memory') return new MemoryQueue(maxEvents > 0 ? maxEvents : MEMORY_QUEUE_EVENTS, batchSize);
    if (type !== 'persisted') throw new Error(`queue.type must be memory or persisted, got ${type}`);
    const q = new PersistedQueue({
      dir: join(this.dataDir, 'queue', this.id),
      maxBytes: bytes(this.settings, 'queue.max_bytes'),
      maxEvents: maxEvents > 0 ? maxEvents : Number.MAX_SAFE_INTEGER,
      checkpointWrites: Math.max(1, num(this.settings, 'queue.checkpoint.writes')),
      batchSize,
    });
    if (q.recovered > 0) this.logger.info({ events: q.recovered }, 'persisted queue: delivering events left by the previous run');
    return q;
  }

  private async compileChain(body: Statement[], next: Next, plan: PipelinePlan): Promise<Next> {
    let cont = next;
    for (let i = body.length - 1; i >= 0; i--) cont = await this.compileStatement(body[i]!, cont, plan);
    return cont;
  }

  private async compileStatement(s: Statement, next: Next, plan: PipelinePlan): Promise<Next> {
    if (s.type === 'branch') {
      const arms = await Promise.all(s.arms.map(async (a) => ({ test: compileCondition(a.condition), body: await this.compileChain(a.body, next, plan) })));
      const otherwise = s.otherwise ? await this.compileChain(s.otherwise, next, plan) : next;
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
    const ctx = this.context(p);
    const instance = (await p.def.create(p.options as never, ctx)) as FilterInstance;
    const running: RunningFilter = { plan: p, instance, next };
    this.filters.push(running);
    const decorate = compileDecorator(p.common, p.kind);
    const counters = ctx.metrics.scope('events');
    const cin = counters.counter('in');
    const cout = counters.counter('out');
    const emit = (e: Event) => {
      cout.inc();
      next(e);
    };
    return (e) => {
      cin.inc();
      const matched = instance.filter(e, emit);
      if (e.cancelled) return;
      if (matched !== false && decorate !== undefined) decorate(e);
      cout.inc();
      next(e);
    };
  }

  private compileRouter(body: Statement[], index: Map<PluginNode, number>): (e: Event, batches: Event[][]) => void {
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

  /** Starts inputs, timers and the worker. */
  start(): void {
    for (const input of this.inputs) {
      const sink = new QueueSink(this.queue, this.eventsIn, compileDecorator(input.plan.common, 'input'));
      input.running = Promise.resolve()
        .then(() => input.instance.run(sink))
        .catch((err: unknown) => this.logger.error({ err, plugin: input.plan.id }, 'input failed'));
    }
    for (const f of this.filters) {
      const every = f.plan.def.flushIntervalMs ?? (f.plan.common.periodic_flush ? 5000 : undefined);
      if (f.instance.flush && every) {
        this.flushTimers.push(
          this.clock.setInterval(() => {
            this.flushDue.add(f);
            this.queue.wake();
          }, every),
        );
      }
    }
    this.worker = this.workLoop();
    void Promise.all(this.inputs.map((i) => i.running)).then(() => {
      if (!this.stopping) this.logger.debug('every input has finished');
      this.queue.close();
    });
    void this.worker.then(() => this.shutdownStages()).then(
      () => this.finish(),
      (err: unknown) => {
        this.logger.error({ err }, 'pipeline failed while stopping');
        this.finish();
      },
    );
  }

  private async workLoop(): Promise<void> {
    const batchSize = num(this.settings, 'pipeline.batch.size');
    const delay = num(this.settings, 'pipeline.batch.delay');
    const maxInFlight = Math.max(1, num(this.settings, 'pipeline.workers'));
    for (;;) {
      const batch = await this.queue.take(batchSize, delay);
      if (batch === null) break;
      if (this.flushDue.size > 0) this.runFlushes(false);
      if (batch.length > 0) {
        for (let i = 0; i < batch.length; i++) this.process(batch[i]!);
        this.eventsFiltered.inc(batch.length);
      }
      if (this.collected.length > 0) {
        const p = this.deliver(this.collected, batch);
        this.collected = [];
        this.inFlight.add(p);
        void p.then(() => this.inFlight.delete(p));
        if (this.inFlight.size >= maxInFlight) await Promise.race(this.inFlight);
      } else if (batch.length > 0) this.queue.ack(batch);
    }
    await Promise.all(this.inFlight);
  }

  private runFlushes(final: boolean): void {
    const due = final ? this.filters : [...this.flushDue];
    this.flushDue.clear();
    for (const f of due) {
      try {
        f.instance.flush?.(f.next, final);
      } catch (err) {
        this.logger.error({ err, plugin: f.plan.id }, 'flush failed');
      }
    }
  }

  /** Hands each output its events, in order after the previous batch's delivery to it. */
  private deliver(events: Event[], batch: Event[]): Promise<void> {
    const per: Event[][] = this.outputs.map(() => []);
    for (let i = 0; i < events.length; i++) this.route(events[i]!, per);
    const waits: Promise<void>[] = [];
    for (const o of this.outputs) {
      const share = per[o.index]!;
      if (share.length === 0) continue;
      o.tail = o.tail.then(async () => {
        try {
          await o.instance.receive(share);
          o.out.inc(share.length);
        } catch (err) {
          this.logger.error({ err, plugin: o.plan.id }, 'output failed on a batch');
        }
      });
      waits.push(o.tail);
    }
    this.eventsOut.inc(events.length);
    return Promise.all(waits).then(() => this.queue.ack(batch));
  }

  /** Stops inputs; the worker then drains the queue and the stages are flushed and closed. */
  async stop(): Promise<void> {
    if (!this.stopping) {
      this.stopping = true;
      this.logger.info('stopping: inputs first, then draining the queue');
      await Promise.all(
        this.inputs.map(async (i) => {
          try {
            await i.instance.stop();
          } catch (err) {
            this.logger.error({ err, plugin: i.plan.id }, 'input failed to stop');
          }
        }),
      );
    }
    await this.finished;
  }

  private async shutdownStages(): Promise<void> {
    for (const t of this.flushTimers) t.cancel();
    this.runFlushes(true);
    if (this.collected.length > 0) {
      const p = this.deliver(this.collected, []);
      this.collected = [];
      await p;
    }
    this.abort.abort();
    for (const f of this.filters) await f.instance.close?.();
    for (const o of this.outputs) {
      await o.tail;
      await o.instance.close?.();
    }
    if (this.queue instanceof PersistedQueue) this.queue.dispose();
    this.logger.info({ in: this.eventsIn.value, out: this.eventsOut.value }, 'pipeline stopped');
  }

  /** Reloads inputs' certificates and the like (SIGHUP). */
  async reloadInputs(): Promise<void> {
    for (const i of this.inputs) await i.instance.reload?.();
  }
}

/** What an input pushes into: the queue, after the input's common decorations. */
class QueueSink implements InputSink {
  constructor(
    private readonly queue: EventQueue,
    private readonly counter: Counter,
    private readonly decorate: ((e: Event) => void) | undefined,
  ) {}
  push(e: Event, onDelivered?: () => void): void {
    if (this.decorate !== undefined) this.decorate(e);
    this.counter.inc();
    if (onDelivered !== undefined) setDeliveryCallback(e, onDelivered);
    this.queue.push(e);
  }
  get writable(): boolean {
    return this.queue.writable;
  }
  whenWritable(): Promise<void> {
    return this.queue.whenWritable();
  }
}
