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
 * (checked before any event is handed on).
 */
export function readResults(out: unknown, current: ScriptEvent): { kept: boolean; created: Event[]; ordered: Event[] } {
  if (!Array.isArray(out)) throw new TypeError(`filter(event) must return an array of events ([event] keeps the event, [] drops it), got ${describe(out)}`);
  for (const r of out) {
    if (!(r instanceof ScriptEvent) && (typeof r !== 'object' || r === null || Array.isArray(r))) {
      throw new TypeError(`filter(event) returned ${describe(r)} in its array: only events (event, event.clone()) or plain objects of fields`);
    }
  }
  let kept = false;
  const created: Event[] = [];
  const ordered: Event[] = [];
  for (const r of out) {
    if (r === current) {
      if (!kept) ordered.push(ScriptEvent.unwrap(current));
      kept = true;
    } else {
      const e = handOn(r, current);
      created.push(e);
      ordered.push(e);
    }
  }
  return { kept, created, ordered };
}

export function messageOf(err: unknown): string {
  if (err instanceof Error) return err.message;
  try {
    return String(err);
  } catch {
    return 'an exception without a message';
  }
}
