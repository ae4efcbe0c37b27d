import type { Event } from '@pipeline/core';
import { describe, eventFromObject, ScriptEvent } from './facade.js';

/**
 * An event code hands on (emits, or returns from a path script's filter): a facade made by
 * `event.clone()` (once only), or a plain object of fields, which becomes a new event. The event
 * being filtered cannot be emitted: it goes on by itself.
 */
export function handOn(x: unknown, current: ScriptEvent | undefined): Event {
  if (x instanceof ScriptEvent) {
    if (x === current) throw new Error('the event being filtered goes on by itself: emit a copy (event.clone())');
    if (!ScriptEvent.take(x)) throw new Error('this event was handed on already (emit or return an event once)');
    return ScriptEvent.unwrap(x);
  }
  if (typeof x === 'object' && x !== null) return eventFromObject(x);
  throw new TypeError(`expected an event (event.clone()) or a plain object of fields, got ${describe(x)}`);
}

/**
 * What a path script's `filter(event)` returned, as Logstash's ruby filter reads it: an array of
 * events; the event itself in it keeps it, the others are new events that follow it; without it
 * the event is dropped. Anything but an array, or an entry that is not an event, is an exception
 * (checked before any event is handed on). The new events are pushed to `sink` (with `withSelf`,
 * the event itself too, where it stands); returns whether the event is kept. `[event]`, the
 * common answer, allocates nothing.
 */
export function readResults(out: unknown, current: ScriptEvent, sink: Event[], withSelf = false): boolean {
  if (!Array.isArray(out)) throw new TypeError(`filter(event) must return an array of events ([event] keeps the event, [] drops it), got ${describe(out)}`);
  const n = out.length;
  if (n === 1 && out[0] === current) {
    if (withSelf) sink.push(ScriptEvent.unwrap(current));
    return true;
  }
  for (let i = 0; i < n; i++) {
    const r: unknown = out[i];
    if (!(r instanceof ScriptEvent) && (typeof r !== 'object' || r === null || Array.isArray(r))) {
      throw new TypeError(`filter(event) returned ${describe(r)} in its array: only events (event, event.clone()) or plain objects of fields`);
    }
  }
  const mark = sink.length;
  let kept = false;
  try {
    for (let i = 0; i < n; i++) {
      const r: unknown = out[i];
      if (r === current) {
        if (!kept && withSelf) sink.push(ScriptEvent.unwrap(current));
        kept = true;
      } else sink.push(handOn(r, current));
    }
  } catch (e) {
    // none of this result is handed on
    sink.length = mark;
    throw e;
  }
  return kept;
}

export function messageOf(err: unknown): string {
  if (err instanceof Error) return err.message;
  try {
    return String(err);
  } catch {
    return 'an exception without a message';
  }
}
