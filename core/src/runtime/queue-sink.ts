import type { Event } from '../event/event.js';
import type { InputSink } from '../plugin/define.js';
import type { Counter } from '../plugin/metrics.js';
import { PersistedQueue } from './persisted-queue.js';
import { setDeliveryCallback, type EventQueue } from './queue.js';

/** What an input pushes into: the queue, after the input's common decorations. */
export class QueueSink implements InputSink {
  readonly tracksDelivery = true;
  constructor(
    private readonly queue: EventQueue,
    private readonly total: Counter,
    private readonly out: Counter,
    private readonly decorate: ((e: Event) => void) | undefined,
  ) {
    this.persisted = queue instanceof PersistedQueue;
  }
  /** Decided once: the persisted queue runs delivery callbacks when it has stored the events. */
  private readonly persisted: boolean;
  push(e: Event, onDelivered?: () => void): void {
    if (this.decorate !== undefined) this.decorate(e);
    this.total.inc();
    this.out.inc();
    if (onDelivered === undefined) this.queue.push(e);
    else if (this.persisted) {
      this.queue.push(e);
      this.afterStored(onDelivered);
    } else {
      setDeliveryCallback(e, onDelivered);
      this.queue.push(e);
    }
  }
  /**
   * The persisted queue stores a copy of each event (workers get events rebuilt from disk), so a
   * callback attached to the pushed event would never run. There the event is safe once committed,
   * which is what the callback then means: an input that waited for the outputs instead would, after
   * a crash, read again everything the queue still holds and replays. Callbacks pushed in one run of
   * the event loop are handed to whenStored() at its end, so that promise covers every one of them.
   */
  private stored: (() => void)[] | undefined;
  private afterStored(cb: () => void): void {
    let group = this.stored;
    if (group === undefined) {
      const g: (() => void)[] = (group = this.stored = []);
      queueMicrotask(() => {
        this.stored = undefined;
        void this.queue.whenStored().then(() => {
          for (let i = 0; i < g.length; i++) g[i]!();
        });
      });
    }
    group.push(cb);
  }
  get writable(): boolean {
    return this.queue.writable;
  }
  whenWritable(): Promise<void> {
    return this.queue.whenWritable();
  }
  whenStored(): Promise<void> {
    return this.queue.whenStored();
  }
}
