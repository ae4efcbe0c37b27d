import jsonCodec from '@pipeline/codec-json';
import { makeContext, type TestContext } from '@pipeline/core/testing';
import type { Event, InputInstance, InputSink } from '@pipeline/core';

/** A test context whose codec is the real json codec, the redis plugins' default. */
export function jsonContext(over: Parameters<typeof makeContext>[0] = {}): TestContext {
  return makeContext({ codecDef: jsonCodec, codecOptions: { charset: 'UTF-8' }, ...over });
}

/** Waits for a condition that real I/O will make true (never for a time window). */
export async function until(cond: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Records what an input pushes; `writable` can be turned off to test back-pressure. */
export class RecordingSink implements InputSink {
  readonly events: Event[] = [];
  private room = true;
  private waiters: (() => void)[] = [];
  push(e: Event): void {
    this.events.push(e);
  }
  get writable(): boolean {
    return this.room;
  }
  set writable(v: boolean) {
    this.room = v;
    if (v) for (const w of this.waiters.splice(0)) w();
  }
  whenWritable(): Promise<void> {
    return this.room ? Promise.resolve() : new Promise((r) => this.waiters.push(r));
  }
}

/** A sink with the proposed delivery hook: the test decides when events count as delivered. */
export class TrackingSink extends RecordingSink {
  readonly tracksDelivery = true as const;
  readonly callbacks: (() => void)[] = [];
  autoDeliver = false;
  override push(e: Event, onDelivered?: () => void): void {
    super.push(e);
    if (onDelivered === undefined) throw new Error('tracked push without a callback');
    if (this.autoDeliver) onDelivered();
    else this.callbacks.push(onDelivered);
  }
  /** Delivers the first n events pushed and not yet delivered. */
  deliver(n = this.callbacks.length): void {
    for (const cb of this.callbacks.splice(0, n)) cb();
  }
}

/** Runs an input; `stop()` stops it and waits for run() to resolve. */
export function running(input: InputInstance, sink: InputSink) {
  const done = input.run(sink);
  return {
    done,
    async stop() {
      await input.stop();
      await done;
    },
  };
}

export const seqs = (events: readonly Event[]) => events.map((e) => e.fields.seq as number);
