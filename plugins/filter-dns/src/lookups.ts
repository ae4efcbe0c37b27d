import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';
import type { ResolverSetup } from './config.js';
import { PENDING } from './protocol.js';

/** One lookup in flight: shared by every held event that asked for the same key meanwhile. */
export interface Lookup {
  readonly id: number;
  readonly kind: number;
  /** The field's value (what the caches are keyed by). */
  readonly key: string;
  status: number;
  value: string;
  /** Held events waiting on it (an event asking twice is listed twice). */
  waiters: { need: number }[];
}

export interface LookupOptions {
  setup: ResolverSetup;
  timeoutMs: number;
  retries: number;
  concurrency: number;
  /** Called on the pipeline thread for each answer, before its waiters are counted down. */
  settled(l: Lookup): void;
}

/**
 * The pipeline thread's side of the resolver thread (resolver-worker.ts): `request` never waits;
 * answers arrive as messages between batches, or, in `waitAll`, synchronously through
 * receiveMessageOnPort while Atomics.wait sleeps on the counter the resolver thread bumps.
 */
export class LookupClient {
  private readonly worker: Worker;
  private readonly port: MessagePort;
  private readonly shared = new Int32Array(new SharedArrayBuffer(4));
  private readonly inflight = new Map<string, Lookup>();
  private readonly byId = new Map<number, Lookup>();
  private nextId = 1;
  private outgoing: (number | string)[] = [];
  private scheduled = false;
  private closed = false;
  private refd = false;

  constructor(private readonly o: LookupOptions) {
    const { port1, port2 } = new MessageChannel();
    this.port = port1;
    this.worker = new Worker(new URL('./resolver-worker.js', import.meta.url), {
      workerData: {
        port: port2,
        shared: this.shared,
        servers: o.setup.servers,
        timeoutMs: o.timeoutMs,
        retries: o.retries,
        search: o.setup.search,
        ndots: o.setup.ndots,
        concurrency: o.concurrency,
      },
      transferList: [port2],
    });
    this.worker.unref();
    this.port.on('message', (m: (number | string)[]) => this.answers(m));
    this.port.unref();
  }

  /** Lookups not answered yet. */
  get pending(): number {
    return this.byId.size;
  }

  /** The lookup of `key` (sent as `query`: a name in ASCII), started now or already in flight. */
  request(kind: number, key: string, query: string): Lookup {
    const k = kind === 0 ? 'f' + key : 'r' + key;
    let l = this.inflight.get(k);
    if (l !== undefined) return l;
    l = { id: this.nextId++, kind, key, status: PENDING, value: '', waiters: [] };
    this.inflight.set(k, l);
    this.byId.set(l.id, l);
    this.outgoing.push(l.id, kind, query);
    if (!this.refd) {
      // keep the process alive while answers are owed (a test awaiting them; the pipeline has its own timers)
      this.refd = true;
      this.port.ref();
    }
    if (!this.scheduled) {
      this.scheduled = true;
      queueMicrotask(() => this.send());
    }
    return l;
  }

  private send(): void {
    this.scheduled = false;
    if (this.outgoing.length === 0 || this.closed) return;
    const list = this.outgoing;
    this.outgoing = [];
    this.port.postMessage(list);
  }

  private answers(m: (number | string)[]): void {
    for (let i = 0; i < m.length; i += 3) {
      const l = this.byId.get(m[i] as number);
      if (l === undefined) continue;
      this.byId.delete(l.id);
      this.inflight.delete(l.kind === 0 ? 'f' + l.key : 'r' + l.key);
      l.status = m[i + 1] as number;
      l.value = m[i + 2] as string;
      this.o.settled(l);
      const w = l.waiters;
      for (let j = 0; j < w.length; j++) w[j]!.need--;
      l.waiters = [];
    }
    if (this.byId.size === 0 && this.refd) {
      this.refd = false;
      this.port.unref();
    }
  }

  /**
   * Waits, blocking this thread, until every lookup asked so far is answered or `ms` have passed;
   * only for the final flush, when the pipeline has nothing else to do but hand over what it holds.
   */
  waitAll(ms: number): void {
    this.send();
    const deadline = Date.now() + ms;
    for (;;) {
      this.drainSync();
      if (this.byId.size === 0) return;
      const seen = Atomics.load(this.shared, 0);
      this.drainSync(); // an answer posted before `seen` was read
      if (this.byId.size === 0) return;
      const left = deadline - Date.now();
      if (left <= 0) return;
      Atomics.wait(this.shared, 0, seen, left);
    }
  }

  private drainSync(): void {
    for (let r = receiveMessageOnPort(this.port); r !== undefined; r = receiveMessageOnPort(this.port)) this.answers(r.message as (number | string)[]);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.port.close();
    await this.worker.terminate();
  }
}
