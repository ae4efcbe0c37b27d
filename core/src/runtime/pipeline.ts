import 'reflect-metadata';
import { inject, injectable } from 'tsyringe';
import type { Logger } from 'pino';
import type { Event } from '../event/event.js';
import type { Clock, TimerHandle } from '../plugin/clock.js';
import type { PluginContext } from '../plugin/define.js';
import type { Counter, MetricsRegistry } from '../plugin/metrics.js';
import { compileDecorator } from './common-options.js';
import { FilterWorkers } from './filter-workers.js';
import { makeQueue } from './make-queue.js';
import { PersistedQueue } from './persisted-queue.js';
import type { PipelineBus } from './pipeline-bus.js';
import type { PipelinePlan, PluginPlan } from './plan.js';
import { pluginContext } from './plugin-context.js';
import type { EventQueue, MemoryQueue } from './queue.js';
import { QueueSink } from './queue-sink.js';
import { TOKENS } from './services.js';
import { num, type Settings } from './settings.js';
import { closeInstance, compileStages, type Instance, type RunningFilter, type RunningInput, type Stages } from './stages.js';


/** A batch out in the filter worker threads: its events as they left the filter section, or why not. */
interface Filtering {
  batch: Event[];
  result: Promise<Event[] | Error>;
}

const SETTLED = Symbol('settled');

/** Share of the pipeline thread's time in the filter and correlate sections at which worker threads start. */
const THREADS_AT_SHARE = 0.5;
/** ... and the time per event (µs) from which the hand-over to threads pays. */
const THREADS_AT_MICROS = 40;

/**
 * The executor. Inputs push into a bounded queue; one worker loop takes batches and runs each
 * event through the filter and correlate sections (compiled once into a chain of closures, so
 * events reach correlation in the order their input produced them), then hands each output its
 * share of the batch. Outputs receive batches in order; up to `pipeline.workers` batches may be
 * waiting on outputs at once.
 *
 * Compiling a plan into stages is stages.ts; plugin contexts, plugin-context.ts; the queue's choice,
 * make-queue.ts; what inputs push into, queue-sink.ts; the filter worker threads, filter-workers.ts.
 *
 * A reload swaps the compiled stages between two batches: the queue stays, plugins whose
 * definition and options did not change are carried over (running inputs keep their sockets,
 * correlation keeps its state), removed ones are flushed and closed.
 */
@injectable()
export class Pipeline {
  private queue!: EventQueue;
  private stages!: Stages;
  private collected: Event[] = [];
  private flushTimers: TimerHandle[] = [];
  private flushDue = new Set<RunningFilter>();
  private readonly abort = new AbortController();
  private stopping = false;
  private started = false;
  private worker?: Promise<void>;
  /** The filter section's worker threads, once started (see filter-workers.ts). */
  private pool?: FilterWorkers;
  private inFlight = new Set<Promise<void>>();
  /** Batches delivered whose acknowledgement waits for an output's buffered write. */
  private acking = new Set<Promise<void>>();
  private liveInputs = new Set<RunningInput>();
  private pendingSwap?: { stages: Stages; done: () => void };
  private finished: Promise<void>;
  private finish!: () => void;
  private readonly eventsIn: Counter;
  private readonly eventsFiltered: Counter;
  private readonly eventsOut: Counter;
  /** Inputs whose run() failed (a port in use...): the process then exits non-zero. */
  failedInputs = 0;
  /** Instances by signature, so a reload can carry unchanged plugins over. */
  private instances = new Map<Instance, string>();

  constructor(
    @inject(TOKENS.Logger) private readonly logger: Logger,
    @inject(TOKENS.Clock) private readonly clock: Clock,
    @inject(TOKENS.Settings) private readonly settings: Settings,
    @inject(TOKENS.Metrics) readonly metrics: MetricsRegistry,
    @inject(TOKENS.DataDir) private readonly dataDir: string,
    @inject(TOKENS.WorkingDir) private readonly workingDir: string,
    @inject(TOKENS.PipelineBus) readonly pipelineBus: PipelineBus,
  ) {
    this.eventsIn = metrics.scope('events').counter('in');
    this.eventsFiltered = metrics.scope('events').counter('filtered');
    this.eventsOut = metrics.scope('events').counter('out');
    this.finished = new Promise((resolve) => (this.finish = resolve));
  }

