import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import type { ConfigSource } from '../config/load.js';
import { Event } from '../event/event.js';
import { SystemClock, type Clock } from '../plugin/clock.js';
import type { FilterInstance } from '../plugin/define.js';
import type { MetricDelta, MetricsRegistry } from '../plugin/metrics.js';
import type { Statement, Value, RValue, Expr } from '../config/ast.js';
import { compileTemplate } from '../event/sprintf.js';
import { fieldRef, type Fields } from '../event/field-ref.js';
import type { PipelinePlan, PluginPlan } from './plan.js';
import { num, type Settings } from './settings.js';
import { writeLogLine } from './logger.js';

/**
 * `pipeline.workers` above 1: the filter section runs in that many worker threads, each with its
 * own instances of its plugins, while inputs, the correlate section and outputs stay on the
 * pipeline thread. The executor hands each batch, as it leaves the queue, to the least busy
 * thread and takes the results back in queue order, so correlate and outputs see events in the
 * order their inputs produced them, as with one thread.
 *
 * The hand-over is text, measured against structured clones of the fields in
 * scripts/bench/core/handover.mjs: in, one string per batch (each event's JSON and its
 * `@metadata` JSON, newline-separated: JSON text never holds a raw newline); out, the same for
 * every event that leaves the section, plus the values of the few fields the pipeline thread's
 * conditions and templates read (`keysReadAfterFilters`). The pipeline thread keeps an event's
 * text as its cached `json()` (what json_lines outputs and SEC's match_json_lines use) and parses
 * the fields only when something else reads them (`Event.fromWire`).
 *
 * The threads start at the first full batch (`pipeline.batch.size` events at once), so an idle or
 * lightly loaded pipeline costs no extra isolate. If a thread cannot start or fails, the filter
 * section goes back to the pipeline thread, batches in flight included: nothing is lost.
 */
export interface WorkerSetup {
  sources: ConfigSource[];
  /** Top-level fields the pipeline thread reads after the filter section (see `keysReadAfterFilters`). */
  hintKeys: string[];
  settings: Settings;
  workingDir: string;
  dataDir: string;
  pipelineId: string;
  logLevel: string;
  logFormat: 'plain' | 'json';
}

export type ToWorker = { type: 'batch'; seq: number; lines: string } | { type: 'close' };
export type FromWorker = { type: 'log'; line: string } | { type: 'ready' } | { type: 'done'; seq: number; lines: string; metrics: MetricDelta[] } | { type: 'failed'; seq: number; message: string };

/** How many threads the filter section may use, and if none, why (logged at start). */
export interface ThreadPlan {
  threads: number;
  reason: string;
  /** The config texts the threads parse (set when threads > 0). */
  sources?: ConfigSource[];
  hintKeys?: string[];
}

export function threadPlan(plan: PipelinePlan, filterSection: readonly { plan: PluginPlan; instance: FilterInstance }[], settings: Settings, clock: Clock): ThreadPlan {
  const workers = Math.floor(num(settings, 'pipeline.workers'));
  const none = (reason: string): ThreadPlan => ({ threads: 0, reason });
  if (!(workers > 1)) return none('pipeline.workers is 1');
  if (filterSection.length === 0) return none('the config has no filter section');
  // a test's virtual clock lives in this thread only
  if (!(clock instanceof SystemClock)) return none('the pipeline runs on a virtual clock');
  if (!plan.sources) return none('the config texts are not known');
  for (const f of filterSection) {
    const p = f.plan.def.parallel;
    const safe = typeof p === 'function' ? p(f.plan.options as never) : p === true;
    if (!safe || typeof f.instance.flush === 'function') return none(`filter ${f.plan.id} keeps state across events`);
  }
  return { threads: workers, reason: '', sources: plan.sources, hintKeys: keysReadAfterFilters(plan) };
}

/**
 * The top-level fields that conditions and `%{}` templates of the correlate and output sections
 * read. Threads send their values beside each event's text, so routing and file names need no
 * parse of the whole event; anything else that reads the event parses it then. `@timestamp` and
 * `@metadata` are left out (their values need more than JSON to come back as they were).
 */
export function keysReadAfterFilters(plan: PipelinePlan): string[] {
  const keys = new Set<string>();
  const ref = (text: string) => {
    try {
      keys.add(fieldRef(text).path[0]!);
    } catch {
      // a malformed reference was refused at load
    }
  };
  const rvalue = (v: RValue): void => {
    if (v.type === 'field') ref(v.ref);
    else if (v.type === 'array') v.items.forEach(rvalue);
  };
  const expr = (x: Expr): void => {
    if (x.type === 'bool') {
      expr(x.left);
      expr(x.right);
    } else if (x.type === 'not') expr(x.expr);
    else if (x.type === 'truthy') rvalue(x.value);
    else {
      rvalue(x.left);
      rvalue(x.right);
    }
  };
  const value = (v: Value): void => {
    if (v.kind === 'string' && v.value.includes('%{')) for (const k of compileTemplate(v.value).keys) keys.add(k);
    else if (v.kind === 'array') v.items.forEach(value);
    else if (v.kind === 'hash') for (const e of v.entries) value(e.value);
    else if (v.kind === 'plugin') for (const a of v.plugin.attributes) value(a.value);
  };
  const walk = (stmts: readonly Statement[]): void => {
    for (const s of stmts) {
      if (s.type === 'plugin') for (const a of s.attributes) value(a.value);
      else {
        for (const arm of s.arms) {
          expr(arm.condition);
          walk(arm.body);
        }
        if (s.otherwise) walk(s.otherwise);
      }
    }
  };
  for (const section of plan.ast.sections) if (section.kind === 'correlate' || section.kind === 'output') walk(section.body);
  keys.delete('@timestamp');
  keys.delete('@metadata');
  return [...keys];
}

