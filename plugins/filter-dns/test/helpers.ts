import { Event, type InstanceOf } from '@pipeline/core';

type Filter = InstanceOf['filter'];

/**
 * Runs events through the filter as the executor does (filter per event, then the periodic flush
 * every few ms) until every one has come out; returns them in the order they came out.
 */
export async function through(f: Filter, events: (Event | Record<string, unknown>)[], limitMs = 20_000): Promise<Event[]> {
  const out: Event[] = [];
  const emit = (e: Event) => void out.push(e);
  for (const e of events) {
    const ev = e instanceof Event ? e : new Event(e as never);
    f.filter(ev, emit);
    if (!ev.cancelled) out.push(ev);
  }
  const until = Date.now() + limitMs;
  while (out.length < events.length) {
    if (Date.now() > until) throw new Error(`${events.length - out.length} events still held after ${limitMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 5));
    f.flush!(emit, false);
  }
  return out;
}

export async function closeFilter(f: Filter): Promise<void> {
  await f.close?.();
}