  /** Settings as the pipeline runs with them (read-only view for the monitoring API). */
  get settingsView(): Readonly<Settings> {
    return this.settings;
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
    return pluginContext({ logger: this.logger, clock: this.clock, metrics: this.metrics, dataDir: this.dataDir, workingDir: this.workingDir, signal: this.abort.signal, pipelineId: this.id, settings: this.settings, pipelineBus: this.pipelineBus }, plan);
  }

  /** Compiles a plan into stages, taking instances from `reuse` (signature → instances) where the plugin is unchanged. */
  private instantiate(plan: PipelinePlan, reuse: Map<string, Instance[]>): Promise<Stages> {
    return compileStages(plan, reuse, {
      context: (p) => this.context(p),
      remember: (inst, sig) => void this.instances.set(inst, sig),
      collect: (e) => void this.collected.push(e),
      settings: this.settings,
      clock: this.clock,
    });
  }

  /** Creates every plugin instance and compiles the sections. */
  async build(plan: PipelinePlan): Promise<void> {
    this.queue = makeQueue(this.settings, this.dataDir, this.id, this.logger, num(this.settings, 'pipeline.batch.size'));
    this.stages = await this.instantiate(plan, new Map());
  }

  /** Starts inputs, timers and the worker. */
  start(): void {
    this.started = true;
    this.startInputs(this.stages.inputs);
    this.armFlushTimers();
    this.worker = this.workLoop();
    void this.worker.then(() => this.shutdownStages()).then(
      () => this.finish(),
      (err: unknown) => {
        this.logger.error({ err }, 'pipeline failed while stopping');
        this.finish();
      },
    );
  }

  private startInputs(inputs: RunningInput[]): void {
    for (const input of inputs) {
      if (input.running) continue; // carried over from before a reload
      const out = this.context(input.plan).metrics.scope('events').counter('out');
      const sink = new QueueSink(this.queue, this.eventsIn, out, compileDecorator(input.plan.common, 'input'));
      this.liveInputs.add(input);
      input.running = Promise.resolve()
        .then(() => input.instance.run(sink))
        .catch((err: unknown) => {
          this.failedInputs++;
          this.logger.error({ err: (err as Error)?.message ?? String(err), plugin: input.plan.id }, 'input failed');
        })
        .finally(() => {
          this.liveInputs.delete(input);
          if (this.liveInputs.size === 0 && !this.pendingSwap) {
            if (!this.stopping) this.logger.debug('every input has finished');
            this.queue.close();
          }
        });
    }
  }