/** One event's hint line: the values of `keys` it holds, as one JSON object. */
export function hintsOf(fields: Fields, keys: readonly string[], prefixes: readonly string[]): string {
  let out = '{';
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i]!;
    if (!Object.hasOwn(fields, k)) continue;
    const v = fields[k];
    if (v === undefined) continue;
    out += (out.length > 1 ? ',' : '') + prefixes[i] + JSON.stringify(v);
  }
  return out + '}';
}

interface Thread {
  worker: Worker;
  ready: boolean;
  /** Batches handed to it and not yet back. */
  load: number;
}

interface Waiting {
  thread: Thread;
  resolve: (events: Event[]) => void;
  reject: (err: Error) => void;
}

export class FilterWorkers {
  private readonly threads: Thread[] = [];
  private readonly waiting = new Map<number, Waiting>();
  private seq = 0;
  private state: 'starting' | 'ready' | 'failed' | 'closed' = 'starting';
  private readonly hintKeys: ReadonlySet<string>;

  constructor(
    count: number,
    setup: WorkerSetup,
    private readonly metrics: MetricsRegistry,
    private readonly logger: Logger,
  ) {
    this.hintKeys = new Set(setup.hintKeys);
    for (let i = 0; i < count; i++) {
      const worker = new Worker(new URL('./filter-worker.js', import.meta.url), { workerData: setup });
      // never what keeps the process alive: the executor closes them, process.exit ends them
      worker.unref();
      const t: Thread = { worker, ready: false, load: 0 };
      this.threads.push(t);
      worker.on('message', (m: FromWorker) => this.onMessage(t, m));
      worker.on('error', (err) => this.fail(`a filter worker thread failed: ${err.message}`));
      worker.on('exit', (code) => {
        if (this.state !== 'closed') this.fail(`a filter worker thread exited (code ${code})`);
      });
    }
  }

  /** True once every thread has built its filters; false again for good if one fails. */
  get ready(): boolean {
    return this.state === 'ready';
  }

  get starting(): boolean {
    return this.state === 'starting';
  }

  get failed(): boolean {
    return this.state === 'failed';
  }

  get size(): number {
    return this.threads.length;
  }

  private onMessage(t: Thread, m: FromWorker): void {
    if (m.type === 'log') return writeLogLine(m.line);
    if (m.type === 'ready') {
      t.ready = true;
      if (this.state === 'starting' && this.threads.every((x) => x.ready)) {
        this.state = 'ready';
        this.logger.info({ threads: this.threads.length }, `filter section running in ${this.threads.length} worker threads`);
      }
      return;
    }
    if (m.type === 'failed' && m.seq < 0) return this.fail(`a filter worker thread could not start: ${m.message}`);
    const w = this.waiting.get(m.seq);
    if (!w) return;
    this.waiting.delete(m.seq);
    t.load--;
    if (m.type === 'failed') return w.reject(new Error(m.message));
    this.metrics.applyDeltas(m.metrics);
    const parts = m.lines.split('\n');
    const events: Event[] = [];
    const keys = this.hintKeys;
    for (let i = 0; i + 2 < parts.length; i += 3) {
      const meta = parts[i + 1]!;
      events.push(Event.fromWire(parts[i]!, meta === '' ? undefined : meta, JSON.parse(parts[i + 2]!) as Fields, keys));
    }
    w.resolve(events);
  }

  private fail(why: string): void {
    if (this.state === 'failed' || this.state === 'closed') return;
    this.state = 'failed';
    this.logger.error(`${why}; the filter section runs on the pipeline thread from now on`);
    const err = new Error(why);
    for (const w of this.waiting.values()) w.reject(err);
    this.waiting.clear();
    for (const t of this.threads) void t.worker.terminate();
  }

  /** Filters one batch in the least busy thread: the events that leave the filter section, in order. */
  run(batch: readonly Event[]): Promise<Event[]> {
    const lines: string[] = new Array<string>(batch.length * 2);
    for (let i = 0; i < batch.length; i++) {
      const e = batch[i]!;
      lines[2 * i] = e.json();
      lines[2 * i + 1] = e.metadataJson() ?? '';
    }
    let t = this.threads[0]!;
    for (const x of this.threads) if (x.load < t.load) t = x;
    const seq = this.seq++;
    return new Promise<Event[]>((resolve, reject) => {
      this.waiting.set(seq, { thread: t, resolve, reject });
      t.load++;
      t.worker.postMessage({ type: 'batch', seq, lines: lines.join('\n') } satisfies ToWorker);
    });
  }

  /** Closes every thread's filters and ends the threads (batches still out are rejected). */
  async close(): Promise<void> {
    if (this.state === 'closed') return;
    const was = this.state;
    this.state = 'closed';
    for (const w of this.waiting.values()) w.reject(new Error('filter worker threads closed'));
    this.waiting.clear();
    await Promise.all(
      this.threads.map(async (t) => {
        if (was === 'failed') return void (await t.worker.terminate());
        const exited = new Promise<void>((resolve) => t.worker.once('exit', () => resolve()));
        t.worker.postMessage({ type: 'close' } satisfies ToWorker);
        // a filter that does not close in 5 s is not waited for longer
        const timer = setTimeout(() => void t.worker.terminate(), 5000);
        await exited;
        clearTimeout(timer);
      }),
    );
  }
}
