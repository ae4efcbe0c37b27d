import type { Event } from '../event/event.js';

/**
 * The process's pipeline-to-pipeline addresses, as Logstash's pipeline bus: a `pipeline` input
 * listens on one virtual address, `pipeline` outputs send to addresses. One bus per process (every
 * pipeline `pipeline start` runs shares it); plugins reach it through `PluginContext.pipelineBus`.
 *
 * What the bus decides (so both plugins and every pipeline agree):
 * - one input per address: a second input of another pipeline is refused (`listen` throws); an
 *   input of the same pipeline takes the address over (a reload starts the new input before it
 *   stops the old one).
 * - shutdown order: once `drain()` is called (SIGTERM), an input's `close()` waits until no output
 *   that sends to its address is left (their pipelines have drained), so upstream pipelines deliver
 *   everything they hold before the downstream one stops, as Logstash's bus blocks on unlisten at
 *   shutdown. Outside a shutdown (a reload), `close()` unregisters at once.
 */
export interface PipelineBusReceiver {
  /** Takes the events (already copies of the sender's) into the listening pipeline's queue; resolves once they are held. */
  receive(events: Event[]): Promise<void>;
}

export interface BusListener {
  /** Stops listening (during a shutdown, once no sender to the address is left). */
  close(): Promise<void>;
}

export interface BusSender {
  /** The input listening on `address` now, if any. */
  listener(address: string): PipelineBusReceiver | undefined;
  /** Resolves true once an input listens on `address`, false if the bus drains first (nobody will). */
  whenListening(address: string): Promise<boolean>;
  /** The output is gone: inputs waiting to close at shutdown stop waiting for it. */
  close(): void;
}

export interface PipelineBus {
  /** Registers `receiver` on `address` for pipeline `pipelineId`; throws if another pipeline's input holds it. */
  listen(address: string, pipelineId: string, receiver: PipelineBusReceiver): BusListener;
  /** Registers an output that sends to `addresses` (for the shutdown order). */
  sender(addresses: readonly string[]): BusSender;
  /** The process is stopping: inputs close only after their senders, absent addresses stay absent. */
  drain(): void;
  readonly draining: boolean;
}

export class AddressInUseError extends Error {
  constructor(
    readonly address: string,
    readonly holder: string,
  ) {
    super(`pipeline address "${address}" is already used by an input of pipeline ${holder}`);
    this.name = 'AddressInUseError';
  }
}

interface Slot {
  receiver?: PipelineBusReceiver;
  owner?: string;
  /** identity of the current registration, so an old listener's close does not remove its replacement */
  token?: object;
  senders: number;
  listeners: ((ok: boolean) => void)[];
  sendersGone: (() => void)[];
}

export function createPipelineBus(): PipelineBus {
  const slots = new Map<string, Slot>();
  let draining = false;
  const slot = (a: string): Slot => {
    let s = slots.get(a);
    if (s === undefined) slots.set(a, (s = { senders: 0, listeners: [], sendersGone: [] }));
    return s;
  };
  return {
    get draining() {
      return draining;
    },
    listen(address, pipelineId, receiver) {
      const s = slot(address);
      if (s.receiver !== undefined && s.owner !== pipelineId) throw new AddressInUseError(address, s.owner!);
      const token = {};
      s.receiver = receiver;
      s.owner = pipelineId;
      s.token = token;
      const waiting = s.listeners;
      s.listeners = [];
      for (const w of waiting) w(true);
      return {
        async close() {
          if (draining && s.senders > 0) await new Promise<void>((r) => s.sendersGone.push(r));
          if (s.token !== token) return;
          s.receiver = undefined;
          s.owner = undefined;
          s.token = undefined;
        },
      };
    },
    sender(addresses) {
      const mine = [...new Set(addresses)];
      for (const a of mine) slot(a).senders++;
      let closed = false;
      return {
        listener: (a) => slots.get(a)?.receiver,
        whenListening(a) {
          const s = slot(a);
          if (s.receiver !== undefined) return Promise.resolve(true);
          if (draining) return Promise.resolve(false);
          return new Promise<boolean>((r) => s.listeners.push(r));
        },
        close() {
          if (closed) return;
          closed = true;
          for (const a of mine) {
            const s = slot(a);
            s.senders--;
            if (s.senders === 0) {
              const gone = s.sendersGone;
              s.sendersGone = [];
              for (const g of gone) g();
            }
          }
        },
      };
    },
    drain() {
      draining = true;
      for (const s of slots.values()) {
        if (s.receiver !== undefined) continue;
        const waiting = s.listeners;
        s.listeners = [];
        for (const w of waiting) w(false);
      }
    },
  };
}
