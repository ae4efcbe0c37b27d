import type { InputSink } from '@pipeline/core';

/** A stop request readers can both test and wait on. */
export class Stop {
  requested = false;
  private release!: () => void;
  readonly promise = new Promise<void>((r) => (this.release = r));

  request(): void {
    this.requested = true;
    this.release();
  }
}

/** Back-pressure: returns once the sink has room again, or the input is stopping. */
export function roomOrStop(sink: InputSink, stop: Stop): Promise<void> | undefined {
  if (sink.writable || stop.requested) return undefined;
  return Promise.race([sink.whenWritable(), stop.promise]);
}