  private armFlushTimers(): void {
    for (const t of this.flushTimers) t.cancel();
    this.flushTimers = [];
    for (const f of this.stages.filters) {
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
  }

  private async workLoop(): Promise<void> {
    const batchSize = num(this.settings, 'pipeline.batch.size');
    const delay = num(this.settings, 'pipeline.batch.delay');
    const maxInFlight = Math.max(1, num(this.settings, 'pipeline.workers'));
    this.logThreadPlan();
    // batches handed to filter worker threads, in queue order; each is finished (correlate,
    // outputs) only after the ones before it, so order is kept whichever thread is quicker
    const filtering: Filtering[] = [];
    let taking: Promise<Event[] | null> | undefined;
    for (;;) {
      if (this.pendingSwap) {
        while (filtering.length > 0) await this.afterThreads(filtering.shift()!, maxInFlight);
        await this.swap();
      }
      if (filtering.length > 0) {
        const head = filtering[0]!;
        // two batches per thread keep every thread busy; past that, or when the oldest is back, finish it
        const finish = filtering.length >= 2 * this.pool!.size || (await Promise.race([(taking ??= this.queue.take(batchSize, delay)), head.result.then(() => SETTLED)])) === SETTLED;
        if (finish) {
          await this.afterThreads(filtering.shift()!, maxInFlight);
          continue;
        }
      }
      const batch = await (taking ??= this.queue.take(batchSize, delay));
      taking = undefined;
      if (batch === null) break;
      if (this.flushDue.size > 0) this.runFlushes(false);
      if (batch.length > 0) {
        // threads starting: let their "ready" in (a full queue hands out batches without a turn of the event loop)
        if (this.pool?.starting) await new Promise<void>((resolve) => setImmediate(resolve));
        const pool = this.pool?.ready ? this.pool : undefined;
        if (pool !== undefined) {
          filtering.push({ batch, result: pool.run(batch).catch((err: Error) => err) });
          continue;
        }
        if (filtering.length > 0) {
          // the threads failed with batches still out: this one waits its turn, then runs here
          filtering.push({ batch, result: Promise.resolve(new Error('filter worker threads stopped')) });
          continue;
        }
        this.filterHere(batch);
      }
      await this.afterFilters(batch, maxInFlight);
    }
    while (filtering.length > 0) await this.afterThreads(filtering.shift()!, maxInFlight);
    await Promise.all(this.inFlight);
  }

  /** Runs a batch through the filter and correlate sections on this thread. */
  private filterHere(batch: Event[]): void {
    const t0 = performance.now();
    const preparers = this.stages.preparers;
    for (let i = 0; i < preparers.length; i++) preparers[i]!.prepare!(batch);
    const process = this.stages.process;
    for (let i = 0; i < batch.length; i++) process(batch[i]!);
    this.eventsFiltered.inc(batch.length);
    if (this.stages.threads.threads > 0) this.noteFilterTime(t0, performance.now(), batch.length);
  }

  /** Time the filter and correlate sections took on this thread in the current window of about a second. */
  private busy = { ms: 0, events: 0, since: performance.now() };

  /**
   * Starts the worker threads once the sections kept this thread busy for more than half of a
   * second's window at a cost per event that the hand-over is worth. Measured (BENCHMARKS.md,
   * "Filter worker threads"): handing an event over and back costs the pipeline thread 3-5 µs,
   * about what a light section (the homelab grok) costs, so there the threads only add CPU and
   * memory; a heavy section gains.
   */
  private noteFilterTime(t0: number, t1: number, events: number): void {
    const b = this.busy;
    b.ms += t1 - t0;
    b.events += events;
    const window = t1 - b.since;
    if (window < 1000) return;
    const share = b.ms / window;
    const micros = (b.ms * 1000) / b.events;
    b.ms = 0;
    b.events = 0;
    b.since = t1;
    if (share >= THREADS_AT_SHARE && micros >= THREADS_AT_MICROS && this.pool === undefined) this.startThreads(share, micros);
  }

  private startThreads(share: number, micros: number): void {
    const plan = this.stages.threads;
    const settings = this.settings;
    this.logger.info({ threads: plan.threads, busy: Math.round(share * 100) / 100, us_per_event: Math.round(micros) }, 'the filter section keeps the pipeline thread busy: starting worker threads');
    this.pool = new FilterWorkers(
      plan.threads,
      {
        sources: plan.sources!,
        hintKeys: plan.hintKeys!,
        settings,
        workingDir: this.workingDir,
        dataDir: this.dataDir,
        pipelineId: this.id,
        logLevel: String(settings['log.level'] ?? 'info'),
        logFormat: settings['log.format'] === 'json' ? 'json' : 'plain',
      },
      this.metrics,
      this.logger,
    );
  }

  /** A batch back from the threads goes through correlate; if the threads failed, it is filtered here instead. */
  private async afterThreads(f: Filtering, maxInFlight: number): Promise<void> {
    const r = await f.result;
    if (r instanceof Error) this.filterHere(f.batch);
    else {
      const correlate = this.stages.correlate;
      for (let i = 0; i < r.length; i++) correlate(r[i]!);
      this.eventsFiltered.inc(f.batch.length);
    }
    await this.afterFilters(f.batch, maxInFlight);
  }

  /** Hands what the batch produced to the outputs (or acknowledges it when nothing came out). */
  private async afterFilters(batch: Event[], maxInFlight: number): Promise<void> {
    if (this.collected.length > 0) {
      const p = this.deliver(this.collected, batch);
      this.collected = [];
      this.inFlight.add(p);
      void p.then(() => this.inFlight.delete(p));
      if (this.inFlight.size >= maxInFlight) await Promise.race(this.inFlight);
    } else if (batch.length > 0) this.queue.ack(batch);
  }

  private logThreadPlan(): void {
    const t = this.stages.threads;
    if (t.threads > 0) this.logger.debug({ threads: t.threads }, 'the filter section may run in worker threads (they start when it keeps the pipeline thread busy)');
    else this.logger.debug({ reason: t.reason }, 'the filter section runs on the pipeline thread');
  }

  private runFlushes(final: boolean, filters?: RunningFilter[]): void {
    const due = final ? (filters ?? this.stages.filters) : [...this.flushDue];
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
    const outputs = this.stages.outputs;
    const per: Event[][] = outputs.map(() => []);
    const route = this.stages.route;
    for (let i = 0; i < events.length; i++) route(events[i]!, per);
    const waits: Promise<void>[] = [];
    const pending: Promise<void>[] = [];
    for (const o of outputs) {
      const share = per[o.index]!;
      if (share.length === 0) continue;
      o.tail = o.tail.then(async () => {
        const t0 = performance.now();
        try {
          const r = await o.instance.receive(share);
          o.received.inc(share.length);
          if (r != null && typeof r === 'object' && 'written' in r) pending.push(r.written);
        } catch (err) {
          this.logger.error({ err, plugin: o.plan.id }, 'output failed on a batch');
        }
        o.millis.inc(performance.now() - t0);
      });
      waits.push(o.tail);
    }
    this.eventsOut.inc(events.length);
    const received = Promise.all(waits).then(() => undefined);
    // An output that buffers hands back a PendingWrite: the next batch goes on at once (the
    // worker waits only for `received`), this one is acknowledged once its lines are written.
    const acked = received.then(() =>
      pending.length === 0
        ? this.queue.ack(batch)
        : Promise.all(pending).then(
            () => this.queue.ack(batch),
            (err: unknown) => this.notAcknowledged(err, batch.length),
          ),
    );
    this.acking.add(acked);
    void acked.then(
      () => this.acking.delete(acked),
      (err: unknown) => {
        this.acking.delete(acked);
        this.logger.error({ err }, 'acknowledging a batch failed');
      },
    );
    return received;
  }

  private unacked = { events: 0, batches: 0, lastLog: -Infinity };

  /** A batch an output could not write stays unacknowledged; logged at most every 10 s, not per batch. */
  private notAcknowledged(err: unknown, events: number): void {
    const u = this.unacked;
    u.events += events;
    u.batches++;
    const now = this.clock.now();
    if (now - u.lastLog < 10_000) return;
    u.lastLog = now;
    this.logger.warn({ err: (err as Error)?.message ?? String(err), batches: u.batches, events: u.events }, 'batches not acknowledged: an output could not write them (a persisted queue delivers them again at the next start)');
    u.events = 0;
    u.batches = 0;
  }

  /**
   * Replaces the running configuration with `plan`, between two batches. Unchanged plugins are
   * kept; if a new plugin fails to start, nothing changes and the error is thrown.
   */
  async reload(plan: PipelinePlan): Promise<{ kept: number; created: number; removed: number }> {
    const pool = new Map<string, Instance[]>();
    for (const [inst, sig] of this.instances) pool.set(sig, [...(pool.get(sig) ?? []), inst]);
    const before = new Set(this.instances.keys());
    const stages = await this.instantiate(plan, pool);
    const after = new Set<Instance>([...stages.inputs.map((i) => i.instance), ...stages.filters.map((f) => f.instance), ...stages.outputs.map((o) => o.instance)]);
    // carried-over inputs keep running with their sink
    for (const i of stages.inputs) i.running = this.stages.inputs.find((o) => o.instance === i.instance)?.running;
    const kept = [...after].filter((i) => before.has(i)).length;
    await new Promise<void>((resolve) => {
      this.pendingSwap = { stages, done: resolve };
      this.queue.wake();
    });
    for (const inst of before) if (!after.has(inst)) this.instances.delete(inst);
    return { kept, created: after.size - kept, removed: before.size - kept };
  }

  private async swap(): Promise<void> {
    const { stages, done } = this.pendingSwap!;
    await Promise.all(this.inFlight);
    const old = this.stages;
    const keep = new Set<Instance>([...stages.inputs.map((i) => i.instance), ...stages.filters.map((f) => f.instance), ...stages.outputs.map((o) => o.instance)]);
    // start new inputs before stopping removed ones, so the pipeline never looks finished
    this.stages = stages;
    this.startInputs(stages.inputs);
    for (const i of old.inputs) if (!keep.has(i.instance)) await Promise.resolve(i.instance.stop()).catch((err) => this.logger.error({ err }, 'input failed to stop'));
    // removed filters hand over what they hold, through the old chain and outputs
    const removedFilters = old.filters.filter((f) => !keep.has(f.instance));
    if (removedFilters.length) {
      this.stages = old;
      this.runFlushes(true, removedFilters);
      if (this.collected.length) {
        await this.deliver(this.collected, []);
        this.collected = [];
      }
      this.stages = stages;
    }
    for (const f of removedFilters) await closeInstance(f.instance).catch((err) => this.logger.error({ err }, 'filter failed to close'));
    for (const o of old.outputs)
      if (!keep.has(o.instance)) {
        await o.tail;
        await closeInstance(o.instance).catch((err) => this.logger.error({ err }, 'output failed to close'));
      }
    // carried-over outputs keep their ordering tail
    for (const o of stages.outputs) {
      const prev = old.outputs.find((x) => x.instance === o.instance);
      if (prev) o.tail = prev.tail;
    }
    // the threads hold the old config's filters: new ones start with the next full batch
    await this.pool?.close();
    this.pool = undefined;
    this.armFlushTimers();
    this.pendingSwap = undefined;
    this.logger.info('configuration reloaded');
    done();
  }

  /** Stops inputs; the worker then drains the queue and the stages are flushed and closed. */
  async stop(): Promise<void> {
    if (!this.started) return;
    if (!this.stopping) {
      this.stopping = true;
      this.logger.info('stopping: inputs first, then draining the queue');
      await Promise.all(
        this.stages.inputs.map(async (i) => {
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
    await this.pool?.close();
    this.abort.abort();
    for (const f of this.stages.filters) await closeInstance(f.instance).catch((err) => this.logger.error({ err }, 'filter failed to close'));
    for (const o of this.stages.outputs) {
      await o.tail;
      await closeInstance(o.instance).catch((err) => this.logger.error({ err }, 'output failed to close'));
    }
    await Promise.all(this.acking); // closed outputs have written (or given up on) their buffers
    if (this.unacked.batches > 0) this.logger.warn({ batches: this.unacked.batches, events: this.unacked.events }, 'batches not acknowledged since the last report');
    if (this.queue instanceof PersistedQueue) this.queue.dispose();
    this.logger.info({ in: this.eventsIn.value, out: this.eventsOut.value }, 'pipeline stopped');
  }

  /** Text dumps of stages that keep state (SEC operations and contexts), for SIGUSR1. */
  dumps(): { id: string; text: string }[] {
    const out: { id: string; text: string }[] = [];
    for (const f of this.stages.filters) {
      const d = (f.instance as { dump?: () => string }).dump;
      if (typeof d === 'function') out.push({ id: f.plan.id, text: d.call(f.instance) });
    }
    return out;
  }

  /** Has every output that writes files reopen them (SIGUSR2). */
  async reopenOutputs(): Promise<void> {
    for (const o of this.stages.outputs) await o.instance.reopen?.();
  }

  /** Reloads inputs' certificates and the like (SIGHUP). */
  async reloadInputs(): Promise<void> {
    for (const i of this.stages.inputs) await i.instance.reload?.();
  }
}

