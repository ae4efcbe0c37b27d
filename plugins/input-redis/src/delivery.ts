import type { Event, InputSink } from '@pipeline/core';

/**
 * The core addition this input needs (not in core yet): a sink that tells the input when an event
 * it pushed no longer needs its source — after the queue batch holding it has passed every output
 * (memory queue), or once it is durably written (persisted queue). `tracksDelivery` says the sink
 * honours the callback; without it an input cannot tell a sink that ignores the second argument
 * from one that will call it, and would never acknowledge.
 */
export interface DeliveryTrackingSink extends InputSink {
  readonly tracksDelivery: true;
  push(event: Event, onDelivered?: () => void): void;
}

export function tracksDelivery(sink: InputSink): sink is DeliveryTrackingSink {
  return (sink as Partial<DeliveryTrackingSink>).tracksDelivery === true;
}

/**
 * Stream entries read together and acknowledged together: once every event decoded from them has
 * been delivered. One closure per read batch (not per event) is handed to the sink. The batch
 * holds itself open while it is being filled, so a sink that calls back synchronously cannot
 * settle it early.
 */
export class EntryBatch {
  /** stream -> entry ids, in read order */
  readonly ids = new Map<string, string[]>();
  private remaining = 1;
  readonly delivered: () => void;

  constructor(private readonly onSettled: (batch: EntryBatch) => void) {
    this.delivered = () => {
      if (--this.remaining === 0) this.onSettled(this);
    };
  }

  add(stream: string, id: string): void {
    const list = this.ids.get(stream);
    if (list === undefined) this.ids.set(stream, [id]);
    else list.push(id);
  }

  get size(): number {
    let n = 0;
    for (const l of this.ids.values()) n += l.length;
    return n;
  }

  /** Pushes one event decoded from this batch, tracked when the sink can track it. */
  push(sink: InputSink, event: Event): void {
    if (tracksDelivery(sink)) {
      this.remaining++;
      sink.push(event, this.delivered);
    } else sink.push(event);
  }

  /** Done filling: settles now if nothing is outstanding (or the sink does not track delivery). */
  close(): void {
    this.delivered();
  }
}
